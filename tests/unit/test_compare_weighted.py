"""compare and check test the GAUC the leaderboard shows (weighted by each user's positives),
not the plain mean of per-user AUCs: a planted case where the two disagree in sign."""

from __future__ import annotations

import numpy as np
import pytest

from benchmark.errors import DataError
from benchmark.metrics.pointwise import group_auc
from benchmark.report.check import CheckOptions, check
from benchmark.report.check import render as render_check
from benchmark.report.compare import CompareOptions, compare, render
from benchmark.report.leaderboard import build_boards
from benchmark.report.reproduce import _interval
from benchmark.report.runs import MetricKey, load_runs
from benchmark.stats.weighted import weighted_mean_diff_ci, weighted_ttest
from tests.unit.test_report import make_run

KEY = "accuracy/pointwise/gauc"
PAIRS = "accuracy/pointwise/gauc_pairs"


def _planted(seed: int = 0, n_heavy: int = 80, n_light: int = 320):
    """Labelled pairs of heavy users (12 positives, 12 negatives) and light users (1 positive,
    5 negatives), scored by two models: 'light' ranks the light users well and the heavy users
    at random; 'heavy' the other way round, more mildly. Per user, 'light' wins more users; by
    positives, the heavy users weigh 12 times more and 'heavy' wins."""
    rng = np.random.default_rng(seed)
    users, labels = [], []
    for u in range(n_heavy + n_light):
        n_pos, n_neg = (12, 12) if u < n_heavy else (1, 5)
        users += [u] * (n_pos + n_neg)
        labels += [True] * n_pos + [False] * n_neg
    users_a, labels_a = np.array(users), np.array(labels)
    heavy = users_a < n_heavy
    noise = rng.normal(size=(2, users_a.size))
    scores = {"light": noise[0] + 2.5 * labels_a * ~heavy,
              "heavy": noise[1] + 1.0 * labels_a * heavy}
    return users_a, labels_a, scores


def _write(root, users, labels, scores, *, stored: dict[str, str] | None = None,
           seeds=(0,), weights: bool = True) -> dict[str, object]:
    """One run folder per model and seed, as the accuracy track writes it: per-user AUCs, the
    GAUC rows (weighted means) and, unless ``weights`` is False, the weights."""
    out = {}
    for model, s in scores.items():
        g = group_auc(users, labels, s)
        out[model] = g
        for seed in seeds:
            w = {KEY: g.weights("gauc"), PAIRS: g.weights("gauc_pairs")}
            make_run(root, (stored or {}).get(model, model), seed, {KEY: g.auc, PAIRS: g.auc},
                     g.users, weights=w if weights else None)
            if not weights:  # an old (metric version 2) run: weighted rows, no weights stored
                _set_rows(root, (stored or {}).get(model, model), seed,
                          {"gauc": g.gauc, "gauc_pairs": g.gauc_pairs})
    return out


def _set_rows(root, model, seed, values):
    import json

    from benchmark.runner import store

    folder = store.RunKey("s", "ml-100k", model, seed).folder(root)
    m = json.loads((folder / "metrics.json").read_text())
    for row in m["rows"]:
        if row["metric"] in values:
            row["value"] = values[row["metric"]]
    (folder / "metrics.json").write_text(json.dumps(m))


def test_the_planted_case_disagrees_in_sign():
    users, labels, scores = _planted()
    g = {m: group_auc(users, labels, s) for m, s in scores.items()}
    assert g["light"].gauc < g["heavy"].gauc  # the leaderboard's GAUC (by positives)
    assert g["light"].auc.mean() > g["heavy"].auc.mean()  # the plain per-user mean
    assert g["light"].gauc_pairs < g["heavy"].gauc_pairs


def test_compare_tests_the_leaderboard_gauc(tmp_path):
    users, labels, scores = _planted()
    g = _write(tmp_path, users, labels, scores)
    runs = load_runs([tmp_path])
    board = next(b for b in build_boards(runs) if b.protocol == "pointwise")
    shown = {m: board.cells[(m, "gauc")].mean for m in ("light", "heavy")}
    assert shown["light"] == pytest.approx(g["light"].gauc, abs=1e-12)
    assert shown["light"] < shown["heavy"]

    df = compare(runs, CompareOptions("heavy", ("gauc", "gauc_pairs"), n_resamples=500))
    row = df[df["metric"] == "gauc"].iloc[0]
    # the leaderboard's numbers and sign, not the plain mean's
    assert row["model_mean"] == pytest.approx(shown["light"], abs=1e-12)
    assert row["baseline_mean"] == pytest.approx(shown["heavy"], abs=1e-12)
    assert row["diff"] == pytest.approx(shown["light"] - shown["heavy"], abs=1e-12)
    assert row["diff"] < 0 and row["ci_high"] < 0
    plain = g["light"].auc.mean() - g["heavy"].auc.mean()
    assert plain > 0  # what the old compare reported
    w = g["heavy"].weights("gauc")
    want = weighted_ttest(g["light"].auc, g["heavy"].auc, w)
    assert row["p"] == pytest.approx(want.pvalue, rel=1e-12) and row["p"] < 1e-3
    ci = weighted_mean_diff_ci(g["light"].auc, g["heavy"].auc, w, n_resamples=500)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((ci.low, ci.high), rel=1e-9)
    assert row["cohens_d"] < 0 and np.isnan(row["rank_biserial"])
    assert row["wins"] > row["losses"]  # W/T/L still counts users: most users favour 'light'
    assert row["weighted_by"].startswith("the user's number of positives")
    pairs = df[df["metric"] == "gauc_pairs"].iloc[0]
    assert pairs["diff"] == pytest.approx(g["light"].gauc_pairs - g["heavy"].gauc_pairs,
                                          abs=1e-12)
    text = render(df, CompareOptions("heavy"))
    assert "gauc = per-user values weighted by the user's number of positives" in text
    assert "| n/a" in text  # r_rb

    # the other tests weight too: the sign-flip test, and Wilcoxon answered by it (with a note)
    for test in ("permutation", "wilcoxon"):
        r = compare(runs, CompareOptions("heavy", ("gauc",), test=test, n_resamples=200)).iloc[0]
        assert r["diff"] == pytest.approx(row["diff"]) and r["p"] < 0.01
        assert ("Wilcoxon has no weighted form" in r["note"]) == (test == "wilcoxon")


