"""AUC and GAUC for the ``pointwise`` protocol (labelled (user, item) pairs, as TALLRec reports).

GAUC has several definitions in the literature; ``gauc`` is RecBole's (per-user AUC weighted by
the user's positives), ``gauc_pairs`` weights by (positive, negative) pairs instead.

AUC and both GAUCs use the Mann-Whitney form of the ROC AUC: the share of (positive, negative) pairs in which
the positive scores higher, a tie counting 1/2. Counting pairs per tie group with integer
cumulative sums gives the exact numerator (no float rank sums), in O(n log n) for the sorts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def _check_inputs(labels: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Labels as bool, scores as float64; reject what would make the AUC meaningless."""
    labels = np.asarray(labels).ravel()
    scores = np.asarray(scores, dtype=np.float64).ravel()
    if labels.shape != scores.shape:
        raise ValueError(f"labels ({labels.size}) and scores ({scores.size}) differ in length")
    n_nan = int(np.isnan(scores).sum())
    if n_nan:
        raise ValueError(f"{n_nan} of {scores.size} scores are NaN; a model must score every pair")
    if labels.dtype != np.bool_:
        if labels.dtype.kind not in "iuf" or not np.all((labels == 0) | (labels == 1)):
            raise ValueError("labels must be binary: bool, or 0/1 (threshold ratings beforehand)")
        labels = labels == 1
    return labels, scores


