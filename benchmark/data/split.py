"""Frozen train/valid/test splits: made once, written to disk with a content hash, shared by all.

Three strategies, all per user (every user with enough interactions appears in all three parts):
- ``chrono``: each user's interactions sorted by time (ties by file order); the last ones are test.
- ``random``: each user's interactions shuffled with the seed.
- ``leave_one_out``: sorted by time as ``chrono``; the last interaction is test, the one before it
  valid, the rest train (RecBole's ``LS`` split, ``valid_and_test``): a user with two interactions
  has no valid one, a user with one only a train one. ``ratios`` are ignored (recorded as given).
Part sizes of chrono and random follow RecBole's rounding (valid and test rounded down, at least
one each when the ratio would give a fraction, train keeps the rest), so a random 8:1:1 split here
has the same shape as RecBole's ``RS [0.8,0.1,0.1]`` with ``group_by: user``.

Duplicated (user, item) rows: one rating per pair is kept, the latest by timestamp (ties: the
later line of the file), before k-core filtering; otherwise one pair could land in both train and
test. The number dropped is ``Split.duplicates_dropped`` and is recorded by ``describe()``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Literal, cast

import numpy as np
import pandas as pd

from benchmark.data.kcore import kcore_filter
from benchmark.data.types import Catalog, Interactions, Positives, RawDataset
from benchmark.errors import ConfigError, DataError

Strategy = Literal["chrono", "random", "leave_one_out"]

#: how far train + valid + test ratios may be from 1 (they are never normalised silently)
RATIO_TOLERANCE = 1e-6


def check_ratios(ratios: tuple[float, float, float] | None) -> tuple[float, float, float] | None:
    """Train, valid and test shares: each a finite number > 0, summing to 1 (within 1e-6).

    Why not normalise: [8, 1, 1] or [0.8, 0.1, 0.2] is more likely a typo than a wish, and a
    zero part would leave models without validation data or the suite without a test set."""
    if ratios is None:
        return None
    if any(not (r == r and abs(r) != float("inf")) or r <= 0 for r in ratios):
        raise ValueError(f"ratios {list(ratios)}: train, valid and test shares must each be a "
                         "number > 0, e.g. [0.8, 0.1, 0.1]")
    if abs(sum(ratios) - 1.0) > RATIO_TOLERANCE:
        raise ValueError(f"ratios {list(ratios)} sum to {sum(ratios):g}, not 1: write shares "
                         "that add up to 1, e.g. [0.8, 0.1, 0.1]")
    return ratios


@dataclass(frozen=True)
class SplitSpec:
    """How a split is made; every field is recorded with every result."""

    strategy: Strategy = "chrono"
    ratios: tuple[float, float, float] = (0.8, 0.1, 0.1)
    seed: int = 0
    kcore: int = 0  # keep users and items with >= kcore interactions (0 = no filtering)
    like_threshold: float = 4.0  # rating >= this counts as "like"
    positives: Positives = "all"  # which rows ranking models take as positive feedback

    def __post_init__(self) -> None:
        try:
            check_ratios(cast("tuple[float, float, float]", tuple(self.ratios)))
        except ValueError as err:
            raise ConfigError(f"split {err}", "fix split.ratios in the dataset or suite "
                              "file") from None

    def key(self) -> str:
        """A short folder name that identifies this spec."""
        r = "-".join(f"{x:g}" for x in self.ratios)
        if self.strategy == "leave_one_out":  # ratios play no part
            r = "last2"
        return (f"{self.strategy}_{r}_k{self.kcore}_like{self.like_threshold:g}"
                f"_{self.positives}_seed{self.seed}")


@dataclass(frozen=True)
class Split:
    """The three frozen parts plus side information, all on contiguous integer ids."""

    dataset: str
    spec: SplitSpec
    train: Interactions
    valid: Interactions
    test: Interactions
    catalog: Catalog
    hash: str = ""  # sha256 of the files on disk (set by store.save_split / load_split)
    duplicates_dropped: int = 0  # repeated (user, item) rows removed before splitting

    @property
    def n_users(self) -> int:
        return self.catalog.n_users

    @property
    def n_items(self) -> int:
        return self.catalog.n_items

    def describe(self) -> dict:
        """Provenance recorded next to every number computed on this split."""
        return {
            "dataset": self.dataset,
            **dataclasses.asdict(self.spec),
            "hash": self.hash,
            "n_users": self.n_users,
            "n_items": self.n_items,
            "n_train": len(self.train),
            "n_valid": len(self.valid),
            "n_test": len(self.test),
            "duplicates_dropped": self.duplicates_dropped,
        }


def part_sizes(totals: np.ndarray, ratios: tuple[float, float, float]) -> np.ndarray:
    """(n_users, 3) part sizes per user, with RecBole's rounding rule, vectorised."""
    tot_ratio = sum(ratios)
    r = [x / tot_ratio for x in ratios]
    totals = np.asarray(totals, dtype=np.int64)
    cnt = np.stack([(ri * totals).astype(np.int64) for ri in r], axis=1)
    cnt[:, 0] = totals - cnt[:, 1:].sum(axis=1)
    for i in (1, 2):  # the last part first, as RecBole does
        col = 3 - i
        frac = r[col] * totals
        bump = (cnt[:, 0] > 1) & (frac > 0) & (frac < 1)
        # RecBole stops adjusting once train has <= 1 left; the check happens before each part
        cnt[bump, col] += 1
        cnt[bump, 0] -= 1
    return cnt


