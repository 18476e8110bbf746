"""The ``next_item`` protocol of the accuracy track: what SASRec / GRU4Rec papers report.

One query per positive test interaction, in time order per user. The query's history is the
user's positive train + valid items in time order followed by the positive test items before it
(on the chronological and leave-one-out splits: everything before the interaction). One relevant
item, the interaction's; every item of the catalogue is a candidate.

- Models with ``Capability.HISTORY`` (``benchmark.models.history``) score each query from its
  history (``score_history``); every other model ranks with its usual user representation
  (``score_all``, one row per user serving all of the user's queries).
- ``mask_seen`` (default false, as RecBole for sequential models): when true, every item the user
  interacted with before the query (train, valid, earlier test; any rating) is removed from the
  ranking, except the target; the rows are then labelled ``next_item_masked``.
- Queries without any history (a user whose first positive interaction is in test) are skipped
  and counted (RecBole cannot represent them either).
- Ties: a tied item beats the target when its id is lower (full ranking's rule).
- Metrics: Hit, NDCG, MRR @ k (Recall = Hit and Precision = Hit / k with one relevant item, so they
  are not reported). The reported value is the mean over queries (RecBole's); per_user.npz holds
  each user's mean over their queries under ``accuracy/<label>/<metric>@k``, the users under
  ``accuracy/<label>/users`` and each user's number of queries as the weight
  (``accuracy/<label>/<metric>@k_weight``, the store's convention for weighted metrics): the
  weighted mean of the per-user values is the reported value, and the weighted paired tests test
  it. Under ``leave_one_out`` every
  user has one query and the two means coincide.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from benchmark.data.split import Split
from benchmark.metrics.next_item import (
    NEXT_ITEM_METRICS,
    mean_by_user,
    metrics_from_ranks,
    target_ranks,
)
from benchmark.models.base import Recommender
from benchmark.models.history import history_scorer
from benchmark.results import TrackResult, split_label
from benchmark.tracks.common import check_scores
from benchmark.tracks.full_ranking import batch_size_for


@dataclass(frozen=True)
class NextItemQueries:
    """The protocol's queries (grouped by user ascending, time order within a user)."""

    n_items: int
    users: np.ndarray  # (Q,) int64
    targets: np.ndarray  # (Q,) int64
    skipped_without_history: int
    _base: dict[int, np.ndarray]  # user -> positive train + valid items, oldest first
    _seen: Any  # users x items CSR of every train + valid row (any rating)
    _test_items: np.ndarray  # the eval users' test rows sorted by (user, time, row)
    _test_positive: np.ndarray  # whether each of those rows is a positive
    _start: np.ndarray  # (Q,) where the query's user block starts in _test_items
    _pos: np.ndarray  # (Q,) the query's position inside that block

    def __len__(self) -> int:
        return len(self.targets)

    def histories(self, a: int, b: int) -> list[np.ndarray]:
        """Model inputs of queries a..b-1: positive items before each, oldest first."""
        out = []
        empty = np.empty(0, dtype=np.int64)
        for q in range(a, b):
            s, p = self._start[q], self._pos[q]
            earlier = self._test_items[s:s + p][self._test_positive[s:s + p]]
            out.append(np.concatenate([self._base.get(int(self.users[q]), empty), earlier]))
        return out

    def seen(self, a: int, b: int) -> list[np.ndarray]:
        """Items of queries a..b-1 the user interacted with before (any rating), to mask."""
        seen = self._seen
        return [np.concatenate([seen.indices[seen.indptr[u]:seen.indptr[u + 1]],
                                self._test_items[s:s + p]])
                for u, s, p in zip(self.users[a:b], self._start[a:b], self._pos[a:b])]


def build_queries(split: Split, users: np.ndarray) -> NextItemQueries:
    """One query per positive test interaction of ``users`` that has some history."""
    test = split.test.frame
    positive = test.index.isin(split.test.positive_frame().index)
    keep = np.isin(test["user"].to_numpy(), users)
    u_all, ts = test["user"].to_numpy()[keep], test["timestamp"].to_numpy()[keep]
    order = np.lexsort((np.flatnonzero(keep), ts, u_all))
    u = u_all[order].astype(np.int64)
    items = test["item"].to_numpy()[keep][order].astype(np.int64)
    positive = positive[keep][order]
    history = split.train.concat(split.valid)
    base = {user: seq.astype(np.int64) for user, seq in history.sequences().items()}
    block_start = np.searchsorted(u, u, side="left")
    pos = np.arange(len(u)) - block_start
    earlier_pos = np.cumsum(positive) - positive  # positives before each row, over all users
    earlier_pos = earlier_pos - earlier_pos[block_start]  # ... within its user's block
    has_base = np.array([len(base.get(int(x), ())) > 0 for x in u], dtype=bool)
    query = positive & (has_base | (earlier_pos > 0))
    skipped = int(positive.sum() - query.sum())
    return NextItemQueries(split.n_items, u[query], items[query], skipped, base,
                           history.csr(positives_only=False), items, positive,
                           block_start[query], pos[query])


