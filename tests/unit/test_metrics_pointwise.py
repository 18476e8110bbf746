"""AUC and GAUC: hand-computed cases, scikit-learn and RecBole's GAUC as oracles, ties included."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from benchmark.metrics.pointwise import (
    WEIGHTED_METRICS,
    auc,
    gauc,
    gauc_pairs,
    group_auc,
    weight_name,
)


def test_auc_by_hand_with_a_tie() -> None:
    # positives 0.9, 0.4; negatives 0.1, 0.4. Pairs (pos, neg):
    # (0.9, 0.1) = 1, (0.9, 0.4) = 1, (0.4, 0.1) = 1, (0.4, 0.4) = 1/2  -> 3.5 / 4
    assert auc(np.array([1, 0, 1, 0]), np.array([0.9, 0.1, 0.4, 0.4])) == 0.875


def test_auc_extremes() -> None:
    labels = np.array([True, True, False, False, False])
    assert auc(labels, np.array([5.0, 4.0, 3.0, 2.0, 1.0])) == 1.0
    assert auc(labels, np.array([1.0, 2.0, 3.0, 4.0, 5.0])) == 0.0
    assert auc(labels, np.zeros(5)) == 0.5
    assert auc(np.array([1, 0]), np.array([-0.0, 0.0])) == 0.5  # equal floats tie
    # infinities are ordinary (if extreme) scores. positives inf, 0; negatives -inf, 0, -1:
    # inf beats all 3 negatives (3); 0 beats -inf and -1 and ties 0 (2.5) -> 5.5 / 6
    assert auc(labels, np.array([np.inf, 0.0, -np.inf, 0.0, -1.0])) == pytest.approx(5.5 / 6)


@pytest.mark.parametrize("seed", range(5))
def test_auc_matches_sklearn_with_ties(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 2000
    labels = rng.random(n) < 0.3
    scores = np.round(rng.normal(size=n) + labels * 0.7, 1)  # rounding makes many ties
    assert np.unique(scores).size < n / 4
    expected = roc_auc_score(labels, scores)
    assert auc(labels, scores) == pytest.approx(expected, abs=1e-9)
    assert auc(labels.astype(np.int64), scores) == pytest.approx(expected, abs=1e-9)
    assert auc(labels.astype(np.float32), scores.astype(np.float32)) == pytest.approx(
        roc_auc_score(labels, scores.astype(np.float32)), abs=1e-9)


def test_auc_errors() -> None:
    with pytest.raises(ValueError, match="both classes; got 3 positive"):
        auc(np.ones(3), np.array([0.1, 0.2, 0.3]))
    with pytest.raises(ValueError, match="2 of 4 scores are NaN"):
        auc(np.array([1, 0, 1, 0]), np.array([0.1, np.nan, 0.3, np.nan]))
    with pytest.raises(ValueError, match="binary"):
        auc(np.array([2, 0, 1]), np.array([0.1, 0.2, 0.3]))
    with pytest.raises(ValueError, match="differ in length"):
        auc(np.array([1, 0]), np.array([0.1, 0.2, 0.3]))


def test_gauc_by_hand() -> None:
    # user 3: pos 0.9, 0.3; neg 0.3 -> (1 + 1/2) / 2 = 0.75; 2 positives, 2 pairs
    # user 7: pos 0.2; neg 0.5, 0.1, 0.0 -> (0 + 1 + 1) / 3 = 2/3; 1 positive, 3 pairs
    # user 5: positives only -> no AUC, left out
    # gauc (RecBole, by positives): (2 * 0.75 + 1 * 2/3) / 3 = 13/18
    # gauc_pairs (by pairs):        (2 * 0.75 + 3 * 2/3) / 5 = 0.7
    # plain mean of per-user AUCs:  (0.75 + 2/3) / 2 = 17/24: a third number
    users = np.array([7, 3, 5, 3, 7, 3, 7, 7])
    labels = np.array([1, 1, 1, 1, 0, 0, 0, 0])
    scores = np.array([0.2, 0.9, 0.1, 0.3, 0.5, 0.3, 0.1, 0.0])
    mean, kept, per_user = gauc(users, labels, scores)
    assert mean == pytest.approx(13 / 18, abs=1e-15)
    np.testing.assert_array_equal(kept, [3, 7])
    np.testing.assert_allclose(per_user, [0.75, 2 / 3], rtol=0, atol=1e-15)
    mean_pairs, kept_pairs, per_user_pairs = gauc_pairs(users, labels, scores)
    assert mean_pairs == pytest.approx(0.7, abs=1e-15)
    np.testing.assert_array_equal(kept_pairs, kept)
    np.testing.assert_array_equal(per_user_pairs, per_user)
    g = group_auc(users, labels, scores)
    np.testing.assert_array_equal(g.n_pos, [2, 1])
    np.testing.assert_array_equal(g.n_neg, [1, 3])
    np.testing.assert_array_equal(g.weights("gauc"), [2.0, 1.0])
    np.testing.assert_array_equal(g.weights("gauc_pairs"), [2.0, 3.0])
    assert g.weights("gauc").dtype == np.float64
    assert np.average(g.auc, weights=g.weights("gauc")) == pytest.approx(mean, abs=1e-15)
    with pytest.raises(ValueError, match="no GAUC weights named 'auc'"):
        g.weights("auc")


def test_weighted_metric_names() -> None:
    assert set(WEIGHTED_METRICS) == {"gauc", "gauc_pairs"}
    assert weight_name("gauc") == "gauc_weight"
    assert weight_name("gauc_pairs") == "gauc_pairs_weight"
    assert weight_name("auc") is None and weight_name("ndcg") is None


def _per_user_sklearn(users: np.ndarray, labels: np.ndarray, scores: np.ndarray
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Kept users, their AUCs (scikit-learn), positives and (pos x neg) pairs, user by user."""
    kept, aucs, positives, pairs = [], [], [], []
    for u in np.unique(users):
        sel = users == u
        n_pos = int(labels[sel].sum())
        n_neg = int(sel.sum()) - n_pos
        if n_pos and n_neg:
            kept.append(u)
            aucs.append(roc_auc_score(labels[sel], scores[sel]))
            positives.append(n_pos)
            pairs.append(n_pos * n_neg)
    return np.array(kept), np.array(aucs), np.array(positives), np.array(pairs)


