"""A user's recent history for the explanation samples, when the run folder does not hold it.

A judged run stores the judge's context (the user's liked titles) per sample; other runs store
only the user and item indices. Their split folder (recorded in config.json, checked against the
run's split hash) and the dataset's item titles give the history; if either is gone, the page
says so instead of showing nothing silently.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from benchmark.report.runs import Run

RECENT = 5


def recent_history(run: Run, users: list[int]) -> tuple[dict[int, list[str]], str]:
    """user -> titles of the last liked train items (all items if none liked), and a note."""
    split = run.config.get("split") or {}
    folder = split.get("folder")
    if not folder:
        return {}, "not stored in the run folder (no split folder recorded)"
    try:
        frame, titles = _split_titles(str(folder), run.split_hash, run.dataset)
    except Exception as err:  # a moved cache, a dataset no longer loadable: say so
        return {}, f"not available ({type(err).__name__}: {err})"[:200]
    like = float(split.get("like_threshold", 0.0) or 0.0)
    out = {}
    for u in set(users):
        rows = frame[frame["user"] == u].sort_values("timestamp", kind="stable")
        liked = rows[rows["rating"] >= like] if like else rows
        items = (liked if len(liked) else rows)["item"].to_numpy()[-RECENT:]
        out[u] = [titles[i] if 0 <= i < len(titles) else f"item {i}" for i in items]
    return out, f"last {RECENT} liked training items, read from the split folder {folder}"


@lru_cache(maxsize=4)
def _split_titles(folder: str, split_hash: str, dataset: str) -> tuple[pd.DataFrame, list[str]]:
    path = Path(folder)
    meta = json.loads((path / "meta.json").read_text())
    if meta.get("hash") != split_hash:
        raise ValueError(f"{folder} now holds another split (hash {meta.get('hash', '?')[:12]})")
    frame = pd.read_csv(path / "train.tsv", sep="\t")
    raw_ids = pd.read_csv(path / "items.tsv", sep="\t", dtype=str)["raw_id"].to_numpy()
    return frame, _titles(dataset, raw_ids)


def _titles(dataset: str, raw_ids: np.ndarray) -> list[str]:
    from benchmark.config.dataset_spec import load_dataset_spec
    from benchmark.data.loaders import load_raw

    spec, base = load_dataset_spec(dataset)
    raw = load_raw(spec.loader, **spec.loader_args(base))
    items = raw.items
    if items is None or "title" not in items.columns:
        raise ValueError(f"dataset {dataset} has no item titles")
    by_id = items["title"].astype(str).to_dict()
    return [by_id.get(r, by_id.get(_num(r), f"item {r}")) for r in raw_ids]


def _num(raw: str) -> object:
    try:
        return int(raw)
    except ValueError:
        return raw
