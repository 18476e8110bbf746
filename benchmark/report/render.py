"""Leaderboards as Markdown, LaTeX (booktabs), HTML and CSV, all through tabulate.

Markdown/HTML mark the best value per column in bold and the second underlined, and a dagger (†)
where a model beats the chosen baseline significantly; LaTeX uses \\textbf, \\underline and
$^\\dagger$. Every table carries its footer (dataset, split and hash, protocol, seeds).
"""

from __future__ import annotations

import html
import io
from typing import Any

import pandas as pd
from tabulate import tabulate

from benchmark.report.html_page import page
from benchmark.report.leaderboard import Board, Cell
from benchmark.report.metric_meta import is_count

# markers that survive tabulate's LaTeX escaping (letters only), replaced afterwards
_TOKENS = {"QQBFQQ": r"\textbf{", "QQULQQ": r"\underline{", "QQENDQQ": "}",
           "QQPMQQ": r"$\pm$", "QQDAGQQ": r"$^\dagger$"}
_MARKUP: dict[str, dict[str, Any]] = {  # "best"/"second": (open, close); else a string
    "md": {"best": ("**", "**"), "second": ("<u>", "</u>"), "pm": " ± ", "dag": "†"},
    "html": {"best": ("<strong>", "</strong>"), "second": ("<u>", "</u>"), "pm": " ± ",
             "dag": "&dagger;"},
    "latex": {"best": ("QQBFQQ", "QQENDQQ"), "second": ("QQULQQ", "QQENDQQ"),
              "pm": " QQPMQQ ", "dag": "QQDAGQQ"},
}


def cell_text(cell: Cell | None, style: str, decimals: int = 4, counts: bool = False) -> str:
    """``counts``: the metric is a count (parameters), shown without decimals."""
    if cell is None:
        return "-"
    m = _MARKUP[style]
    places = 0 if counts else decimals
    text = _number(cell.mean, places)
    if cell.n_seeds > 1:
        text += m["pm"] + _number(cell.std, places)
    if cell.mark:
        text = m[cell.mark][0] + text + m[cell.mark][1]
    if cell.dagger:
        text += m["dag"]
    return text


def _number(x: float, decimals: int) -> str:
    if abs(x) >= 1000:
        return f"{x:,.0f}" if abs(x) >= 1e5 else f"{x:.1f}"
    return f"{x:.{decimals}f}"


def _rows(board: Board, style: str, decimals: int) -> tuple[list[str], list[list[str]]]:
    headers = ["model", "modalities", *[k.label for k in board.metrics]]
    rows = []
    for model in board.models:
        name = html.escape(model) if style == "html" else model
        rows.append([name, html.escape(board.modalities[model]) if style == "html"
                     else board.modalities[model],
                     *[cell_text(board.cells.get((model, k.label)), style, decimals,
                                 counts=is_count(k.metric, k.track)) for k in board.metrics]])
    return headers, rows


def to_markdown(boards: list[Board], decimals: int = 4) -> str:
    parts = []
    for b in boards:
        headers, rows = _rows(b, "md", decimals)
        parts.append(f"**{b.title}**\n\n" + tabulate(rows, headers, tablefmt="github",
                                                      disable_numparse=True)
                     + f"\n\n_{b.footer}_\n")
    return "\n".join(parts)


def latex_escape(text: str) -> str:
    table = str.maketrans({"\\": r"\textbackslash{}", "_": r"\_", "%": r"\%", "&": r"\&",
                           "#": r"\#", "{": r"\{", "}": r"\}", "$": r"\$", "~": r"\~{}",
                           "^": r"\^{}", "±": r"$\pm$", "†": r"$^\dagger$"})
    return text.translate(table)


def to_latex(boards: list[Board], decimals: int = 4) -> str:
    parts = []
    for b in boards:
        headers, rows = _rows(b, "latex", decimals)
        body = tabulate(rows, headers, tablefmt="latex_booktabs", disable_numparse=True)
        for token, tex in _TOKENS.items():
            body = body.replace(token, tex)
        parts.append("\\begin{table}[t]\n\\centering\n\\small\n" + body + "\n"
                     f"\\caption{{{latex_escape(b.title)}. {latex_escape(b.footer)}}}\n"
                     "\\end{table}\n")
    return "\n".join(parts)


def to_html(boards: list[Board], decimals: int = 4) -> str:
    """HTML fragments (one <section> per board); ``site.page`` wraps them into a document."""
    parts = []
    for b in boards:
        headers, rows = _rows(b, "html", decimals)
        table = tabulate(rows, [html.escape(h) for h in headers], tablefmt="unsafehtml",
                         disable_numparse=True)
        table = table.replace("<table>", '<table class="leaderboard">', 1)
        parts.append(f'<section class="board">\n<h3>{html.escape(b.title)}</h3>\n{table}\n'
                     f'<p class="footer">{html.escape(b.footer)}</p>\n</section>')
    return "\n".join(parts)


def to_csv(boards: list[Board]) -> str:
    """One row per (board, model, metric): the numbers behind the cells, unformatted."""
    records = []
    for b in boards:
        for model in b.models:
            for k in b.metrics:
                c = b.cells.get((model, k.label))
                if c is None:
                    continue
                records.append({
                    "dataset": b.dataset, "track": b.track, "protocol": b.protocol,
                    "metric": k.metric, "k": k.k, "model": model,
                    "modalities": b.modalities[model], "mean": c.mean, "std": c.std,
                    "n_seeds": c.n_seeds, "mark": c.mark, "baseline": b.baseline or "",
                    "significantly_better": c.dagger if b.baseline else "",
                    "p_corrected": c.p_corrected, "split": b.split,
                    "seeds": " ".join(map(str, b.seeds)),
                    "split_hash": b.provenance.get(model, ("", ""))[0],
                    "commit": b.provenance.get(model, ("", ""))[1]})
    buf = io.StringIO()
    frame = pd.DataFrame.from_records(records)
    if not frame.empty:
        frame["k"] = frame["k"].astype("Int64")
    frame.to_csv(buf, index=False)
    return buf.getvalue()


def render_boards(boards: list[Board], fmt: str, decimals: int = 4) -> str:
    if fmt == "md":
        return to_markdown(boards, decimals)
    if fmt == "latex":
        return to_latex(boards, decimals)
    if fmt == "html":
        return page("recbench leaderboard", to_html(boards, decimals))
    if fmt == "board-csv":
        return to_csv(boards)
    raise ValueError(fmt)