def _random_pairs(seed: int, n_users: int = 300, max_pairs: int = 40
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sparse signed user ids, pairs shuffled across users, many score ties, one-class users."""
    rng = np.random.default_rng(seed)
    user_ids = rng.choice(10**9, size=n_users, replace=False) - 5 * 10**8
    counts = rng.integers(1, max_pairs, size=n_users)
    users = np.repeat(user_ids, counts)
    labels = rng.random(users.size) < rng.uniform(0.05, 0.6, size=n_users).repeat(counts)
    scores = np.round(rng.normal(size=users.size) + 0.5 * labels, 1)
    shuffle = rng.permutation(users.size)  # pairs of a user need not be contiguous
    return users[shuffle], labels[shuffle], scores[shuffle]


@pytest.mark.parametrize("seed", range(3))
def test_gauc_matches_per_user_sklearn_loop(seed: int) -> None:
    users, labels, scores = _random_pairs(seed)
    mean, kept, per_user = gauc(users, labels, scores)
    exp_kept, exp_auc, positives, pairs = _per_user_sklearn(users, labels, scores)
    assert 0 < kept.size < np.unique(users).size  # some users are left out for having one class
    np.testing.assert_array_equal(kept, exp_kept)
    np.testing.assert_allclose(per_user, exp_auc, rtol=0, atol=1e-9)
    assert mean == pytest.approx(np.average(exp_auc, weights=positives), abs=1e-9)
    mean_pairs, _, _ = gauc_pairs(users, labels, scores)
    assert mean_pairs == pytest.approx(np.average(exp_auc, weights=pairs), abs=1e-9)
    # the definitions differ on real data: the weights matter
    assert mean != pytest.approx(mean_pairs, abs=1e-6)
    assert mean != pytest.approx(float(per_user.mean()), abs=1e-6)


# --- RecBole's GAUC (recbole.evaluator.metrics.GAUC, RecBole 1.2.1) as the oracle ------------


def _recbole_gauc_class():
    """RecBole's GAUC metric class; its metric code needs numpy 2's removed aliases back."""
    pytest.importorskip("recbole")
    from benchmark.compat import recbole_shims

    recbole_shims.apply()
    from recbole.evaluator.metrics import GAUC

    return GAUC({"metric_decimal_place": 15})


def _recbole_gauc(users: np.ndarray, labels: np.ndarray, scores: np.ndarray) -> float:
    """GAUC through RecBole's own code: its collector's 'rec.meanrank' then the metric.

    As ``Collector.eval_batch_collect`` does: one score row per user padded with -inf (RecBole
    pads every row; one pad column more than the longest user keeps argmin = the user's length),
    sorted descending, tied scores given their average rank (``Collector._average_rank``), the
    positives' rank sum, the row length and the positives. Then ``GAUC.calculate_metric``'s
    split and ``metric_info``, in float64 and without its final rounding.
    """
    import types

    import torch
    from recbole.evaluator.collector import Collector

    metric = _recbole_gauc_class()
    ids, row = np.unique(users, return_inverse=True)
    col = np.zeros(users.size, dtype=np.int64)
    for r in range(ids.size):  # position of each pair in its user's row
        sel = np.flatnonzero(row == r)
        col[sel] = np.arange(sel.size)
    width = int(col.max()) + 2
    scores_tensor = torch.full((ids.size, width), -np.inf, dtype=torch.float64)
    scores_tensor[row, col] = torch.as_tensor(scores, dtype=torch.float64)
    pos_matrix = torch.zeros_like(scores_tensor)
    pos_matrix[row[labels], col[labels]] = 1
    desc_scores, desc_index = torch.sort(scores_tensor, dim=-1, descending=True)
    pos_index = torch.gather(pos_matrix, dim=1, index=desc_index)
    avg_rank = Collector._average_rank(types.SimpleNamespace(device="cpu"), desc_scores)
    pos_rank_sum = torch.where(pos_index == 1, avg_rank, torch.zeros_like(avg_rank)).sum(
        dim=-1, keepdim=True)
    pos_len_list = pos_matrix.sum(dim=1, keepdim=True)
    user_len_list = desc_scores.argmin(dim=1, keepdim=True)
    mean_rank = torch.cat((pos_rank_sum, user_len_list, pos_len_list), dim=1).numpy()
    rank_sum, user_len, pos_len = np.split(mean_rank, 3, axis=1)
    return float(metric.metric_info(rank_sum, user_len.squeeze(-1), pos_len.squeeze(-1)))


def _pairs_from_ranks(rows: list[tuple[int, list[int]]]
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(users, labels, scores) of users given as (items, descending ranks of the positives)."""
    users, labels, scores = [], [], []
    for u, (n, pos_ranks) in enumerate(rows):
        for rank in range(1, n + 1):  # rank 1 = the highest score
            users.append(u)
            labels.append(rank in pos_ranks)
            scores.append(float(n + 1 - rank))
    return np.array(users), np.array(labels), np.array(scores)


def test_gauc_equals_recbole_on_its_test_case() -> None:
    """RecBole's GAUC test case (tests/metrics/test_rank_metrics.py upstream): per user the
    number of items, of positives and the positives' descending rank sum:
    user_len [2, 3, 5], pos_len [1, 2, 3], pos_rank_sum [1, 4, 9].

    By hand, AUC(u) = (|R|(n+1) - |R|(|R|+1)/2 - rank_sum) / (|R| (n - |R|)):
      user 0: (1*3 - 1 - 1) / (1*1) = 1;  user 1: (2*4 - 3 - 4) / (2*1) = 1/2;
      user 2: (3*6 - 6 - 9) / (3*2) = 1/2.
    Weighted by positives (RecBole): (1*1 + 2*1/2 + 3*1/2) / 6 = 7/12 = 0.5833;
    weighted by pairs (this suite's gauc before metric version 3): (1 + 1 + 3) / 9 = 0.5556.
    """
    metric = _recbole_gauc_class()
    recbole = metric.metric_info(np.array([[1.0], [4.0], [9.0]]), np.array([2.0, 3.0, 5.0]),
                                 np.array([1.0, 2.0, 3.0]))
    assert recbole == pytest.approx(7 / 12, abs=1e-12)
    # the same users as labelled pairs: positives at ranks {1}, {1, 3}, {1, 3, 5}
    users, labels, scores = _pairs_from_ranks([(2, [1]), (3, [1, 3]), (5, [1, 3, 5])])
    mean, kept, per_user = gauc(users, labels, scores)
    assert mean == pytest.approx(recbole, abs=1e-9)
    assert mean == pytest.approx(7 / 12, abs=1e-15)
    np.testing.assert_array_equal(per_user, [1.0, 0.5, 0.5])
    assert gauc_pairs(users, labels, scores)[0] == pytest.approx(5 / 9, abs=1e-15)
    assert _recbole_gauc(users, labels, scores) == pytest.approx(7 / 12, abs=1e-12)


def test_gauc_drops_one_class_users_like_recbole() -> None:
    # user_len [3, 6, 4], pos_len [1, 0, 4], pos_rank_sum [3, 0, 10]: user 1 has no positive,
    # user 2 no negative; RecBole drops both (with a warning), leaving user 0, whose only
    # positive is ranked last: AUC (1*4 - 1 - 3) / (1*2) = 0
    metric = _recbole_gauc_class()
    recbole = metric.metric_info(np.array([[3.0], [0.0], [10.0]]), np.array([3.0, 6.0, 4.0]),
                                 np.array([1.0, 0.0, 4.0]))
    users, labels, scores = _pairs_from_ranks([(3, [3]), (6, []), (4, [1, 2, 3, 4])])
    mean, kept, per_user = gauc(users, labels, scores)
    assert recbole == 0.0 and mean == 0.0
    np.testing.assert_array_equal(kept, [0])


@pytest.mark.parametrize("seed", range(4))
def test_gauc_equals_recbole_on_random_data_with_ties(seed: int) -> None:
    users, labels, scores = _random_pairs(seed, n_users=120, max_pairs=30)
    mean, _, _ = gauc(users, labels, scores)
    recbole = _recbole_gauc(users, labels, scores)
    assert mean == pytest.approx(recbole, abs=1e-9)
    assert gauc_pairs(users, labels, scores)[0] != pytest.approx(recbole, abs=1e-6)


def test_gauc_errors() -> None:
    with pytest.raises(ValueError, match="none of 2 user"):
        gauc(np.array([1, 1, 2]), np.array([1, 1, 0]), np.array([0.1, 0.2, 0.3]))
    with pytest.raises(ValueError, match="1 of 3 scores are NaN"):
        gauc(np.array([1, 1, 2]), np.array([1, 0, 0]), np.array([0.1, np.nan, 0.3]))
    with pytest.raises(ValueError, match="users \\(2\\) and labels \\(3\\)"):
        gauc(np.array([1, 1]), np.array([1, 0, 0]), np.array([0.1, 0.2, 0.3]))


def test_gauc_with_string_user_ids_and_huge_ids() -> None:
    labels = np.array([1, 0, 1, 0, 0])
    scores = np.array([0.9, 0.1, 0.2, 0.8, 0.5])
    # "b": pos 0.9 vs neg 0.1 -> 1 (1 positive, 1 pair); "a": pos 0.2 vs negs 0.8, 0.5 -> 0
    # (1 positive, 2 pairs): by positives (1 + 0) / 2, by pairs 1 / 3
    mean, kept, per_user = gauc(np.array(["b", "b", "a", "a", "a"]), labels, scores)
    np.testing.assert_array_equal(kept, ["a", "b"])
    np.testing.assert_array_equal(per_user, [0.0, 1.0])
    assert mean == 0.5
    assert gauc_pairs(np.array(["b", "b", "a", "a", "a"]), labels, scores)[0] == pytest.approx(
        1 / 3, abs=1e-15)
    # ids spanning most of int64: decoded back exactly
    big = np.array([2**62, 2**62, -(2**62), -(2**62), -(2**62)], dtype=np.int64)
    mean2, kept2, per_user2 = gauc(big, labels, scores)
    np.testing.assert_array_equal(kept2, [-(2**62), 2**62])
    assert kept2.dtype == np.int64
    np.testing.assert_array_equal(per_user2, [0.0, 1.0])
    assert mean2 == mean
