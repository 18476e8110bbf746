"""One entry point from a dataset kind (as written in dataset TOML files) to its loader.

Loaders are imported lazily so that importing the harness does not parse any module it will not
use; none of them imports torch or RecBole.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from typing import Literal

from benchmark.data.types import RawDataset
from benchmark.errors import ConfigError, UnknownNameError

#: every dataset kind a dataset file's ``loader`` may name: the one list (LOADERS has one entry
#: each, and the dataset spec's ``loader`` field is this type)
LoaderKind = Literal["ml-100k", "ml-1m", "ml-25m", "amazon", "csv"]

#: kind -> "module:function"; keyword arguments of ``load_raw`` go to the function unchanged.
LOADERS: dict[LoaderKind, str] = {
    "ml-100k": "benchmark.data.movielens:load_ml100k",  # path optional: recbole's copy
    "ml-1m": "benchmark.data.movielens:load_ml1m",  # path
    "ml-25m": "benchmark.data.movielens:load_ml25m",  # path
    "amazon": "benchmark.data.amazon:load_amazon",  # reviews_path, meta_path, version, name
    "csv": "benchmark.data.ratings_file:load_ratings_file",  # ratings, items, column options
}


def loader_for(kind: str) -> Callable[..., RawDataset]:
    """The loader function for ``kind``; unknown kinds get a did-you-mean error."""
    if kind not in LOADERS:
        raise UnknownNameError("dataset kind", kind, LOADERS)
    module, func = LOADERS[kind].split(":")
    return getattr(importlib.import_module(module), func)


def load_raw(kind: str, **paths) -> RawDataset:
    """``load_raw("ml-1m", path="datasets/raw/ml-1m")``; wrong argument names are config errors."""
    fn = loader_for(kind)
    sig = inspect.signature(fn)
    try:
        sig.bind(**paths)
    except TypeError as exc:
        raise ConfigError(f"dataset kind {kind!r}: {exc}",
                          f"{kind} takes: {', '.join(sig.parameters)}") from None
    return fn(**paths)
