"""Each requested user's items in an interaction frame: the seen-item masks and truth sets every
track (and a model that ranks unseen items for itself) builds from the split."""

from __future__ import annotations

from typing import Any

import numpy as np


def per_user_items(frame: Any, users: np.ndarray) -> list[np.ndarray]:
    """Items of each requested user in ``frame`` (a frame with ``user`` and ``item`` columns),
    sorted and unique; an empty array for a user absent from it."""
    order = np.argsort(frame["user"].to_numpy(), kind="stable")
    u = frame["user"].to_numpy()[order]
    it = frame["item"].to_numpy()[order]
    lo = np.searchsorted(u, users, side="left")
    hi = np.searchsorted(u, users, side="right")
    return [np.unique(it[a:b]) for a, b in zip(lo, hi)]
