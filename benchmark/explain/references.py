"""Review-text references (Amazon): the user's own review of the item, as in PETER / NETE.

The split keeps only user, item, rating and timestamp, so the review text is read again from the
dataset's raw files and keyed by raw (user, item) ids.
"""

from __future__ import annotations

from benchmark.data.dataset import DatasetData
from benchmark.data.types import Catalog
from benchmark.errors import DataError


def review_lookup(data: DatasetData, catalog: Catalog) -> dict[tuple[int, int], str]:
    """(user id, item id) on the split's ids -> review text (empty reviews left out), from the
    dataset the runner resolved."""
    inter = data.raw().interactions
    if "review" not in inter.columns:
        raise DataError(f"dataset {data.name!r} has no review text",
                        "use reference = 'silver' for datasets without reviews")
    user_index = {str(u): i for i, u in enumerate(catalog.user_ids)}
    item_index = {str(it): i for i, it in enumerate(catalog.item_ids)}
    out: dict[tuple[int, int], str] = {}
    for u, it, text in zip(inter["user"], inter["item"], inter["review"]):
        ui, ii = user_index.get(str(u)), item_index.get(str(it))
        if ui is not None and ii is not None and isinstance(text, str) and text.strip():
            out.setdefault((ui, ii), text.strip())
    return out
