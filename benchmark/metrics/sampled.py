"""Frozen negatives for the ``sampled`` ranking protocol (DESIGN.md, "Protocols").

Sampled metrics depend on which negatives were drawn, so they are drawn once, with a seed, saved
to a plain-text file, and the file's sha256 is recorded with every result: two runs are only
comparable when they ranked against the same file. The format is deliberately plain (one line per
user: ``user<TAB>item item ...``), never pickle, so a file can be read, diffed and trusted.

Drawing is rejection sampling done in bulk: each user gets a row of uniform draws over all items;
draws the user has seen, and repeats of an earlier draw in the same row, are dropped; the first
``n_neg`` survivors are kept. That is exactly sequential sampling without replacement from the
user's unseen items, so the result is uniform. Rows left short (users who saw most items) are
finished by an exact choice over their complement.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np

from benchmark import atomic
from benchmark.hashing import file_sha256
from benchmark.metrics.ranking import member_of_rows


def _seen_keys(n_items: int, seen: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Sorted unique row * n_items + item keys of every seen item, and unique seen count per row."""
    arrays = [np.asarray(s, dtype=np.int64).ravel() for s in seen]
    n_rows = len(arrays)
    lengths = np.fromiter((a.size for a in arrays), dtype=np.int64, count=n_rows)
    items = np.concatenate(arrays) if n_rows else np.empty(0, dtype=np.int64)
    if items.size and (items.min() < 0 or items.max() >= n_items):
        bad = np.flatnonzero((items < 0) | (items >= n_items))[0]
        row = int(np.repeat(np.arange(n_rows), lengths)[bad])
        raise ValueError(
            f"seen items of user row {row} include id {int(items[bad])}, outside 0..{n_items - 1}"
        )
    keys = np.sort(np.repeat(np.arange(n_rows, dtype=np.int64), lengths) * n_items + items)
    if keys.size:  # drop repeats (np.unique is much slower here: it hashes, then sorts)
        keep = np.ones(keys.size, dtype=bool)
        keep[1:] = keys[1:] != keys[:-1]
        keys = keys[keep]
    n_seen = np.bincount(keys // n_items, minlength=n_rows) if n_rows else lengths
    return keys, n_seen


#: draws per block of users; fixed, because the blocking is part of what the seed reproduces
_BLOCK_DRAWS = 1 << 22


def _fill_block(out: np.ndarray, start: int, stop: int, width: int, n_items: int,
                keys: np.ndarray, rng: np.random.Generator) -> None:
    """Draw the negatives of rows start..stop-1 into ``out`` (see the module docstring)."""
    n_neg = out.shape[1]
    draws = rng.integers(0, n_items, size=(stop - start, width), dtype=np.int64)
    # keys of this block's rows, renumbered from row 0 as member_of_rows expects
    lo, hi = np.searchsorted(keys, [start * n_items, stop * n_items])
    row_base = np.arange(stop - start, dtype=np.int64)[:, None] * n_items
    ok = ~member_of_rows(keys[lo:hi] - start * n_items, row_base + draws, n_items)
    # drop repeats: after a stable sort of each row, a value equal to its predecessor is a repeat
    order = np.argsort(draws, axis=1, kind="stable")
    s = np.take_along_axis(draws, order, axis=1)
    repeat_sorted = np.zeros_like(ok)
    repeat_sorted[:, 1:] = s[:, 1:] == s[:, :-1]
    repeat = np.zeros_like(ok)
    np.put_along_axis(repeat, order, repeat_sorted, axis=1)
    ok &= ~repeat

    # keep the first n_neg survivors of each row, in draw order
    rank = np.cumsum(ok, axis=1)
    full = rank[:, -1] >= n_neg
    take = ok & (rank <= n_neg)
    out[start:stop][full] = draws[full][take[full]].reshape(-1, n_neg)
    all_items = np.arange(n_items, dtype=np.int64)
    for local in np.flatnonzero(~full):
        row = start + int(local)
        lo, hi = np.searchsorted(keys, [row * n_items, (row + 1) * n_items])
        pool = np.setdiff1d(all_items, keys[lo:hi] - row * n_items, assume_unique=True)
        out[row] = rng.choice(pool, size=n_neg, replace=False)


def draw_negatives(n_items: int, users: np.ndarray, seen: list[np.ndarray], n_neg: int,
                   seed: int) -> np.ndarray:
    """``n_neg`` distinct items per user, uniform among items the user never interacted with.

    seen: per user (aligned with ``users``), every item of the user in train, valid or test, so
    that no negative is secretly a positive. Returns int64 (len(users), n_neg), each row sorted.
    Deterministic in ``seed`` (numpy's PCG64 ``default_rng``).
    """
    users = np.asarray(users).ravel()
    if len(seen) != users.size:
        raise ValueError(f"seen has {len(seen)} rows but there are {users.size} users")
    if n_items < 1:
        raise ValueError(f"n_items must be >= 1, got {n_items}")
    if isinstance(n_neg, bool) or not isinstance(n_neg, (int, np.integer)) or n_neg < 0:
        raise ValueError(f"n_neg must be an integer >= 0, got {n_neg!r}")
    n_neg = int(n_neg)
    n_rows = users.size
    if n_items > np.iinfo(np.int64).max // max(n_rows + 1, 1):
        raise ValueError("too many users x items to encode as int64 keys; draw in batches")
    keys, n_seen = _seen_keys(n_items, seen)
    short = np.flatnonzero(n_items - n_seen < n_neg)
    if short.size:
        row = int(short[0])
        raise ValueError(
            f"user {users[row].item()!r} (row {row}) has only {int(n_items - n_seen[row])} "
            f"unseen items, fewer than n_neg={n_neg}"
        )
    out = np.empty((n_rows, n_neg), dtype=np.int64)
    if n_rows == 0 or n_neg == 0:
        return out
    rng = np.random.default_rng(seed)

    # enough draws that almost every row fills: expected survivors ~ width * unseen share, with
    # a margin for repeats; the few short rows are finished exactly below
    unseen_share = float(np.median((n_items - n_seen) / n_items))
    width = int(np.ceil(1.3 * n_neg / max(unseen_share, 1e-3))) + 16
    width = min(width, 8 * n_neg + 64)
    block = max(1, _BLOCK_DRAWS // width)  # a constant, so results do not depend on the machine
    for start in range(0, n_rows, block):
        stop = min(start + block, n_rows)
        _fill_block(out, start, stop, width, n_items, keys, rng)
    out.sort(axis=1)
    return out


def _sha256(path: Path) -> str:
    return file_sha256(path)


def save_negatives(path: str | os.PathLike[str], users: np.ndarray, negatives: np.ndarray) -> str:
    """Write ``user<TAB>item item ...`` lines (atomically) and return the file's sha256."""
    path = Path(path)
    users = np.asarray(users).ravel()
    negatives = np.asarray(negatives)
    if negatives.ndim != 2 or negatives.shape[0] != users.size:
        raise ValueError(
            f"negatives must be (len(users), n_neg) = ({users.size}, n); got {negatives.shape}"
        )
    if users.dtype.kind not in "iu" or (negatives.size and negatives.dtype.kind not in "iu"):
        raise ValueError("users and negatives must be integer ids")
    lines = [
        f"{int(u)}\t{' '.join(map(str, row.tolist()))}\n" for u, row in zip(users, negatives)
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    data = "".join(lines).encode("ascii")
    # a unique temporary name: runners sharing the cache may write the same file at once
    atomic.write_bytes(path, data)
    return hashlib.sha256(data).hexdigest()


def load_negatives(path: str | os.PathLike[str], expected_sha256: str | None = None
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Read a file written by ``save_negatives``: (users int64 (n,), negatives int64 (n, n_neg)).

    With ``expected_sha256`` (the hash recorded when the negatives were frozen) a changed file is
    an error: results computed against other negatives are not comparable.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"negatives file {path} does not exist")
    if expected_sha256 is not None:
        actual = _sha256(path)
        if actual != expected_sha256.strip().lower():
            raise ValueError(
                f"negatives file {path} has sha256 {actual}, but {expected_sha256} was recorded; "
                "the file changed since the negatives were frozen, so results would not be "
                "comparable (re-draw them and re-run, or restore the original file)"
            )
    users: list[int] = []
    rows: list[list[int]] = []
    with open(path, encoding="ascii") as fh:
        for line_no, line in enumerate(fh, start=1):
            line = line.rstrip("\n")
            user_text, tab, items_text = line.partition("\t")
            try:
                if not tab:
                    raise ValueError("no tab")
                user = int(user_text)
                items = [int(x) for x in items_text.split()]
            except ValueError:
                raise ValueError(
                    f"{path}:{line_no}: expected 'user<TAB>item item ...', got {line[:80]!r}"
                ) from None
            if rows and len(items) != len(rows[0]):
                raise ValueError(
                    f"{path}:{line_no}: {len(items)} negatives, but line 1 has {len(rows[0])}"
                )
            users.append(user)
            rows.append(items)
    n_neg = len(rows[0]) if rows else 0
    return (np.asarray(users, dtype=np.int64),
            np.asarray(rows, dtype=np.int64).reshape(len(rows), n_neg))
