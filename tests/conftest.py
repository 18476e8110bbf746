"""Shared fixtures: a small synthetic dataset with planted structure, so models can learn.

Users belong to one of two taste groups; each group mostly rates its own half of the catalogue,
with ratings high on its own half. A model that learns anything beats Random and Pop on it.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest

from benchmark import registry
from benchmark.data.split import SplitSpec, make_split
from benchmark.data.types import RawDataset

#: test-only models: registered by the tests, not in the production registry
TEST_MODELS = {
    "dummy": "benchmark.models.dummy:DummyRecommender",
    "flaky": "benchmark.models.flaky:FlakyRecommender",  # executor tests: dies on first fit
}


def register_test_models() -> None:
    """Add TEST_MODELS to the registry here and, through RECBENCH_EXTRA_MODELS, in every
    process the tests start (the CLI, job processes, Ray workers)."""
    extra = registry.extra_models(os.environ.get(registry.EXTRA_MODELS_ENV, ""))
    extra.update(TEST_MODELS)
    os.environ[registry.EXTRA_MODELS_ENV] = ",".join(f"{n}={s}" for n, s in extra.items())
    registry.MODELS.update(TEST_MODELS)


register_test_models()


def synthetic_raw(n_users: int = 60, n_items: int = 40, per_user: int = 15, seed: int = 7,
                  name: str = "synthetic") -> RawDataset:
    rng = np.random.default_rng(seed)
    rows = []
    half = n_items // 2
    for u in range(n_users):
        group = u % 2
        own = np.arange(half) + group * half
        other = np.arange(half) + (1 - group) * half
        # popularity inside each half: low item ids more popular
        p_own = 1.0 / (1 + np.arange(half))
        picks = rng.choice(own, size=per_user - 2, replace=False, p=p_own / p_own.sum())
        picks = np.concatenate([picks, rng.choice(other, size=2, replace=False)])
        for t, i in enumerate(rng.permutation(picks)):
            rating = 5.0 if (i // half) == group else 2.0
            rows.append((f"u{u:03d}", f"i{i:03d}", rating, 1_000_000 + 1000 * u + t))
    inter = pd.DataFrame(rows, columns=["user", "item", "rating", "timestamp"])
    inter["rating"] = inter["rating"].astype(np.float32)
    items = pd.DataFrame({"title": [f"Item {i}" for i in range(n_items)],
                          "genres": [["A"] if i < half else ["B"] for i in range(n_items)]},
                         index=[f"i{i:03d}" for i in range(n_items)])
    return RawDataset(name, inter, items=items)


@pytest.fixture(scope="session")
def raw_synthetic() -> RawDataset:
    return synthetic_raw()


@pytest.fixture(scope="session")
def split_synthetic(raw_synthetic):
    return make_split(raw_synthetic, SplitSpec(strategy="chrono", seed=0))


@pytest.fixture(scope="session")
def raw_ml100k() -> RawDataset:
    from benchmark.data.movielens import load_ml100k

    return load_ml100k()
