"""The table printed at the end of `recbench run`: headline metrics per model, with provenance.

It must fit the terminal it is printed on: when the columns are wider than the terminal they
are split over several tables (model and seed repeated in each) instead of cut, and long model
names wrap. The last line names the suite's own results folder (``runs/quick``), the one to
pass to `recbench report`.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from benchmark.registry import track_meta
from benchmark.report.headline import console_columns, console_order

__all__ = ["print_summary", "split_columns"]

#: narrowest table we draw (a terminal narrower than this gets this width anyway)
MIN_WIDTH = 60


def split_columns(widths: list[int], fixed: int, total: int) -> list[list[int]]:
    """Indices of ``widths`` grouped so that ``fixed`` + each group's widths fit ``total``
    (every group holds at least one column)."""
    groups: list[list[int]] = [[]]
    used = fixed
    for i, w in enumerate(widths):
        if groups[-1] and used + w > total:
            groups.append([])
            used = fixed
        groups[-1].append(i)
        used += w
    return groups


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _job_rows(jobs: list, headline: list) -> tuple[list[list[str]], str]:
    """Cells per job (model, seed, metrics..., fit s, job s, status) and the split text."""
    from benchmark.runner import store

    rows, split_desc = [], ""
    for job in jobs:
        if job.status == "failed":
            rows.append([job.key.model, str(job.key.seed), *[""] * len(headline), "",
                         _seconds(job.seconds), "failed (below)"])
            continue
        m = store.read_metrics(job.folder)
        s = m["split"]
        split_desc = (f"split={s['strategy']} {s['ratios']} seed={s['seed']} "
                      f"hash={s['hash'][:12]} positives={s['positives']} "
                      f"like>={s['like_threshold']:g}")
        values = {}
        for r in m["rows"]:
            values[(r["track"], r["protocol"], r["metric"], r["k"])] = r["value"]
            values.setdefault((r["track"], "*", r["metric"], r["k"]), r["value"])
        eff = json.loads((job.folder / "efficiency.json").read_text())
        fit = eff.get("fit_seconds")
        extra = sum((eff.get("extra_fit_seconds") or {}).values())
        fit_text = _seconds(fit) + (f" (+{extra:.1f})" if extra and fit is not None else "")
        # a resumed job was not timed here: its own recorded job time
        seconds = job.seconds if job.status == "done" else eff.get("job_seconds")
        rows.append([job.key.model, str(job.key.seed),
                     *[f"{values[h]:.4f}" if h in values else "-" for h in headline],
                     fit_text, _seconds(seconds), "done" if job.status == "done" else "resumed"])
    return rows, split_desc


def _caption(suite, split_desc: str) -> str:
    """The split, then each track's declared caption (filled from its settings; a caption two
    tracks share is said once)."""
    lines = [split_desc]
    for track in console_order(list(suite.tracks)):
        text = track_meta(track).caption
        if text:
            text = text.format(**suite.settings_for(track).model_dump())
            if text not in lines:
                lines.append(text)
    return "\n".join([*lines, "job s: wall time of the job (resumed: as recorded when it ran)."])


def print_summary(suite, out: Path, outcome, width: int | None = None) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    width = max(MIN_WIDTH, width or shutil.get_terminal_size((120, 24)).columns)
    console = Console(width=width, stderr=False)
    headline = console_columns(list(suite.tracks))
    heads = [f"{metric}{'@' + str(k) if k else ''}\n[{track if protocol == '*' else protocol}]"
             for track, protocol, metric, k in headline] + ["fit s", "job s", "status"]
    by_dataset: dict[str, list] = {}
    for job in outcome.jobs:
        by_dataset.setdefault(job.key.dataset, []).append(job)
    for dataset, jobs in by_dataset.items():
        rows, split_desc = _job_rows(jobs, headline)
        widths = [max([*(len(x) for x in h.split("\n")), *(len(r[2 + i]) for r in rows)]) + 3
                  for i, h in enumerate(heads)]
        names = max([5, *(len(r[0]) for r in rows)])
        # full names when everything fits in one table, else a quarter of the width
        room = width - sum(widths) - (3 + 4 + 3 + 1)
        name_width = names if names <= room else min(names, max(12, width // 4))
        fixed = name_width + 3 + 4 + 3 + 1  # model, seed, borders and padding
        groups = split_columns(widths, fixed, width)
        for n, group in enumerate(groups):
            part = f" ({n + 1}/{len(groups)})" if len(groups) > 1 else ""
            table = Table(title=escape(f"{suite.name} | {dataset}{part}"))
            table.add_column("model", overflow="fold", max_width=name_width)
            table.add_column("seed", justify="right")
            for i in group:  # escaped: rich would take "[new_user]" for a style tag
                table.add_column(escape(heads[i]), justify="right", no_wrap=True)
            for r in rows:
                table.add_row(escape(r[0]), r[1], *[escape(r[2 + i]) for i in group])
            console.print(table)
        console.print(escape(_caption(suite, split_desc)), highlight=False)
    for job in (j for j in outcome.jobs if j.status == "failed"):
        console.print(f"[red]failed[/red] {escape(job.key.dataset)}/{escape(job.key.model)} "
                      f"seed {job.key.seed}: {escape(job.error)}\n  details: "
                      f"{escape(str(job.folder / 'error.json'))}", highlight=False)
    console.print(f"Results: {escape(str(Path(out) / suite.name))}", highlight=False,
                  soft_wrap=True)
