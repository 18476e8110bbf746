"""MovieLens loaders (100K, 1M, 25M) reading the files exactly as GroupLens / RecBole ship them.

Every loader returns a ``RawDataset`` with string ids, float32 ratings and int64 timestamps, and
side information in one shape across versions: items have ``title`` (year stripped), ``year``
(nullable Int64) and ``genres`` (list[str]; "unknown" / "(no genres listed)" become ``[]``), users
have ``age``, ``gender``, ``occupation`` (a name, never a code) and ``zip_code`` (str: "02154").
No network: missing files raise ``DataError`` saying where to download them and where to put them.
Ratings files are checked by ``benchmark.data.ratings_check`` (columns, numbers, scale, no rows):
a bad file is a ``DataError`` naming the file, the line and the fix.
"""

from __future__ import annotations

import csv
import importlib.util
import io
import re
from pathlib import Path
from typing import cast

import numpy as np
import pandas as pd

from benchmark.data.ratings_check import RATING_SCALES, RatingsFormat, read_ratings
from benchmark.data.types import RawDataset
from benchmark.errors import DataError

GROUPLENS = "https://files.grouplens.org/datasets/movielens"
URLS = {k: f"{GROUPLENS}/{k}.zip" for k in ("ml-100k", "ml-1m", "ml-25m")}

#: u.genre order of the 19 flag columns at the end of each u.item line.
ML100K_GENRES = ("unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime",
                 "Documentary", "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery",
                 "Romance", "Sci-Fi", "Thriller", "War", "Western")
#: ml-1m README, users.dat occupation codes.
ML1M_OCCUPATIONS = ("other", "academic/educator", "artist", "clerical/admin",
                    "college/grad student", "customer service", "doctor/health care",
                    "executive/managerial", "farmer", "homemaker", "K-12 student", "lawyer",
                    "programmer", "retired", "sales/marketing", "scientist", "self-employed",
                    "technician/engineer", "tradesman/craftsman", "unemployed", "writer")
NO_GENRE = {"unknown", "(no genres listed)", ""}
# "Toy Story (1995)", "Show (2006-2007)", "Land Before Time III (1995) (V)" (direct-to-video)
_TITLE_YEAR = re.compile(r"^(?P<title>.*?)\s*\((?P<year>\d{4})(?:[-\u2013]\d{0,4})?\)"
                         r"(?:\s*\([A-Z]{1,3}\))?\s*$")
_RECBOLE_TYPOS = {"unkonwn": "unknown"}  # item 267's title in RecBole's ml-100k.item


def split_title_year(title: str) -> tuple[str, int | None]:
    """'Misérables, Les (1995)' -> ('Misérables, Les', 1995); no trailing year -> (title, None)."""
    title = title.strip()
    m = _TITLE_YEAR.match(title)
    if not m:
        return title, None
    return m.group("title"), int(m.group("year"))


def _genres(text: str, sep: str) -> list[str]:
    return [g for g in text.split(sep) if g not in NO_GENRE]


def _missing(what: Path, dataset: str, folder: Path, layout: str) -> DataError:
    return DataError(
        f"{dataset}: file not found: {what}",
        f"download {URLS[dataset]} and unzip it so that {folder} holds {layout} "
        f"(or pass the folder that holds them, e.g. datasets/raw/{dataset})",
    )


def _resolve(path: Path | str, dataset: str, files: tuple[str, ...]) -> Path:
    """The folder holding ``files``: ``path`` itself or its ``<dataset>/`` subfolder (unzip root)."""
    path = Path(path).expanduser()
    if path.suffix == ".zip" and path.is_file():
        raise DataError(f"{dataset}: {path} is a zip archive",
                        f"unzip it (it unpacks to a folder {dataset}/) and pass that folder")
    if not (path / files[0]).is_file() and (path / dataset / files[0]).is_file():
        path = path / dataset
    for name in files:
        if not (path / name).is_file():
            raise _missing(path / name, dataset, path, ", ".join(files))
    return path


