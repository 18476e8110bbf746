"""On-disk feature cache: one .npy (no pickles) plus a JSON sidecar per (dataset, modality, key).

The key hashes everything the features depend on (the encoder's weights sha256 and settings, the
items' content hash), so a changed encoder or changed item text misses the cache and rebuilds.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import numpy as np

from benchmark import atomic
from benchmark.data.dataset import CACHE_DIR

#: default cache folder: datasets/cache/features/ under the repository (git-ignored)
FEATURE_CACHE_DIR = CACHE_DIR / "features"
FORMAT = 1


def cache_key(parts: dict[str, Any]) -> str:
    blob = json.dumps({"format": FORMAT, **parts}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def _paths(cache_dir: Path, dataset: str, modality: str, key: str) -> tuple[Path, Path]:
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", dataset) or "items"
    stem = Path(cache_dir) / safe / f"{modality}-{key[:24]}"
    return stem.with_suffix(".npy"), stem.with_suffix(".json")


def load(cache_dir: Path, dataset: str, modality: str, key: str,
         n_items: int) -> tuple[np.ndarray, dict] | None:
    """The cached features and their sidecar, or None on a miss (or a damaged entry)."""
    array_path, meta_path = _paths(cache_dir, dataset, modality, key)
    if not (array_path.is_file() and meta_path.is_file()):
        return None
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        array = np.load(array_path, allow_pickle=False)
    except (ValueError, OSError):
        return None
    if meta.get("key") != key or array.shape[0] != n_items or array.dtype != np.float32:
        return None
    return array, meta


def store(cache_dir: Path, dataset: str, modality: str, key: str, array: np.ndarray,
          meta: dict) -> Path:
    """Write atomically (temp file + rename), so a crash never leaves a half entry."""
    array_path, meta_path = _paths(cache_dir, dataset, modality, key)
    array_path.parent.mkdir(parents=True, exist_ok=True)
    with atomic.atomic_open(array_path, "wb") as fh:
        np.save(fh, np.ascontiguousarray(array, dtype=np.float32), allow_pickle=False)
    atomic.write_text(meta_path, json.dumps({**meta, "key": key}, indent=1, sort_keys=True))
    return array_path
