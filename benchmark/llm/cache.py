"""A response/score cache: (weights hash, adapter hash, kind, prompt) -> JSON value, in sqlite.

A re-run or a report reads model outputs from here instead of running the model again. Values
are stored as JSON text (never pickled), so a cache file from anywhere is safe to open.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import sqlite3
from collections.abc import Iterator, Sequence
from contextvars import ContextVar
from pathlib import Path
from typing import Any

#: while True, every ResponseCache lookup misses (the model really runs; results are still
#: written), so latency and throughput are measured on computation, never on cache reads
_BYPASS: ContextVar[bool] = ContextVar("response_cache_bypass", default=False)
#: process-wide lookup counts, so a track can say how much of its inference the cache served
_STATS = {"hits": 0, "misses": 0}


@contextlib.contextmanager
def uncached() -> Iterator[None]:
    """Inside, every cache lookup misses: the models compute what they are asked."""
    token = _BYPASS.set(True)
    try:
        yield
    finally:
        _BYPASS.reset(token)


def cache_stats() -> dict[str, int]:
    """A snapshot of the process's cache hits and misses (subtract two snapshots)."""
    return dict(_STATS)


def _key(weights: str, adapter: str, kind: str, prompt: str) -> str:
    return hashlib.sha256("\x1f".join((weights, adapter, kind, prompt)).encode()).hexdigest()


class ResponseCache:
    """sqlite-backed cache of model outputs; safe to share between runs of one machine."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute("CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, "
                       "weights TEXT, adapter TEXT, kind TEXT, prompt TEXT, value TEXT)")

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=30)

    def get_many(self, weights: str, adapter: str, kind: str,
                 prompts: Sequence[str]) -> list[Any | None]:
        """Cached values in prompt order; None where a prompt has no entry yet (or all None
        inside ``uncached()``)."""
        if _BYPASS.get():
            _STATS["misses"] += len(prompts)
            return [None] * len(prompts)
        keys = [_key(weights, adapter, kind, p) for p in prompts]
        found: dict[str, Any] = {}
        with self._connect() as db:
            for start in range(0, len(keys), 500):
                chunk = keys[start:start + 500]
                marks = ",".join("?" * len(chunk))
                for key, value in db.execute(
                        f"SELECT key, value FROM responses WHERE key IN ({marks})", chunk):
                    found[key] = json.loads(value)
        _STATS["hits"] += len(found)
        _STATS["misses"] += len(keys) - len(found)
        return [found.get(k) for k in keys]

    def put_many(self, weights: str, adapter: str, kind: str, prompts: Sequence[str],
                 values: Sequence[Any]) -> None:
        rows = [(_key(weights, adapter, kind, p), weights, adapter, kind, p, json.dumps(v))
                for p, v in zip(prompts, values, strict=True)]
        with self._connect() as db:
            db.executemany("INSERT OR REPLACE INTO responses VALUES (?, ?, ?, ?, ?, ?)", rows)

    def __len__(self) -> int:
        with self._connect() as db:
            return int(db.execute("SELECT COUNT(*) FROM responses").fetchone()[0])