def _score_levels(scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Order that sorts ``scores`` ascending, and the dense level (0, 1, ...) of each sorted score.

    Equal scores share a level (-0.0 and 0.0 included), which is how ties are kept exact.
    """
    order = np.argsort(scores)  # ties become one level, so an unstable (faster) sort is fine
    s_sorted = scores[order]
    levels = np.zeros(scores.size, dtype=np.int64)
    levels[1:] = s_sorted[1:] != s_sorted[:-1]
    np.cumsum(levels, out=levels)
    return order, levels


def _mann_whitney(groups: np.ndarray, positive: np.ndarray, n_levels: int
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per-user pair counts from pairs sorted by group = user_code * n_levels + score level.

    Returns (user code, 2U, positives, negatives) per user, where 2U counts a won (positive,
    negative) pair as 2 and a tied one as 1: integers, so the AUC numerator is exact.
    """
    n = groups.size
    new_group = np.ones(n, dtype=bool)
    new_group[1:] = groups[1:] != groups[:-1]
    starts = np.flatnonzero(new_group)
    pos_g = np.add.reduceat(positive, starts)
    neg_g = np.diff(np.append(starts, n)) - pos_g
    user_g = groups[starts] // n_levels
    new_user = np.ones(starts.size, dtype=bool)
    new_user[1:] = user_g[1:] != user_g[:-1]
    first = np.flatnonzero(new_user)
    # negatives in lower groups of the same user: running count minus the count at its start
    neg_below = np.cumsum(neg_g) - neg_g
    neg_below -= neg_below[first][np.cumsum(new_user) - 1]
    twice_u = np.add.reduceat(pos_g * (2 * neg_below + neg_g), first)
    return (user_g[first], twice_u, np.add.reduceat(pos_g, first),
            np.add.reduceat(neg_g, first))


def auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """ROC AUC of binary ``labels`` under ``scores`` (higher = more likely positive); ties = 1/2."""
    labels, scores = _check_inputs(labels, scores)
    n_pos = int(labels.sum())
    n_neg = labels.size - n_pos
    if n_pos == 0 or n_neg == 0:
        raise ValueError(
            f"AUC needs both classes; got {n_pos} positive(s) and {n_neg} negative(s)"
        )
    order, levels = _score_levels(scores)
    # one "user": the levels are already sorted, so no second sort is needed
    _, twice_u, _, _ = _mann_whitney(levels, labels[order].astype(np.int64), int(levels[-1]) + 1)
    return int(twice_u[0]) / (2.0 * n_pos * n_neg)


def _user_codes(users: np.ndarray, limit: int) -> tuple[np.ndarray, np.ndarray | int]:
    """Order-preserving codes in [0, limit) and how to decode them (an offset or the uniques)."""
    if users.dtype.kind in "iu":
        lo, hi = int(users.min()), int(users.max())
        if hi - lo < limit and hi <= np.iinfo(np.int64).max:
            return users.astype(np.int64) - lo, lo  # values in [lo, hi]: no overflow
    # other ids (strings, huge ranges): their rank among the distinct ids, at most n - 1
    uniques, codes = np.unique(users, return_inverse=True)
    return codes.astype(np.int64).ravel(), uniques


#: metrics that are weighted means of per-user values, and what weighs each user. Tracks store
#: the weights beside the values (``<track>/<protocol>/<metric>_weight`` in per_user.npz), so that
#: significance tests test the weighted mean the leaderboard shows, not the plain mean.
WEIGHTED_METRICS: dict[str, str] = {
    "gauc": "the user's number of positives (RecBole's GAUC)",
    "gauc_pairs": "the user's number of (positive, negative) pairs",
}
WEIGHT_SUFFIX = "_weight"


def weight_name(metric: str) -> str | None:
    """Name of the per-user weight array of a weighted metric, None for a plain mean."""
    return metric + WEIGHT_SUFFIX if metric in WEIGHTED_METRICS else None


@dataclass(frozen=True)
class GroupAUC:
    """Per-user AUCs of the users with both labels, and the label counts that weigh them.

    One pass gives both GAUC definitions and the per-user weights that significance tests need.
    """

    users: np.ndarray  # kept user ids, increasing
    auc: np.ndarray  # their AUCs (ties count 1/2)
    n_pos: np.ndarray  # positives per kept user (int64)
    n_neg: np.ndarray  # negatives per kept user (int64)
    twice_u: np.ndarray  # 2 x Mann-Whitney U per kept user (int64): exact numerators

    @property
    def gauc(self) -> float:
        """RecBole's GAUC: per-user AUC weighted by the user's number of positives."""
        return float(np.sum(self.n_pos * self.auc) / np.sum(self.n_pos))

    @property
    def gauc_pairs(self) -> float:
        """Per-user AUC weighted by the user's (positive, negative) pairs (exact ratio)."""
        return float(self.twice_u.sum() / (2.0 * np.sum(self.n_pos * self.n_neg)))

    def weights(self, metric: str) -> np.ndarray:
        """Per-user weights of ``metric`` ('gauc' or 'gauc_pairs') as float64."""
        if metric == "gauc":
            return self.n_pos.astype(np.float64)
        if metric == "gauc_pairs":
            return (self.n_pos * self.n_neg).astype(np.float64)
        raise ValueError(f"no GAUC weights named {metric!r}; use 'gauc' or 'gauc_pairs'")


def group_auc(users: np.ndarray, labels: np.ndarray, scores: np.ndarray) -> GroupAUC:
    """Per-user AUC of every user having both a positive and a negative pair.

    Users with one class only have no AUC and are left out (RecBole drops them too).
    """
    labels, scores = _check_inputs(labels, scores)
    users = np.asarray(users).ravel()
    if users.shape != labels.shape:
        raise ValueError(f"users ({users.size}) and labels ({labels.size}) differ in length")
    if users.size == 0:
        raise ValueError("GAUC of no pairs is undefined")
    order, levels = _score_levels(scores)
    n_levels = int(levels[-1]) + 1
    codes, decode = _user_codes(users, (np.iinfo(np.int64).max - 1) // (2 * n_levels))
    # one int64 per pair: (user, score level, label). Sorting plain integers is several times
    # faster than lexsort over (user, score) and needs no gathers afterwards.
    key = (codes[order] * n_levels + levels) * 2 + labels[order]
    key.sort()
    user_code, twice_u, n_pos, n_neg = _mann_whitney(key >> 1, key & 1, n_levels)

    pairs = n_pos * n_neg
    keep = pairs > 0
    if not keep.any():
        raise ValueError(
            f"GAUC needs at least one user with both a positive and a negative pair; none of "
            f"{user_code.size} user(s) has"
        )
    kept_code = user_code[keep]
    if isinstance(decode, int):
        kept_users = (kept_code + decode).astype(users.dtype)
    else:
        kept_users = decode[kept_code]
    return GroupAUC(kept_users, twice_u[keep] / (2.0 * pairs[keep]), n_pos[keep], n_neg[keep],
                    twice_u[keep])


def gauc(users: np.ndarray, labels: np.ndarray, scores: np.ndarray
         ) -> tuple[float, np.ndarray, np.ndarray]:
    """Group AUC as RecBole defines it: per-user AUC weighted by the user's positives.

    sum_u |R(u)| AUC(u) / sum_u |R(u)| over the users with both labels (RecBole 1.2.1
    ``evaluator.metrics.GAUC``), so that a number called GAUC here means what it means there.
    Returns (weighted mean, kept user ids in increasing order, their AUCs); the weights are
    ``group_auc(...).n_pos``.
    """
    g = group_auc(users, labels, scores)
    return g.gauc, g.users, g.auc


def gauc_pairs(users: np.ndarray, labels: np.ndarray, scores: np.ndarray
               ) -> tuple[float, np.ndarray, np.ndarray]:
    """Pair-weighted group AUC: per-user AUC weighted by the user's (pos, neg) pairs.

    The suite's ``gauc`` before metric version 3; equal to the share of won within-user pairs
    over all users. Returns (weighted mean, kept user ids, their AUCs).
    """
    g = group_auc(users, labels, scores)
    return g.gauc_pairs, g.users, g.auc
