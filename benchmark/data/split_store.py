"""Splits on disk: plain TSV files plus meta.json carrying their sha256.

The hash covers the three interaction files and both id maps, byte for byte, so two runs that
record the same hash trained and tested on exactly the same data.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd

from benchmark.data.frozen import blobs_hash, read_frozen, tsv_bytes, write_frozen
from benchmark.data.split import Split, SplitSpec, split_from_frames
from benchmark.data.types import Catalog

PARTS = ("train", "valid", "test")
FILES = ("train.tsv", "valid.tsv", "test.tsv", "users.tsv", "items.tsv")
SPLIT_FORMAT = 1


def _ids_bytes(ids: np.ndarray) -> bytes:
    return ("raw_id\n" + "".join(f"{x}\n" for x in ids)).encode()


def serialise(split: Split) -> dict[str, bytes]:
    parts = [split.train.frame, split.valid.frame, split.test.frame]
    blobs = {f"{p}.tsv": tsv_bytes(f) for p, f in zip(PARTS, parts)}
    blobs["users.tsv"] = _ids_bytes(split.catalog.user_ids)
    blobs["items.tsv"] = _ids_bytes(split.catalog.item_ids)
    return blobs


def content_hash(blobs: dict[str, bytes]) -> str:
    return blobs_hash(blobs, FILES)  # FILES order, not sorted: recorded hashes stay valid


def save_split(split: Split, folder: Path) -> Split:
    """Write the split; returns it with its hash set. An existing folder must hash the same."""
    blobs = serialise(split)
    split = _with_hash(split, content_hash(blobs))
    write_frozen(Path(folder), blobs, {"format": SPLIT_FORMAT, **split.describe()},
                 name="split folder", holds="a different split",
                 fix="the raw data or the splitting code changed; delete that folder to rebuild it")
    return split


def _with_hash(split: Split, digest: str) -> Split:
    import dataclasses

    return dataclasses.replace(split, hash=digest)


def load_split_files(folder: Path, catalog_features: Catalog | None = None) -> Split:
    """Read a saved split back, verifying its hash."""
    blobs, meta = read_frozen(Path(folder), FILES, FILES, what="split",
                              build="run `recbench run` to build it, or point at a split folder")
    dtypes = {"user": np.int32, "item": np.int32, "rating": np.float32, "timestamp": np.int64}
    parts = [pd.read_csv(io.BytesIO(blobs[f"{p}.tsv"]), sep="\t", dtype=dtypes) for p in PARTS]
    users = pd.read_csv(io.BytesIO(blobs["users.tsv"]), sep="\t", dtype=str)["raw_id"].to_numpy()
    items = pd.read_csv(io.BytesIO(blobs["items.tsv"]), sep="\t", dtype=str)["raw_id"].to_numpy()
    feats = catalog_features
    catalog = Catalog(item_ids=items, user_ids=users,
                      items=feats.items if feats else None, users=feats.users if feats else None)
    spec = SplitSpec(strategy=meta["strategy"], ratios=tuple(meta["ratios"]), seed=meta["seed"],
                     kcore=meta["kcore"], like_threshold=meta["like_threshold"],
                     positives=meta["positives"])
    return split_from_frames(meta["dataset"], spec, parts, catalog, meta["hash"],
                             int(meta.get("duplicates_dropped", 0)))
