"""`recbench check`: the regression gate for CI. Compares a current run against a baseline run.

Exit codes: 0 no metric dropped significantly beyond the tolerance; 1 at least one did (or an
efficiency cost grew beyond its tolerance), with a readable diff; 2 the runs are not comparable
(other dataset/split hash, protocol settings or metric version, or a baseline model missing).

Quality metrics: a regression = worse by more than ``tolerance`` (relative to the baseline mean)
AND significant (two-sided, Holm within the gated family). The gated family is the headline
metrics (``benchmark.report.headline``: NDCG/Recall/Hit@10, AUC/GAUC, each track's headline), or
the metrics named by ``--metrics``; every other quality metric is tested and corrected within its
own family and shown as information, never gating: correcting over every metric of every
protocol (93 tests on one suite) hid a 15% drop in full NDCG@10. A model without any headline
metric has all its metrics gated (a gate never passes what it did not test). The test depends on
the seeds:
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

import numpy as np
from scipy import stats as sps

from benchmark.registry import metric_meta
from benchmark.report.check_costs import (  # noqa: F401  (re-exported)
    CPU_TWINS,
    EFFICIENCY_FILE_KEYS,
    INFO_ONLY,
    WALL_INFO,
    cost_lines,
    cpu_twin,
    floor_for,
)
from benchmark.report.check_types import CheckOptions, CheckResult, Line, Verdict, few
from benchmark.report.comparable import reasons_not_comparable
from benchmark.report.compare import metric_sides, pair_sides, paired_p, selected
from benchmark.report.headline import is_headline
from benchmark.report.runs import RERUN_FIX, Run, group_runs
from benchmark.stats.corrections import correct


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
        result.lines += cost_lines(key, old[key], new[key], opts)
    _families(result, opts)
    for family in (True, False):  # corrected within the headline family, then the rest
        members = [ln for ln in tested if ln.headline is family]
        for ln, p in zip(members, correct([ln.p for ln in members], opts.correction)):
            ln.p_corrected = float(p)
    for ln in result.lines:
        if ln.kind == "quality":
            if not ln.verdict:  # else decided without a test: "untested", "undefined", ...
                ln.verdict = _verdict(ln, opts)
            if not ln.headline and ln.verdict in INFO_VERDICTS:
                ln.verdict = INFO_VERDICTS[ln.verdict]
    # a gated drop beyond the tolerance that no test could judge is never passed
    blind = [f"{ln.model} {ln.metric} ({ln.rel:+.1%})" for ln in result.lines
             if ln.kind == "quality" and ln.verdict == "untested" and ln.worse
             and abs(ln.rel) > opts.tolerance]
    regression = any(ln.verdict == "REGRESSION" for ln in result.lines)
    if blind:  # fails the gate either way: exit 1 when a tested regression exists, else exit 2
        text = (f"cannot test {few(blind)}: dropped beyond the tolerance {opts.tolerance:.1%}, "
                "but pooled metrics keep no per-user values and there is < 2 seeds a side\n"
                "    fix: run >= 2 seeds on both sides (then they are tested over seeds)")
        (result.notes if regression else result.problems).append(text)
    for what, metrics in result.unusable.items():
        result.problems.append(
            f"cannot test {few(metrics)}: {what}\n    fix: {RERUN_FIX}; or run >= 2 seeds on "
            "both sides (then these metrics are tested over seeds)")
    for what, metrics in result.fallback.items():
        result.notes.append(f"note: {few(metrics)} tested over seeds (marked 'seeds*'), not "
                            f"per user: {what}; re-run that job to restore the per-user test")
    if result.problems:
        result.status = 2
    else:
        result.status = 1 if any(ln.verdict == "REGRESSION" for ln in result.lines) else 0
    result.notes.append(f"new in the current run (not checked): "
                        f"{', '.join(f'{m} on {d}' for d, m in sorted(set(new) - set(old)))}"
                        if set(new) - set(old) else "")
    return result


#: verdicts of metrics outside the gated family: shown, never failing the gate
INFO_VERDICTS: dict[Verdict, Verdict] = {"REGRESSION": "worse (info)", "improved": "improved (info)", "ok": "ok (info)",
                 "untested": "untested (info)"}


def _verdict(ln: Line, opts: CheckOptions) -> Verdict:
    if ln.p_corrected != ln.p_corrected:
        return "untested"
    if ln.worse and abs(ln.rel) > opts.tolerance and ln.p_corrected < opts.alpha:
        return "REGRESSION"
    if not ln.worse and ln.rel != 0 and ln.p_corrected < opts.alpha:
        return "improved"
    return "ok"


def _families(result: CheckResult, opts: CheckOptions) -> None:
    """Which quality lines the gate corrects and judges together: the headline metrics (or
    all ``--metrics``); a model with no headline metric has every metric gated."""
    groups: dict[tuple[str, str], list[Line]] = {}
    for ln in result.lines:
        if ln.kind == "quality":
            if opts.metrics:
                ln.headline = True
            groups.setdefault((ln.dataset, ln.model), []).append(ln)
    for (dataset, model), lines in groups.items():
        if not any(ln.headline for ln in lines):
            for ln in lines:
                ln.headline = True
            result.notes.append(f"note: {model} on {dataset} reports no headline metric; all "
                                "its quality metrics are gated")


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
        meta = metric_meta(mk.metric, mk.track)
        # costs (declared with a cost kind) are gated by growth in check_costs, not tested here
        if mk not in ref_new.values or meta.cost != "none" or meta.sign <= 0:
            continue
        if not selected(mk, opts.metrics):
            continue
        vo = [r.values[mk] for r in old.values() if mk in r.values]
        vn = [r.values[mk] for r in new.values() if mk in r.values]
        sign = meta.sign
        line = Line(dataset, model, str(mk), float(np.mean(vo)), float(np.mean(vn)),
                    headline=is_headline(mk.track, mk.protocol, mk.metric, mk.k))
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
            paired, w = pair_sides(pu, pw, f"{model} {mk}")
            line.p = paired_p(paired, w, opts.test, seed=opts.seed).pvalue
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




from benchmark.report.check_render import render  # noqa: E402,F401  (the CLI's import)
