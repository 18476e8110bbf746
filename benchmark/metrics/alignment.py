"""Alignment measures: how closely an explainer model reproduces a target recommender's outputs.

Every function takes the explainer's scores over a candidate list (higher = the explainer thinks
this candidate is the answer) and what the target model says, and returns one value per instance
(per-user arrays, so paired tests work). Ties in the explainer's scores are broken by candidate
position *against* the truth (pessimistic): a constant explainer never looks aligned.
"""

from __future__ import annotations

import numpy as np

from benchmark.errors import ModelOutputError


def _check(scores: np.ndarray, n: int | None = None) -> np.ndarray:
    s = np.asarray(scores, dtype=np.float64)
    if s.ndim != 2 or (n is not None and s.shape[0] != n):
        raise ModelOutputError(f"alignment scores have shape {s.shape}",
                               "return one row of candidate scores per instance")
    if not np.isfinite(s).all():
        raise ModelOutputError("alignment scores contain NaN or infinity",
                               "return finite scores for every candidate")
    return s


def _ranks(scores: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """0-based rank of each row's truth column; tied candidates count as ranked above it."""
    s = _check(scores, len(truth))
    own = s[np.arange(len(s)), truth]
    return (s > own[:, None]).sum(1) + (s == own[:, None]).sum(1) - 1


def choice_accuracy(scores: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """1 where the truth is the unique best candidate (item id -> title; top-1 choice)."""
    return (_ranks(scores, np.asarray(truth)) == 0).astype(float)


def hit_at_k(scores: np.ndarray, truth: np.ndarray, k: int) -> np.ndarray:
    """1 where the truth ranks in the explainer's top k."""
    return (_ranks(scores, np.asarray(truth)) < k).astype(float)


def ndcg_single_at_k(scores: np.ndarray, truth: np.ndarray, k: int) -> np.ndarray:
    """NDCG@k with one relevant candidate: 1 / log2(rank + 2) inside the top k, else 0."""
    r = _ranks(scores, np.asarray(truth))
    return np.where(r < k, 1.0 / np.log2(r + 2.0), 0.0)


def coverage_at_k(scores: np.ndarray, relevant: np.ndarray, k: int | None = None) -> np.ndarray:
    """Share of the relevant candidates (boolean mask per row) in the explainer's top k
    (k = the row's number of relevant candidates by default): user -> history items."""
    s = _check(scores, len(relevant))
    rel = np.asarray(relevant, dtype=bool)
    out = np.zeros(len(s))
    for r in range(len(s)):
        n_rel = int(rel[r].sum())
        if n_rel == 0:
            raise ModelOutputError(f"instance {r} has no relevant candidate",
                                   "every coverage instance needs at least one")
        kk = n_rel if k is None else k
        order = np.lexsort((~rel[r], -s[r]))  # best first; ties put non-relevant first
        out[r] = rel[r][order[:kk]].sum() / min(n_rel, kk)
    return out


def graded_ndcg_at_k(scores: np.ndarray, gains: np.ndarray, k: int) -> np.ndarray:
    """NDCG@k of the explainer's order against graded gains (e.g. from the target's ranking:
    user + candidates -> rank). Ties in the scores are ordered worst gain first."""
    s = _check(scores, len(gains))
    g = np.asarray(gains, dtype=np.float64)
    disc = 1.0 / np.log2(np.arange(2, k + 2))
    out = np.zeros(len(s))
    for r in range(len(s)):
        order = np.lexsort((g[r], -s[r]))[:k]
        ideal = np.sort(g[r])[::-1][:k]
        idcg = float((ideal * disc[:len(ideal)]).sum())
        out[r] = float((g[r][order] * disc[:len(order)]).sum()) / idcg if idcg > 0 else 0.0
    return out


def binary_accuracy(prob: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """1 where (prob > 0.5) equals the target's yes/no (user + item -> will it recommend)."""
    p = np.asarray(prob, dtype=np.float64)
    if not np.isfinite(p).all():
        raise ModelOutputError("alignment probabilities contain NaN", "return finite values")
    return ((p > 0.5) == np.asarray(labels, dtype=bool)).astype(float)
