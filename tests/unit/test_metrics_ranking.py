"""Top-k ranking metrics: hand-computed cases, a plain-loop reference, and ranx as an oracle."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from benchmark.metrics import ranking
from benchmark.metrics.ranking import (
    METRIC_NAMES,
    hit_matrix,
    member_of_rows,
    parse_metric,
    ranking_metrics,
)

LOG3 = math.log2(3)


def _one(topk: list[int], truth: list[int], ks: tuple[int, ...]) -> dict[str, float]:
    out = ranking_metrics(np.array([topk], dtype=np.int64), [np.array(truth)], ks)
    return {key: float(val[0]) for key, val in out.items()}


def _assert_metrics(got: dict[str, float], expected: dict[str, float]) -> None:
    for key, value in expected.items():
        assert got[key] == pytest.approx(value, abs=1e-12), key


# --- hand-computed cases --------------------------------------------------------------------


def test_two_relevant_hits_at_ranks_1_and_3() -> None:
    # truth {2, 5}; ranking 5, 1, 2, <empty>  -> relevant at ranks 1 and 3
    got = _one([5, 1, 2, -1], [2, 5], (1, 2, 3, 10))
    _assert_metrics(got, {
        # k=1: 1 hit of 1 slot; IDCG@1 = 1/log2(2) = 1
        "hit@1": 1.0, "recall@1": 1 / 2, "precision@1": 1.0, "mrr@1": 1.0, "ndcg@1": 1.0,
        # k=2: one hit (rank 1); IDCG@2 = 1 + 1/log2(3)
        "hit@2": 1.0, "recall@2": 1 / 2, "precision@2": 1 / 2, "mrr@2": 1.0,
        "ndcg@2": 1.0 / (1.0 + 1.0 / LOG3),
        # k=3: DCG = 1/log2(2) + 1/log2(4) = 1.5; IDCG = 1/log2(2) + 1/log2(3) (min(|truth|,3)=2)
        "hit@3": 1.0, "recall@3": 2 / 2, "precision@3": 2 / 3, "mrr@3": 1.0,
        "ndcg@3": 1.5 / (1.0 + 1.0 / LOG3),
        # k=10 > K=4: missing slots are empty, precision still divides by 10
        "hit@10": 1.0, "recall@10": 1.0, "precision@10": 2 / 10, "mrr@10": 1.0,
        "ndcg@10": 1.5 / (1.0 + 1.0 / LOG3),
    })
    assert got["ndcg@3"] == pytest.approx(0.9197207891481876, abs=1e-15)


def test_single_relevant_at_rank_2() -> None:
    # truth {7}; ranking 3, 7, 9, 4 -> hit at rank 2: DCG = 1/log2(3), IDCG = 1/log2(2) = 1
    got = _one([3, 7, 9, 4], [7], (1, 3))
    _assert_metrics(got, {
        "hit@1": 0.0, "recall@1": 0.0, "precision@1": 0.0, "mrr@1": 0.0, "ndcg@1": 0.0,
        "hit@3": 1.0, "recall@3": 1.0, "precision@3": 1 / 3, "mrr@3": 1 / 2, "ndcg@3": 1 / LOG3,
    })


def test_all_relevant_retrieved() -> None:
    # truth {1, 2, 3}; ranking 1, 2, 3, <empty>: a perfect list
    got = _one([1, 2, 3, -1], [3, 1, 2], (2, 3, 5))
    _assert_metrics(got, {
        # k=2: 2 of 3 relevant seen; DCG = IDCG over 2 slots
        "hit@2": 1.0, "recall@2": 2 / 3, "precision@2": 1.0, "mrr@2": 1.0, "ndcg@2": 1.0,
        "hit@3": 1.0, "recall@3": 1.0, "precision@3": 1.0, "mrr@3": 1.0, "ndcg@3": 1.0,
        # k=5: IDCG stops at min(|truth|, 5) = 3 slots, so still 1; precision 3/5
        "hit@5": 1.0, "recall@5": 1.0, "precision@5": 3 / 5, "mrr@5": 1.0, "ndcg@5": 1.0,
    })


def test_none_retrieved() -> None:
    # truth {8, 9}; nothing relevant in the list: every metric is 0
    got = _one([1, 2, 3, 4], [8, 9], (1, 4, 20))
    assert set(got.values()) == {0.0}
    assert len(got) == 3 * len(METRIC_NAMES)


def test_empty_slots_take_a_rank_and_never_hit() -> None:
    # truth {4}; ranking <empty>, <empty>, 4: the hit is at rank 3, not 1
    got = _one([-1, -1, 4, -1], [4], (2, 3))
    _assert_metrics(got, {
        "hit@2": 0.0, "mrr@2": 0.0, "ndcg@2": 0.0,
        # DCG = 1/log2(4) = 0.5, IDCG = 1
        "hit@3": 1.0, "recall@3": 1.0, "precision@3": 1 / 3, "mrr@3": 1 / 3, "ndcg@3": 0.5,
    })


def test_all_slots_empty_with_item_zero_relevant() -> None:
    # item id 0 is a real item: an empty list must not match it
    got = _one([-1, -1, -1], [0], (1, 3))
    assert set(got.values()) == {0.0}


def test_k_larger_than_list_width() -> None:
    # truth {0, 6, 11}; only 2 slots, k=5: hits at ranks 1, 2
    # DCG = 1 + 1/log2(3); IDCG = 1 + 1/log2(3) + 1/log2(4) (min(3, 5) = 3 slots)
    got = _one([6, 0], [0, 6, 11], (5,))
    _assert_metrics(got, {
        "hit@5": 1.0, "recall@5": 2 / 3, "precision@5": 2 / 5, "mrr@5": 1.0,
        "ndcg@5": (1 + 1 / LOG3) / (1 + 1 / LOG3 + 0.5),
    })


def test_zero_width_topk() -> None:
    out = ranking_metrics(np.empty((2, 0), dtype=np.int64), [np.array([1]), np.array([2])], (3,))
    for values in out.values():
        np.testing.assert_array_equal(values, [0.0, 0.0])


def test_duplicate_truth_items_count_once() -> None:
    # truth [5, 5, 2] is the set {2, 5}: recall@1 = 1/2, not 1/3
    got = _one([5, 9], [5, 5, 2], (1,))
    assert got["recall@1"] == 0.5
    assert got["ndcg@1"] == 1.0


def test_several_users_rows_stay_separate() -> None:
    # user 0 holds item 3 as relevant, user 1 ranks item 3 but its truth is {4}
    topk = np.array([[1, 3], [3, 4]])
    out = ranking_metrics(topk, [np.array([3]), np.array([4])], (1, 2), metrics=("mrr", "hit"))
    assert sorted(out) == ["hit@1", "hit@2", "mrr@1", "mrr@2"]
    np.testing.assert_array_equal(out["mrr@2"], [0.5, 0.5])
    np.testing.assert_array_equal(out["hit@1"], [0.0, 0.0])
    assert out["mrr@2"].dtype == np.float64


def test_hit_matrix_marks_slots() -> None:
    hits, n_truth = hit_matrix(np.array([[5, 1, 2, -1], [-1, 7, 0, 7]]),
                               [np.array([2, 5]), np.array([0])])
    np.testing.assert_array_equal(hits, [[True, False, True, False], [False, False, True, False]])
    np.testing.assert_array_equal(n_truth, [2, 1])


# --- errors ---------------------------------------------------------------------------------


def test_empty_truth_row_is_an_error_naming_the_row() -> None:
    with pytest.raises(ValueError, match="truth row 1 is empty"):
        ranking_metrics(np.array([[1], [2]]), [np.array([1]), np.array([], dtype=np.int64)], (1,))


def test_relevant_item_listed_twice_is_an_error() -> None:
    with pytest.raises(ValueError, match="row 1 lists a relevant item more than once"):
        ranking_metrics(np.array([[1, 2], [4, 4]]), [np.array([1]), np.array([4, 5])], (2,))


def test_shape_and_name_errors() -> None:
    with pytest.raises(ValueError, match="2-D"):
        ranking_metrics(np.array([1, 2]), [np.array([1])], (1,))
    with pytest.raises(ValueError, match="truth has 1 rows but topk has 2"):
        ranking_metrics(np.array([[1], [2]]), [np.array([1])], (1,))
    with pytest.raises(ValueError, match="unknown ranking metric.*'map'.*known metrics: hit"):
        ranking_metrics(np.array([[1]]), [np.array([1])], (1,), metrics=("ndcg", "map"))
    with pytest.raises(ValueError, match="integers >= 1"):
        ranking_metrics(np.array([[1]]), [np.array([1])], (0,))
    with pytest.raises(ValueError, match="integer item ids"):
        ranking_metrics(np.array([[1.0]]), [np.array([1])], (1,))


def test_parse_metric() -> None:
    assert parse_metric("ndcg@10") == ("ndcg", 10)
    assert parse_metric(" Recall@5 ") == ("recall", 5)
    assert parse_metric("precision@100") == ("precision", 100)
    with pytest.raises(ValueError, match=r"unknown ranking metric 'ncdg@10'; known metrics: hit, ndcg"):
        parse_metric("ncdg@10")
    with pytest.raises(ValueError, match="needs a cut-off"):
        parse_metric("mrr")
    for bad in ("hit@0", "hit@x", "hit@-1", "hit@"):
        with pytest.raises(ValueError, match="integer >= 1"):
            parse_metric(bad)
    assert METRIC_NAMES == ("hit", "ndcg", "mrr", "recall", "precision")


# --- random runs: a plain per-user loop and ranx ------------------------------------------------


def _random_run(seed: int, n_users: int = 200, n_items: int = 300, width: int = 50,
                interior_gaps: bool = False) -> tuple[np.ndarray, list[np.ndarray]]:
    """Rankings that hit often: relevant items are pushed up by a random score bonus."""
    rng = np.random.default_rng(seed)
    topk = np.full((n_users, width), -1, dtype=np.int64)
    truth = []
    for u in range(n_users):
        rel = rng.choice(n_items, size=int(rng.integers(1, 25)), replace=False)
        truth.append(rel)
        score = rng.random(n_items)
        score[rel] += rng.random() * 1.5
        filled = int(rng.integers(0, width + 1)) if u % 4 == 0 else width  # some short lists
        topk[u, :filled] = np.argsort(-score)[:filled]
        if interior_gaps:
            topk[u, rng.random(width) < 0.1] = -1
    return topk, truth


def _reference(topk: np.ndarray, truth: list[np.ndarray], k: int) -> dict[str, np.ndarray]:
    """The definitions, written as directly as possible, one user at a time."""
    out = {f"{m}@{k}": np.zeros(len(truth)) for m in METRIC_NAMES}
    for u, rel_items in enumerate(truth):
        rel = set(rel_items.tolist())
        ranked = list(topk[u, :k]) + [-1] * max(0, k - topk.shape[1])
        hit_ranks = [r for r, item in enumerate(ranked, start=1) if item >= 0 and item in rel]
        dcg = sum(1 / math.log2(r + 1) for r in hit_ranks)
        idcg = sum(1 / math.log2(r + 1) for r in range(1, min(len(rel), k) + 1))
        out[f"hit@{k}"][u] = 1.0 if hit_ranks else 0.0
        out[f"recall@{k}"][u] = len(hit_ranks) / len(rel)
        out[f"precision@{k}"][u] = len(hit_ranks) / k
        out[f"mrr@{k}"][u] = 1 / hit_ranks[0] if hit_ranks else 0.0
        out[f"ndcg@{k}"][u] = dcg / idcg
    return out


@pytest.mark.parametrize(("seed", "table_cells", "min_per_block"), [
    (0, 1 << 22, 1000),  # the defaults: one bitmap for all rows
    (1, 1 << 22, 1000),
    (2, 3000, 1),        # a bitmap per ~10 rows: many blocks
    (3, 1 << 22, 10**9),  # binary search instead of the bitmap
])
def test_matches_plain_loop_with_gaps_and_short_lists(
        seed: int, table_cells: int, min_per_block: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ranking, "_TABLE_CELLS", table_cells)
    monkeypatch.setattr(ranking, "_MIN_QUERIES_PER_BLOCK", min_per_block)
    ks = (1, 3, 10, 50, 80)
    topk, truth = _random_run(seed, interior_gaps=True)
    got = ranking_metrics(topk, truth, ks)
    assert got["hit@10"].mean() > 0.3  # the run must exercise hits, not just zeros
    for k in ks:
        for key, expected in _reference(topk, truth, k).items():
            np.testing.assert_allclose(got[key], expected, rtol=0, atol=1e-12, err_msg=key)


RANX_NAMES = {"hit": "hit_rate", "ndcg": "ndcg", "mrr": "mrr", "recall": "recall",
              "precision": "precision"}


@pytest.mark.parametrize("seed", [11, 12])
def test_matches_ranx_per_user(seed: int) -> None:
    ranx = pytest.importorskip("ranx")
    ks = (1, 5, 10, 20, 50, 100)  # 100 > width 50: ranx and we both treat it as empty slots
    topk, truth = _random_run(seed)
    qrels = ranx.Qrels({f"u{u}": {f"i{i}": 1 for i in rel.tolist()} for u, rel in enumerate(truth)})
    run_dict = {}
    for u in range(topk.shape[0]):
        items = [i for i in topk[u].tolist() if i >= 0]  # trailing empty slots only here
        run_dict[f"u{u}"] = {f"i{i}": float(len(items) - r) for r, i in enumerate(items)}
    run = ranx.Run(run_dict)
    names = [f"{RANX_NAMES[m]}@{k}" for m in METRIC_NAMES for k in ks] + [f"hits@{k}" for k in ks]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # numba's uint64 cast warnings inside ranx
        ranx.evaluate(qrels, run, names, return_mean=False, make_comparable=True)
    per_query = run.scores
    got = ranking_metrics(topk, truth, ks)
    users = [f"u{u}" for u in range(topk.shape[0])]
    assert got["hit@10"].mean() > 0.3
    for k in ks:
        for m in METRIC_NAMES:
            expected = np.array([per_query[f"{RANX_NAMES[m]}@{k}"][q] for q in users])
            np.testing.assert_allclose(got[f"{m}@{k}"], expected, rtol=0, atol=1e-9,
                                       err_msg=f"{m}@{k}")
        hits = np.array([per_query[f"hits@{k}"][q] for q in users])
        np.testing.assert_allclose(got[f"precision@{k}"] * k, hits, rtol=0, atol=1e-9)


@pytest.mark.parametrize(("table_cells", "min_per_block"), [
    (1 << 22, 1000),  # defaults here: a bitmap of all rows at once
    (64, 1),          # a bitmap per two rows: many blocks
    (1 << 22, 10**9),  # forced binary search
])
def test_member_of_rows_agrees_with_isin(table_cells: int, min_per_block: int) -> None:
    rng = np.random.default_rng(5)
    n_rows, base = 37, 30
    keys = np.unique(rng.integers(0, n_rows, 200) * base + rng.integers(0, base, 200))
    queries = np.arange(n_rows)[:, None] * base + rng.integers(0, base, (n_rows, 12))
    got = member_of_rows(keys, queries, base, table_cells=table_cells,
                         min_queries_per_block=min_per_block)
    expected = np.isin(queries, keys)
    assert expected.any() and not expected.all()
    np.testing.assert_array_equal(got, expected)
