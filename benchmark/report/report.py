"""`recbench report`: leaderboard tables in every format, long tables and figures from run folders.

One entry point so that the CLI and scripts produce the same files: ``write_report`` writes
every format the command lists (leaderboard.{md,tex,html,csv}, long.csv, long.json) and the plots
(PNG + PDF) into one folder.
"""

from __future__ import annotations

from pathlib import Path

from benchmark.errors import BenchError
from benchmark.report.leaderboard import SignificanceSpec, build_boards
from benchmark.report.runs import Run

FORMATS = ("md", "latex", "html", "board-csv", "csv", "json")


def report_text(runs: list[Run], fmt: str, sig: SignificanceSpec | None = None,
                metrics: tuple[str, ...] = ()) -> str:
    from benchmark.report import render, tables

    if fmt in ("csv", "json"):
        return tables.render(tables.long_table(runs), fmt)
    if fmt not in FORMATS:
        raise BenchError(f"unknown report format {fmt!r}", f"use one of {', '.join(FORMATS)}")
    return render.render_boards(build_boards(runs, sig, metrics), fmt)


def write_report(runs: list[Run], out: Path, sig: SignificanceSpec | None = None,
                 plots: bool = True, metrics: tuple[str, ...] = ()
                 ) -> tuple[list[Path], list[str]]:
    """Every format plus the figures under ``out``; returns the files and skipped figures."""
    from benchmark.report import plots as figures
    from benchmark.report import render, tables

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    boards = build_boards(runs, sig, metrics)
    long = tables.long_table(runs)
    files = []
    for name, text in (("leaderboard.md", render.render_boards(boards, "md")),
                       ("leaderboard.tex", render.render_boards(boards, "latex")),
                       ("leaderboard.html", render.render_boards(boards, "html")),
                       ("leaderboard.csv", render.render_boards(boards, "board-csv")),
                       ("long.csv", tables.render(long, "csv")),
                       ("long.json", tables.render(long, "json"))):
        (out / name).write_text(text)
        files.append(out / name)
    skipped: list[str] = []
    if plots:
        made, skipped = figures.all_plots(runs, out / "plots")
        files += made
    return files, skipped
