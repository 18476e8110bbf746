"""Full tables per (dataset, track, protocol), split into metric groups that fit the window.

A board with 15+ columns overflows a 1,400-pixel window, so its metrics are grouped by cut-off
(@5, @10, @20; metrics without one together) and each group, at most ``MAX_COLUMNS`` wide, is
one tab. Marks (best bold, second underlined, †) come from the leaderboard unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

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

MAX_COLUMNS = 7


@dataclass
class Group:
    name: str
    keys: list[MetricKey]
    rows: list[tuple[str, str, list[ShownCell | None]]]  # model, modalities, cells


@dataclass
class FullTable:
    board: Board
    groups: list[Group]

    @property
    def anchor(self) -> str:
        b = self.board
        return slug(f"table-{b.dataset}-{b.track}-{b.protocol}")


def metric_groups(keys: list[MetricKey]) -> list[tuple[str, list[MetricKey]]]:
    """(tab name, keys): one per cut-off, then the rest, each at most MAX_COLUMNS wide."""
    by_k: dict[int | None, list[MetricKey]] = {}
    for key in keys:
        by_k.setdefault(key.k, []).append(key)
    order = sorted(k for k in by_k if k is not None) + ([None] if None in by_k else [])
    out = []
    for k in order:
        name = f"@{k}" if k is not None else ("metrics" if len(by_k) == 1 else "no cut-off")
        chunk = by_k[k]
        parts = [chunk[i:i + MAX_COLUMNS] for i in range(0, len(chunk), MAX_COLUMNS)]
        for i, part in enumerate(parts):
            out.append((name if len(parts) == 1 else f"{name} ({i + 1}/{len(parts)})", part))
    return out


def full_tables(boards: list[Board], pages: dict[tuple[str, str], dict[int, str]]
                ) -> list[FullTable]:
    ordered = sorted(boards, key=lambda b: (b.dataset, b.track, protocol_rank(b.protocol)))
    tables = []
    for b in ordered:
        models = board_sort(b, headline_key(b.metrics))
        groups = []
        for name, keys in metric_groups(b.metrics):
            rows = []
            for model in models:
                p = pages.get((b.dataset, model), {})
                href = p[min(p)] if p else ""
                rows.append((model, b.modalities.get(model, "-"),
                             [shown(b.cells.get((model, k.label)), k, href, seeds_title(p))
                              for k in keys]))
            groups.append(Group(name, keys, rows))
        tables.append(FullTable(b, groups))
    return tables


def arrow(key: MetricKey) -> str:
    """Header hint: ↑ higher is better, ↓ lower is better, nothing when neutral."""
    d = direction(key.metric, key.track)
    return "↑" if d > 0 else ("↓" if d < 0 else "")
