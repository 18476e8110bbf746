"""The records of `recbench check`: its options, one line per compared number, the result.

Kept apart from the gate's logic so that the cost rules (``check_costs``) and the rendering
(``check_render``) share them without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

#: every verdict a line can carry ("" = not decided yet): gated ones, decisions made without a
#: test, and the information-only forms of metrics and costs outside the gated family
Verdict = Literal["", "REGRESSION", "improved", "ok", "untested", "undefined", "not tested",
                  "info", "info (wall)", "worse (info)", "improved (info)", "ok (info)",
                  "untested (info)"]


@dataclass(frozen=True)
class CheckOptions:
    tolerance: float = 0.01
    alpha: float = 0.05
    test: str = "ttest"
    correction: str = "holm"
    efficiency_tolerance: float = 0.5
    metrics: tuple[str, ...] = ()
    seed: int = 0


@dataclass
class Line:
    dataset: str
    model: str
    metric: str
    baseline: float
    current: float
    p: float = float("nan")
    p_corrected: float = float("nan")
    kind: Literal["quality", "cost"] = "quality"
    #: what the p-value is over: "users" (paired by user id) or "seeds" (Welch over run means)
    test: str = "-"
    verdict: Verdict = ""
    worse: bool = False
    #: in the gated (headline) family; False: tested and shown as information only
    headline: bool = True

    @property
    def rel(self) -> float:
        return (self.current - self.baseline) / abs(self.baseline) if self.baseline else (
            0.0 if self.current == self.baseline else float("inf"))


@dataclass
class CheckResult:
    status: int
    lines: list[Line] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: per file that made per-user tests impossible: the metrics it affected (exit 2 unless a
    #: seed-level test replaced them, then a note)
    unusable: dict[str, list[str]] = field(default_factory=dict)
    #: the same, for metrics that were tested over seeds instead
    fallback: dict[str, list[str]] = field(default_factory=dict)


def few(items: list[str], n: int = 4) -> str:
    """The first ``n`` items and how many more: lists in messages stay one line long."""
    more = f" and {len(items) - n} more" if len(items) > n else ""
    return ", ".join(items[:n]) + more
