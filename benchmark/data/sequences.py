"""Each user's items in time order (ties by row order): what "recent history" means everywhere.

The one implementation: ``Interactions.sequences()`` (positives, for sequential models) and
``items_in_time_order`` (every row, for prompts and alignment) both call ``time_ordered``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:  # types.py imports this module
    from benchmark.data.types import Interactions


def time_ordered(frame: pd.DataFrame) -> dict[int, np.ndarray]:
    """user id -> the user's item ids in ``frame``, oldest first (ties by row order)."""
    order = np.lexsort((np.arange(len(frame)), frame["timestamp"].to_numpy(),
                        frame["user"].to_numpy()))
    users, items = frame["user"].to_numpy()[order], frame["item"].to_numpy()[order]
    bounds = np.flatnonzero(np.diff(users)) + 1
    return {int(us[0]): it for us, it in zip(np.split(users, bounds), np.split(items, bounds))
            if len(us)}


def items_in_time_order(part: Interactions) -> dict[int, np.ndarray]:
    """user id -> that user's item ids (every row, liked or not), oldest first."""
    return time_ordered(part.frame)


def last_items(seq: np.ndarray, n: int) -> np.ndarray:
    """The last ``n`` items of a time-ordered sequence (none for n = 0)."""
    return seq[len(seq) - min(n, len(seq)):]