def leave_one_out_sizes(totals: np.ndarray) -> np.ndarray:
    """(n_users, 3) part sizes of RecBole's leave-one-out: the last interaction test, the one
    before valid, as long as train keeps at least one."""
    totals = np.asarray(totals, dtype=np.int64)
    held = np.minimum(2, np.maximum(totals - 1, 0))  # RecBole: min(2, total - 1)
    return np.stack([totals - held, (held == 2).astype(np.int64), (held >= 1).astype(np.int64)],
                    axis=1)


def drop_duplicate_pairs(inter: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """One row per (user, item): the latest by timestamp, ties broken by the later row.

    Rows keep their file order, so data without duplicates comes back unchanged (same hash)."""
    n = len(inter)
    users = pd.factorize(inter["user"])[0].astype(np.int64)
    items = pd.factorize(inter["item"])[0].astype(np.int64)
    pair = users * (int(items.max()) + 1 if n else 1) + items
    if not pd.Series(pair).duplicated().any():
        return inter, 0
    order = np.lexsort((np.arange(n), inter["timestamp"].to_numpy(), pair))
    sorted_pair = pair[order]
    last = np.r_[sorted_pair[1:] != sorted_pair[:-1], True]  # the last row of each pair
    keep = np.sort(order[last])
    return inter.iloc[keep].reset_index(drop=True), n - len(keep)


def make_split(raw: RawDataset, spec: SplitSpec) -> Split:
    """Filter, re-index and split a raw dataset."""
    inter = raw.interactions
    missing = [c for c in ("user", "item", "rating", "timestamp") if c not in inter.columns]
    if missing:
        raise DataError(
            f"dataset {raw.name!r}: interactions lack column(s) {missing}",
            "loaders must produce columns user, item, rating, timestamp",
        )
    if inter["rating"].isna().any():
        raise DataError(f"dataset {raw.name!r}: {int(inter['rating'].isna().sum())} ratings are NaN",
                        "drop or fill them in the loader")
    inter = inter.reset_index(drop=True)
    where = f" ({raw.source})" if raw.source else ""
    if len(inter) == 0:
        raise DataError(f"dataset {raw.name!r} has no interactions{where}",
                        "check that the ratings file holds rating rows, not only a header")
    inter, dropped = drop_duplicate_pairs(inter)
    if spec.kcore > 0:
        inter = kcore_filter(inter, spec.kcore)
    if len(inter) == 0:
        raise DataError(
            f"dataset {raw.name!r} is empty after {spec.kcore}-core filtering",
            "lower split.kcore in the dataset or suite file (0 disables it)",
        )
    n_users, n_items = inter["user"].nunique(), inter["item"].nunique()
    after = f" after {spec.kcore}-core filtering" if spec.kcore > 0 else ""
    if n_users < 2 or n_items < 2:
        few = (f"only {n_users} user" if n_users < 2 else f"only {n_items} item")
        raise DataError(
            f"dataset {raw.name!r} has {few}{after}{where}: a recommender benchmark needs at "
            "least 2 users and 2 items (rankings compare items, models learn across users)",
            "check that the ratings file is complete and its columns are in the right order"
            + ("; or lower split.kcore" if after else ""))
    # contiguous ids in sorted raw-id order, so the mapping does not depend on row order
    user_codes, user_ids = pd.factorize(inter["user"], sort=True)
    item_codes, item_ids = pd.factorize(inter["item"], sort=True)
    user_codes = user_codes.astype(np.int64)
    n = len(inter)
    if spec.strategy in ("chrono", "leave_one_out"):
        key = inter["timestamp"].to_numpy()
    elif spec.strategy == "random":
        key = np.random.default_rng(spec.seed).permutation(n)
    else:
        raise DataError(f"unknown split strategy {spec.strategy!r}",
                        "use 'chrono', 'random' or 'leave_one_out'")
    order = np.lexsort((np.arange(n), key, user_codes))
    sorted_users = user_codes[order]
    totals = np.bincount(user_codes, minlength=len(user_ids))
    starts = np.concatenate([[0], np.cumsum(totals)[:-1]])
    pos = np.arange(n) - starts[sorted_users]  # position within the user's sequence
    sizes = (leave_one_out_sizes(totals) if spec.strategy == "leave_one_out"
             else part_sizes(totals, spec.ratios))
    train_end = sizes[:, 0][sorted_users]
    valid_end = (sizes[:, 0] + sizes[:, 1])[sorted_users]
    part = np.where(pos < train_end, 0, np.where(pos < valid_end, 1, 2))

    frame = pd.DataFrame({
        "user": user_codes[order].astype(np.int32),
        "item": item_codes[order].astype(np.int32),
        "rating": inter["rating"].to_numpy(np.float32)[order],
        "timestamp": inter["timestamp"].to_numpy(np.int64)[order],
    })
    catalog = build_catalog(raw, np.asarray(user_ids, dtype=str), np.asarray(item_ids, dtype=str))
    parts = [frame[part == p].reset_index(drop=True) for p in range(3)]
    if len(parts[2]) == 0:
        raise DataError(f"dataset {raw.name!r}: no user has enough interactions for a test part "
                        f"(ratios {list(spec.ratios)}){where}",
                        "users need at least 2 ratings each to be tested; check the file")
    return split_from_frames(raw.name, spec, parts, catalog, duplicates_dropped=dropped)


def split_from_frames(name: str, spec: SplitSpec, parts: list[pd.DataFrame],
                      catalog: Catalog, hash: str = "", duplicates_dropped: int = 0) -> Split:
    def wrap(f: pd.DataFrame) -> Interactions:
        return Interactions(f, catalog.n_users, catalog.n_items, spec.like_threshold,
                            spec.positives, catalog)

    return Split(name, spec, wrap(parts[0]), wrap(parts[1]), wrap(parts[2]), catalog, hash,
                 duplicates_dropped)


def build_catalog(raw: RawDataset, user_ids: np.ndarray, item_ids: np.ndarray) -> Catalog:
    """Side information re-indexed to internal ids; raw ids without features get empty rows."""
    def align(frame: pd.DataFrame | None, ids: np.ndarray) -> pd.DataFrame | None:
        if frame is None:
            return None
        frame = frame.copy()
        frame.index = frame.index.astype(str)
        return frame.reindex(ids).reset_index(drop=True)

    return Catalog(item_ids=item_ids, user_ids=user_ids,
                   items=align(raw.items, item_ids), users=align(raw.users, user_ids))
