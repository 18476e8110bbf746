"""AUC and GAUC: hand-computed cases and scikit-learn as an oracle, ties included."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from benchmark.metrics.pointwise import auc, gauc


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
    # user 7: pos 0.2, neg 0.5 -> AUC 0 over 1 pair
    # user 3: pos 0.9, 0.3; neg 0.3 -> (1 + 1/2) / 2 = 0.75 over 2 pairs
    # user 5: positives only -> no AUC, left out
    # weighted mean = (0 * 1 + 0.75 * 2) / 3 = 0.5
    users = np.array([7, 3, 5, 3, 7, 3])
    labels = np.array([1, 1, 1, 1, 0, 0])
    scores = np.array([0.2, 0.9, 0.1, 0.3, 0.5, 0.3])
    mean, kept, per_user = gauc(users, labels, scores)
    assert mean == 0.5
    np.testing.assert_array_equal(kept, [3, 7])
    np.testing.assert_array_equal(per_user, [0.75, 0.0])


def _per_user_sklearn(users: np.ndarray, labels: np.ndarray, scores: np.ndarray
                      ) -> tuple[float, np.ndarray, np.ndarray]:
    kept, aucs, weights = [], [], []
    for u in np.unique(users):
        sel = users == u
        n_pos = int(labels[sel].sum())
        n_neg = int(sel.sum()) - n_pos
        if n_pos and n_neg:
            kept.append(u)
            aucs.append(roc_auc_score(labels[sel], scores[sel]))
            weights.append(n_pos * n_neg)
    return float(np.average(aucs, weights=weights)), np.array(kept), np.array(aucs)


@pytest.mark.parametrize("seed", range(3))
def test_gauc_matches_per_user_sklearn_loop(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n_users = 300
    user_ids = rng.choice(10**9, size=n_users, replace=False) - 5 * 10**8  # sparse, some < 0
    counts = rng.integers(1, 40, size=n_users)
    users = np.repeat(user_ids, counts)
    labels = rng.random(users.size) < rng.uniform(0.05, 0.6, size=n_users).repeat(counts)
    scores = np.round(rng.normal(size=users.size) + 0.5 * labels, 1)
    shuffle = rng.permutation(users.size)  # pairs of a user need not be contiguous
    users, labels, scores = users[shuffle], labels[shuffle], scores[shuffle]

    mean, kept, per_user = gauc(users, labels, scores)
    exp_mean, exp_kept, exp_per_user = _per_user_sklearn(users, labels, scores)
    assert 0 < kept.size < n_users  # some users are left out for having one class
    np.testing.assert_array_equal(kept, exp_kept)
    np.testing.assert_allclose(per_user, exp_per_user, rtol=0, atol=1e-9)
    assert mean == pytest.approx(exp_mean, abs=1e-9)
    assert mean != pytest.approx(float(per_user.mean()), abs=1e-6)  # weights matter


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
    # "b": pos 0.9 vs neg 0.1 -> 1 (1 pair); "a": pos 0.2 vs negs 0.8, 0.5 -> 0 (2 pairs)
    mean, kept, per_user = gauc(np.array(["b", "b", "a", "a", "a"]), labels, scores)
    np.testing.assert_array_equal(kept, ["a", "b"])
    np.testing.assert_array_equal(per_user, [0.0, 1.0])
    assert mean == pytest.approx(1 / 3, abs=1e-15)
    # ids spanning most of int64: decoded back exactly
    big = np.array([2**62, 2**62, -(2**62), -(2**62), -(2**62)], dtype=np.int64)
    mean2, kept2, per_user2 = gauc(big, labels, scores)
    np.testing.assert_array_equal(kept2, [-(2**62), 2**62])
    assert kept2.dtype == np.int64
    np.testing.assert_array_equal(per_user2, [0.0, 1.0])
    assert mean2 == mean
