"""One text per item, built from the catalog's side information, and content hashes.

The text is what a sentence encoder sees: MovieLens "Title (year). Genres: A, B"; Amazon
"Title. Categories: A, B. Description". The same catalog always gives the same texts, so their
hash (``content_hash``) keys the feature cache.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable
from typing import Any

from benchmark.data.types import Catalog
from benchmark.errors import DataError

#: columns that can make up an item's text; a catalog needs at least "title"
TEXT_COLUMNS = ("title", "year", "genres", "categories", "description")
MAX_DESCRIPTION_CHARS = 1000  # encoders truncate at 256 tokens anyway


def _missing(value) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    try:
        import pandas as pd

        return value is pd.NA or value is pd.NaT
    except ImportError:  # pragma: no cover - pandas is a core dependency
        return False


def _as_list(value) -> list[str]:
    if _missing(value):
        return []
    if isinstance(value, str):
        return [value] if value else []
    if isinstance(value, Iterable):
        return [str(v) for v in value if not _missing(v) and str(v)]
    return [str(value)]


def item_text(row: dict) -> str:
    """The text of one item from its catalog row (missing fields are left out)."""
    title = "" if _missing(row.get("title")) else str(row["title"]).strip()
    year: Any = row.get("year")
    head = title
    if not _missing(year) and title:
        head = f"{title} ({int(year)})"
    parts = [head] if head else []
    genres = _as_list(row.get("genres"))
    if genres:
        parts.append("Genres: " + ", ".join(genres))
    categories = _as_list(row.get("categories"))
    if categories:
        parts.append("Categories: " + ", ".join(dict.fromkeys(categories)))
    description = row.get("description")
    if not _missing(description) and str(description).strip():
        parts.append(str(description).strip()[:MAX_DESCRIPTION_CHARS])
    return ". ".join(parts)


def item_texts(catalog: Catalog) -> list[str]:
    """One text per item id 0..n_items-1 (an item without any text field gives "")."""
    items = catalog.items
    if items is None:
        raise DataError("the catalog has no item side information, so items have no text",
                        "use a dataset whose loader reads item titles, or give precomputed "
                        "features (feature_dir with text_feat.npy)")
    if len(items) != catalog.n_items:
        raise DataError(f"the catalog's items table has {len(items)} rows for "
                        f"{catalog.n_items} items", "rebuild the split (benchmark.runner.prepare)")
    if "title" not in items.columns:
        raise DataError(f"the catalog's items table has no 'title' column (columns: "
                        f"{', '.join(map(str, items.columns))})",
                        "give precomputed features (feature_dir with text_feat.npy)")
    columns = [c for c in TEXT_COLUMNS if c in items.columns]
    records = items[columns].to_dict("records")
    return [item_text(r) for r in records]


def content_hash(texts: list[str]) -> str:
    """sha256 over the texts, length-prefixed so that item boundaries count."""
    h = hashlib.sha256()
    for text in texts:
        data = text.encode("utf-8")
        h.update(len(data).to_bytes(8, "little"))
        h.update(data)
    return h.hexdigest()
