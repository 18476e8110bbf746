"""A columnar (Parquet) cache of loaded raw datasets, keyed by the raw files' content hash.

Parsing MovieLens-25M's 678 MB ratings.csv takes tens of seconds; reading the same frame back
from Parquet takes about a second. The key is the sha256 of every raw file the dataset names
(plus the loader and its options), so an edited or replaced file is never served stale. Needs
pyarrow (the [distributed] extra); without it datasets load straight from the raw files.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd

from benchmark import atomic
from benchmark.data.types import RawDataset

#: bump when the cached layout changes
CACHE_VERSION = 1


def files_digest(paths: dict[str, Path], extra: dict) -> str:
    """sha256 over the bytes of every file (or every file below a folder) plus ``extra``."""
    h = hashlib.sha256(json.dumps({"v": CACHE_VERSION, **extra}, sort_keys=True,
                                  default=str).encode())
    for key in sorted(paths):
        root = Path(paths[key])
        files = sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else [root]
        for f in files:
            h.update(f"{key}:{f.relative_to(root) if root.is_dir() else f.name}\n".encode())
            with f.open("rb") as fh:
                while chunk := fh.read(1 << 22):
                    h.update(chunk)
    return h.hexdigest()


def pyarrow_available() -> bool:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        return False
    return True


def _write(frame: pd.DataFrame | None, path: Path) -> None:
    if frame is not None:  # unique temporary name: runners may share the cache
        with atomic.atomic_open(path, "wb") as fh:
            frame.to_parquet(fh, engine="pyarrow", index=True)


def _read(path: Path) -> pd.DataFrame | None:
    if not path.is_file():
        return None
    frame = pd.read_parquet(path, engine="pyarrow")
    for col in frame.columns:  # list columns (genres, categories) come back as arrays
        if frame[col].dtype == object:
            first = frame[col].dropna().head(1)
            if len(first) and isinstance(first.iloc[0], np.ndarray):
                frame[col] = frame[col].map(lambda v: v.tolist() if isinstance(v, np.ndarray)
                                            else v)
    return frame


def load_cached(name: str, loader: str, paths: dict[str, Path], options: dict,
                cache_dir: Path) -> RawDataset:
    """The raw dataset, from the Parquet cache when its key matches, else loaded and cached."""
    from benchmark.data.loaders import load_raw

    key = files_digest(paths, {"loader": loader, "options": options})
    folder = Path(cache_dir) / "raw" / name / key[:16]
    meta_path = folder / "meta.json"
    if meta_path.is_file() and json.loads(meta_path.read_text()).get("key") == key:
        meta = json.loads(meta_path.read_text())
        return RawDataset(name, _read(folder / "interactions.parquet"),
                          _read(folder / "items.parquet"), _read(folder / "users.parquet"),
                          meta["source"])
    raw = load_raw(loader, **paths, **options)
    folder.mkdir(parents=True, exist_ok=True)
    inter = raw.interactions  # categorical ids are stored as Parquet dictionaries
    _write(inter, folder / "interactions.parquet")
    _write(raw.items, folder / "items.parquet")
    _write(raw.users, folder / "users.parquet")
    atomic.write_text(meta_path, json.dumps({"key": key, "source": raw.source, "loader": loader}))
    return RawDataset(name, inter, raw.items, raw.users, raw.source)
