"""The compare page (`recbench compare`'s table) and the paper page (`recbench reproduce`).

Both reuse the commands' own functions, so the site never shows another number than the CLI;
an error the command would print (no baseline, runs not comparable) becomes the page's message.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from benchmark.errors import BenchError
from benchmark.report.runs import Run


@dataclass
class CompareSection:
    title: str
    rows: list[dict]


@dataclass
class ComparePage:
    baseline: str | None
    sections: list[CompareSection] = field(default_factory=list)
    message: str = ""
    notes: list[str] = field(default_factory=list)


def _p(p: float) -> str:
    return "n/a" if p != p else (f"{p:.2e}" if p < 1e-3 else f"{p:.4f}")


def _signed(x: float, places: int = 4) -> str:
    return "n/a" if x != x else f"{x:+.{places}f}"


def compare_page(runs: list[Run], baseline: str | None, metrics: tuple[str, ...] = (),
                 alpha: float = 0.05) -> ComparePage:
    if not baseline:
        return ComparePage(None, message="No baseline chosen: pass --baseline MODEL to "
                                         "compare every model against it.")
    from benchmark.report.compare import CompareOptions, compare

    opts = CompareOptions(baseline, metrics, alpha=alpha)
    try:
        df = compare(runs, opts)
    except BenchError as err:
        return ComparePage(baseline, message=str(err))
    page = ComparePage(baseline)
    for (dataset, track, protocol), g in df.groupby(["dataset", "track", "protocol"], sort=True):
        rows = [{"model": r.model, "metric": r.metric, "users": int(r.n_users),
                 "base": f"{r.baseline_mean:.4f}", "mean": f"{r.model_mean:.4f}",
                 "diff": _signed(r.diff), "ci": "n/a" if r.diff != r.diff
                 else f"[{r.ci_low:+.4f}, {r.ci_high:+.4f}]",
                 "p": _p(r.p), "p_corr": _p(r.p_corrected),
                 "significant": bool(r.p_corrected < alpha), "d": _signed(r.cohens_d, 3),
                 "r": _signed(r.rank_biserial, 3),
                 "wtl": f"{r.wins}/{r.ties}/{r.losses}" if r.n_users >= 2 else "n/a",
                 "seeds": f"{r.model_seeds} vs {r.baseline_seeds}", "p_seeds": _p(r.p_seeds),
                 "note": r.note} for r in g.itertuples()]
        split = ", ".join(sorted(set(g["split_hash"])))
        page.sections.append(CompareSection(
            f"{dataset} | {track} | protocol={protocol} | split hash {split}", rows))
    page.notes.append(
        f"Per-user values averaged over shared seeds, paired by user id; two-sided "
        f"{opts.test}; {opts.correction} correction over all {len(df)} rows (bold p = below "
        f"alpha {alpha}); bootstrap {int(opts.confidence * 100)}% CI ({opts.n_resamples} "
        "resamples); d_z = paired Cohen's d, r_rb = rank-biserial r; W/T/L = users where the "
        "model is better / equal / worse than the baseline.")
    pooled = df.attrs.get("not_compared") or []
    if pooled:
        page.notes.append("Not compared (pooled metrics without per-user values): "
                          + ", ".join(pooled))
    return page


@dataclass
class PaperTableView:
    title: str
    source: str
    rows: list[dict]
    counts: dict[str, int]
    notes: list[str]


def paper_page(runs: list[Run], paper: str = "explainrec") -> tuple[list[PaperTableView], str]:
    """Every published table beside ours with its verdict, or why there is none."""
    from benchmark.report.paper import load_tables
    from benchmark.report.reproduce import judge

    try:
        tables = load_tables(paper)
    except BenchError as err:
        return [], str(err)
    views = []
    for table in tables.values():
        cells = judge(table, runs)
        rows = []
        for c in cells:
            paper_text = "-" if np.isnan(c.paper) else f"{c.paper:g}"
            if c.readings:
                paper_text = " / ".join(f"{x:g} (if {s})" for s, x in c.readings.items())
            delta = "-" if c.delta is None else f"{c.delta:+.4f}"
            if c.deltas:
                delta = " / ".join(f"{d:+.4f} (if {s})" for s, d in c.deltas.items())
            ours = "-" if c.ours is None else (
                f"{c.ours:.4f}" + (f" ± {c.ours_std:.4f}" if c.ours_std is not None else "")
                + f" ({c.dataset}, {c.n_seeds} seed{'s' if c.n_seeds != 1 else ''})")
            kind = c.verdict.split(":")[0]
            rows.append({"row": c.row, "column": c.column, "paper": paper_text, "ours": ours,
                         "delta": delta, "ci": "-" if c.ci is None
                         else f"[{c.ci[0]:.4f}, {c.ci[1]:.4f}]", "verdict": c.verdict,
                         "badge": kind.replace(" ", "-"), "why": c.why})
        counts = {v: sum(r["verdict"].split(":")[0] == v for r in rows)
                  for v in ("reproduced", "not reproduced", "not comparable")}
        views.append(PaperTableView(f"{table.paper} Table {table.table}: {table.title}",
                                    table.source, rows, counts, list(table.notes)))
    return views, ""
