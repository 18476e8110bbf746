"""Issue 15, item 2: resume reuses a run folder only when its fingerprint matches and its files
verify; otherwise the job runs again and the old folder is kept aside, never deleted."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import pytest

from benchmark.config.suite import load_suite
from benchmark.report.runs import load_runs
from benchmark.runner import store
from benchmark.runner.runner import run_suite

SUITE = """
name = "fp"
seeds = [0]
[[datasets]]
name = "ml-100k"
max_eval_users = 40
[[models]]
name = "pop"
[[models]]
name = "random"
[[models]]
name = "dummy"
label = "dm"
params = {{ {dm} }}
[accuracy]
ks = [10]
protocols = ["full"]
{extra}
"""
LABELS = ("pop", "random", "dm")


def write(root: Path, dm: str = "", extra: str = "") -> Path:
    path = root / "suite.toml"
    path.write_text(SUITE.format(dm=dm, extra=extra))
    return path


def folder(out: Path, label: str) -> Path:
    return out / "fp" / "ml-100k" / label / "seed-0"


def mtimes(path: Path) -> dict[str, int]:
    """Every file's and folder's mtime below ``path`` (the folder included)."""
    found = {".": path.stat().st_mtime_ns}
    found.update({str(p.relative_to(path)): p.stat().st_mtime_ns for p in path.rglob("*")})
    return found


def resume(root: Path, out: Path, caplog, **suite_args) -> dict[str, str]:
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="recbench"):
        outcome = run_suite(load_suite(write(root, **suite_args)), out, progress=False,
                            cache_dir=root / "cache")
    return {j.key.model: j.status for j in outcome.jobs}


@pytest.fixture(scope="module")
def first(tmp_path_factory) -> Path:
    """One complete run of the three models, copied (mtimes kept) by each test."""
    root = tmp_path_factory.mktemp("first")
    outcome = run_suite(load_suite(write(root)), root / "runs", progress=False,
                        cache_dir=root / "cache")
    assert {j.status for j in outcome.jobs} == {"done"}
    return root


@pytest.fixture()
def root(first, tmp_path) -> Path:
    shutil.copytree(first / "runs", tmp_path / "runs")
    shutil.copytree(first / "cache", tmp_path / "cache")
    return tmp_path


def test_marker_holds_fingerprint_and_file_hashes(root):
    f = folder(root / "runs", "dm")
    marker = json.loads((f / store.MARKER).read_text())
    assert marker["marker_format"] == store.MARKER_FORMAT and len(marker["fingerprint"]) == 64
    assert set(marker["files"]) == set(store.RUN_FILES)
    assert marker["files"]["metrics.json"] == store.sha256_file(f / "metrics.json")
    fields = marker["fields"]
    assert fields["model_class"] == "benchmark.models.dummy:DummyRecommender"
    assert fields["model_config"]["base"] == "modulo"  # defaults resolved
    assert fields["split"]["hash"] == store.read_metrics(f)["split"]["hash"]
    assert fields["metric_version"] == store.METRIC_VERSION and fields["seed"] == 0
    assert json.loads((f / "config.json").read_text())["fingerprint"]["sha256"] == \
        marker["fingerprint"]


def test_unchanged_suite_skips_everything_and_touches_nothing(root, caplog):
    out = root / "runs"
    before = {m: mtimes(folder(out, m)) for m in LABELS}
    # a default spelled out and a pure batch-size knob change no number: still skipped
    status = resume(root, out, caplog, dm='base = "modulo"', extra="user_batch = 7")
    assert status == {m: "skipped" for m in LABELS}
    assert {m: mtimes(folder(out, m)) for m in LABELS} == before
    assert "files verified" in caplog.text


def test_changed_params_rerun_that_model_only_and_keep_the_old_folder(root, caplog):
    out = root / "runs"
    before = {m: mtimes(folder(out, m)) for m in LABELS}
    old_fp = json.loads((folder(out, "dm") / store.MARKER).read_text())["fingerprint"]
    old_metrics = (folder(out, "dm") / "metrics.json").read_bytes()
    status = resume(root, out, caplog, dm='base = "popularity"')
    assert status == {"pop": "skipped", "random": "skipped", "dm": "done"}
    for m in ("pop", "random"):
        assert mtimes(folder(out, m)) == before[m], m
    aside = folder(out, "dm").with_name(f"seed-0.stale-{old_fp[:12]}")
    assert (aside / "metrics.json").read_bytes() == old_metrics
    assert (aside / store.MARKER).is_file()
    assert "rerun ml-100k/dm seed 0: changed: model_config.base" in caplog.text
    new_fp = json.loads((folder(out, "dm") / store.MARKER).read_text())["fingerprint"]
    assert new_fp != old_fp
    # reports see the new run only, never the folder set aside
    assert sorted(r.model for r in load_runs([out])) == ["dm", "pop", "random"]
    assert all(".stale-" not in str(p) for p in store.find_runs(out))


def test_changed_track_settings_rerun_every_model(root, caplog):
    text = SUITE.replace("ks = [10]", "ks = [5]")
    (root / "s2.toml").write_text(text.format(dm="", extra=""))
    with caplog.at_level(logging.INFO, logger="recbench"):
        outcome = run_suite(load_suite(root / "s2.toml"), root / "runs", progress=False,
                            cache_dir=root / "cache")
    assert {j.status for j in outcome.jobs} == {"done"}
    assert "changed: tracks.accuracy.ks" in caplog.text


@pytest.mark.parametrize("damage, detail", [
    (lambda f: (f / "per_user.npz").unlink(), "per_user.npz is missing"),
    (lambda f: (f / "metrics.json").write_text('{"rows": []}'),
     "metrics.json does not match its sha256"),
])
def test_damaged_run_is_redone(root, caplog, damage, detail):
    out = root / "runs"
    f = folder(out, "pop")
    good = (f / "metrics.json").read_bytes()
    others = {m: mtimes(folder(out, m)) for m in ("random", "dm")}
    damage(f)
    status = resume(root, out, caplog)
    assert status == {"pop": "done", "random": "skipped", "dm": "skipped"}
    assert f"redo ml-100k/pop seed 0: damaged: {detail}" in caplog.text
    assert (f / "metrics.json").read_bytes() == good  # the same numbers again
    assert store.check_run(f, json.loads((f / store.MARKER).read_text())["fingerprint"]
                           ).status == "complete"
    aside = [p.name for p in f.parent.iterdir() if store.is_aside(p)]
    assert len(aside) == 1 and aside[0].startswith("seed-0.damaged-"), aside
    assert {m: mtimes(folder(out, m)) for m in ("random", "dm")} == others


def test_old_format_marker_is_treated_as_stale(root, caplog):
    out = root / "runs"
    f = folder(out, "random")
    (f / store.MARKER).write_text("ok\n")  # what the store wrote before fingerprints
    status = resume(root, out, caplog)
    assert status == {"pop": "skipped", "random": "done", "dm": "skipped"}
    assert "old-format COMPLETE marker without a fingerprint" in caplog.text
    assert (f.with_name("seed-0.stale-unversioned") / store.MARKER).read_text() == "ok\n"
    assert json.loads((f / store.MARKER).read_text())["fingerprint"]
