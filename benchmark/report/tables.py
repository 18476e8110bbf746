"""Result tables from run folders: a long table (one row per number) and a pivoted leaderboard.

The long table is what CSV/JSON give; Markdown and LaTeX show mean +- std over seeds, one table per
(dataset, protocol) so that numbers of different protocols never share a column unlabelled.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from benchmark.errors import BenchError
from benchmark.runner import store

LONG_COLUMNS = ["model", "dataset", "track", "protocol", "metric", "k", "value", "seed",
                "n", "split_strategy", "split_hash"]


def long_table(paths: list[Path]) -> pd.DataFrame:
    """One row per (model, dataset, track, protocol, metric, k, seed) over every complete run."""
    folders: list[Path] = []
    for p in paths:
        if not Path(p).exists():
            raise BenchError(f"no such run folder: {p}", "pass the --out folder of `recbench run`")
        folders += store.find_runs(p)
    if not folders:
        raise BenchError(f"no complete runs under {', '.join(map(str, paths))}",
                         "run a suite first (`recbench run suites/quick.toml`)")
    records = []
    for folder in folders:
        m = store.read_metrics(folder)
        for r in m["rows"]:
            records.append({
                "model": m["model"], "dataset": m["dataset"], "track": r["track"],
                "protocol": r["protocol"], "metric": r["metric"], "k": r["k"],
                "value": r["value"], "seed": m["seed"], "n": r["n"],
                "split_strategy": m["split"]["strategy"], "split_hash": m["split"]["hash"][:12],
            })
    df = pd.DataFrame.from_records(records, columns=LONG_COLUMNS)
    df["k"] = df["k"].astype("Int64")
    return df.sort_values(["dataset", "track", "protocol", "metric", "k", "model", "seed"],
                          kind="stable").reset_index(drop=True)


def metric_label(metric: str, k) -> str:
    return f"{metric}@{k}" if pd.notna(k) else metric


def leaderboards(df: pd.DataFrame, decimals: int = 4) -> list[tuple[str, pd.DataFrame]]:
    """(caption, table) per (dataset, track, protocol): models x metrics, 'mean +- std'."""
    out = []
    for (dataset, track, protocol), g in df.groupby(["dataset", "track", "protocol"], sort=True):
        g = g.assign(label=[metric_label(m, k) for m, k in zip(g["metric"], g["k"])])
        stats = g.groupby(["model", "label"], sort=False)["value"].agg(["mean", "std", "count"])
        cells = {}
        for (model, label), row in stats.iterrows():
            text = f"{row['mean']:.{decimals}f}"
            if row["count"] > 1:
                text += f" ± {row['std']:.{decimals}f}"
            cells.setdefault(model, {})[label] = text
        order = list(dict.fromkeys(g["label"]))
        table = pd.DataFrame.from_dict(cells, orient="index")[order]
        table.index.name = "model"
        seeds = sorted(int(s) for s in g["seed"].unique())
        strategies = ", ".join(sorted(g["split_strategy"].unique()))
        hashes = ", ".join(sorted(g["split_hash"].unique()))
        caption = (f"{dataset} | {track} | protocol={protocol} | split={strategies} "
                   f"(hash {hashes}) | seeds={seeds}")
        out.append((caption, table))
    return out


def render(df: pd.DataFrame, fmt: str) -> str:
    if fmt == "csv":
        return df[LONG_COLUMNS[:8]].to_csv(index=False)
    if fmt == "json":
        return json.dumps(json.loads(df.to_json(orient="records")), indent=2)
    if fmt in ("md", "latex"):
        from tabulate import tabulate

        parts = []
        for caption, table in leaderboards(df):
            if fmt == "md":
                parts.append(f"**{caption}**\n\n" + tabulate(table, headers="keys",
                                                               tablefmt="github") + "\n")
            else:
                body = tabulate(table, headers="keys", tablefmt="latex_booktabs")
                parts.append("\\begin{table}\n\\centering\n" + body +
                             f"\n\\caption{{{_latex_escape(caption)}}}\n\\end{{table}}\n")
        return "\n".join(parts)
    raise BenchError(f"unknown report format {fmt!r}", "use md, csv, json or latex")


_LATEX = str.maketrans({"\\": r"\textbackslash{}", "_": r"\_", "%": r"\%", "&": r"\&",
                        "#": r"\#", "{": r"\{", "}": r"\}", "$": r"\$"})


def _latex_escape(text: str) -> str:
    return text.translate(_LATEX)
