"""Next-item metrics: one relevant item per query, so every metric follows from its rank.

The rank (0 = best) of a query's target is the number of eligible items that beat it: a higher
score, or an equal score and a lower item id (the tie rule of full ranking, ``full_ranking.py``).
With one relevant item, RecBole's definitions reduce to

- Hit@k  = 1 if rank < k
- MRR@k  = 1 / (rank + 1) if rank < k, else 0
- NDCG@k = 1 / log2(rank + 2) if rank < k, else 0 (the ideal DCG is 1)

and Recall@k = Hit@k, Precision@k = Hit@k / k, which is why the protocol does not report them.
Numpy only, like the rest of ``benchmark.metrics``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

#: metrics of the next-item protocol (Recall and Precision are Hit and Hit / k here)
NEXT_ITEM_METRICS: tuple[str, ...] = ("hit", "ndcg", "mrr")


def target_ranks(scores: np.ndarray, rows: np.ndarray, targets: np.ndarray,
                 masked: Sequence[np.ndarray] | None = None) -> np.ndarray:
    """Rank of each query's target among all items except its masked ones.

    ``scores``: (R, n_items) floats; query q reads row ``rows[q]`` and has target ``targets[q]``;
    ``masked[q]``: items query q may not rank (the target itself is never masked; repeats are
    counted once). NaN scores must be rejected before this. Returns int64 (len(rows),).
    """
    scores = np.asarray(scores, dtype=np.float64)
    rows = np.asarray(rows, dtype=np.int64)
    targets = np.asarray(targets, dtype=np.int64)
    n_items = scores.shape[1]
    own = scores[rows, targets]
    ids = np.arange(n_items)
    ranks = np.empty(len(rows), dtype=np.int64)
    chunk = max(1, 2**22 // max(1, n_items))  # ~4M comparisons at a time
    for a in range(0, len(rows), chunk):
        s = scores[rows[a:a + chunk]]
        t, o = targets[a:a + chunk, None], own[a:a + chunk, None]
        ranks[a:a + chunk] = ((s > o) | ((s == o) & (ids[None, :] < t))).sum(axis=1)
    if masked is None:
        return ranks
    lengths = np.fromiter((len(m) for m in masked), dtype=np.int64, count=len(masked))
    if len(masked) != len(rows):
        raise ValueError(f"masked has {len(masked)} rows for {len(rows)} queries")
    if lengths.sum() == 0:
        return ranks
    q = np.repeat(np.arange(len(rows)), lengths)
    items = np.concatenate([np.asarray(m, dtype=np.int64) for m in masked])
    key = np.unique(q * n_items + items)  # one entry per (query, item)
    q, items = key // n_items, key % n_items
    keep = items != targets[q]
    q, items = q[keep], items[keep]
    s, o = scores[rows[q], items], own[q]
    beats = (s > o) | ((s == o) & (items < targets[q]))
    return ranks - np.bincount(q, weights=beats, minlength=len(rows)).astype(np.int64)


def metrics_from_ranks(ranks: np.ndarray, ks: Sequence[int],
                       metrics: Sequence[str] = NEXT_ITEM_METRICS) -> dict[str, np.ndarray]:
    """Per-query values ``{"ndcg@10": array, ...}`` from 0-based target ranks."""
    ranks = np.asarray(ranks, dtype=np.int64)
    out: dict[str, np.ndarray] = {}
    for k in sorted(set(int(k) for k in ks)):
        hit = ranks < k
        for name in metrics:
            if name == "hit":
                value = hit.astype(np.float64)
            elif name == "mrr":
                value = np.where(hit, 1.0 / (ranks + 1.0), 0.0)
            elif name == "ndcg":
                value = np.where(hit, 1.0 / np.log2(ranks + 2.0), 0.0)
            elif name == "recall":
                value = hit.astype(np.float64)
            elif name == "precision":
                value = hit / float(k)
            else:
                raise ValueError(f"unknown next-item metric {name!r}; known: hit, ndcg, mrr, "
                                 "recall, precision")
            out[f"{name}@{k}"] = value
    return out


def mean_by_user(users: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray,
                                                                 np.ndarray]:
    """(sorted unique users, each one's mean over its queries, its number of queries)."""
    uniq, inverse, counts = np.unique(np.asarray(users), return_inverse=True, return_counts=True)
    sums = np.bincount(inverse, weights=np.asarray(values, dtype=np.float64),
                       minlength=len(uniq))
    return uniq, sums / counts, counts
