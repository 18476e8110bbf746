"""Most-popular: every user gets the items with the most positive train interactions.

The floor any personalised model must clear, and the labelled fallback for cold users.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from benchmark.data.types import Interactions
from benchmark.models.base import Capability, Recommender


@dataclasses.dataclass
class PopConfig:
    pass


class Pop(Recommender):
    Config = PopConfig
    capabilities = frozenset({Capability.RANK, Capability.SCORE, Capability.COLD_USER})

    def _fit(self, train: Interactions, valid: Interactions, *, seed: int) -> None:
        counts = np.bincount(train.positive_frame()["item"].to_numpy(), minlength=self.n_items)
        self.popularity = counts.astype(np.float64)

    def score_all(self, users: np.ndarray) -> np.ndarray:
        return np.broadcast_to(self.popularity, (len(users), self.n_items))

    def score(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        return self.popularity[np.asarray(items, dtype=np.int64)]
