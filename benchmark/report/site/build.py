"""Write the static site: `recbench report RUNDIR... --site DIR` and `recbench leaderboard
DIR... --site DIR` (the latter adds the history page).

Pages are Jinja2 templates (package data under templates/); the CSS and the small script for
tabs and sortable columns are copied from static/, so the site needs no network and opens from
file://. Every link is relative.
"""

from __future__ import annotations

import json
import shutil
from importlib import resources
from pathlib import Path

from benchmark.report.leaderboard import SignificanceSpec, build_boards
from benchmark.report.runs import Run, load_runs
from benchmark.report.site import figures as figs
from benchmark.report.site.common import run_page
from benchmark.report.site.extra import compare_page, paper_page
from benchmark.report.site.fulltables import arrow, full_tables
from benchmark.report.site.overview import overview_tables
from benchmark.report.site.runpage import build_run_page

PAGES = (("Overview", "index.html"), ("Full tables", "tables.html"),
         ("Figures", "figures.html"), ("Compare", "compare.html"),
         ("History", "history.html"), ("Paper", "paper.html"))


def _env():
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    env = Environment(loader=PackageLoader("benchmark.report.site", "templates"),
                      autoescape=select_autoescape(["html"]), undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["pretty"] = lambda obj: json.dumps(obj, indent=2, default=str, sort_keys=True)
    env.filters["arrow"] = arrow
    return env


def build_report_site(rundirs: list[Path | str] | list[Run], out: Path, *,
                      baseline: str | None = None, significance: SignificanceSpec | None = None,
                      metrics: tuple[str, ...] = (), paper: str = "explainrec"
                      ) -> dict[str, Path]:
    """The site for ``rundirs`` (folders, or runs already loaded); returns the pages written.

    ``significance`` (test, correction, alpha) wins over ``baseline`` (defaults otherwise).
    """
    runs = [r for r in rundirs if isinstance(r, Run)]
    if len(runs) != len(rundirs):
        runs = load_runs([Path(d) for d in rundirs])  # type: ignore[arg-type]
    sig = significance or (SignificanceSpec(baseline) if baseline else None)
    return _build(runs, Path(out), sig, metrics, paper, None)


def build_history_site(dirs: list[Path], out: Path, *, baseline: str | None = None,
                       significance: SignificanceSpec | None = None,
                       metrics: tuple[str, ...] = (), paper: str = "explainrec"
                       ) -> dict[str, Path]:
    """The site for the last folder's runs plus the history over all ``dirs`` (oldest first)."""
    from benchmark.report.site.history import gather

    hist = gather([Path(d) for d in dirs])
    sig = significance or (SignificanceSpec(baseline) if baseline else None)
    return _build(hist.runs[-1], Path(out), sig, metrics, paper, hist)


def _build(runs: list[Run], out: Path, sig, metrics, paper, hist) -> dict[str, Path]:
    out.mkdir(parents=True, exist_ok=True)
    static = resources.files("benchmark.report.site") / "static"
    (out / "static").mkdir(exist_ok=True)
    for f in static.iterdir():
        if f.name.endswith((".css", ".js")):
            (out / "static" / f.name).write_bytes(f.read_bytes())
    if (out / "figures").is_dir():
        shutil.rmtree(out / "figures")  # figures of an earlier build of this folder
    baseline = sig.baseline if sig else None
    boards = build_boards(runs, sig, metrics)
    pages: dict[tuple[str, str], dict[int, str]] = {}
    for r in runs:
        pages.setdefault((r.dataset, r.model), {})[r.seed] = run_page(r)
    overview = overview_tables(boards, pages, baseline)
    for t in overview:
        t.figures.append(figs.headline_bars(t, out))
    other = {"cold start by support size": figs.cold_start_support(runs, out),
             "ablation deltas": figs.ablation_deltas(runs, out),
             "efficiency: time vs quality": figs.efficiency_scatter(runs, out)}
    env = _env()
    shown = [p for p in PAGES if p[1] != "history.html" or hist is not None]
    common = {"nav": shown, "baseline": baseline,
              "suites": sorted({str(r.metrics.get("suite", "?")) for r in runs}),
              "n_runs": len(runs)}
    written: dict[str, Path] = {}

    def write(name: str, template: str, root: str = "", **ctx) -> None:
        path = out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(env.get_template(template).render(root=root, current=name,
                                                          **common, **ctx))
        written[name] = path

    write("index.html", "overview.html", tables=overview)
    write("tables.html", "tables.html", tables=full_tables(boards, pages))
    write("figures.html", "figures.html", overview=overview, other=other)
    write("compare.html", "compare.html",
          page=compare_page(runs, baseline, metrics, sig.alpha if sig else 0.05))
    views, why = paper_page(runs, paper)
    write("paper.html", "paper.html", tables=views, message=why, paper=paper)
    if hist is not None:
        from benchmark.report.site.historypage import history_page

        write("history.html", "history.html", page=history_page(hist, out))
    for r in runs:
        seeds = pages[(r.dataset, r.model)]
        write(run_page(r), "run.html", root="../",
              page=build_run_page(r, run_page(r), sorted(seeds.items())))
    return written
