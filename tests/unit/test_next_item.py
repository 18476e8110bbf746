"""The next-item protocol on toy models with hand-computed ranks, its metric arithmetic, the
``history`` capability and the leave-one-out split."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from benchmark.config.suite import AccuracySettings
from benchmark.data.split import SplitSpec, leave_one_out_sizes, make_split, split_from_frames
from benchmark.data.types import Catalog, Interactions
from benchmark.errors import BenchError
from benchmark.metrics.next_item import metrics_from_ranks, target_ranks
from benchmark.metrics.ranking import ranking_metrics
from benchmark.metrics.topk import topk_from_scores
from benchmark.models.base import Capability, Recommender
from benchmark.models.history import HistoryScorer, history_scorer
from benchmark.tracks.accuracy import AccuracyTrack, next_item_means
from benchmark.tracks.next_item import build_queries

SCORES = np.array([[0.9, 0.8, 0.7, 0.5, 0.5, 0.6],
                   [0.1, 0.3, 0.3, 0.2, 0.9, 0.0]])


def toy_split(positives: str = "all") -> object:
    """u0: train 0, 1 | valid 2 | test 3, 4.  u1: train 5 | test 0 (rating 2 = disliked)
    and 1.  Timestamps increase in that order within each user."""
    def frame(rows):
        return pd.DataFrame({"user": np.array([r[0] for r in rows], dtype=np.int32),
                             "item": np.array([r[1] for r in rows], dtype=np.int32),
                             "rating": np.array([r[2] for r in rows], dtype=np.float32),
                             "timestamp": np.array([r[3] for r in rows], dtype=np.int64)})
    parts = [frame([(0, 0, 5, 1), (0, 1, 5, 2), (1, 5, 5, 1)]), frame([(0, 2, 5, 3)]),
             frame([(0, 4, 5, 5), (0, 3, 5, 4), (1, 1, 5, 3), (1, 0, 2, 2)])]
    catalog = Catalog(item_ids=np.array([f"i{i}" for i in range(6)]),
                      user_ids=np.array(["a", "b"]))
    return split_from_frames("toy", SplitSpec(positives=positives), parts, catalog)


class Fixed(Recommender):
    """score_all = SCORES: a non-sequential model with a fixed user representation."""

    def fit(self, train: Interactions, valid: Interactions, *, seed: int) -> None:
        self._remember(train, valid)

    def score_all(self, users: np.ndarray) -> np.ndarray:
        return SCORES[np.asarray(users)]


class AfterLast(HistoryScorer, Fixed):
    """Scores from the history only: -|item - last item of the history|."""

    capabilities = Fixed.capabilities | {Capability.HISTORY}

    def score_history(self, users, histories):
        self.seen_histories = [h.tolist() for h in histories]
        last = np.array([h[-1] for h in histories])
        return -np.abs(np.arange(6)[None, :] - last[:, None]).astype(float)


def evaluate(model, split, ks=(1, 5), mask_seen=False):
    model.fit(split.train, split.valid, seed=0)
    settings = AccuracySettings(ks=list(ks), protocols=["next_item"], mask_seen=mask_seen)
    return AccuracyTrack(settings, None, progress=False).evaluate(model, split)


def rows(result) -> dict[str, float]:
    return {f"{r.protocol}/{r.metric}@{r.k}": r.value for r in result.rows}


def test_non_sequential_model_hand_computed_ranks():
    # queries (u0, 3), (u0, 4), (u1, 0), (u1, 1); ranks over all items, ties to the lower id:
    # (u0, 3): 0, 1, 2, 5 score higher -> 4; (u0, 4): those and item 3 (tie, lower id) -> 5;
    # (u1, 0): 1, 2, 3, 4 higher -> 4; (u1, 1): 4 higher, 2 ties with a higher id -> 1
    result = evaluate(Fixed(), toy_split())
    got = rows(result)
    assert got["next_item/hit@5"] == pytest.approx(3 / 4)
    assert got["next_item/mrr@5"] == pytest.approx((1 / 5 + 0 + 1 / 5 + 1 / 2) / 4)
    assert got["next_item/ndcg@5"] == pytest.approx((2 / np.log2(6) + 1 / np.log2(3)) / 4)
    assert got["next_item/hit@1"] == 0.0
    assert {r.n for r in result.rows} == {4}  # the mean is over queries
    info = result.info["next_item"]
    assert info["model_input"] == "score_all" and info["mask_seen"] is False
    assert info["queries"] == 4 and info["users"] == 2


def test_mask_seen_removes_earlier_items_but_never_the_target():
    # masked: (u0, 3) loses 0, 1, 2 -> rank 1; (u0, 4) loses 0, 1, 2 and 3 -> 1;
    # (u1, 0) loses 5 (lower anyway) -> 4; (u1, 1) loses 5 and 0 (lower anyway) -> 1
    result = evaluate(Fixed(), toy_split(), mask_seen=True)
    got = rows(result)
    assert set(got) == {f"next_item_masked/{m}@{k}" for m in ("hit", "ndcg", "mrr")
                        for k in (1, 5)}
    assert got["next_item_masked/hit@5"] == 1.0 and got["next_item_masked/hit@1"] == 0.0
    assert got["next_item_masked/mrr@5"] == pytest.approx((3 / 2 + 1 / 5) / 4)
    assert result.info["next_item_masked"]["mask_seen"] is True
    assert "accuracy/next_item_masked/users" in result.per_user


def test_sequential_model_gets_the_history_at_each_query():
    model = AfterLast()
    result = evaluate(model, toy_split())
    # u0: train + valid, then + its earlier test item; u1: train, then + its earlier test item
    assert model.seen_histories == [[0, 1, 2], [0, 1, 2, 3], [5], [5, 0]]
    # -|i - last|, ties to the lower id: (u0, 3) after 2: 2, 1 beat it -> 2; (u0, 4) after 3:
    # 3, 2 -> 2; (u1, 0) after 5 -> 5; (u1, 1) after 0: 0 -> 1
    got = rows(result)
    assert got["next_item/hit@5"] == pytest.approx(3 / 4)
    assert got["next_item/mrr@5"] == pytest.approx((1 / 3 + 1 / 3 + 0 + 1 / 2) / 4)
    assert got["next_item/hit@1"] == 0.0
    assert result.info["next_item"]["model_input"] == "score_history"


def test_per_user_values_are_user_means_weighted_by_queries():
    result = evaluate(Fixed(), toy_split())
    users = result.per_user["accuracy/next_item/users"]
    mrr = result.per_user["accuracy/next_item/mrr@5"]
    weight = result.per_user["accuracy/next_item/mrr@5_weight"]
    assert users.tolist() == [0, 1] and weight.tolist() == [2, 2]
    assert mrr.tolist() == pytest.approx([(1 / 5 + 0) / 2, (1 / 5 + 1 / 2) / 2])
    reported = rows(result)["next_item/mrr@5"]
    assert np.sum(mrr * weight) / np.sum(weight) == pytest.approx(reported)


def test_liked_positives_and_queries_without_history():
    split = toy_split(positives="liked")
    # u1's disliked test item 0 is no query and not in the history, but it is masked
    q = build_queries(split, np.array([0, 1]))
    assert list(zip(q.users.tolist(), q.targets.tolist())) == [(0, 3), (0, 4), (1, 1)]
    assert [h.tolist() for h in q.histories(0, 3)] == [[0, 1, 2], [0, 1, 2, 3], [5]]
    assert [sorted(s.tolist()) for s in q.seen(0, 3)] == [[0, 1, 2], [0, 1, 2, 3], [0, 5]]
    # without train / valid items, a test interaction with no positive before it is skipped
    for positives, expected, skipped in (("liked", [], 1), ("all", [(1, 1)], 1)):
        s = toy_split(positives)
        bare = dataclasses.replace(s, train=Interactions(s.train.frame.iloc[:2], 2, 6,
                                                         positives=positives),
                                   valid=Interactions(s.valid.frame.iloc[:0], 2, 6,
                                                      positives=positives))
        q = build_queries(bare, np.array([1]))
        assert list(zip(q.users.tolist(), q.targets.tolist())) == expected
        assert q.skipped_without_history == skipped
        if expected:
            assert q.histories(0, 1)[0].tolist() == [0]


def test_target_ranks_agree_with_topk_and_ranking_metrics():
    rng = np.random.default_rng(0)
    scores = rng.integers(0, 5, size=(40, 30)).astype(float)  # many ties
    targets = rng.integers(0, 30, size=40)
    masked = [rng.choice(30, size=rng.integers(0, 8), replace=False) for _ in range(40)]
    ranks = target_ranks(scores, np.arange(40), targets, masked)
    masked_scores = scores.copy()
    for row, items in enumerate(masked):
        masked_scores[row, [i for i in items if i != targets[row]]] = -np.inf
    top = topk_from_scores(masked_scores, 10, invalid=-np.inf)
    truth = [np.array([t]) for t in targets]
    expected = ranking_metrics(top, truth, [5, 10], ["hit", "ndcg", "mrr", "recall",
                                                     "precision"])
    got = metrics_from_ranks(ranks, [5, 10], ["hit", "ndcg", "mrr", "recall", "precision"])
    for key, values in expected.items():
        np.testing.assert_allclose(got[key], values, atol=1e-12, err_msg=key)


def test_metrics_from_ranks_by_hand():
    got = metrics_from_ranks(np.array([0, 2, 10]), [3])
    assert got["hit@3"].tolist() == [1, 1, 0]
    assert got["mrr@3"].tolist() == pytest.approx([1, 1 / 3, 0])
    assert got["ndcg@3"].tolist() == pytest.approx([1, 0.5, 0])


def test_leave_one_out_masked_equals_full_ranking(raw_synthetic):
    """With one test item per user and the train + valid mask, next_item_masked asks the
    full protocol's question: the numbers must agree."""
    split = make_split(raw_synthetic, SplitSpec(strategy="leave_one_out"))
    model = Fixed()
    model.fit(split.train, split.valid, seed=0)
    rng = np.random.default_rng(1)
    table = rng.random((split.n_users, split.n_items))
    model.score_all = lambda users: table[np.asarray(users)]  # type: ignore[method-assign]
    settings = AccuracySettings(ks=[5, 10], protocols=["full", "next_item"], mask_seen=True)
    got = rows(AccuracyTrack(settings, None, progress=False).evaluate(model, split))
    for metric in ("hit@5", "ndcg@10", "mrr@10"):
        assert got[f"next_item_masked/{metric}"] == pytest.approx(got[f"full/{metric}"])
    assert next_item_means(model, split, [10], mask_seen=True)["ndcg@10"] == pytest.approx(
        got["full/ndcg@10"])


