"""From a dataset name to its resolved spec and side data (``resolve_dataset``), and from a
dataset name and a seed to a frozen, hashed split on disk (built once, then reused)."""

from __future__ import annotations

from pathlib import Path

from benchmark.config.dataset_spec import SplitOverrides, load_dataset_spec
from benchmark.data.columnar import load_cached, pyarrow_available
from benchmark.data.dataset import CACHE_DIR, DatasetData
from benchmark.data.loaders import load_raw
from benchmark.data.split import Split, make_split
from benchmark.data.split_store import save_split

__all__ = ["CACHE_DIR", "prepare_split", "resolve_dataset"]


def resolve_dataset(name: str | Path) -> DatasetData:
    """The dataset ``name`` (a datasets/*.toml name, one registered by a suite, or a path):
    its spec and base folder, its raw files read on first use."""
    spec, base = load_dataset_spec(name)
    return DatasetData(spec.name, spec, base)


def prepare_split(dataset: str, seed: int, overrides: SplitOverrides | None = None,
                  cache_dir: Path | None = None) -> tuple[Split, Path]:
    """Load, filter and split ``dataset``; write it under the cache; return it and its folder.

    The split is always recomputed from the raw files and checked against the stored copy, so a
    changed raw file or splitter is caught instead of silently reusing stale files.
    """
    spec, base = load_dataset_spec(dataset)
    split_spec = spec.split_spec(seed, overrides)
    spec.check_files(base)
    if spec.paths and pyarrow_available():  # user files: parsed once, then read from Parquet
        raw = load_cached(spec.name, spec.loader, spec.resolved_paths(base),
                          {**spec.options, **spec.loader_scale()}, cache_dir or CACHE_DIR)
    else:
        raw = load_raw(spec.loader, **spec.loader_args(base), **spec.loader_scale())
    raw = type(raw)(spec.name, raw.interactions, raw.items, raw.users, raw.source)
    split = make_split(raw, split_spec)
    folder = (cache_dir or CACHE_DIR) / spec.name / split_spec.key()
    return save_split(split, folder), folder
