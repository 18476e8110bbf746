"""Which way is better for each metric: bold 'best' and regression checks depend on it."""

from __future__ import annotations

#: smaller is better (costs)
LOWER_IS_BETTER = frozenset({
    "train_seconds", "latency_ms_p50", "latency_ms_p95", "latency_ms_p99", "peak_memory_mb",
    "inference_seconds", "fit_seconds", "peak_rss_mb_fit", "peak_rss_mb_eval", "malformed_rate",
    "judge_unrated_rate", "judge_unrated_rate_reference",
    # CPU time beside wall time (efficiency track rows, efficiency.json)
    "train_cpu_seconds", "inference_cpu_seconds", "latency_cpu_ms_p50", "latency_cpu_ms_p95",
    "latency_cpu_ms_p99", "fit_cpu_seconds", "job_seconds", "job_cpu_seconds",
})
#: neither direction is better (sizes): never bold, never a regression
NEUTRAL = frozenset({"params", "params_trainable", "n_parameters"})


def direction(metric: str) -> int:
    """+1 higher is better, -1 lower is better, 0 neutral."""
    if metric in NEUTRAL:
        return 0
    return -1 if metric in LOWER_IS_BETTER else 1
