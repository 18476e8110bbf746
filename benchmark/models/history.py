"""The ``history`` ability: score (or rank) items given an explicit, time-ordered history.

Next-item models (SASRec, GRU4Rec) represent a user by the items seen so far, so the next-item
protocol asks them about each test interaction with the history available at that moment. A
model declares the ability with ``Capability.HISTORY`` and implements it by subclassing
:class:`HistoryScorer`; the two go together (checked when the class is created and again by
:func:`history_scorer`), and tracks never probe for the method by name.

Models without it are evaluated with their usual user representation (``score_all``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

import numpy as np

from benchmark.errors import BenchError
from benchmark.models.base import Capability


class HistoryScorer(ABC):
    """Mixin of a :class:`~benchmark.models.base.Recommender` that scores from a given history.

    The class must also list ``Capability.HISTORY`` in its ``capabilities``.
    """

    n_items: int

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        caps = getattr(cls, "capabilities", frozenset())
        if Capability.HISTORY not in caps:
            raise TypeError(f"{cls.__qualname__} subclasses HistoryScorer but does not declare "
                            "Capability.HISTORY in its capabilities")

    @abstractmethod
    def score_history(self, users: np.ndarray, histories: Sequence[np.ndarray]) -> np.ndarray:
        """Scores of every item for each query: float array (len(users), n_items).

        ``histories[q]`` holds harness item ids, oldest first (possibly empty); the model keeps
        as much of it as it uses (e.g. the last ``max_seq_length`` items). ``users[q]`` is the
        query's user, for models that also use a user representation.
        """

    def rank_history(self, users: np.ndarray, histories: Sequence[np.ndarray], k: int,
                     exclude: list[np.ndarray] | None = None) -> np.ndarray:
        """Top-k item ids per query given its history, best first (ties: lower item id).

        ``exclude``: optional per-query arrays of items never to recommend. Slots that cannot be
        filled hold -1, as in ``Recommender.rank``.
        """
        from benchmark.metrics.topk import topk_from_scores

        scores = np.array(self.score_history(users, histories), dtype=np.float64, copy=True)
        if exclude is not None:
            for row, items in enumerate(exclude):
                scores[row, items] = -np.inf
        return topk_from_scores(scores, k, invalid=-np.inf)


def history_scorer(model: Any) -> HistoryScorer | None:
    """``model`` as a :class:`HistoryScorer` when it declares ``Capability.HISTORY``, else None.

    A model that declares the capability without implementing the mixin is an error (a
    declaration the track cannot honour must not silently fall back to ``score_all``).
    """
    if Capability.HISTORY not in getattr(model, "capabilities", frozenset()):
        return None
    if not isinstance(model, HistoryScorer):
        raise BenchError(f"{type(model).__qualname__} declares the 'history' capability but is "
                         "not a benchmark.models.history.HistoryScorer",
                         "subclass HistoryScorer and implement score_history, or drop "
                         "Capability.HISTORY from its capabilities")
    return model
