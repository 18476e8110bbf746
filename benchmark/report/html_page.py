"""One self-contained HTML page (``page``) and its style: shared by the plain
``report --format html`` table (``render.py``) and the history page (``site/history.py``), below
both so that neither imports the other for it."""

from __future__ import annotations

import html

__all__ = ["CSS", "page"]

CSS = """body{font-family:sans-serif;margin:2em;max-width:1200px}
table.leaderboard{border-collapse:collapse;margin:.5em 0}
table.leaderboard th,table.leaderboard td{border-bottom:1px solid #ccc;padding:.2em .6em;
text-align:right}
table.leaderboard td:first-child,table.leaderboard th:first-child{text-align:left}
p.footer{font-size:.85em;color:#444}img.history-plot{max-width:100%;margin:.5em 0}"""


def page(title: str, body: str) -> str:
    """A self-contained HTML document (no scripts, no external resources)."""
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f"<title>{html.escape(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
            f"<h1>{html.escape(title)}</h1>\n{body}\n</body>\n</html>\n")
