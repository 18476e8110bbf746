"""Cost lines of `recbench check`: efficiency rows and efficiency.json, gated by relative growth.

Costs are not p-value tests: a cost fails when it grew beyond ``efficiency_tolerance`` and above
an absolute floor (timer noise on tiny runs is not a regression); wall time is only shown where
both runs measured the CPU time beside it, which is gated instead.
"""

from __future__ import annotations

import numpy as np

from benchmark.registry import metric_meta
from benchmark.report.check_types import Line, Verdict
from benchmark.report.runs import MetricKey, Run
from benchmark.track_meta import JOB_METRICS, MetricMeta

#: prefix of efficiency.json's costs (``JOB_METRICS``) among the cost names
JOB_FILE = "efficiency.json"
EFFICIENCY_FILE_KEYS = tuple(m.pattern for m in JOB_METRICS if m.cost != "none")
#: wall-clock costs of efficiency.json and the CPU-time cost gated instead when both runs have
#: it (``cpu_twin``, as ``JOB_METRICS`` declares)
CPU_TWINS = {f"{JOB_FILE}/{m.pattern}": f"{JOB_FILE}/{m.cpu_twin}" for m in JOB_METRICS
             if m.cpu_twin}
#: verdict of a wall-clock cost left ungated because its CPU time is gated
WALL_INFO: Verdict = "info (wall)"
#: shown but never gated (declared ``gated=False``): process RSS includes whatever the process
#: held before the job (the data, earlier models of the suite), so it depends on job order, not
#: only on the model; the efficiency track's own peak_memory_mb is gated instead
INFO_ONLY = tuple(m.pattern for m in JOB_METRICS if not m.gated)


def cost_meta(name: str) -> MetricMeta:
    """The declaration of a cost named ``efficiency.json/<key>`` or ``track/protocol/metric``."""
    head, _, key = name.partition("/")
    if head == JOB_FILE:
        return next((m for m in JOB_METRICS if m.matches(key)), MetricMeta(key))
    mk = MetricKey.parse(name)
    return metric_meta(mk.metric, mk.track)


def floor_for(name: str) -> float:
    """Smallest absolute growth of a cost that can count as a regression (by its unit)."""
    return cost_meta(name).floor



def _cost_values(runs: dict[int, Run]) -> dict[str, list[float]]:
    """Every cost of the runs by name (efficiency.json keys, then lower-is-better rows). A fit
    on a GPU leaves efficiency.json's CPU seconds out: GPU time is not CPU time, so its wall
    time stays gated."""
    out: dict[str, list[float]] = {}
    for r in runs.values():
        fit_memory = r.efficiency.get("memory_fit")
        on_gpu = isinstance(fit_memory, dict) and bool(fit_memory.get("cuda_max_allocated_mb"))
        for k in EFFICIENCY_FILE_KEYS:
            v = r.efficiency.get(k)
            if on_gpu and "_cpu_" in k:
                continue
            if isinstance(v, (int, float)):
                out.setdefault(f"{JOB_FILE}/{k}", []).append(float(v))
        for mk, v in r.values.items():
            meta = metric_meta(mk.metric, mk.track)
            if meta.cost != "none" and meta.sign < 0:
                out.setdefault(str(mk), []).append(v)
    return out


def cpu_twin(name: str) -> str | None:
    """The CPU-time cost measured beside a wall-clock one, as its metric declares it
    (``.../train_seconds`` -> ``.../train_cpu_seconds``, ``.../latency_ms_p50`` ->
    ``.../latency_cpu_ms_p50``, ``CPU_TWINS`` for efficiency.json); None for other costs and for
    GPU rows."""
    if name in CPU_TWINS:
        return CPU_TWINS[name]
    head, _, metric = name.rpartition("/")
    # GPU rows (protocol "cuda") keep wall time: GPU time is not CPU time
    if name.startswith(f"{JOB_FILE}/") or "/cuda/" in name:
        return None
    twin = cost_meta(name).twin_of(metric)
    return None if twin is None else f"{head}/{twin}"


def cost_lines(key, old, new, opts) -> list[Line]:
    """One line per cost both sides report. Wall time depends on what else the machine runs,
    so a wall-clock cost whose CPU time both runs recorded is shown as ``WALL_INFO`` and the
    CPU time is gated in its place; runs without CPU times (older ones) gate wall time."""
    dataset, model = key
    co, cn = _cost_values(old), _cost_values(new)
    both = set(co) & set(cn)
    keep = {n for n in both if not opts.metrics or any(n.endswith(p) for p in opts.metrics)}
    # a chosen wall time's gate
    keep |= {t for n in keep if (t := cpu_twin(n)) is not None and t in both}
    lines = []
    for name in sorted(keep):
        line = Line(dataset, model, name, float(np.mean(co[name])), float(np.mean(cn[name])),
                    kind="cost")
        grew = line.current - line.baseline
        line.worse = grew > 0
        if name.endswith(INFO_ONLY):
            line.verdict = "info"
        elif cpu_twin(name) in both:
            line.verdict = WALL_INFO
        elif grew > floor_for(name) and line.rel > opts.efficiency_tolerance:
            line.verdict = "REGRESSION"
        else:
            line.verdict = "ok"
        lines.append(line)
    return lines
