"""Per-user time order, with ties broken by row order."""

from __future__ import annotations

import numpy as np
import pandas as pd

from benchmark.data.sequences import items_in_time_order, last_items, time_ordered
from benchmark.data.types import Interactions


def test_items_in_time_order_and_last_items():
    frame = pd.DataFrame({"user": [1, 0, 1, 1, 0], "item": [5, 2, 3, 4, 7],
                          "rating": [4.0] * 5, "timestamp": [30, 10, 10, 30, 5]})
    seqs = items_in_time_order(Interactions(frame, 2, 8, 4.0, "all", None))
    np.testing.assert_array_equal(seqs[0], [7, 2])
    np.testing.assert_array_equal(seqs[1], [3, 5, 4])  # 5 and 4 tie at t=30: row order
    np.testing.assert_array_equal(last_items(seqs[1], 2), [5, 4])
    assert len(last_items(seqs[1], 0)) == 0 and len(last_items(seqs[0], 9)) == 2


def test_sequences_are_the_liked_rows_in_the_same_order():
    frame = pd.DataFrame({"user": [1, 0, 1, 1, 0, 2], "item": [5, 2, 3, 4, 7, 1],
                          "rating": [4.0, 5.0, 2.0, 4.0, 1.0, 1.0],
                          "timestamp": [30, 10, 10, 30, 5, 1]})
    part = Interactions(frame, 3, 8, 4.0, "liked", None)
    every, liked = items_in_time_order(part), part.sequences()
    assert sorted(every) == [0, 1, 2] and sorted(liked) == [0, 1]  # user 2 liked nothing
    np.testing.assert_array_equal(every[1], [3, 5, 4])
    np.testing.assert_array_equal(liked[1], [5, 4])  # 3 (rating 2) dropped, ties kept in order
    np.testing.assert_array_equal(liked[0], [2])
    assert liked.keys() == time_ordered(part.positive_frame()).keys()