def test_leave_one_out_split_is_recboles_ls():
    assert leave_one_out_sizes(np.array([1, 2, 3, 7])).tolist() == [
        [1, 0, 0], [1, 0, 1], [1, 1, 1], [5, 1, 1]]
    raw = pd.DataFrame({"user": ["a"] * 4 + ["b"] * 2 + ["c"],
                        "item": ["x", "y", "z", "w", "x", "y", "z"],
                        "rating": np.float32(4), "timestamp": [4, 1, 3, 2, 9, 8, 1]})
    from benchmark.data.types import RawDataset

    split = make_split(RawDataset("t", raw), SplitSpec(strategy="leave_one_out"))
    users, items = split.catalog.user_ids, split.catalog.item_ids
    parts = [sorted(zip(users[p.frame.user].tolist(), items[p.frame.item].tolist()))
             for p in (split.train, split.valid, split.test)]
    assert parts == [[("a", "w"), ("a", "y"), ("b", "y"), ("c", "z")], [("a", "z")],
                     [("a", "x"), ("b", "x")]]
    assert SplitSpec(strategy="leave_one_out").key().startswith("leave_one_out_last2_")


def test_history_capability_is_typed():
    assert history_scorer(Fixed()) is None
    model = AfterLast()
    assert history_scorer(model) is model

    class Declared(Fixed):
        capabilities = Fixed.capabilities | {Capability.HISTORY}

    with pytest.raises(BenchError, match="HistoryScorer"):
        history_scorer(Declared())
    with pytest.raises(TypeError, match="Capability.HISTORY"):
        class Undeclared(HistoryScorer, Fixed):  # noqa: F841
            def score_history(self, users, histories):
                return np.zeros((len(users), 6))


