"""What a track declares about its numbers, so that reports never hard-code a track or metric.

Each track class carries ``meta = TrackMeta(...)``: its metrics (a name or an fnmatch pattern
each, with direction, unit and cost type), its headline numbers (the console table's columns and
the family `recbench check` gates) and the settings that change speed or memory but never a
number. Reports read them through ``benchmark.registry.track_meta``. A track that declares
nothing gets ``TrackMeta()``: its metrics read as higher-is-better quality numbers.

``JOB_METRICS`` declares the job-level costs every job records in ``efficiency.json``
(``benchmark.runner.job``), which belong to no track.
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Literal

#: which way is better; "neutral" (sizes, counts): never bold, never a regression
Direction = Literal["higher", "lower", "neutral"]
#: what `recbench check` does with a metric: "none" = a quality number (tested for significance
#: when it has a direction); any other = a cost, gated by relative growth when lower is better,
#: never a quality test ("rate": a share of failed outputs)
CostKind = Literal["none", "time", "memory", "rate"]

#: the smallest absolute growth of a cost, by unit, that can count as a regression: timer noise
#: and allocator jitter on tiny runs are not regressions
COST_FLOORS = {"s": 1.0, "ms": 2.0, "MiB": 64.0}

_SIGN = {"higher": 1, "lower": -1, "neutral": 0}


@dataclass(frozen=True)
class MetricMeta:
    """One metric, or a family of them (``pattern`` may hold ``*``: ``latency_ms_p*``)."""

    pattern: str
    direction: Direction = "higher"
    #: "" (a score), "s", "ms", "MiB", "count", "share", "users/s", "0-100"
    unit: str = ""
    cost: CostKind = "none"
    #: False: shown by `recbench check` but never gated (e.g. process RSS, which depends on
    #: what the process held before the job)
    gated: bool = True
    #: the CPU-time metric measured beside this wall-clock one (same ``*`` part), gated in its
    #: place when both runs have it: wall time on a shared machine measures its load
    cpu_twin: str = ""

    def matches(self, metric: str) -> bool:
        return fnmatchcase(metric, self.pattern)

    @property
    def sign(self) -> int:
        """+1 higher is better, -1 lower is better, 0 neutral."""
        return _SIGN[self.direction]

    @property
    def floor(self) -> float:
        """Smallest absolute growth of this cost that can count as a regression."""
        return COST_FLOORS.get(self.unit, 0.0)

    def twin_of(self, metric: str) -> str | None:
        """The name of ``metric``'s CPU-time twin, if it declares one."""
        if not self.cpu_twin:
            return None
        head, star, _ = self.pattern.partition("*")
        return self.cpu_twin.replace("*", metric[len(head):]) if star else self.cpu_twin


@dataclass(frozen=True)
class Headline:
    """A headline number of a track: ``protocol`` "*" = any protocol of the track."""

    protocol: str
    metric: str
    k: int | None = None
    #: a column of the console table at the end of `recbench run`; False: gated by
    #: `recbench check` only (suites that run only this protocol need a headline to gate)
    console: bool = True

    def matches(self, protocol: str, metric: str, k: int | None) -> bool:
        return self.protocol in ("*", protocol) and self.metric == metric and self.k == k


@dataclass(frozen=True)
class TrackMeta:
    """Everything reports need to know about one track's numbers."""

    metrics: tuple[MetricMeta, ...] = ()
    #: in console-column order
    headline: tuple[Headline, ...] = ()
    #: settings that trade speed for memory and never change a number: left out of the
    #: fingerprint, and two runs differing only in them are comparable
    neutral_settings: frozenset[str] = frozenset()
    #: the console table shows tracks with a lower rank first (then in the suite's order)
    console_rank: int = 1
    #: one line per run of the track's protocols, under its full table (e.g. how a cold-start
    #: score was computed); shown by `recbench run` when the suite runs the track
    caption: str = ""

    def metric(self, name: str) -> MetricMeta | None:
        """The first declaration matching ``name`` (None: undeclared)."""
        return next((m for m in self.metrics if m.matches(name)), None)


def quality_metrics(*names: str) -> tuple[MetricMeta, ...]:
    """Higher-is-better quality scores with no unit (ranking metrics, AUCs, accuracies)."""
    return tuple(MetricMeta(n) for n in names)


#: efficiency.json's costs, written for every job by the runner (not by a track)
JOB_METRICS: tuple[MetricMeta, ...] = (
    MetricMeta("fit_seconds", "lower", "s", "time", cpu_twin="fit_cpu_seconds"),
    # summed over tracks, it has no CPU time of its own: its CPU time is part of the job's
    MetricMeta("inference_seconds", "lower", "s", "time", cpu_twin="job_cpu_seconds"),
    MetricMeta("peak_rss_mb_fit", "lower", "MiB", "memory", gated=False),
    MetricMeta("peak_rss_mb_eval", "lower", "MiB", "memory", gated=False),
    MetricMeta("fit_cpu_seconds", "lower", "s", "time"),
    MetricMeta("job_seconds", "lower", "s", "time", cpu_twin="job_cpu_seconds"),
    MetricMeta("job_cpu_seconds", "lower", "s", "time"),
    MetricMeta("n_parameters", "neutral", "count"),
)
