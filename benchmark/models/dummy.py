"""Tiny models for tests: cheap, deterministic, and with known outputs."""

from __future__ import annotations

import dataclasses

import numpy as np

from benchmark.data.types import Interactions
from benchmark.models.base import Recommender


@dataclasses.dataclass
class DummyConfig:
    #: return NaN scores (to test that the harness rejects them)
    emit_nan: bool = False
    #: raise during fit (to test that a failing model does not stop a suite)
    fail_fit: bool = False
    #: what the scores rank by: "modulo" ((u + i) mod n_items, data-independent) or
    #: "popularity" (train counts, so that a degradation has something to degrade)
    base: str = "modulo"
    #: planted regression for `recbench check` tests: weight of seeded uniform noise mixed into
    #: the scores (0 = none, 1 = pure noise); the noise is fixed per (seed, user, item)
    degrade: float = 0.0

    def __post_init__(self) -> None:
        if self.base not in ("modulo", "popularity"):
            raise ValueError(f"base must be 'modulo' or 'popularity', got {self.base!r}")
        if not 0.0 <= self.degrade <= 1.0:
            raise ValueError(f"degrade must be in [0, 1], got {self.degrade}")


class DummyRecommender(Recommender):
    """Scores item i for user u by (u + i) mod n_items (data-independent) or by train popularity,
    optionally mixed with seeded noise (a planted degradation); deterministic per seed."""

    Config = DummyConfig
    _popularity: np.ndarray | None = None
    _noise: np.ndarray | None = None

    def _fit(self, train: Interactions, valid: Interactions, *, seed: int) -> None:
        if self.config.fail_fit:
            raise RuntimeError("DummyRecommender was asked to fail (fail_fit=true)")
        counts = np.bincount(train.frame["item"].to_numpy(), minlength=self.n_items)
        self._popularity = counts / max(1, counts.max())
        self._noise = (np.random.default_rng(seed).random((self.n_users, self.n_items))
                       if self.config.degrade > 0 else None)

    def score_all(self, users: np.ndarray) -> np.ndarray:
        users = np.asarray(users, dtype=np.int64)
        items = np.arange(self.n_items)[None, :]
        if self.config.base == "popularity":
            assert self._popularity is not None, "fit first"
            scores = np.tile(self._popularity, (len(users), 1))
        else:
            scores = ((users[:, None] + items) % self.n_items).astype(np.float64)
        if self._noise is not None:
            scale = 1.0 if self.config.base == "popularity" else float(self.n_items)
            scores = (1 - self.config.degrade) * scores + (
                self.config.degrade * scale * self._noise[users])
        if self.config.emit_nan:
            scores[:, 0] = np.nan
        return scores


@dataclasses.dataclass
class RandomConfig:
    pass


class RandomRecommender(Recommender):
    """Uniform random scores, fixed per (seed, user, item): the floor every model must beat."""

    Config = RandomConfig

    def _fit(self, train: Interactions, valid: Interactions, *, seed: int) -> None:
        self._table = np.random.default_rng(seed).random((self.n_users, self.n_items))

    def score_all(self, users: np.ndarray) -> np.ndarray:
        return self._table[np.asarray(users, dtype=np.int64)]
