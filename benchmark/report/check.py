"""`recbench check`: the regression gate for CI. Compares a current run against a baseline run.

Exit codes: 0 no metric dropped significantly beyond the tolerance; 1 at least one did (or an
efficiency cost grew beyond its tolerance), with a readable diff; 2 the runs are not comparable
(other dataset/split hash, protocol settings or metric version, or a baseline model missing).

Quality metrics: a regression = worse by more than ``tolerance`` (relative to the baseline mean)
AND significant (two-sided, Holm over every tested metric). The test depends on the seeds:
- same seeds on both sides (recommended for CI): per-user values averaged over the seeds, paired
  by user id; training randomness is then the same on both sides, so a difference is the code's;
- other seeds, >= 2 a side: Welch's t-test over the run means, which includes the training-seed
  variance (another seed of the same code is noise, not a regression);
- other seeds, one on a side: the per-user test, with a warning that it cannot tell training-seed
  variance from a regression (measured on the quick suite: BPR's sampled metrics move 5-11%
  between seeds 0 and 1, significantly per user).
Weighted metrics (GAUC) are tested on their weighted mean, the number the row shows
(``benchmark.stats.weighted``, weights from per_user.npz; without them the per-user values are
unusable, as below). Pooled metrics without per-user values (AUC) need >= 2 seeds a side
(Welch), else are untested: reported, and exit 2 when they dropped beyond the tolerance (never
passed blind) (named in a note under the verdict).

Fail closed: a metric that should have per-user values but cannot be tested per user (a run's
per_user.npz missing or damaged, or one side without values the other kept) is tested over seeds
when both sides have >= 2 (with a note saying so), else the result is exit 2 naming the file and
the fix. Malformed metrics.json files are refused when the runs are loaded (``runs.load_run``).
Costs (efficiency rows and efficiency.json) are flagged by relative growth beyond
``efficiency_tolerance`` and an absolute floor (timer noise on tiny runs is not a regression).
When both runs recorded the CPU time of a wall-clock cost (``train_cpu_seconds`` beside
``train_seconds``, ``latency_cpu_ms_p50`` beside ``latency_ms_p50``, efficiency.json's
``fit_cpu_seconds`` / ``job_cpu_seconds``), the CPU time is gated and the wall time only shown:
wall time on a shared machine measures its load as much as the code. GPU fits keep wall time.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
from scipy import stats as sps

from benchmark.report.comparable import reasons_not_comparable
from benchmark.report.compare import metric_sides, pair_sides, paired_p, selected
from benchmark.report.metric_meta import direction
from benchmark.report.runs import RERUN_FIX, Run, group_runs
from benchmark.stats.corrections import correct

EFFICIENCY_FILE_KEYS = ("fit_seconds", "inference_seconds", "peak_rss_mb_fit", "peak_rss_mb_eval",
                        "fit_cpu_seconds", "job_seconds", "job_cpu_seconds")
#: wall-clock costs of efficiency.json and the CPU-time cost gated instead when both runs have
#: it (``cpu_twin``); inference_seconds, summed over tracks, has no CPU time of its own: its CPU
#: time is part of job_cpu_seconds
CPU_TWINS = {"efficiency.json/fit_seconds": "efficiency.json/fit_cpu_seconds",
             "efficiency.json/job_seconds": "efficiency.json/job_cpu_seconds",
             "efficiency.json/inference_seconds": "efficiency.json/job_cpu_seconds"}
#: verdict of a wall-clock cost left ungated because its CPU time is gated
WALL_INFO = "info (wall)"
#: shown but never gated: process RSS includes whatever the process held before the job (the
#: data, earlier models of the suite), so it depends on job order, not only on the model; the
#: efficiency track's own peak_memory_mb is gated instead
INFO_ONLY = ("peak_rss_mb_fit", "peak_rss_mb_eval")


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
    kind: str = "quality"  # or "cost"
    #: what the p-value is over: "users" (paired by user id) or "seeds" (Welch over run means)
    test: str = "-"
    verdict: str = ""
    worse: bool = False

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


def floor_for(metric: str) -> float:
    """Smallest absolute growth of a cost that can count as a regression."""
    if "seconds" in metric:
        return 1.0
    if "_ms" in metric:
        return 2.0
    if "mb" in metric:
        return 64.0
    return 0.0


def check(baseline: list[Run], current: list[Run], opts: CheckOptions) -> CheckResult:
    old, new = group_runs(baseline), group_runs(current)
    problems = []
    missing = sorted(set(old) - set(new))
    if missing:
        problems += [f"{m} on {d}: in the baseline, missing from the current run"
                     for d, m in missing]
    for key in sorted(set(old) & set(new)):
        shared = sorted(set(old[key]) & set(new[key]))
        pairs = [(old[key][s], new[key][s]) for s in shared] or [
            (next(iter(old[key].values())), next(iter(new[key].values())))]
        for a, b in pairs:
            why = reasons_not_comparable(a, b)
            if why and not shared:
                why[-1] += (f" (seeds {sorted(old[key])} vs {sorted(new[key])}: with a "
                            "seed-dependent split, check the same seeds)")
            problems += [f"{key[1]} on {key[0]} seed {b.seed}: {w}" for w in why]
        gone = sorted({str(k) for r in old[key].values() for k in r.values}
                      - {str(k) for r in new[key].values() for k in r.values})
        if gone:
            problems.append(f"{key[1]} on {key[0]}: the current run has no "
                            f"{', '.join(gone[:5])}{' ...' if len(gone) > 5 else ''} "
                            "(a track or protocol was dropped)")
    if problems:
        return CheckResult(2, problems=problems)
    result = CheckResult(0)
    for dataset in sorted({d for d, _ in set(old) & set(new)}):
        o = sorted({s for (d, _), runs in old.items() if d == dataset for s in runs})
        n = sorted({s for (d, _), runs in new.items() if d == dataset for s in runs})
        h = sorted({r.split_hash[:12] for (d, _), runs in old.items() if d == dataset
                    for r in runs.values()})
        result.notes.append(f"{dataset}: split hash {', '.join(h)}; baseline seeds {o}; "
                            f"current seeds {n}")
    tested: list[Line] = []
    for key in sorted(set(old) & set(new)):
        result.lines += _quality(key, old[key], new[key], opts, tested, result)
        result.lines += _costs(key, old[key], new[key], opts)
    adjusted = correct([ln.p for ln in tested], opts.correction)
    for ln, p in zip(tested, adjusted):
        ln.p_corrected = float(p)
    for ln in result.lines:
        if ln.kind == "quality":
            if ln.verdict:  # decided without a test: "untested", "undefined", "not tested"
                continue
            if ln.p_corrected != ln.p_corrected:
                ln.verdict = "untested"
            elif ln.worse and abs(ln.rel) > opts.tolerance and ln.p_corrected < opts.alpha:
                ln.verdict = "REGRESSION"
            elif not ln.worse and ln.rel != 0 and ln.p_corrected < opts.alpha:
                ln.verdict = "improved"
            else:
                ln.verdict = "ok"
    # a drop beyond the tolerance that no test could judge is never passed
    blind = [f"{ln.model} {ln.metric} ({ln.rel:+.1%})" for ln in result.lines
             if ln.kind == "quality" and ln.verdict == "untested" and ln.worse
             and abs(ln.rel) > opts.tolerance]
    regression = any(ln.verdict == "REGRESSION" for ln in result.lines)
    if blind:  # fails the gate either way: exit 1 when a tested regression exists, else exit 2
        text = (f"cannot test {_few(blind)}: dropped beyond the tolerance {opts.tolerance:.1%}, "
                "but pooled metrics keep no per-user values and there is < 2 seeds a side\n"
                "    fix: run >= 2 seeds on both sides (then they are tested over seeds)")
        (result.notes if regression else result.problems).append(text)
    for what, metrics in result.unusable.items():
        result.problems.append(
            f"cannot test {_few(metrics)}: {what}\n    fix: {RERUN_FIX}; or run >= 2 seeds on "
            "both sides (then these metrics are tested over seeds)")
    for what, metrics in result.fallback.items():
        result.notes.append(f"note: {_few(metrics)} tested over seeds (marked 'seeds*'), not "
                            f"per user: {what}; re-run that job to restore the per-user test")
    if result.problems:
        result.status = 2
    else:
        result.status = 1 if any(ln.verdict == "REGRESSION" for ln in result.lines) else 0
    result.notes.append(f"new in the current run (not checked): "
                        f"{', '.join(f'{m} on {d}' for d, m in sorted(set(new) - set(old)))}"
                        if set(new) - set(old) else "")
    return result


def _few(metrics: list[str], n: int = 4) -> str:
    more = f" and {len(metrics) - n} more" if len(metrics) > n else ""
    return ", ".join(metrics[:n]) + more


def _quality(key: tuple[str, str], old: dict[int, Run], new: dict[int, Run],
             opts: CheckOptions, tested: list[Line], result: CheckResult) -> list[Line]:
    """One line per quality metric both sides report; per-user test, else over seeds.

    A metric whose per-user values should exist but cannot be used is recorded in
    ``result.unusable`` (exit 2) unless the seed-level test can replace it (``result.fallback``).
    """
    dataset, model = key
    lines = []
    ref_old, ref_new = next(iter(old.values())), next(iter(new.values()))
    for mk in ref_old.values:
        if mk not in ref_new.values or mk.track == "efficiency" or direction(mk.metric) <= 0:
            continue
        if not selected(mk, opts.metrics):
            continue
        vo = [r.values[mk] for r in old.values() if mk in r.values]
        vn = [r.values[mk] for r in new.values() if mk in r.values]
        sign = direction(mk.metric)
        line = Line(dataset, model, str(mk), float(np.mean(vo)), float(np.mean(vn)))
        lines.append(line)
        line.worse = sign * (line.current - line.baseline) < 0
        name = f"{model} on {dataset} {mk}"
        if not (np.isfinite(vo).all() and np.isfinite(vn).all()):
            if np.isnan(vo).all() and np.isnan(vn).all():
                line.verdict, line.worse = "undefined", False  # NaN on both: nothing to gate
            else:
                nan_side = [r.folder / "metrics.json" for side in (old, new)
                            for r in side.values() if mk in r.values
                            and r.values[mk] != r.values[mk]]
                result.unusable.setdefault(
                    f"the value is NaN (undefined) in {', '.join(map(str, nan_side))} but not "
                    "on the other side", []).append(name)
                line.verdict = "not tested"
            continue
        other_seeds = set(old) != set(new)
        # a weighted metric (GAUC) comes with its per-user weights, or is unusable per user
        pu, pw = metric_sides(new, old, mk, sorted(new), sorted(old))
        seed_test = len(vo) >= 2 and len(vn) >= 2
        if pu.unusable and not seed_test:
            result.unusable.setdefault("; ".join(pu.unusable), []).append(name)
            line.verdict = "not tested"
            continue
        if seed_test and (other_seeds or pu.a is None or pu.b is None):
            # training-seed variance is part of the difference: test over seeds (Welch)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                p = float(sps.ttest_ind(vn, vo, equal_var=False).pvalue)
            line.p = 1.0 if p != p and np.mean(vn) == np.mean(vo) else p
            line.test = "seeds"
            if pu.unusable:
                line.test = "seeds*"
                result.fallback.setdefault("; ".join(pu.unusable), []).append(name)
            tested.append(line)
        elif pu.a is not None and pu.b is not None:
            p, w = pair_sides(pu, pw, f"{model} {mk}")
            line.p = paired_p(p, w, opts.test, seed=opts.seed).pvalue
            if w is not None:
                said = (f"note: {mk.metric} is tested on its weighted mean, the number shown "
                        "(per-user weights from per_user.npz)")
                if said not in result.notes:
                    result.notes.append(said)
            line.test = "users" + (" (other seed)" if other_seeds else "")
            tested.append(line)
        else:
            line.verdict = "untested"  # pooled (no per-user values) and < 2 seeds a side
    return lines


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
                out.setdefault(f"efficiency.json/{k}", []).append(float(v))
        for mk, v in r.values.items():
            if direction(mk.metric) < 0:
                out.setdefault(str(mk), []).append(v)
    return out


def cpu_twin(name: str) -> str | None:
    """The CPU-time cost measured beside a wall-clock one: ``.../train_seconds`` ->
    ``.../train_cpu_seconds``, ``.../latency_ms_p50`` -> ``.../latency_cpu_ms_p50``, and
    ``CPU_TWINS`` for efficiency.json; None for other costs and for GPU rows."""
    if name in CPU_TWINS:
        return CPU_TWINS[name]
    head, _, metric = name.rpartition("/")
    # GPU rows (protocol "cuda") keep wall time: GPU time is not CPU time
    if name.startswith("efficiency.json/") or "cpu" in metric or "/cuda/" in name:
        return None
    if metric.endswith("_seconds"):
        return f"{head}/{metric.removesuffix('_seconds')}_cpu_seconds"
    if metric.startswith("latency_ms_"):
        return f"{head}/latency_cpu_ms_{metric.removeprefix('latency_ms_')}"
    return None


def _costs(key, old, new, opts) -> list[Line]:
    """One line per cost both sides report. Wall time depends on what else the machine runs,
    so a wall-clock cost whose CPU time both runs recorded is shown as ``WALL_INFO`` and the
    CPU time is gated in its place; runs without CPU times (older ones) gate wall time."""
    dataset, model = key
    co, cn = _cost_values(old), _cost_values(new)
    both = set(co) & set(cn)
    keep = {n for n in both if not opts.metrics or any(n.endswith(p) for p in opts.metrics)}
    keep |= {cpu_twin(n) for n in keep if cpu_twin(n) in both}  # a chosen wall time's gate
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


def render(result: CheckResult, opts: CheckOptions) -> str:
    from tabulate import tabulate

    if result.status == 2 and not result.lines:
        return "NOT COMPARABLE (exit 2):\n" + "\n".join(f"  - {p}" for p in result.problems) + "\n"
    order = {"REGRESSION": 0, "not tested": 1, "improved": 2, "ok": 3, "untested": 4,
             "undefined": 5, "info": 6, WALL_INFO: 6}
    lines = sorted(result.lines, key=lambda ln: (order.get(ln.verdict, 6), ln.dataset, ln.model,
                                                 ln.metric))
    rows = [[ln.verdict, ln.dataset, ln.model, ln.metric, f"{ln.baseline:.4g}",
             f"{ln.current:.4g}", f"{ln.rel:+.1%}",
             "-" if ln.kind == "cost" else _p(ln.p_corrected), ln.test] for ln in lines]
    n_bad = sum(ln.verdict == "REGRESSION" for ln in lines)
    if result.status == 2:
        head = ("NOT COMPARABLE (exit 2): some compared metrics could not be tested, so the "
                "gate cannot pass\n" + "\n".join(f"  - {p}" for p in result.problems))
    elif result.status == 1:
        head = f"{n_bad} REGRESSION(S) (exit 1)"
    else:
        head = "no significant regression (exit 0)"
    rule = (f"quality: worse by > {opts.tolerance:.1%} of the baseline and two-sided "
            f"{opts.test} p < {opts.alpha} after {opts.correction} correction over "
            f"{sum(ln.p == ln.p for ln in lines)} tested metrics; costs: growth > "
            f"{opts.efficiency_tolerance:.0%} and above an absolute floor (1 s, 2 ms, 64 MB); "
            "untested = pooled metric (no per-user values) and < 2 seeds a side; not tested = "
            "its per-user values are unusable (see above); undefined = NaN on both sides; "
            f"info = process RSS, not gated; {WALL_INFO} = wall time, not gated: both runs "
            "measured its CPU time (*_cpu_*), which is gated instead")
    if any(ln.test == "users (other seed)" for ln in lines):
        rule += ("\nwarning: the sides ran different seeds, one seed on a side: the per-user "
                 "test cannot tell training-seed variance from a regression. For CI run both "
                 "sides with the same seeds, or >= 2 seeds a side (then the test is over seeds), "
                 "or set --tolerance to the seed-to-seed spread you accept")
    notes = "".join(f"{n}\n" for n in result.notes if n)
    untested = [f"{ln.model} {ln.metric} ({ln.rel:+.1%})" for ln in lines
                if ln.verdict == "untested"]
    if untested:
        notes += (f"not gated: {len(untested)} pooled metric(s) without per-user values and "
                  f"< 2 seeds a side: {_few(untested)}; run >= 2 seeds a side to test them\n")
    if result.status == 2:
        rule += ("\nwhat could be tested (the gate fails regardless until the problems above "
                 "are fixed):")
    return (f"{head}\n{rule}\n\n"
            + tabulate(rows, ["verdict", "dataset", "model", "metric", "baseline", "current",
                              "change", f"p ({opts.correction})", "over"], tablefmt="github",
                       disable_numparse=True) + "\n" + notes)


def _p(p: float) -> str:
    if p != p:
        return "n/a"
    return f"{p:.2e}" if p < 1e-3 else f"{p:.4f}"
