"""The text of `recbench check`: verdict first, then a short summary, the headline (gated)
metrics, and only then everything else as information.

A reader of a CI log looks at the first lines: they say pass or fail and why, so that a
regression in a headline number is never buried under dozens of informational rows.
"""

from __future__ import annotations

from benchmark.report.check_costs import WALL_INFO
from benchmark.report.check_types import CheckOptions, CheckResult, Line, Verdict, few

#: order of rows inside a section: what fails first
ORDER: dict[Verdict, int] = {
    "REGRESSION": 0, "not tested": 1, "improved": 2, "ok": 3, "untested": 4, "undefined": 5,
    "worse (info)": 6, "improved (info)": 7, "untested (info)": 8, "ok (info)": 9, "info": 10,
    WALL_INFO: 10}
HEADERS = ["verdict", "dataset", "model", "metric", "baseline", "current", "change"]


def _gated(ln: Line) -> bool:
    if ln.kind == "cost":
        return ln.verdict not in ("info", WALL_INFO)
    return ln.headline


def _table(lines: list[Line], opts: CheckOptions) -> str:
    from tabulate import tabulate

    lines = sorted(lines, key=lambda ln: (ORDER.get(ln.verdict, 10), ln.dataset, ln.model,
                                          ln.metric))
    rows = [[ln.verdict, ln.dataset, ln.model, ln.metric, f"{ln.baseline:.4g}",
             f"{ln.current:.4g}", f"{ln.rel:+.1%}",
             "-" if ln.kind == "cost" else _p(ln.p_corrected), ln.test] for ln in lines]
    return tabulate(rows, [*HEADERS, f"p ({opts.correction})", "over"], tablefmt="github",
                    disable_numparse=True)


def _count(lines: list[Line]) -> str:
    counts: dict[Verdict, int] = {}
    for ln in lines:
        counts[ln.verdict] = counts.get(ln.verdict, 0) + 1
    return ", ".join(f"{n} {v}" for v, n in sorted(counts.items(),
                                                  key=lambda kv: ORDER.get(kv[0], 10)))


def summary(result: CheckResult) -> str:
    """Two lines a CI log reader can stop at: what was gated and what was only shown."""
    gated = [ln for ln in result.lines if _gated(ln)]
    info = [ln for ln in result.lines if not _gated(ln)]
    quality = [ln for ln in gated if ln.kind == "quality"]
    costs = [ln for ln in gated if ln.kind == "cost"]
    text = (f"gated: {len(quality)} headline metric(s) ({_count(quality) or 'none'}); "
            f"{len(costs)} cost(s) ({_count(costs) or 'none'})")
    if info:
        text += (f"\ninformation, not gated: {len(info)} other number(s) "
                 f"({_count(info)})")
    return text


def render(result: CheckResult, opts: CheckOptions) -> str:
    if result.status == 2 and not result.lines:
        return "NOT COMPARABLE (exit 2):\n" + "\n".join(f"  - {p}" for p in result.problems) + "\n"
    lines = result.lines
    n_bad = sum(ln.verdict == "REGRESSION" for ln in lines)
    if result.status == 2:
        head = ("NOT COMPARABLE (exit 2): some compared metrics could not be tested, so the "
                "gate cannot pass\n" + "\n".join(f"  - {p}" for p in result.problems))
    elif result.status == 1:
        head = f"{n_bad} REGRESSION(S) (exit 1)"
    else:
        head = "no significant regression (exit 0)"
    gated = [ln for ln in lines if _gated(ln)]
    info = [ln for ln in lines if not _gated(ln)]
    n_family = sum(ln.p == ln.p for ln in gated if ln.kind == "quality")
    family = ("the --metrics chosen" if opts.metrics
              else "NDCG/Recall/Hit@10, AUC, GAUC and each track's headline")
    rule = (f"quality: worse by > {opts.tolerance:.1%} of the baseline and two-sided "
            f"{opts.test} p < {opts.alpha} after {opts.correction} correction over the "
            f"{n_family} tested headline metrics ({family}); "
            f"costs: growth > {opts.efficiency_tolerance:.0%} and above an absolute floor "
            "(1 s, 2 ms, 64 MB); untested = pooled metric (no per-user values) and < 2 seeds a "
            "side; not tested = its per-user values are unusable (see above); undefined = NaN "
            "on both sides; (info) = another metric, tested and corrected within its own "
            "family, never gating; info = process RSS, not gated; "
            f"{WALL_INFO} = wall time, not gated: both runs measured its CPU time (*_cpu_*), "
            "which is gated instead")
    if any(ln.test == "users (other seed)" for ln in lines):
        rule += ("\nwarning: the sides ran different seeds, one seed on a side: the per-user "
                 "test cannot tell training-seed variance from a regression. For CI run both "
                 "sides with the same seeds, or >= 2 seeds a side (then the test is over seeds), "
                 "or set --tolerance to the seed-to-seed spread you accept")
    notes = "".join(f"{n}\n" for n in result.notes if n)
    untested = [f"{ln.model} {ln.metric} ({ln.rel:+.1%})" for ln in lines
                if ln.verdict.startswith("untested")]
    if untested:
        notes += (f"not gated: {len(untested)} pooled metric(s) without per-user values and "
                  f"< 2 seeds a side: {few(untested)}; run >= 2 seeds a side to test them\n")
    out = f"{head}\n{summary(result)}\n\n"
    if result.status == 2:
        out += ("what could be tested (the gate fails regardless until the problems above "
                "are fixed):\n\n")
    out += f"Gated: headline metrics and costs\n\n{_table(gated, opts)}\n\n"
    if info:
        out += (f"Information: other metrics (not gated; {opts.correction} within these "
                f"{sum(ln.p == ln.p for ln in info)} tests)\n\n{_table(info, opts)}\n\n")
    return out + f"{rule}\n{notes}"


def _p(p: float) -> str:
    if p != p:
        return "n/a"
    return f"{p:.2e}" if p < 1e-3 else f"{p:.4f}"
