"""Splits on disk: plain TSV files plus meta.json carrying their sha256.

The hash covers the three interaction files and both id maps, byte for byte, so two runs that
record the same hash trained and tested on exactly the same data.
"""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import numpy as np
import pandas as pd

from benchmark import atomic
from benchmark.data.split import Split, SplitSpec, split_from_frames
from benchmark.data.types import Catalog
from benchmark.errors import DataError

PARTS = ("train", "valid", "test")
FILES = ("train.tsv", "valid.tsv", "test.tsv", "users.tsv", "items.tsv")
SPLIT_FORMAT = 1


def _frame_bytes(frame: pd.DataFrame) -> bytes:
    buf = io.StringIO()
    frame.to_csv(buf, sep="\t", index=False, lineterminator="\n")
    return buf.getvalue().encode()


def _ids_bytes(ids: np.ndarray) -> bytes:
    return ("raw_id\n" + "".join(f"{x}\n" for x in ids)).encode()


def serialise(split: Split) -> dict[str, bytes]:
    parts = [split.train.frame, split.valid.frame, split.test.frame]
    blobs = {f"{p}.tsv": _frame_bytes(f) for p, f in zip(PARTS, parts)}
    blobs["users.tsv"] = _ids_bytes(split.catalog.user_ids)
    blobs["items.tsv"] = _ids_bytes(split.catalog.item_ids)
    return blobs


def content_hash(blobs: dict[str, bytes]) -> str:
    h = hashlib.sha256()
    for name in FILES:
        h.update(name.encode() + b"\0" + blobs[name] + b"\0")
    return h.hexdigest()


def save_split(split: Split, folder: Path) -> Split:
    """Write the split; returns it with its hash set. An existing folder must hash the same."""
    blobs = serialise(split)
    digest = content_hash(blobs)
    folder = Path(folder)
    meta_path = folder / "meta.json"
    if meta_path.is_file():
        old = json.loads(meta_path.read_text())
        if old.get("hash") != digest:
            raise DataError(
                f"split folder {folder} holds a different split (hash {old.get('hash', '?')[:12]} "
                f"!= {digest[:12]}) for the same settings",
                "the raw data or the splitting code changed; delete that folder to rebuild it",
            )
        return _with_hash(split, digest)
    folder.mkdir(parents=True, exist_ok=True)
    # unique temporary names, then rename: runners sharing the cache may write (and read) the
    # same split at once; each file is whole, and all hold the same bytes
    for name, data in blobs.items():
        atomic.write_bytes(folder / name, data)
    split = _with_hash(split, digest)
    meta = {"format": SPLIT_FORMAT, **split.describe()}
    atomic.write_text(meta_path, json.dumps(meta, indent=2))  # last: then the folder is complete
    return split


def _with_hash(split: Split, digest: str) -> Split:
    import dataclasses

    return dataclasses.replace(split, hash=digest)


def load_split_files(folder: Path, catalog_features: Catalog | None = None) -> Split:
    """Read a saved split back, verifying its hash."""
    folder = Path(folder)
    meta_path = folder / "meta.json"
    if not meta_path.is_file():
        raise DataError(f"no split at {folder} (meta.json missing)",
                        "run `recbench run` to build it, or point at a split folder")
    meta = json.loads(meta_path.read_text())
    blobs = {name: (folder / name).read_bytes() for name in FILES}
    digest = content_hash(blobs)
    if digest != meta["hash"]:
        raise DataError(f"split files in {folder} do not match their recorded hash",
                        "they were edited or truncated; delete the folder to rebuild it")
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
    return split_from_frames(meta["dataset"], spec, parts, catalog, digest,
                             int(meta.get("duplicates_dropped", 0)))
