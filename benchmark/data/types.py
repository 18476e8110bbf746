"""The data model every loader produces and every model consumes.

Loaders return a ``RawDataset`` keyed by the source's own ids (strings). The splitter turns it into
a ``Split``: contiguous integer ids, frozen train/valid/test ``Interactions`` and the side
information (``Catalog``) re-indexed to those ids.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from benchmark.data.sequences import time_ordered

#: Columns of every interaction frame. Raw frames hold string ids; split frames hold int ids.
INTERACTION_COLUMNS = ("user", "item", "rating", "timestamp")

Positives = Literal["all", "liked"]


@dataclass(frozen=True)
class RawDataset:
    """A dataset as loaded from its files, before filtering and splitting.

    interactions: columns user (str), item (str), rating (float32), timestamp (int64).
    items: indexed by raw item id (str); MovieLens has title, year, genres (list[str]);
        Amazon has title, description, categories (list[str]), brand, image_url.
    users: indexed by raw user id (str); MovieLens has age, gender, occupation.
    """

    name: str
    interactions: pd.DataFrame
    items: pd.DataFrame | None = None
    users: pd.DataFrame | None = None
    source: str = ""  # where the files came from, for provenance


@dataclass(frozen=True)
class Catalog:
    """Side information aligned to the split's integer ids (row i = item i / user i)."""

    item_ids: np.ndarray  # raw id (str) of internal item i
    user_ids: np.ndarray  # raw id (str) of internal user u
    items: pd.DataFrame | None = None  # index 0..n_items-1
    users: pd.DataFrame | None = None  # index 0..n_users-1

    @property
    def n_items(self) -> int:
        return len(self.item_ids)

    @property
    def n_users(self) -> int:
        return len(self.user_ids)


@dataclass(frozen=True)
class Interactions:
    """One part of a split (train, valid or test), with everything a model needs to use it.

    ``positives`` decides which rows count as positive implicit feedback for ranking models:
    "all" (every rated pair, RecBole's convention) or "liked" (rating >= like_threshold).
    """

    frame: pd.DataFrame  # user int32, item int32, rating float32, timestamp int64
    n_users: int
    n_items: int
    like_threshold: float = 4.0
    positives: Positives = "all"
    catalog: Catalog | None = field(default=None, repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.frame)

    def liked(self) -> np.ndarray:
        """Boolean mask of rows the user liked (rating >= threshold)."""
        return self.frame["rating"].to_numpy() >= self.like_threshold

    def positive_frame(self) -> pd.DataFrame:
        """Rows that count as positive feedback under this split's ``positives`` setting."""
        if self.positives == "all":
            return self.frame
        return self.frame[self.liked()]

    def csr(self, positives_only: bool = True):
        """users x items binary matrix (scipy CSR) of the (positive) interactions."""
        import scipy.sparse as sp

        f = self.positive_frame() if positives_only else self.frame
        data = np.ones(len(f), dtype=np.float32)
        m = sp.csr_matrix(
            (data, (f["user"].to_numpy(), f["item"].to_numpy())),
            shape=(self.n_users, self.n_items),
        )
        m.sum_duplicates()
        m.data[:] = 1.0
        return m

    def concat(self, other: Interactions) -> Interactions:
        """This part followed by another (e.g. train + valid as the history for test)."""
        frame = pd.concat([self.frame, other.frame], ignore_index=True)
        return Interactions(
            frame, self.n_users, self.n_items, self.like_threshold, self.positives, self.catalog
        )

    def sequences(self) -> dict[int, np.ndarray]:
        """Each user's positive items in time order (ties by row order), for sequential models."""
        return time_ordered(self.positive_frame())
