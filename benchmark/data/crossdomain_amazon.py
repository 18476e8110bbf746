"""The real cross-domain set: two Amazon categories that share reviewer ids (Movies & TV, Books).

The job's split is the target domain (e.g. amazon-movies); ``source`` names the other dataset
(e.g. amazon-books, a name in datasets/ or a .toml path). Reviewers of the target split who also
reviewed in the source bring their source rows along. Items are numbered target first
(0..n_target-1, the split's ids) then source (n_target.., raw id prefixed "source:"), users keep
the split's ids, so a fresh model trains on one combined catalogue:

- train: every source row of the shared users + the target train part of non-test users;
- valid: the target valid part of non-test users;
- eval: every target row of the test users (shared users with >= ``min_target_interactions``
  target rows), who have no target row in training.

Frozen and hashed by ``coldstart_store`` like the proxy; labelled "amazon".
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from benchmark.data.coldstart import ColdStartSpec, CrossDomainSet, _all_rows
from benchmark.data.dataset import DatasetData
from benchmark.data.split import Split
from benchmark.data.types import Catalog, Interactions
from benchmark.errors import DataError

SOURCE_PREFIX = "source:"


def combined_template(split: Split, source_items: pd.DataFrame | None,
                      source_ids: np.ndarray) -> Interactions:
    """An empty Interactions on the combined catalogue (target items, then source items)."""
    cat = split.catalog
    item_ids = np.concatenate([cat.item_ids.astype(str),
                               np.array([SOURCE_PREFIX + str(i) for i in source_ids], dtype=str)])
    items = None
    if cat.items is not None:
        extra = (source_items.reindex(pd.Index(source_ids, dtype=object)).reset_index(drop=True)
                 if source_items is not None else pd.DataFrame(index=range(len(source_ids))))
        items = pd.concat([cat.items, extra], ignore_index=True)
    catalog = Catalog(item_ids=item_ids, user_ids=cat.user_ids, items=items, users=cat.users)
    empty = split.train.frame.iloc[:0]
    return Interactions(empty, cat.n_users, len(item_ids), split.spec.like_threshold,
                        split.spec.positives, catalog)


def build_amazon_cross_domain(split: Split, spec: ColdStartSpec, source: str | Path,
                              source_data: DatasetData) -> tuple[CrossDomainSet, Interactions]:
    """The set, and the template (combined catalogue) its Interactions are built on.

    ``source`` is the source dataset as the suite names it, ``source_data`` that dataset as the
    runner resolved it."""
    raw = source_data.raw()
    user_index = {str(u): i for i, u in enumerate(split.catalog.user_ids)}
    inter = raw.interactions
    users = inter["user"].astype(str).map(user_index)
    shared = inter[users.notna()].copy()
    if shared.empty:
        raise DataError(f"no reviewer of {split.dataset!r} appears in {source!r}",
                        "the two Amazon files must share reviewer ids (same release)")
    shared["user"] = users[users.notna()].astype(np.int64)
    source_ids = np.array(sorted(shared["item"].astype(str).unique()), dtype=object)
    n_target = split.n_items
    item_of = {s: n_target + k for k, s in enumerate(source_ids)}
    template = combined_template(split, raw.items, source_ids)
    src_rows = pd.DataFrame({
        "user": shared["user"].to_numpy(np.int32),
        "item": shared["item"].astype(str).map(item_of).to_numpy(np.int32),
        "rating": shared["rating"].to_numpy(np.float32),
        "timestamp": shared["timestamp"].to_numpy(np.int64)})

    every = _all_rows(split)
    t_users = every["user"].to_numpy()
    n_t = np.bincount(t_users, minlength=split.n_users)
    has_source = np.zeros(split.n_users, dtype=bool)
    has_source[src_rows["user"].to_numpy()] = True
    eligible = np.flatnonzero(has_source & (n_t >= spec.min_target_interactions))
    n_test = min(int(round(spec.cross_domain_test_fraction * split.n_users)), len(eligible))
    if n_test == 0:
        raise DataError(f"no shared reviewer has >= {spec.min_target_interactions} rows in "
                        f"{split.dataset!r}", "lower cold_start.min_target_interactions")
    rng = np.random.default_rng(spec.seed + 1)
    test_users = np.sort(rng.choice(eligible, size=n_test, replace=False))
    is_test = np.zeros(split.n_users, dtype=bool)
    is_test[test_users] = True
    part = every["part"].to_numpy()
    cols = ["user", "item", "rating", "timestamp"]
    t = is_test[t_users]
    train = pd.concat([src_rows, every.loc[~t & (part == 0), cols]], ignore_index=True)
    valid = every.loc[~t & (part == 1), cols]
    evaluation = every.loc[t, cols]

    def wrap(frame: pd.DataFrame) -> Interactions:
        return Interactions(frame.reset_index(drop=True), template.n_users, template.n_items,
                            template.like_threshold, template.positives, template.catalog)

    cd = CrossDomainSet(
        train=wrap(train), valid=wrap(valid), eval=wrap(evaluation), test_users=test_users,
        source_items=np.arange(n_target, template.n_items, dtype=np.int64),
        target_items=np.arange(n_target, dtype=np.int64), source="amazon",
        info={"source_dataset": str(source), "shared_users": int(has_source.sum())})
    return cd, template