_RATING_DTYPES = {"u": str, "i": str, "r": np.float32, "t": np.int64}
_U_DATA = RatingsFormat("user<TAB>item<TAB>rating<TAB>timestamp (no header)", "\t")
_RATINGS_DAT = RatingsFormat("user::item::rating::timestamp (no header)", "::")
_ATOMIC_INTER = RatingsFormat("a RecBole atomic file: header user_id:token, item_id:token, "
                              "rating:float, timestamp:float, then tab-separated rows", "\t",
                              ("user_id", "item_id", "rating", "timestamp"), "utf-8", True)
_RATINGS_CSV = RatingsFormat("a header userId,movieId,rating,timestamp, then one rating per line",
                             ",", ("userId", "movieId", "rating", "timestamp"), "utf-8",
                             int_ids=True)


def _frame(text: str, sep: str, names: list[str], dtype: type | dict = str,
           usecols: list[int] | None = None) -> pd.DataFrame:
    """Frame of a headerless file, str unless told (C parser; quotes in titles are literal)."""
    return pd.read_csv(io.StringIO(text), sep=sep, header=None, names=names, dtype=dtype,
                       keep_default_na=False, quoting=csv.QUOTE_NONE, engine="c",
                       usecols=usecols)


def _rating_rows(text: str, sep: str) -> pd.DataFrame:
    """user, item, rating, timestamp of a headerless ratings file; extra trailing fields ignored
    (without ``usecols`` pandas would silently take a fifth field's first column as the index)."""
    f = _frame(text, sep, list(_RATING_DTYPES), _RATING_DTYPES, usecols=[0, 1, 2, 3])
    return _interactions(f["u"], f["i"], f["r"], f["t"])


def _dat(path: Path, names: list[str], dtype: type | dict = str) -> pd.DataFrame:
    """ml-1m ``::`` files: swap the 2-char separator for a tab so the fast C parser can read them."""
    text = path.read_bytes().decode("latin-1")
    return _frame(text.replace("::", "\t"), "\t", names, dtype)


def _interactions(users, items, ratings, timestamps) -> pd.DataFrame:
    return pd.DataFrame({
        "user": users, "item": items,
        "rating": np.asarray(ratings, dtype=np.float32),
        "timestamp": np.asarray(timestamps, dtype=np.int64),
    })


def _items(ids, titles, years, genres) -> pd.DataFrame:
    return pd.DataFrame(
        {"title": list(titles), "year": pd.array(list(years), dtype="Int64"), "genres": list(genres)},
        index=pd.Index(list(ids), name="item", dtype=object),
    )


def _users(ids, ages, genders, occupations, zips) -> pd.DataFrame:
    return pd.DataFrame(
        {"age": np.asarray(ages, dtype=np.int64), "gender": list(genders),
         "occupation": list(occupations), "zip_code": list(zips)},
        index=pd.Index(list(ids), name="user", dtype=object),
    )


# ---------------------------------------------------------------- MovieLens-100K
def recbole_ml100k_dir() -> Path | None:
    """The ml-100k atomic files inside the installed recbole wheel, found without importing it."""
    spec = importlib.util.find_spec("recbole")
    for root in (spec.submodule_search_locations or []) if spec else []:
        folder = Path(root) / "dataset_example" / "ml-100k"
        if (folder / "ml-100k.inter").is_file():
            return folder
    return None


def load_ml100k(path: Path | str | None = None,
                rating_scale: tuple[float, float] | None = None) -> RawDataset:
    """MovieLens-100K: RecBole's atomic copy by default, or a GroupLens ``ml-100k`` folder."""
    scale = cast("tuple[float, float]", tuple(rating_scale or RATING_SCALES["ml-100k"]))
    if path is None:
        path = recbole_ml100k_dir()
        if path is None:
            raise DataError("ml-100k: the copy shipped in the recbole wheel was not found",
                            f"install recbole (scripts/setup.sh), or download {URLS['ml-100k']}, "
                            "unzip it and pass the ml-100k folder")
    path = Path(path).expanduser()
    for folder in (path, path / "ml-100k"):
        if (folder / "ml-100k.inter").is_file():
            return _ml100k_atomic(_resolve(folder, "ml-100k", _ATOMIC), scale)
        if (folder / "u.data").is_file():
            return _ml100k_grouplens(_resolve(folder, "ml-100k", _GROUPLENS), scale)
    return _ml100k_grouplens(_resolve(path, "ml-100k", _GROUPLENS), scale)  # raises: no u.data


