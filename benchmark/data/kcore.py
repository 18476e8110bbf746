"""Iterative k-core filtering: drop users and items with fewer than k interactions until stable."""

from __future__ import annotations

import numpy as np
import pandas as pd


def kcore_filter(inter: pd.DataFrame, k: int, max_rounds: int = 100) -> pd.DataFrame:
    """Rows of ``inter`` whose user and item both keep at least ``k`` interactions."""
    users = pd.factorize(inter["user"])[0]
    items = pd.factorize(inter["item"])[0]
    keep = np.ones(len(inter), dtype=bool)
    for _ in range(max_rounds):
        u_cnt = np.bincount(users[keep], minlength=users.max() + 1 if len(users) else 0)
        i_cnt = np.bincount(items[keep], minlength=items.max() + 1 if len(items) else 0)
        new_keep = keep & (u_cnt[users] >= k) & (i_cnt[items] >= k)
        if new_keep.sum() == keep.sum():
            break
        keep = new_keep
    return inter[keep].reset_index(drop=True)
