"""Issue 15, item 1 (and item 9's baseline message): `recbench check` and `recbench compare` fail
closed. A metric they cannot test (per_user.npz missing, truncated, overwritten, without the
metric; metrics.json null or with a row that is not a labelled number) is exit 2 naming the file
and the fix, or a seed-level test with a visible note; never exit 0, never a traceback.

Every case drives the real CLI on small run folders written by ``benchmark.runner.store``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from benchmark.cli import main
from tests.unit.test_report import make_run

N_USERS = 200
KEY = "accuracy/full/ndcg@10"
AUC = {"track": "accuracy", "protocol": "pointwise", "metric": "auc", "k": None, "n": 100}


def _sides(root: Path, seeds=(0,), drop: float = 0.5, *, model: str = "m"
           ) -> tuple[Path, Path, dict[str, list[Path]]]:
    """Baseline and current results roots; current values are ``(1 - drop)`` x the baseline's
    (a planted regression when drop > 0). Returns (old root, new root, run folders by side)."""
    rng = np.random.default_rng(7)
    users = np.arange(N_USERS)
    base = 0.2 + rng.random(N_USERS) * 0.6
    folders: dict[str, list[Path]] = {"old": [], "new": []}
    for seed in seeds:
        jitter = rng.normal(0, 0.01, N_USERS)
        for side, scale in (("old", 1.0), ("new", 1.0 - drop)):
            v = np.clip((base + jitter) * scale, 0, 1)
            auc = dict(AUC, value=0.7 * scale + 0.001 * seed)
            folders[side].append(make_run(root / side, model, seed, {KEY: v}, users,
                                          extra_rows=[auc]))
    return root / "old", root / "new", folders


def _run(capsys, *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    cap = capsys.readouterr()
    text = cap.out + cap.err
    assert "Traceback" not in text
    return code, text


def _check(capsys, old: Path, new: Path, *extra: str) -> tuple[int, str]:
    return _run(capsys, "check", "--baseline", str(old), "--current", str(new), *extra)


def _names_file_and_fix(text: str, path: Path) -> None:
    assert str(path) in text, text
    assert "re-run that job" in text, text


# --- check: per_user.npz missing or damaged -------------------------------------------------


def test_half_drop_with_current_per_user_removed_is_not_a_pass(tmp_path, capsys):
    """The issue's acceptance case: 50% drop, the current run's per-user file gone, one seed."""
    old, new, runs = _sides(tmp_path)
    (runs["new"][0] / "per_user.npz").unlink()
    code, out = _check(capsys, old, new)
    assert code == 2, out
    assert out.startswith("NOT COMPARABLE (exit 2)")
    _names_file_and_fix(out, runs["new"][0] / "per_user.npz")
    assert "is missing" in out and f"m on ml-100k {KEY}" in out
    assert "| not tested" in out  # the table still shows what could and could not be tested


def test_half_drop_with_per_user_removed_and_seeds_is_found_over_seeds(tmp_path, capsys):
    """>= 2 seeds a side: the seed-level test replaces the per-user one, finds the drop (exit 1)
    and says, visibly, why it was used."""
    old, new, runs = _sides(tmp_path, seeds=(0, 1, 2))
    (runs["new"][1] / "per_user.npz").unlink()
    code, out = _check(capsys, old, new)
    assert code == 1, out
    assert "| REGRESSION" in out and "seeds*" in out
    assert "tested over seeds" in out and str(runs["new"][1] / "per_user.npz") in out


def test_unchanged_run_with_per_user_removed_and_seeds_passes_with_a_note(tmp_path, capsys):
    old, new, runs = _sides(tmp_path, seeds=(0, 1), drop=0.0)
    (runs["old"][0] / "per_user.npz").unlink()
    code, out = _check(capsys, old, new)
    assert code == 0, out
    assert "seeds*" in out and f"note: m on ml-100k {KEY} tested over seeds" in out
    assert str(runs["old"][0] / "per_user.npz") in out


def test_baseline_per_user_removed(tmp_path, capsys):
    old, new, runs = _sides(tmp_path, drop=0.0)  # nothing changed: still not a pass
    (runs["old"][0] / "per_user.npz").unlink()
    code, out = _check(capsys, old, new)
    assert code == 2, out
    _names_file_and_fix(out, runs["old"][0] / "per_user.npz")


@pytest.mark.parametrize("damage", ["truncated", "garbage", "empty", "npy"])
def test_damaged_per_user_file(tmp_path, capsys, damage):
    old, new, runs = _sides(tmp_path)
    path = runs["new"][0] / "per_user.npz"
    data = path.read_bytes()
    if damage == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "garbage":
        path.write_bytes(b"\x00not an archive\xff" * 40)
    elif damage == "empty":
        path.write_bytes(b"")
    else:  # a plain .npy array under the .npz name
        with path.open("wb") as fh:
            np.save(fh, np.arange(5))
    code, out = _check(capsys, old, new)
    assert code == 2, out
    _names_file_and_fix(out, path)
    assert "is damaged" in out


def test_per_user_file_without_the_metric(tmp_path, capsys):
    """A readable file that lacks values the other side kept: not 'pooled', not testable."""
    old, new, runs = _sides(tmp_path)
    path = runs["new"][0] / "per_user.npz"
    np.savez_compressed(path, **{"accuracy/full/users": np.arange(N_USERS)})
    code, out = _check(capsys, old, new)
    assert code == 2, out
    assert f"{path} has no {KEY}" in out and "re-run that job" in out


def test_per_user_values_that_are_not_numbers(tmp_path, capsys):
    old, new, runs = _sides(tmp_path)
    path = runs["new"][0] / "per_user.npz"
    np.savez_compressed(path, **{"accuracy/full/users": np.arange(N_USERS),
                                 KEY: np.array(["x"] * N_USERS)})
    code, out = _check(capsys, old, new)
    assert code == 2, out
    _names_file_and_fix(out, path)
    assert "not a list of numbers" in out


def test_pooled_metric_with_one_seed_is_named_as_not_gated(tmp_path, capsys):
    """AUC keeps no per-user values by design: with one seed a side it cannot be tested; the
    output says so under the table (the per-user metrics are still gated)."""
    old, new, _ = _sides(tmp_path, drop=0.0)
    code, out = _check(capsys, old, new)
    assert code == 0, out
    assert "| untested" in out
    assert "not gated: 1 pooled metric(s)" in out and "accuracy/pointwise/auc" in out


# --- check: metrics.json that is not a list of labelled numbers --------------------------------


def _edit_metrics(folder: Path, edit) -> Path:
    path = folder / "metrics.json"
    m = json.loads(path.read_text())
    path.write_text(json.dumps(edit(m)))
    return path


def _drop_value(m: dict) -> dict:
    del m["rows"][0]["value"]
    return m


def _set_value(v):
    def edit(m: dict) -> dict:
        m["rows"][0]["value"] = v
        return m
    return edit


@pytest.mark.parametrize("edit, expect", [
    (lambda m: None, "holds null, not a JSON object"),
    (lambda m: [m], "not a JSON object"),
    (_drop_value, f"row 0 ({KEY.rsplit('@', 1)[0]}) has no 'value'"),
    (_set_value("abc"), "'value' is \"abc\", not a number"),
    (_set_value(None), "'value' is null, not a number"),
    (_set_value(True), "'value' is true, not a number"),
    (lambda m: {**m, "rows": [None]}, "row 0 is null, not an object"),
    (lambda m: {**m, "rows": "x"}, "'rows' is \"x\", not a list"),
    (lambda m: {**m, "seed": "zero"}, "'seed' is \"zero\", not an integer"),
    (lambda m: {**m, "split": None}, "'split' is null, not an object"),
], ids=["null", "list", "no-value", "value-abc", "value-null", "value-bool", "row-null",
        "rows-string", "seed-string", "split-null"])
def test_malformed_metrics_json(tmp_path, capsys, edit, expect):
    old, new, runs = _sides(tmp_path)
    path = _edit_metrics(runs["new"][0], edit)
    code, out = _check(capsys, old, new)
    assert code == 2, out
    assert str(path) in out and expect in out, out
    assert "re-run that job" in out or "re-run" in out


@pytest.mark.parametrize("name", ["efficiency.json", "config.json"])
def test_other_run_files_that_are_not_objects(tmp_path, capsys, name):
    old, new, runs = _sides(tmp_path)
    (runs["old"][0] / name).write_text("null")
    code, out = _check(capsys, old, new)
    assert code == 2, out
    _names_file_and_fix(out, runs["old"][0] / name)


def test_nan_metric_on_one_side_is_not_tested(tmp_path, capsys):
    old, new, runs = _sides(tmp_path)
    path = _edit_metrics(runs["new"][0], _set_value(float("nan")))
    code, out = _check(capsys, old, new)
    assert code == 2, out
    assert f"the value is NaN (undefined) in {path}" in out


# --- compare -----------------------------------------------------------------------------------


def _models(root: Path, seeds=(0,), models=(("base", 0.0), ("good", 0.1))
            ) -> dict[tuple[str, int], Path]:
    """A baseline 'base' and a better model 'good' (or ``models``) in one results root."""
    rng = np.random.default_rng(3)
    users = np.arange(N_USERS)
    out = {}
    for seed in seeds:
        base = rng.random(N_USERS) * 0.5
        for name, shift in models:
            v = np.clip(base + shift + rng.normal(0, 0.02, N_USERS), 0, 1)
            out[(name, seed)] = make_run(root, name, seed, {KEY: v}, users,
                                         extra_rows=[dict(AUC, value=0.6 + shift)])
    return out


def _compare(capsys, root: Path, *extra: str) -> tuple[int, str]:
    return _run(capsys, "compare", str(root), "--baseline", "base", "--resamples", "200", *extra)


def test_compare_missing_baseline_per_user_names_the_file_not_the_metrics(tmp_path, capsys):
    runs = _models(tmp_path)
    path = runs[("base", 0)] / "per_user.npz"
    path.unlink()
    code, out = _compare(capsys, tmp_path, "--metrics", "ndcg@10")
    assert code == 2, out
    _names_file_and_fix(out, path)
    assert "is missing" in out
    assert "--metrics names" not in out and "no metric with per-user values" not in out


def test_compare_missing_model_per_user_is_not_dropped(tmp_path, capsys):
    """Three models, one without its per-user file: before, its rows silently vanished."""
    runs = _models(tmp_path, models=(("base", 0.0), ("good", 0.1), ("worse", -0.1)))
    path = runs[("worse", 0)] / "per_user.npz"
    path.unlink()
    code, out = _compare(capsys, tmp_path)
    assert code == 2, out
    _names_file_and_fix(out, path)
    assert "needed for worse accuracy/full/ndcg@10" in out


def test_compare_truncated_per_user_is_a_clear_error(tmp_path, capsys):
    runs = _models(tmp_path)
    path = runs[("good", 0)] / "per_user.npz"
    path.write_bytes(path.read_bytes()[:40])
    code, out = _compare(capsys, tmp_path)
    assert code == 2, out
    _names_file_and_fix(out, path)


def test_compare_with_seeds_keeps_the_model_with_a_seed_level_note(tmp_path, capsys):
    runs = _models(tmp_path, seeds=(0, 1, 2))
    path = runs[("good", 1)] / "per_user.npz"
    path.unlink()
    code, out = _compare(capsys, tmp_path, "--metrics", "ndcg@10")
    assert code == 0, out
    assert "| good" in out
    assert f"**note:** good ndcg@10: seed-level test only, per-user values unusable: {path}" \
        in out


def test_compare_names_pooled_metrics_it_did_not_compare(tmp_path, capsys):
    _models(tmp_path)
    code, out = _compare(capsys, tmp_path)
    assert code == 0, out
    assert "Not compared (pooled metrics without per-user values" in out
    assert "good accuracy/pointwise/auc" in out


def test_compare_metrics_json_null(tmp_path, capsys):
    runs = _models(tmp_path)
    path = _edit_metrics(runs[("base", 0)], lambda m: None)
    code, out = _compare(capsys, tmp_path)
    assert code == 2, out
    _names_file_and_fix(out, path)


def test_report_significance_on_a_damaged_per_user_file(tmp_path, capsys):
    """`report --baseline` tests per user too: a damaged file is an error, not a missing †."""
    runs = _models(tmp_path)
    path = runs[("good", 0)] / "per_user.npz"
    path.write_bytes(b"garbage")
    code, out = _run(capsys, "report", str(tmp_path), "--baseline", "base")
    assert code == 2, out
    _names_file_and_fix(out, path)
