"""Which way is better for each metric: bold 'best' and regression checks depend on it.

The tracks declare it (``benchmark.track_meta``); this reads their declarations.
"""

from __future__ import annotations

from benchmark.registry import metric_meta


def direction(metric: str, track: str | None = None) -> int:
    """+1 higher is better, -1 lower is better, 0 neutral (never bold, never a regression)."""
    return metric_meta(metric, track).sign


def is_count(metric: str, track: str | None = None) -> bool:
    """Whether the metric counts things (parameters): shown as a whole number."""
    return metric_meta(metric, track).unit == "count"
