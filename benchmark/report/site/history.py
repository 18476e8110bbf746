"""`recbench leaderboard --out`: many result folders (e.g. one per commit) in one static page,
HTML and Markdown: the current standings, and each metric's history across commits as a plot.

Each folder is one point of history, labelled by the commit(s) its runs recorded in env.json and
the folder name; points are ordered as the folders are given (oldest first). The last folder's
runs are the current standings.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from benchmark.errors import BenchError
from benchmark.report.compare import selected
from benchmark.report.html_page import page
from benchmark.report.leaderboard import SignificanceSpec, build_boards
from benchmark.report.render import to_html, to_markdown
from benchmark.report.runs import Run, load_runs
from benchmark.runner import store


@dataclass
class History:
    """One point per result folder, in the order given (oldest first)."""

    labels: list[str]
    runs: list[list[Run]]

    @property
    def commits(self) -> list[str]:
        return self.labels


def gather(dirs: list[Path]) -> History:
    labels, points = [], []
    for d in dirs:
        runs = load_runs([d])
        runs.sort(key=lambda r: (r.folder / store.MARKER).stat().st_mtime_ns)
        commits = list(dict.fromkeys(_short(r.commit) for r in runs))
        labels.append(f"{'+'.join(commits)} ({Path(d).name})")
        points.append(runs)
    return History(labels, points)


def history_frame(hist: History) -> pd.DataFrame:
    """One row per (commit, dataset, track, protocol, metric, model): mean over seeds."""
    records = []
    for i, (commit, runs) in enumerate(zip(hist.labels, hist.runs)):
        for r in runs:
            for key, value in r.values.items():
                records.append({"order": i, "commit": commit, "dataset": r.dataset,
                                "track": key.track, "protocol": key.protocol,
                                "metric": key.label, "model": r.model, "seed": r.seed,
                                "value": value})
    df = pd.DataFrame.from_records(records)
    keys = ["order", "commit", "dataset", "track", "protocol", "metric", "model"]
    return df.groupby(keys, sort=True)["value"].agg(["mean", "std", "count"]).reset_index()


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_")


def plot_history(df: pd.DataFrame, commits: list[str], out: Path) -> list[tuple[str, Path]]:
    from benchmark.report.plots import _pyplot

    plt = _pyplot()
    out.mkdir(parents=True, exist_ok=True)
    short = commits
    made = []
    for (dataset, track, protocol, metric), g in df.groupby(
            ["dataset", "track", "protocol", "metric"], sort=True):
        fig, ax = plt.subplots(figsize=(6.4, 3.2))
        for model, m in g.groupby("model", sort=True):
            ax.errorbar(m["order"], m["mean"], yerr=m["std"].fillna(0.0), marker="o",
                        capsize=2, label=model)
        ax.set_xticks(range(len(commits)), short, rotation=30, fontsize=7)
        ax.set_xlabel("commit (oldest first)")
        title = f"{dataset} | {track}/{protocol}/{metric}"
        ax.set_title(title, fontsize=9)
        ax.legend(fontsize=6)
        fig.tight_layout()
        path = out / f"{_slug(title)}.png"
        fig.savefig(path, dpi=100)
        plt.close(fig)
        made.append((title, path))
    return made


def build_site(dirs: list[Path], out: Path, *, metrics: tuple[str, ...] = (),
               baseline: str | None = None) -> dict[str, Path]:
    """Write leaderboard.html, leaderboard.md, history.csv and history/*.png under ``out``."""
    from benchmark.report.runs import MetricKey

    hist = gather([Path(d) for d in dirs])
    current = hist.runs[-1]
    sig = SignificanceSpec(baseline) if baseline else None
    boards = build_boards(current, sig, metrics)
    df = history_frame(hist)
    if metrics:
        keep = [selected(MetricKey(t, p, *_split_label(m)), metrics)
                for t, p, m in zip(df["track"], df["protocol"], df["metric"])]
        df = df[keep]
        if df.empty:
            raise BenchError(f"no metric among {', '.join(metrics)}",
                             "use labels as in the tables, e.g. ndcg@10 or full/ndcg@10")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    plots = plot_history(df, hist.commits, out / "history")
    df.to_csv(out / "history.csv", index=False)
    commits_line = ", ".join(f"{i + 1}. {c}" for i, c in enumerate(hist.commits))
    intro = (f"Current standings: {hist.labels[-1]} ({len(current)} runs). "
             f"History over {len(hist.labels)} result folder(s) (commit and folder), "
             f"oldest first: {commits_line}.")
    figs_md = "\n\n".join(f"![{t}](history/{p.name})" for t, p in plots)
    md = (f"# recbench leaderboard\n\n{intro}\n\n## Current standings\n\n"
          f"{to_markdown(boards)}\n## History across commits\n\n{figs_md}\n")
    figs_html = "\n".join(
        f'<figure><img class="history-plot" src="history/{html.escape(p.name)}" '
        f'alt="{html.escape(t)}"><figcaption>{html.escape(t)}</figcaption></figure>'
        for t, p in plots)
    body = (f"<p>{html.escape(intro)}</p>\n<h2>Current standings</h2>\n{to_html(boards)}\n"
            f'<h2>History across commits</h2>\n<div id="history">\n{figs_html}\n</div>')
    (out / "leaderboard.md").write_text(md)
    (out / "leaderboard.html").write_text(page("recbench leaderboard", body))
    return {"html": out / "leaderboard.html", "md": out / "leaderboard.md",
            "csv": out / "history.csv", "plots": out / "history"}


def _split_label(label: str) -> tuple[str, int | None]:
    metric, _, k = label.partition("@")
    return metric, (int(k) if k else None)


def _short(commit: str) -> str:
    return commit[:12] + ("-dirty" if commit.endswith("-dirty") else "")
