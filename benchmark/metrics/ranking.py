"""Top-k accuracy metrics, one value per user (DESIGN.md, "Tracks": accuracy; "Results").

Definitions follow RecBole (and agree with ranx for binary relevance), so our numbers can be
compared with papers that report RecBole's:

- Hit@k       1 if any relevant item is in the top k, else 0
- Recall@k    hits in the top k / |truth|
- Precision@k hits in the top k / k (k, not the number of filled slots: a short list is penalised)
- MRR@k       1 / rank of the first relevant item within the top k, else 0
- NDCG@k      DCG / IDCG, DCG = sum over hits of 1/log2(rank+1),
              IDCG = sum_{r=1}^{min(|truth|, k)} 1/log2(r+1)

The same code serves the ``full`` and ``sampled`` protocols: only the candidate set that produced
``topk`` differs. Per-user values are returned (not means) because the significance tests pair
users across models.

Speed: every (user, slot) becomes one int64 key, tested against the truth's keys at once (a
cache-sized bitmap per block of users, or one ``searchsorted``), then cumulative sums along the
slots; no Python loop over users except to flatten the ragged ``truth`` list.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

#: ranking metrics this module computes; each is asked for as "<name>@<k>"
METRIC_NAMES: tuple[str, ...] = ("hit", "ndcg", "mrr", "recall", "precision")


def parse_metric(name: str) -> tuple[str, int]:
    """Split "ndcg@10" into ("ndcg", 10); names are case-insensitive.

    Suites name metrics as strings, so a typo must fail loudly here rather than produce a column
    that silently never fills.
    """
    if not isinstance(name, str):
        raise ValueError(f"metric name must be a string like 'ndcg@10', got {name!r}")
    text = name.strip().lower()
    base, sep, k_text = text.partition("@")
    known = ", ".join(METRIC_NAMES)
    if base not in METRIC_NAMES:
        raise ValueError(
            f"unknown ranking metric {name!r}; known metrics: {known} (written as name@k, "
            f"e.g. 'ndcg@10')"
        )
    if not sep:
        raise ValueError(f"ranking metric {name!r} needs a cut-off, e.g. '{base}@10'")
    if not k_text.isdigit() or int(k_text) < 1:
        raise ValueError(f"ranking metric {name!r}: the cut-off after '@' must be an integer >= 1")
    return base, int(k_text)


def _check_ks(ks: Sequence[int]) -> list[int]:
    out: list[int] = []
    for k in ks:
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or int(k) < 1:
            raise ValueError(f"cut-offs must be integers >= 1, got {k!r}")
        out.append(int(k))
    if not out:
        raise ValueError("ks is empty: give at least one cut-off, e.g. ks=(10,)")
    return sorted(set(out))


def _truth_items(truth: list[np.ndarray], n_rows: int) -> tuple[np.ndarray, np.ndarray]:
    """The ragged truth list flattened to (row, item) int64 pairs, checked."""
    if len(truth) != n_rows:
        raise ValueError(f"truth has {len(truth)} rows but topk has {n_rows}; they must align")
    arrays = [np.asarray(t).ravel() for t in truth]
    lengths = np.fromiter((a.size for a in arrays), dtype=np.int64, count=n_rows)
    if n_rows and lengths.min() == 0:
        empty = np.flatnonzero(lengths == 0)
        raise ValueError(
            f"truth row {int(empty[0])} is empty ({empty.size} empty row(s) in all); drop users "
            "without relevant items before computing ranking metrics"
        )
    if n_rows == 0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    items = np.concatenate(arrays)
    if items.dtype.kind not in "iu":
        raise ValueError(f"truth item ids must be integers, got dtype {items.dtype}")
    items = items.astype(np.int64, copy=False)
    rows = np.repeat(np.arange(n_rows, dtype=np.int64), lengths)
    if items.min() < 0:
        row = int(rows[np.argmax(items < 0)])
        raise ValueError(f"truth row {row} holds a negative item id; item ids are >= 0")
    return rows, items


#: cells of the per-block membership bitmap (bytes); small enough to stay in cache
_TABLE_CELLS = 1 << 22
#: below this many queries per bitmap block, a binary search is cheaper than the bitmap
_MIN_QUERIES_PER_BLOCK = 1000


def member_of_rows(keys: np.ndarray, queries: np.ndarray, base: int,
                   table_cells: int | None = None,
                   min_queries_per_block: int | None = None) -> np.ndarray:
    """Which ``queries`` occur in ``keys``: bool array shaped like ``queries``.

    Both hold ``row * base + item`` keys with 0 <= item < base; ``keys`` is sorted and unique,
    ``queries`` is (n_rows, w) with row r's keys in row r. A bitmap over the (row, item) cells of
    a block of rows answers each query with one memory read, several times faster than a binary
    search over all keys; when rows are so wide (many items) that one row's bitmap would not fit
    the budget, or blocks would hold few queries, it falls back to ``searchsorted``.
    """
    table_cells = _TABLE_CELLS if table_cells is None else table_cells
    if min_queries_per_block is None:
        min_queries_per_block = _MIN_QUERIES_PER_BLOCK
    n_rows = queries.shape[0]
    if keys.size == 0 or queries.size == 0:
        return np.zeros(queries.shape, dtype=bool)
    rows_per_block = max(1, table_cells // base)
    n_blocks = -(-n_rows // rows_per_block)
    if base > table_cells or queries.size < n_blocks * min_queries_per_block:
        pos = np.searchsorted(keys, queries)
        np.minimum(pos, keys.size - 1, out=pos)
        return keys[pos] == queries
    out = np.empty(queries.shape, dtype=bool)
    table = np.zeros(min(rows_per_block, n_rows) * base, dtype=bool)
    row_starts = np.arange(0, n_rows + rows_per_block, rows_per_block, dtype=np.int64)
    bounds = np.searchsorted(keys, np.minimum(row_starts, n_rows) * base)
    for block in range(n_blocks):
        r0 = block * rows_per_block
        r1 = min(r0 + rows_per_block, n_rows)
        offset = r0 * base
        cells = keys[bounds[block]:bounds[block + 1]] - offset
        table[cells] = True
        out[r0:r1] = table[queries[r0:r1] - offset]
        table[cells] = False  # clear only what was set: cheaper than a fresh table
    return out


def hit_matrix(topk: np.ndarray, truth: list[np.ndarray], depth: int | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
    """Boolean (n_users, min(K, depth)) matrix: slot j of row u holds a relevant item.

    Also returns |truth| per row (duplicates in a truth array count once). Empty slots (any
    negative id, conventionally -1) are never hits. A relevant item listed twice in one row is an
    error: it would count twice and push recall above 1.
    """
    topk = np.asarray(topk)
    if topk.ndim != 2:
        raise ValueError(f"topk must be 2-D (users x slots), got shape {topk.shape}")
    if topk.dtype.kind not in "iu":
        raise ValueError(f"topk must hold integer item ids (-1 = empty), got dtype {topk.dtype}")
    n_rows = topk.shape[0]
    if depth is not None:
        topk = topk[:, :depth]
    width = topk.shape[1]
    t_rows, t_items = _truth_items(truth, n_rows)
    if n_rows == 0:
        return np.zeros((0, width), dtype=bool), np.zeros(0, dtype=np.int64)
    ranked = topk.astype(np.int64, copy=False)
    # one int64 key per (row, item): row * base + item. Item base - 1 is above every real id and
    # stands for an empty slot, so that every query key stays inside its own row.
    base = max(int(t_items.max()), int(ranked.max()) if ranked.size else 0) + 2
    if n_rows > (np.iinfo(np.int64).max // base) - 1:
        raise ValueError("too many users x items to encode as int64 keys; evaluate in batches")
    t_keys = np.sort(t_rows * base + t_items)
    unique = np.ones(t_keys.size, dtype=bool)
    unique[1:] = t_keys[1:] != t_keys[:-1]
    t_keys = t_keys[unique]
    n_truth = np.bincount(t_keys // base, minlength=n_rows).astype(np.int64)
    if width == 0:
        return np.zeros((n_rows, 0), dtype=bool), n_truth
    q_keys = np.where(ranked >= 0, ranked, base - 1)
    q_keys += np.arange(n_rows, dtype=np.int64)[:, None] * base
    hits = member_of_rows(t_keys, q_keys, base)
    hit_keys = np.sort(q_keys[hits])
    repeated = hit_keys[1:][hit_keys[1:] == hit_keys[:-1]]
    if repeated.size:
        raise ValueError(f"topk row {int(repeated[0] // base)} lists a relevant item more than once")
    return hits, n_truth


def ranking_metrics(
    topk: np.ndarray,
    truth: list[np.ndarray],
    ks: Sequence[int],
    metrics: Sequence[str] = METRIC_NAMES,
) -> dict[str, np.ndarray]:
    """Per-user top-k metrics: {"ndcg@10": float64 array (n_users,), ...}.

    topk: int array (n_users, K) of item ids, best first; -1 marks an empty slot. K may be smaller
    than a cut-off k: the missing slots count as empty (so precision@k still divides by k).
    truth: per-user arrays of relevant item ids (binary relevance); an empty one is an error.
    """
    names = [str(m).strip().lower() for m in metrics]
    unknown = [m for m in names if m not in METRIC_NAMES]
    if unknown:
        raise ValueError(
            f"unknown ranking metric(s) {', '.join(repr(m) for m in unknown)}; "
            f"known metrics: {', '.join(METRIC_NAMES)}"
        )
    if not names:
        raise ValueError(f"no metrics asked for; choose from {', '.join(METRIC_NAMES)}")
    cutoffs = _check_ks(ks)
    k_max = cutoffs[-1]
    hits, n_truth = hit_matrix(topk, truth, depth=k_max)
    n_rows, width = hits.shape

    # column 0 = "nothing seen yet", so column c holds the sum over the first c slots
    cum_hits = np.zeros((n_rows, width + 1), dtype=np.int64)
    np.cumsum(hits, axis=1, out=cum_hits[:, 1:])
    discount = 1.0 / np.log2(np.arange(2, k_max + 2, dtype=np.float64))
    if "ndcg" in names:
        cum_dcg = np.zeros((n_rows, width + 1), dtype=np.float64)
        np.cumsum(hits * discount[:width], axis=1, out=cum_dcg[:, 1:])
        ideal = np.concatenate(([0.0], np.cumsum(discount)))  # ideal[c] = IDCG with c hits
    if "mrr" in names:
        # rank of the first hit = 1 + slots before it; no hit at all: a rank past every cut-off
        first = (cum_hits[:, 1:] == 0).sum(axis=1) + 1
        first[cum_hits[:, -1] == 0] = k_max + 1
        first_rr = 1.0 / first

    out: dict[str, np.ndarray] = {}
    for k in cutoffs:
        col = min(k, width)
        n_hit = cum_hits[:, col]
        for name in names:
            key = f"{name}@{k}"
            if name == "hit":
                val = (n_hit > 0).astype(np.float64)
            elif name == "recall":
                val = n_hit / n_truth
            elif name == "precision":
                val = n_hit / float(k)
            elif name == "mrr":
                val = np.where(first <= k, first_rr, 0.0)
            else:  # ndcg
                val = cum_dcg[:, col] / ideal[np.minimum(n_truth, k)]
            out[key] = np.asarray(val, dtype=np.float64)
    return out
