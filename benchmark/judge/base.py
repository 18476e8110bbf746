"""The judge's vocabulary: criteria, requests, ratings and the ``Judge`` protocol.

The ExplainRec paper asks people to rate explanations on usefulness, accuracy and clarity from
1 to 5; a judge (a language model) gives the same three ratings. A rating that cannot be read
from the judge's answer stays ``None`` with the reason, so it is counted, never dropped.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Protocol

CRITERIA: tuple[str, ...] = ("usefulness", "accuracy", "clarity")
SCALE = (1, 5)


@dataclass(frozen=True)
class JudgeRequest:
    """One explanation to rate, with what the judge may know about the user."""

    item_title: str
    explanation: str
    liked_titles: tuple[str, ...] = ()  # the user's recent liked titles, oldest first
    item_genres: tuple[str, ...] = ()  # the item's genres (catalog facts), when known


@dataclass
class Rating:
    """Per criterion: a rating in [1, 5] or None, and for each None the reason."""

    values: dict[str, float | None]
    reasons: dict[str, str] = field(default_factory=dict)
    argmax: dict[str, int | None] = field(default_factory=dict)  # local judges: the top answer

    def __post_init__(self) -> None:
        for c in CRITERIA:
            v = self.values.get(c)
            if v is None:
                self.values[c] = None
                self.reasons.setdefault(c, "no rating")
            elif not (math.isfinite(v) and SCALE[0] <= v <= SCALE[1]):
                raise ValueError(f"rating {c}={v!r} outside [1, 5]")

    @property
    def unrated(self) -> list[str]:
        return [c for c in CRITERIA if self.values[c] is None]

    def to_json(self) -> dict:
        """What a sample stores: the ratings, plus reasons (and argmax) when there are any."""
        out: dict = {c: self.values[c] for c in CRITERIA}
        if self.reasons:
            out["unrated_reasons"] = dict(self.reasons)
        if self.argmax:
            out["argmax"] = dict(self.argmax)
        return out


class Judge(Protocol):
    """Rates explanations on CRITERIA; ``label()`` says exactly which judge it was."""

    def rate(self, requests: list[JudgeRequest]) -> list[Rating]: ...

    def label(self) -> dict: ...
