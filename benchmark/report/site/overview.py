"""Overview: one headline table per (dataset, track), models sorted by the headline metric.

Columns are the track's protocols, each showing its headline metric (``common.headline_key``);
rows are sorted by the first column (the primary protocol), best first. Every number links to
the run page of its lowest seed; the page links to the other seeds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from benchmark.report.leaderboard import Board
from benchmark.report.metric_meta import direction
from benchmark.report.runs import MetricKey
from benchmark.report.site.common import (
    ShownCell,
    board_sort,
    headline_key,
    protocol_rank,
    seeds_title,
    shown,
    slug,
)

#: cold-start groups by support size live in their figure and the full tables, not here
_SUPPORT = re.compile(r"^new_user_n\d+$")


@dataclass
class Column:
    protocol: str
    key: MetricKey
    board: Board

    @property
    def header(self) -> str:
        return f"{self.key.label} [{self.protocol}]"

    @property
    def better(self) -> str:
        return "lower is better" if direction(self.key.metric, self.key.track) < 0 else "higher is better"


@dataclass
class OverviewTable:
    dataset: str
    track: str
    columns: list[Column]
    rows: list[tuple[str, list[ShownCell | None]]]
    caption: str
    figures: list = field(default_factory=list)

    @property
    def anchor(self) -> str:
        return slug(f"overview-{self.dataset}-{self.track}")

    @property
    def sort_label(self) -> str:
        return self.columns[0].header if self.columns else ""


def overview_tables(boards: list[Board], pages: dict[tuple[str, str], dict[int, str]],
                    baseline: str | None) -> list[OverviewTable]:
    """``pages``: (dataset, model) -> seed -> run page path."""
    grouped: dict[tuple[str, str], list[Board]] = {}
    for b in boards:
        if not _SUPPORT.match(b.protocol):
            grouped.setdefault((b.dataset, b.track), []).append(b)
    tables = []
    for (dataset, track), group in sorted(grouped.items()):
        group.sort(key=lambda b: protocol_rank(b.protocol))
        columns = [Column(b.protocol, k, b) for b in group
                   if (k := headline_key(b.metrics)) is not None]
        if not columns:
            continue
        models = board_sort(columns[0].board, columns[0].key)
        models += sorted({m for c in columns for m in c.board.models} - set(models))
        rows = []
        for model in models:
            p = pages.get((dataset, model), {})
            href = p[min(p)] if p else ""
            rows.append((model, [shown(c.board.cells.get((model, c.key.label)), c.key, href,
                                       seeds_title(p)) for c in columns]))
        tables.append(OverviewTable(dataset, track, columns, rows,
                                    _caption(group, columns, baseline)))
    return tables


def _caption(group: list[Board], columns: list[Column], baseline: str | None) -> str:
    splits = sorted({b.split for b in group})
    seeds = sorted({s for b in group for s in b.seeds})
    heads = "; ".join(f"{c.protocol}: {c.key.label} ({c.better})" for c in columns)
    text = (f"Headline metric per protocol: {heads}. Sorted by {columns[0].header}. "
            f"Split: {', '.join(splits)}; seeds {seeds}; mean ± std over seeds; best bold, "
            "second underlined.")
    if baseline:
        text += (f" † = significantly better than {baseline} (paired test over users, "
                 "corrected within each full table).")
    else:
        text += " No significance marks: no baseline chosen (--baseline MODEL)."
    return text