_ATOMIC = ("ml-100k.inter", "ml-100k.item", "ml-100k.user")
_GROUPLENS = ("u.data", "u.item", "u.user")


def _atomic(path: Path) -> pd.DataFrame:
    """A RecBole atomic file; the typed header ``user_id:token`` becomes column ``user_id``."""
    frame = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False,
                        quoting=csv.QUOTE_NONE, encoding="utf-8", engine="c")
    return frame.rename(columns=lambda c: c.split(":", 1)[0])


def _ml100k_atomic(folder: Path, scale: tuple[float, float]) -> RawDataset:
    def parse() -> pd.DataFrame:
        f = _atomic(folder / "ml-100k.inter")
        return _interactions(f["user_id"], f["item_id"], f["rating"].astype(float),
                             f["timestamp"].astype(float))

    inter = read_ratings(folder / "ml-100k.inter", _ATOMIC_INTER, scale, parse)
    it = _atomic(folder / "ml-100k.item")
    titles, years = [], []
    for title, year in zip(it["movie_title"], it["release_year"], strict=True):
        title = _RECBOLE_TYPOS.get(title, title)
        if not re.fullmatch(r"\d{4}", year):  # "V" (video) or "unkonwn": the year sits in the title
            title, parsed = split_title_year(title)
            years.append(parsed)
        else:
            years.append(int(year))
        titles.append(title)
    us = _atomic(folder / "ml-100k.user")
    return RawDataset(
        "ml-100k",
        inter,
        _items(it["item_id"], titles, years, (_genres(g, " ") for g in it["class"])),
        _users(us["user_id"], us["age"], us["gender"], us["occupation"], us["zip_code"]),
        source=str(folder),
    )


def _ml100k_grouplens(folder: Path, scale: tuple[float, float]) -> RawDataset:
    inter = read_ratings(folder / "u.data", _U_DATA, scale, lambda: _rating_rows(
        (folder / "u.data").read_text("latin-1"), "\t"))
    item_cols = ["id", "title", "date", "video", "url", *ML100K_GENRES]
    it = _frame((folder / "u.item").read_text("latin-1"), "|", item_cols)
    flags = it[list(ML100K_GENRES)].to_numpy() == "1"
    titles, years = [], []
    for raw, date in zip(it["title"], it["date"], strict=True):
        title, year = split_title_year(raw)
        if year is None and re.search(r"\d{4}$", date):  # no year in the title: release date
            year = int(date[-4:])
        titles.append(title)
        years.append(year)
    genres = [[g for g, on in zip(ML100K_GENRES, row, strict=True) if on and g not in NO_GENRE] for row in flags]
    us = _frame((folder / "u.user").read_text("latin-1"), "|", ["id", "age", "g", "occ", "zip"])
    return RawDataset(
        "ml-100k",
        inter,
        _items(it["id"], titles, years, genres),
        _users(us["id"], us["age"], us["g"], us["occ"], us["zip"]),
        source=str(folder),
    )


