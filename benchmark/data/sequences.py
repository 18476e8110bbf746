"""Each user's items in time order (ties by row order): what "recent history" means everywhere."""

from __future__ import annotations

import numpy as np

from benchmark.data.types import Interactions


def items_in_time_order(part: Interactions) -> dict[int, np.ndarray]:
    """user id -> that user's item ids, oldest first."""
    f = part.frame
    order = np.lexsort((np.arange(len(f)), f["timestamp"].to_numpy(), f["user"].to_numpy()))
    u, it = f["user"].to_numpy()[order], f["item"].to_numpy()[order]
    bounds = np.flatnonzero(np.diff(u)) + 1
    return {int(us[0]): items for us, items in zip(np.split(u, bounds), np.split(it, bounds))
            if len(us)}


def last_items(seq: np.ndarray, n: int) -> np.ndarray:
    """The last ``n`` items of a time-ordered sequence (none for n = 0)."""
    return seq[len(seq) - min(n, len(seq)):]
