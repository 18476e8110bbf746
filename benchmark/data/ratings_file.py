"""A user's own ratings file (``loader = "csv"``): delimited text with a header line.

The ratings file has one rating per line with (at least) a user, an item, a rating and a
timestamp column, named in the header; the column names, the separator and the encoding are
dataset options. An optional items file (item id, title, genres; any of title / genres may be
absent) gives the side information that explanations and language-model prompts use. Ids are
kept as strings. The ratings file is checked like every other (``ratings_check``): a bad line is a
``DataError`` naming the file, the line, the column and the fix.

Example dataset file (``mydata.toml``, next to ``ratings.csv`` and ``items.csv``)::

    name = "mydata"
    loader = "csv"
    paths = { ratings = "ratings.csv", items = "items.csv" }
    options = { user_column = "user_id", item_column = "item_id" }
    rating_scale = [1, 5]
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import cast

import numpy as np
import pandas as pd

from benchmark.data.movielens import split_title_year
from benchmark.data.ratings_check import RatingsFormat, check_not_binary, read_ratings
from benchmark.data.types import RawDataset
from benchmark.errors import DataError

#: the rating scale when the dataset file sets no ``rating_scale``
DEFAULT_SCALE = (1.0, 5.0)


def _sep(sep: str) -> str:
    """The separator as written in TOML: "," ";" "\\t" (a tab), or the words "tab" / "comma"."""
    named = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "pipe": "|"}
    sep = named.get(sep, sep)
    if len(sep) != 1:
        raise DataError(f"csv dataset: sep = {sep!r} is not one character",
                        'use sep = "," (default), "\\t" (tab), ";" or "|" in the dataset\'s '
                        "options")
    return sep


def load_ratings_file(ratings: Path | str, items: Path | str | None = None, *,
                      sep: str = ",", encoding: str = "utf-8",
                      user_column: str = "user", item_column: str = "item",
                      rating_column: str = "rating", timestamp_column: str = "timestamp",
                      title_column: str = "title", genres_column: str = "genres",
                      year_column: str = "year", genre_sep: str = "|", name: str = "csv",
                      rating_scale: tuple[float, float] | None = None) -> RawDataset:
    """A ``RawDataset`` from a delimited ratings file (header line required) and an optional
    items file; timestamps are integers (Unix seconds), ratings numbers in ``rating_scale``."""
    ratings = Path(ratings).expanduser()
    sep = _sep(sep)
    scale = cast("tuple[float, float]", tuple(rating_scale or DEFAULT_SCALE))
    cols = (user_column, item_column, rating_column, timestamp_column)
    fmt = RatingsFormat(f"a header naming {', '.join(cols)} (separator {sep!r}), then one "
                        "rating per line", sep, cols, encoding)

    def parse() -> pd.DataFrame:
        f = pd.read_csv(ratings, sep=sep, dtype=str, keep_default_na=False, encoding=encoding,
                        usecols=list(cols), engine="c", skipinitialspace=True)
        return pd.DataFrame({
            "user": f[user_column].str.strip().to_numpy(dtype=object),
            "item": f[item_column].str.strip().to_numpy(dtype=object),
            "rating": f[rating_column].astype(np.float32).to_numpy(),
            "timestamp": f[timestamp_column].str.strip().astype(np.int64).to_numpy(),
        })

    inter = read_ratings(ratings, fmt, scale, parse)
    side = _items(Path(items).expanduser(), sep, encoding, item_column, title_column,
                  genres_column, year_column, genre_sep) if items is not None else None
    return RawDataset(name, inter, side, None, source=str(ratings))


def _items(path: Path, sep: str, encoding: str, item_column: str, title_column: str,
           genres_column: str, year_column: str, genre_sep: str) -> pd.DataFrame:
    """Items indexed by id: title (a trailing "(1995)" becomes the year unless a year column
    exists; the id when there is no title column), year (nullable), genres (list[str])."""
    check_not_binary(path, "items")
    try:
        f = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False, encoding=encoding,
                        engine="c", quoting=csv.QUOTE_MINIMAL)
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as err:
        raise DataError(f"{path}: cannot be read as an items file ({str(err)[:120]})",
                        f"a header naming {item_column} (and optionally {title_column}, "
                        f"{genres_column}), separator {sep!r}") from None
    f.columns = [str(c).strip() for c in f.columns]
    if item_column not in f.columns:
        raise DataError(f"{path}: the header has no column {item_column!r} (found "
                        f"{', '.join(map(repr, f.columns))})",
                        "name the item id column item_column in the dataset's options")
    f = f.drop_duplicates(item_column, keep="first")
    ids = f[item_column].str.strip()
    raw_titles = f[title_column] if title_column in f.columns else ids
    titles, years = [], []
    for title in raw_titles:
        title, year = split_title_year(title) if year_column not in f.columns else (title, None)
        titles.append(title.strip())
        years.append(year)
    if year_column in f.columns:
        years = [int(y) if y.strip().lstrip("-").isdigit() else None for y in f[year_column]]
    genres = ([[g.strip() for g in text.split(genre_sep) if g.strip()]
               for text in f[genres_column]] if genres_column in f.columns
              else [[] for _ in range(len(f))])
    return pd.DataFrame(
        {"title": titles, "year": pd.array(years, dtype="Int64"), "genres": genres},
        index=pd.Index(ids.to_numpy(dtype=object), name="item", dtype=object))
