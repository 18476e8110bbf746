"""The long table: one row per (model, dataset, track, protocol, metric, k, seed), for CSV/JSON.

Leaderboards (mean +- std over seeds, marks, significance) are built in ``leaderboard`` and
rendered in ``render``; this module keeps the raw numbers with their provenance. CSV and JSON
carry the same columns, the split hash and code commit included, so a number copied out of
either can be traced back to the data and code that produced it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import cast

import pandas as pd

from benchmark.errors import BenchError
from benchmark.report.runs import Run, load_runs

LONG_COLUMNS = ["model", "dataset", "track", "protocol", "metric", "k", "value", "seed",
                "n", "split_strategy", "split_hash", "modalities", "commit"]


def long_table(paths_or_runs: list[Path] | list[Run]) -> pd.DataFrame:
    """One row per number over every complete run (paths are loaded first)."""
    runs = [r for r in paths_or_runs if isinstance(r, Run)]
    if len(runs) != len(paths_or_runs):
        runs = load_runs(cast(list[Path | str], list(paths_or_runs)))  # paths, not runs
    records = []
    for run in runs:
        m = run.metrics
        for r in m["rows"]:
            records.append({
                "model": m["model"], "dataset": m["dataset"], "track": r["track"],
                "protocol": r["protocol"], "metric": r["metric"], "k": r["k"],
                "value": r["value"], "seed": m["seed"], "n": r["n"],
                "split_strategy": m["split"].get("strategy"),
                "split_hash": run.split_hash[:12], "modalities": "+".join(run.modalities),
                "commit": run.commit,
            })
    df = pd.DataFrame.from_records(records, columns=LONG_COLUMNS)
    df["k"] = df["k"].astype("Int64")
    return df.sort_values(["dataset", "track", "protocol", "metric", "k", "model", "seed"],
                          kind="stable").reset_index(drop=True)


def render(df: pd.DataFrame, fmt: str) -> str:
    """CSV (the number and its coordinates) or JSON (with provenance) of the long table."""
    if fmt == "csv":
        return df[LONG_COLUMNS].to_csv(index=False)
    if fmt == "json":
        return json.dumps(json.loads(df.to_json(orient="records")), indent=2)
    raise BenchError(f"unknown long-table format {fmt!r}", "use csv or json")
