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


class DummyRecommender(Recommender):
    """Scores item i for user u by (u + i) mod n_items: deterministic, data-independent."""

    Config = DummyConfig

    def fit(self, train: Interactions, valid: Interactions, *, seed: int) -> None:
        if self.config.fail_fit:
            raise RuntimeError("DummyRecommender was asked to fail (fail_fit=true)")
        self._remember(train, valid)

    def score_all(self, users: np.ndarray) -> np.ndarray:
        users = np.asarray(users, dtype=np.int64)[:, None]
        items = np.arange(self.n_items)[None, :]
        scores = ((users + items) % self.n_items).astype(np.float64)
        if self.config.emit_nan:
            scores[:, 0] = np.nan
        return scores


@dataclasses.dataclass
class RandomConfig:
    pass


class RandomRecommender(Recommender):
    """Uniform random scores, fixed per (seed, user, item): the floor every model must beat."""

    Config = RandomConfig

    def fit(self, train: Interactions, valid: Interactions, *, seed: int) -> None:
        self._remember(train, valid)
        self._table = np.random.default_rng(seed).random((self.n_users, self.n_items))

    def score_all(self, users: np.ndarray) -> np.ndarray:
        return self._table[np.asarray(users, dtype=np.int64)]
