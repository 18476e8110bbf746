"""Names and numbers shared by the site's pages: run page paths, slugs, cell text."""

from __future__ import annotations

import re
from dataclasses import dataclass

from markupsafe import Markup

from benchmark.report.leaderboard import Board, Cell
from benchmark.report.metric_meta import direction, is_count
from benchmark.report.runs import MetricKey, Run

#: the headline metric of a protocol: the first of these it reports (else its first metric with
#: a direction); chosen so that every protocol gets the number papers usually quote
PREFERRED = ("ndcg@10", "auc", "bleu4", "rouge_l", "latency_ms_p50", "next_hit@5", "alignment",
             "ndcg@20", "ndcg@5", "hit@10", "recall@10", "gauc")
#: column order of protocols (others follow alphabetically)
PROTOCOL_ORDER = ("full", "next_item", "next_item_masked", "sampled", "pointwise", "new_user",
                  "new_item", "cross_domain", "silver", "review", "tallrec")


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_") or "x"


def run_page(run: Run) -> str:
    """Path of a run's page, relative to the site root (one page per run folder)."""
    suite = run.metrics.get("suite") or "runs"
    return f"runs/{slug(suite)}--{slug(run.dataset)}--{slug(run.model)}--seed-{run.seed}.html"


def protocol_rank(protocol: str) -> tuple[int, str]:
    return (PROTOCOL_ORDER.index(protocol) if protocol in PROTOCOL_ORDER
            else len(PROTOCOL_ORDER), protocol)


def headline_key(keys: list[MetricKey]) -> MetricKey | None:
    """The headline metric among one protocol's metrics."""
    by_label = {k.label: k for k in keys}
    for name in PREFERRED:
        if name in by_label:
            return by_label[name]
    return next((k for k in keys if direction(k.metric, k.track) != 0), keys[0] if keys else None)


def number(x: float, decimals: int = 4) -> str:
    if x != x:
        return "nan"
    if abs(x) >= 1000:
        return f"{x:,.0f}" if abs(x) >= 1e5 else f"{x:.1f}"
    return f"{x:.{decimals}f}"


@dataclass
class ShownCell:
    """One number on a page: its text (HTML), the value to sort by and where it links."""

    html: Markup
    value: float
    href: str = ""
    title: str = ""


def shown(cell: Cell | None, key: MetricKey, href: str = "", title: str = "") -> ShownCell | None:
    """Mean ± std over seeds, best bold / second underlined, † when significant."""
    if cell is None:
        return None
    from benchmark.report.render import cell_text

    text = cell_text(cell, "html", counts=is_count(key.metric, key.track))
    return ShownCell(Markup(text), cell.mean, href, title)


def seeds_title(pages: dict[int, str]) -> str:
    return "run pages: " + ", ".join(f"seed {s}" for s in sorted(pages))


def board_sort(board: Board, key: MetricKey | None) -> list[str]:
    """The board's models, best first by ``key`` (missing values last, then by name)."""
    if key is None:
        return list(board.models)
    sign = direction(key.metric, key.track) or 1

    def rank(model: str) -> tuple[int, float, str]:
        c = board.cells.get((model, key.label))
        return (1, 0.0, model) if c is None or c.mean != c.mean else (0, -sign * c.mean, model)

    return sorted(board.models, key=rank)