def test_recbole_sequential_models_declare_history():
    from baselines.recbole_models import BPR, GRU4Rec, SASRec

    for cls in (SASRec, GRU4Rec):
        assert Capability.HISTORY in cls.capabilities and issubclass(cls, HistoryScorer)
    assert Capability.HISTORY not in BPR.capabilities


def test_recbole_valid_and_test_rows_grow_with_their_targets():
    from baselines.recbole_models import history_rows

    seqs = {0: np.array([7, 8]), 1: np.array([], dtype=np.int64)}
    targets = pd.DataFrame({"user": [0, 1, 0, 1], "item": [3, 5, 2, 6],
                            "timestamp": [20, 1, 10, 2]})
    users, lists, items = history_rows(seqs, targets, max_len=3)
    # time order per user; user 1 has no history before its first target: that row is left out
    assert list(zip(users, lists, items)) == [(0, "7 8", 2), (0, "7 8 2", 3), (1, "5", 6)]


def test_suite_run_stores_next_item_rows_and_weights(tmp_path):
    """`recbench run` end to end (Pop on 100 ml-100k users): labelled rows, info, per-user means
    whose query-weighted mean is the reported value, and mask_seen in the fingerprint."""
    from benchmark.config.suite import load_suite
    from benchmark.runner import store
    from benchmark.runner.runner import run_suite

    path = tmp_path / "ni.toml"
    path.write_text('name = "ni"\n[[datasets]]\nname = "ml-100k"\nmax_eval_users = 100\n'
                    '[[models]]\nname = "pop"\n[accuracy]\nks = [10]\n'
                    'protocols = ["full", "next_item"]\nmask_seen = true\n')
    suite = load_suite(path)
    run_suite(suite, tmp_path / "runs", progress=False, cache_dir=tmp_path / "cache")
    folder = tmp_path / "runs" / "ni" / "ml-100k" / "pop" / "seed-0"
    metrics = store.read_metrics(folder)
    got = {(r["protocol"], r["metric"]): r for r in metrics["rows"]}
    assert {p for p, _ in got} == {"full", "next_item_masked"}
    assert {m for p, m in got if p == "next_item_masked"} == {"hit", "ndcg", "mrr"}
    info = metrics["info"]["next_item_masked"]
    assert info["mask_seen"] is True and info["users"] == 100
    per_user = store.read_per_user(folder)
    users = per_user["accuracy/next_item_masked/users"]
    ndcg = per_user["accuracy/next_item_masked/ndcg@10"]
    weight = per_user["accuracy/next_item_masked/ndcg@10_weight"]
    assert len(users) == 100 and len(np.unique(users)) == 100
    assert weight.sum() == info["queries"] == got[("next_item_masked", "ndcg")]["n"]
    assert np.sum(ndcg * weight) / weight.sum() == pytest.approx(
        got[("next_item_masked", "ndcg")]["value"])
    marker = (folder / store.MARKER).read_text()
    assert '"mask_seen":true' in marker.replace(" ", "")
