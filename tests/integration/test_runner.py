"""The runner end to end on MovieLens-100K with cheap models: files, resume, failures, CLI."""

import json
import subprocess
import sys

import numpy as np
import pytest

from benchmark.cli import main
from benchmark.config.suite import load_suite
from benchmark.runner import store
from benchmark.runner.runner import run_suite

SUITE = """
name = "t"
seeds = [0]
[[datasets]]
name = "ml-100k"
max_eval_users = 200
[[models]]
name = "pop"
[[models]]
name = "dummy"
label = "broken"
params = {{ fail_fit = true }}
[[models]]
name = "dummy"
label = "nan"
params = {{ emit_nan = true }}
{extra}
[accuracy]
ks = [5, 10]
sampled_negatives = 50
"""


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    root = tmp_path_factory.mktemp("run")
    path = root / "suite.toml"
    path.write_text(SUITE.format(extra=""))
    suite = load_suite(path)
    out = root / "runs"
    outcome = run_suite(suite, out, progress=False, cache_dir=root / "cache")
    return suite, out, outcome, root


def test_good_model_writes_every_file_and_marker_last(finished):
    _, out, outcome, _ = finished
    folder = out / "t" / "ml-100k" / "pop" / "seed-0"
    assert {j.key.model: j.status for j in outcome.jobs} == {
        "pop": "done", "broken": "failed", "nan": "failed"}
    for name in store.RUN_FILES + (store.MARKER,):
        assert (folder / name).is_file(), name
    marker_time = (folder / store.MARKER).stat().st_mtime_ns
    assert all((folder / n).stat().st_mtime_ns <= marker_time for n in store.RUN_FILES)
    m = store.read_metrics(folder)
    assert m["split"]["strategy"] == "chrono" and len(m["split"]["hash"]) == 64
    protocols = {(r["protocol"], r["metric"]) for r in m["rows"]}
    assert ("full", "ndcg") in protocols and ("sampled", "ndcg") in protocols
    assert ("pointwise", "auc") in protocols and ("pointwise", "gauc") in protocols
    assert m["info"]["sampled_negatives_sha256"]
    assert m["info"]["users_without_positive_test_items"] == 0  # positives = "all" on ml-100k


def test_per_user_values_average_to_reported_means(finished):
    _, out, _, _ = finished
    folder = out / "t" / "ml-100k" / "pop" / "seed-0"
    per_user = store.read_per_user(folder)
    rows = {(r["protocol"], r["metric"], r["k"]): r["value"]
            for r in store.read_metrics(folder)["rows"]}
    assert len(per_user["accuracy/full/users"]) == 200
    assert per_user["accuracy/full/ndcg@10"].mean() == pytest.approx(rows[("full", "ndcg", 10)])
    assert per_user["accuracy/pointwise/gauc"].size > 0


def test_failures_are_recorded_and_do_not_stop_the_suite(finished):
    _, out, _, _ = finished
    broken = json.loads((out / "t/ml-100k/broken/seed-0/error.json").read_text())
    assert "fail_fit" in broken["message"]
    nan = json.loads((out / "t/ml-100k/nan/seed-0/error.json").read_text())
    assert "NaN score" in nan["message"] and "'nan'" in nan["message"]
    assert not (out / "t/ml-100k/nan/seed-0" / store.MARKER).exists()


def test_resume_skips_complete_runs_and_keeps_them(finished):
    suite, out, _, root = finished
    metrics = out / "t/ml-100k/pop/seed-0/metrics.json"
    before = metrics.stat().st_mtime_ns
    outcome = run_suite(suite, out, progress=False, cache_dir=root / "cache")
    status = {j.key.model: j.status for j in outcome.jobs}
    assert status["pop"] == "skipped" and status["broken"] == "failed"
    assert metrics.stat().st_mtime_ns == before


def test_report_csv_has_one_row_per_number(finished, capsys):
    _, out, _, _ = finished
    assert main(["report", str(out), "--format", "csv"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == ("model,dataset,track,protocol,metric,k,value,seed,n,split_strategy,"
                        "split_hash,modalities,commit")  # provenance in every row (issue 18)
    n_rows = len(store.read_metrics(out / "t/ml-100k/pop/seed-0")["rows"])
    assert len(lines) - 1 == n_rows
    auc = [ln for ln in lines if ",pointwise,auc," in ln][0].split(",")
    assert auc[5] == ""  # k is empty where it does not apply


@pytest.mark.parametrize("fmt, needle", [("md", "| pop"), ("latex", "\\toprule"),
                                         ("json", '"protocol": "full"')])
def test_report_other_formats(finished, capsys, fmt, needle):
    _, out, _, _ = finished
    assert main(["report", str(out), "--format", fmt]) == 0
    text = capsys.readouterr().out
    assert needle in text
    if fmt != "json":
        assert "protocol=full" in text and "protocol=pointwise" in text


def test_same_seed_same_numbers_other_seed_other_split(tmp_path):
    text = """
name = "s"
seeds = [0]
[[datasets]]
name = "ml-100k"
split = { strategy = "random" }
max_eval_users = 100
[[models]]
name = "random"
[accuracy]
ks = [10]
protocols = ["full"]
"""
    (tmp_path / "s.toml").write_text(text)
    suite = load_suite(tmp_path / "s.toml")
    runs = {}
    for tag, seed in (("a", 0), ("b", 0), ("c", 1)):
        run_suite(suite, tmp_path / tag, seeds=[seed], progress=False, cache_dir=tmp_path / "c")
        runs[tag] = store.read_metrics(tmp_path / tag / f"s/ml-100k/random/seed-{seed}")
    assert runs["a"]["rows"] == runs["b"]["rows"]
    assert runs["a"]["split"]["hash"] == runs["b"]["split"]["hash"]
    assert runs["a"]["split"]["hash"] != runs["c"]["split"]["hash"]
    assert runs["a"]["rows"] != runs["c"]["rows"]


def test_cli_user_errors_are_short_and_exit_2(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(SUITE.format(extra="").replace('name = "pop"', 'name = "popp"'))
    proc = subprocess.run([sys.executable, "-m", "benchmark.cli", "run", str(bad)],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert "unknown model 'popp'" in proc.stderr and "did you mean 'pop'" in proc.stderr
    assert "Traceback" not in proc.stderr
    proc = subprocess.run([sys.executable, "-m", "benchmark.cli", "run", str(tmp_path / "x.toml")],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "not found" in proc.stderr
    proc = subprocess.run([sys.executable, "-m", "benchmark.cli", "--debug", "run",
                           str(tmp_path / "x.toml")], capture_output=True, text=True)
    assert "Traceback" in proc.stderr


def test_importing_the_harness_stays_light():
    code = ("import sys, benchmark, benchmark.registry, benchmark.cli, benchmark.runner.runner;"
            "print(sorted(m for m in ('torch', 'recbole', 'transformers') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "[]", out.stderr


def test_nan_check_counts_nans():
    from benchmark.errors import ModelOutputError
    from benchmark.tracks.accuracy import check_scores

    with pytest.raises(ModelOutputError, match="3 NaN"):
        check_scores(np.array([np.nan, 1, np.nan, np.nan]), "m", (4,))
