"""The ``history`` ability: score (or rank) items given an explicit, time-ordered history.

Next-item models (SASRec, GRU4Rec) represent a user by the items seen so far, so the next-item
protocol asks them about each test interaction with the history available at that moment. A
model declares the ability with ``Capability.HISTORY`` and implements it by subclassing
:class:`HistoryScorer` (defined with the other ability types in ``benchmark.models.abilities``);
the two go together (checked when the class is created and again by :func:`history_scorer`),
and tracks never probe for the method by name.

Models without it are evaluated with their usual user representation (``score_all``).
"""

from __future__ import annotations

from typing import Any

from benchmark.errors import BenchError
from benchmark.models.abilities import HistoryScorer
from benchmark.models.capability import Capability

__all__ = ["HistoryScorer", "history_scorer"]


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
