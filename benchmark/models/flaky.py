"""A model whose process dies on its first fit: tests that executors retry or record a killed job.

It stands for a worker lost mid-run (killed, out of memory, node gone). The first fit writes
``marker`` and ends the whole process with ``os._exit``, which no ``except`` can catch; later fits
see the marker and train like Pop.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import numpy as np

from benchmark.data.types import Interactions
from benchmark.models.base import Recommender


@dataclasses.dataclass
class FlakyConfig:
    #: file whose absence means "die now" (the first attempt creates it, then exits)
    marker: str = ""
    #: die on every attempt, not only the first
    always: bool = False


class FlakyRecommender(Recommender):
    """Dies on the first fit (see module docstring); afterwards, popularity scores."""

    Config = FlakyConfig

    def _fit(self, train: Interactions, valid: Interactions, *, seed: int) -> None:
        marker = Path(self.config.marker) if self.config.marker else None
        if self.config.always or (marker is not None and not marker.exists()):
            if marker is not None:
                marker.write_text(f"attempt 1 died (pid {os.getpid()})\n")
            os._exit(3)
        self._pop = np.bincount(train.frame["item"].to_numpy(), minlength=self.n_items)

    def score_all(self, users: np.ndarray) -> np.ndarray:
        return np.tile(self._pop.astype(np.float64), (len(users), 1))