# ---------------------------------------------------------------- MovieLens-1M
def load_ml1m(path: Path | str, rating_scale: tuple[float, float] | None = None) -> RawDataset:
    """MovieLens-1M ``::``-separated latin-1 files; occupation codes mapped to README names."""
    folder = _resolve(path, "ml-1m", ("ratings.dat", "movies.dat", "users.dat"))
    r = read_ratings(folder / "ratings.dat", _RATINGS_DAT,
                     cast("tuple[float, float]", tuple(rating_scale or RATING_SCALES["ml-1m"])),
                     lambda: _rating_rows(
                         (folder / "ratings.dat").read_bytes().decode("latin-1")
                         .replace("::", "\t"), "\t"))
    m = _dat(folder / "movies.dat", ["id", "title", "genres"])
    u = _dat(folder / "users.dat", ["id", "gender", "age", "occ", "zip"])
    parsed = [split_title_year(t) for t in m["title"]]
    codes = u["occ"].astype(int)
    if not codes.between(0, len(ML1M_OCCUPATIONS) - 1).all():
        bad = u.loc[~codes.between(0, len(ML1M_OCCUPATIONS) - 1), "occ"].iloc[0]
        raise DataError(f"ml-1m: {folder / 'users.dat'} has occupation code {bad!r} (not 0-20)",
                        f"re-download {URLS['ml-1m']}; the file looks corrupted")
    return RawDataset(
        "ml-1m",
        r,
        _items(m["id"], (t for t, _ in parsed), (y for _, y in parsed),
               (_genres(g, "|") for g in m["genres"])),
        _users(u["id"], u["age"], u["gender"], [ML1M_OCCUPATIONS[c] for c in codes], u["zip"]),
        source=str(folder),
    )


# ---------------------------------------------------------------- MovieLens-25M
def str_categories(ids: np.ndarray) -> pd.Categorical:
    """Integer ids as a Categorical of their decimal strings, categories in string order.

    Why: 25M Python ``str`` objects cost ~1.5 GB per column and seconds to build; the
    Categorical holds int32 codes plus one string per distinct id (~162K users, ~59K movies),
    compares equal to ``str`` ids, and sorts like them (``pd.factorize(sort=True)`` in the
    splitter gives the same ids as on plain strings). ``.astype(str)`` recovers plain strings.
    Measured on a synthetic 1M-row ratings.csv (this machine): read_csv with int32 ids 0.65 s,
    ids -> Categorical 0.2 s, frame 40 MB; ``.astype(str)`` instead 0.6 s and 123 MB more;
    reading ids with dtype=str 1.4 s. So ml-25m loads in roughly 25 s.
    """
    codes, uniques = pd.factorize(ids)
    names = np.asarray(uniques).astype(str)
    order = np.argsort(names, kind="stable")
    rank = np.empty(len(order), dtype=np.int32)
    rank[order] = np.arange(len(order), dtype=np.int32)
    return pd.Categorical.from_codes(rank[codes], categories=pd.Index(names[order], dtype=object))


def load_ml25m(path: Path | str, rating_scale: tuple[float, float] | None = None) -> RawDataset:
    """MovieLens-25M CSVs (no user file). User/item ids come back as str Categoricals (see above)."""
    folder = _resolve(path, "ml-25m", ("ratings.csv", "movies.csv"))

    def parse() -> pd.DataFrame:
        r = pd.read_csv(folder / "ratings.csv", engine="c",
                        usecols=["userId", "movieId", "rating", "timestamp"],
                        dtype={"userId": np.int32, "movieId": np.int32, "rating": np.float32,
                               "timestamp": np.int64})
        return _interactions(str_categories(r["userId"].to_numpy()),
                             str_categories(r["movieId"].to_numpy()), r["rating"].to_numpy(),
                             r["timestamp"].to_numpy())

    inter = read_ratings(folder / "ratings.csv", _RATINGS_CSV,
                         cast("tuple[float, float]",
                              tuple(rating_scale or RATING_SCALES["ml-25m"])), parse)
    m = pd.read_csv(folder / "movies.csv", engine="c", usecols=["movieId", "title", "genres"],
                    dtype=str, keep_default_na=False, encoding="utf-8")
    parsed = [split_title_year(t) for t in m["title"]]
    return RawDataset(
        "ml-25m",
        inter,
        _items(m["movieId"], (t for t, _ in parsed), (y for _, y in parsed),
               (_genres(g, "|") for g in m["genres"])),
        None,
        source=str(folder),
    )
