"""What tracks produce and reports read: metric keys, metric rows and a track's result.

Below tracks, the judge and the report code, so that all of them share one spelling of a
number's name. ``MetricKey`` is the only writer and reader of the ``track/protocol/metric@k``
string used as a per_user.npz key; ``TrackResult.add`` is the only place a track records a row
together with its per-user values.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

#: suffix of the array holding a weighted metric's per-user weights
WEIGHT_SUFFIX = "_weight"
#: the last part of the key that holds the user ids of a (track, protocol)'s per-user arrays
USERS = "users"


def metric_label(metric: str, k: Any) -> str:
    """``metric@k``, or ``metric`` when k is None (or NaN, as pandas reads a missing k)."""
    return f"{metric}@{int(k)}" if k is not None and k == k else metric


def split_label(label: str) -> tuple[str, int | None]:
    """The inverse of ``metric_label``: ``"ndcg@10"`` -> ("ndcg", 10), ``"auc"`` -> ("auc", None).

    A label whose part after the last ``@`` is not a number (``"hit@10_weight"``) is a metric
    name without k.
    """
    metric, sep, k = label.rpartition("@")
    if sep and k.isdigit():
        return metric, int(k)
    return label, None


@dataclass(frozen=True)
class MetricKey:
    """What a number is: (track, protocol, metric, k); ``str()`` is its per_user.npz key."""

    track: str
    protocol: str
    metric: str
    k: int | None

    @property
    def label(self) -> str:
        return metric_label(self.metric, self.k)

    def per_user_key(self) -> str:
        return str(self)

    def weight(self) -> MetricKey:
        """Where this metric's per-user weights are stored (``<label>_weight``, no k)."""
        return MetricKey(self.track, self.protocol, self.label + WEIGHT_SUFFIX, None)

    @staticmethod
    def users_key(track: str, protocol: str) -> str:
        """The per_user.npz key of the user ids behind every array of (track, protocol)."""
        return str(MetricKey(track, protocol, USERS, None))

    @classmethod
    def parse(cls, text: str) -> MetricKey:
        """The key ``str()`` wrote: ``"accuracy/full/ndcg@10"`` -> MetricKey(..., "ndcg", 10)."""
        parts = text.split("/", 2)
        if len(parts) != 3 or not all(parts):
            raise ValueError(f"{text!r} is not a metric key (track/protocol/metric[@k])")
        return cls(parts[0], parts[1], *split_label(parts[2]))

    def __str__(self) -> str:
        return f"{self.track}/{self.protocol}/{self.label}"


@dataclass(frozen=True)
class MetricRow:
    """One reported number, with the protocol that produced it (a metrics.json row)."""

    track: str
    protocol: str
    metric: str
    k: int | None
    value: float
    n: int  # users (ranking, GAUC) or pairs (AUC) the mean is over

    def key(self) -> MetricKey:
        return MetricKey(self.track, self.protocol, self.metric, self.k)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class TrackResult:
    rows: list[MetricRow] = field(default_factory=list)
    #: per-user values: key -> array; "<track>/<protocol>/users" holds the user ids they belong to
    per_user: dict[str, np.ndarray] = field(default_factory=dict)
    #: extra facts worth recording (e.g. hash of the frozen negatives file)
    info: dict = field(default_factory=dict)
    #: seconds spent in model inference (scoring) inside this track
    inference_seconds: float = 0.0
    inference_calls: int = 0
    #: one dict per evaluated instance worth keeping as text (explanations, prompts); these go to
    #: the run's samples.jsonl, each tagged with its track
    samples: list[dict[str, Any]] = field(default_factory=list)
    #: the track whose rows and keys ``add`` writes
    track: str = ""

    def add(self, protocol: str, metric: str, k: int | None = None,
            values: np.ndarray | None = None, users: np.ndarray | None = None, *,
            value: float | None = None, n: int | None = None,
            weights: np.ndarray | None = None) -> MetricKey:
        """Record one metric of ``protocol``: its row, and its per-user values when given.

        ``values`` are stored as given (dtype kept) under the metric's key, ``weights`` beside
        them (``<label>_weight``) and ``users`` under the protocol's users key (once; a
        different array for the same protocol is an error). The row's number is ``value`` and
        its count ``n`` when given, else the mean and the count of the finite ``values`` (NaN
        marks a user for whom the metric is undefined).
        """
        key = self._key(protocol, metric, k)
        if users is not None:
            self.add_users(protocol, users)
        if values is not None:
            self.per_user[str(key)] = values
            if weights is not None:
                self.per_user[str(key.weight())] = weights
            if value is None or n is None:
                arr = np.asarray(values)
                ok = np.isfinite(arr)
                finite = arr if ok.all() else arr[ok]
                value = float(finite.mean()) if value is None else value
                n = int(ok.sum()) if n is None else n
        if value is None or n is None:
            raise ValueError(f"{key}: give per-user values or the row's value and n")
        self.rows.append(MetricRow(key.track, key.protocol, key.metric, key.k, float(value),
                                   int(n)))
        return key

    def keep(self, protocol: str, name: str, values: np.ndarray) -> MetricKey:
        """Per-user values without a row of their own (e.g. those behind a corpus-level row)."""
        key = self._key(protocol, name, None)
        self.per_user[str(key)] = values
        return key

    def add_users(self, protocol: str, users: np.ndarray) -> None:
        """The user (or instance) ids the protocol's per-user arrays belong to, stored once."""
        where = MetricKey.users_key(self._track(), protocol)
        known = self.per_user.get(where)
        if known is None:
            self.per_user[where] = users
        elif known is not users and not np.array_equal(known, users):
            raise ValueError(f"{where}: per-user values of one protocol must belong to the same "
                             "users")

    @contextmanager
    def timed(self, calls: int = 1) -> Iterator[None]:
        """Count the block's seconds as model inference, and ``calls`` inference calls."""
        t0 = time.perf_counter()
        yield
        self.inference_seconds += time.perf_counter() - t0
        self.inference_calls += calls

    def _key(self, protocol: str, metric: str, k: int | None) -> MetricKey:
        return MetricKey(self._track(), protocol, metric, k)

    def _track(self) -> str:
        if not self.track:
            raise ValueError("TrackResult(track=...) names the track before rows are added")
        return self.track