def _numpy(scores: Any) -> np.ndarray:
    if isinstance(scores, np.ndarray):
        return scores
    import torch

    if isinstance(scores, torch.Tensor):
        return scores.detach().cpu().numpy()
    return np.asarray(scores)


def next_item_ranks(model: Recommender, queries: NextItemQueries, *, mask_seen: bool,
                    batch: int, timed: Callable[..., Any],
                    on_batch: Callable[[int], None] | None = None) -> tuple[np.ndarray, str]:
    """0-based rank of every query's target, and how the model was asked ("score_history" or
    "score_all"). ``timed(fn, *args)`` calls the model (the track times it)."""
    n_items = queries.n_items
    ranks = np.empty(len(queries), dtype=np.int64)
    scorer = history_scorer(model)
    if scorer is not None:
        for a in range(0, len(queries), batch):
            b = min(a + batch, len(queries))
            scores = timed(scorer.score_history, queries.users[a:b], queries.histories(a, b))
            scores = check_scores(_numpy(scores), model.name, (b - a, n_items))
            masked = queries.seen(a, b) if mask_seen else None
            ranks[a:b] = target_ranks(scores, np.arange(b - a), queries.targets[a:b], masked)
            if on_batch is not None:
                on_batch(b - a)
        return ranks, "score_history"
    users = np.unique(queries.users)
    for start in range(0, len(users), batch):
        block = users[start:start + batch]
        a, b = np.searchsorted(queries.users, [block[0], block[-1] + 1])
        scores = check_scores(_numpy(timed(model.score_all, block)), model.name,
                              (len(block), n_items))
        rows = np.searchsorted(block, queries.users[a:b])
        masked = queries.seen(a, b) if mask_seen else None
        ranks[a:b] = target_ranks(scores, rows, queries.targets[a:b], masked)
        if on_batch is not None:
            on_batch(b - a)
    return ranks, "score_all"


def protocol_label(mask_seen: bool) -> str:
    """The protocol name the rows carry: masking changes the question, so it changes the name."""
    return "next_item_masked" if mask_seen else "next_item"


def evaluate_next_item(model: Recommender, split: Split, users: np.ndarray, ks: list[int], *,
                       mask_seen: bool, result: TrackResult, timed: Callable[..., Any],
                       memory_budget_mb: float = 1024.0, user_batch: int | None = None,
                       bar: Any = None) -> None:
    """Add the protocol's rows, per-user values and info to ``result``."""
    label = protocol_label(mask_seen)
    queries = build_queries(split, users)
    batch = batch_size_for(split.n_items, memory_budget_mb, user_batch)
    if bar is not None:
        bar.total = len(queries)
    ranks, asked = next_item_ranks(model, queries, mask_seen=mask_seen, batch=batch, timed=timed,
                                   on_batch=None if bar is None else bar.update)
    values = metrics_from_ranks(ranks, ks, NEXT_ITEM_METRICS)
    result.info[label] = {
        "mask_seen": mask_seen, "queries": len(queries),
        "users": int(len(np.unique(queries.users))),
        "queries_without_history": queries.skipped_without_history,
        "model_input": asked, "mean_over": "queries",
        "per_user": "each user's mean over their queries; <metric>@<k>_weight = their "
                    "number of queries",
        "not_reported": "recall@k = hit@k and precision@k = hit@k / k (one relevant item)"}
    for key, per_query in values.items():
        per_users, means, counts = mean_by_user(queries.users, per_query)
        value = float(per_query.mean()) if len(per_query) else float("nan")
        result.add(label, *split_label(key), means, value=value, n=len(per_query),
                   weights=counts.astype(np.float64))
    if values:
        result.add_users(label, per_users.astype(np.int64))
