"""Deterministic top-k selection: ties are broken by the lower item index, always.

Speed matters (full ranking touches users x items scores), so selection is an argpartition
followed by a sort of the few survivors; every item tied with the k-th score survives the
partition, so the result does not depend on how argpartition orders ties.
"""

from __future__ import annotations

import numpy as np


def topk_from_scores(scores: np.ndarray, k: int, invalid: float | None = None) -> np.ndarray:
    """Column indices of the k best scores per row, best first: int64 (rows, k).

    ``invalid``: a score meaning "not eligible" (e.g. -inf for masked items); such slots come out
    as -1 when a row has fewer than k eligible items. NaN scores must be rejected before this.
    """
    scores = np.asarray(scores)
    if scores.ndim != 2:
        raise ValueError(f"scores must be 2-D (users x items), got shape {scores.shape}")
    n_rows, n_cols = scores.shape
    k = int(min(k, n_cols))
    out = np.full((n_rows, k), -1, dtype=np.int64)
    if k == 0 or n_rows == 0:
        return out
    neg = -scores
    if k < n_cols:
        part = np.argpartition(neg, k - 1, axis=1)[:, :k]
        kth = np.take_along_axis(neg, part, axis=1).max(axis=1)
    else:
        kth = neg.max(axis=1)
    for r in range(n_rows):
        cand = np.flatnonzero(neg[r] <= kth[r])
        order = np.lexsort((cand, neg[r, cand]))[:k]
        chosen = cand[order]
        if invalid is not None:
            chosen = chosen[scores[r, chosen] != invalid]
        out[r, : len(chosen)] = chosen
    return out