def test_check_gates_the_leaderboard_gauc(tmp_path):
    """The same code as 'm' in both runs: the current 'm' is better per user on average but
    worse on GAUC as reported: a regression."""
    users, labels, scores = _planted(seed=1)
    _write(tmp_path / "old", users, labels, {"heavy": scores["heavy"]}, stored={"heavy": "m"})
    _write(tmp_path / "new", users, labels, {"light": scores["light"]}, stored={"light": "m"})
    opts = CheckOptions(metrics=("gauc",))
    result = check(load_runs([tmp_path / "old"]), load_runs([tmp_path / "new"]), opts)
    line = next(ln for ln in result.lines if ln.metric == KEY)
    assert line.current < line.baseline and line.worse
    assert line.verdict == "REGRESSION" and line.test == "users" and result.status == 1
    assert any("tested on its weighted mean" in n for n in result.notes)
    # reversed, the weighted test finds an improvement, not the plain mean's regression
    back = check(load_runs([tmp_path / "new"]), load_runs([tmp_path / "old"]), opts)
    assert next(ln for ln in back.lines if ln.metric == KEY).verdict == "improved"
    assert "REGRESSION" in render_check(result, opts)


def test_runs_without_weights_fail_closed(tmp_path):
    """Runs written before metric version 3 hold per-user AUCs but no weights: a per-user test
    would test the plain mean, so it is refused (one seed) or replaced by the seed-level test."""
    users, labels, scores = _planted(n_heavy=20, n_light=60)
    _write(tmp_path / "one", users, labels, scores, weights=False)
    with pytest.raises(DataError, match="no accuracy/pointwise/gauc_weight"):
        compare(load_runs([tmp_path / "one"]), CompareOptions("heavy", ("gauc",)))
    _write(tmp_path / "two", users, labels, scores, weights=False, seeds=(0, 1))
    row = compare(load_runs([tmp_path / "two"]), CompareOptions("heavy", ("gauc",))).iloc[0]
    assert np.isnan(row["p"]) and "seed-level test only" in row["note"]
    assert "would test another quantity" in row["note"]
    base = [r for r in load_runs([tmp_path / "one"]) if r.model == "heavy"]
    cur = [r for r in load_runs([tmp_path / "one"]) if r.model == "heavy"]
    result = check(base, cur, CheckOptions(metrics=("gauc",)))
    assert result.status == 2 and "gauc_weight" in result.problems[0]


def test_reproduce_interval_of_a_weighted_metric_is_of_the_weighted_mean(tmp_path):
    users, labels, scores = _planted(n_heavy=40, n_light=160)
    g = _write(tmp_path, users, labels, {"light": scores["light"]})["light"]
    run = load_runs([tmp_path])[0]
    key = MetricKey("accuracy", "pointwise", "gauc", None)
    low, high = _interval({0: run}, key, np.array([run.values[key]]), 1.0, 0.95, 0, 500)
    assert low < g.gauc < high
    assert not low < g.auc.mean() < high  # the plain mean lies outside: another quantity


def test_leaderboard_dagger_follows_the_weighted_gauc(tmp_path):
    from benchmark.report.leaderboard import SignificanceSpec

    users, labels, scores = _planted()
    _write(tmp_path, users, labels, scores)
    runs = load_runs([tmp_path])
    # 'heavy' has the higher GAUC: it beats 'light' significantly, though 'light' wins the
    # plain per-user mean (the old dagger's test and sign)
    board = next(b for b in build_boards(runs, SignificanceSpec("light"))
                 if b.protocol == "pointwise")
    assert board.cells[("heavy", "gauc")].dagger
    board = next(b for b in build_boards(runs, SignificanceSpec("heavy"))
                 if b.protocol == "pointwise")
    assert not board.cells[("light", "gauc")].dagger


def test_next_item_is_tested_as_the_mean_over_queries(tmp_path):
    """next_item reports the mean over queries; per user it stores the user's mean with the
    number of queries as weight, and compare tests that query-weighted mean."""
    rng = np.random.default_rng(3)
    users = np.arange(60)
    n_queries = np.where(users < 10, 20.0, 1.0)  # a few users ask most of the queries
    key = "accuracy/next_item/ndcg@10"
    a = np.where(users < 10, 0.30, 0.10) + rng.normal(0, 0.01, 60)
    b = np.where(users < 10, 0.20, 0.14) + rng.normal(0, 0.01, 60)
    for name, vals in (("a", a), ("b", b)):
        make_run(tmp_path, name, 0, {key: vals}, users, weights={key: n_queries})
    runs = load_runs([tmp_path])
    row = compare(runs, CompareOptions("b", ("next_item/ndcg@10",), n_resamples=300)).iloc[0]
    want = np.average(a, weights=n_queries) - np.average(b, weights=n_queries)
    assert row["diff"] == pytest.approx(want, abs=1e-12)
    assert want > 0 and (a - b).mean() < 0  # the plain mean of per-user means says the opposite
