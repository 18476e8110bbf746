"""Examples for both protocols: one (history, target) question with its side information.

ExplainRec trains and scores on the harness split (``fit``/``score``) and on the TALLRec protocol
(``fit_samples``/``score_samples``). Both are turned into the same ``Example`` over an
``ItemTable`` (titles, genres, years) and a ``UserTable`` (demographic groups), so every component
works the same way on either. Like the TALLRec model, a harness example is a rating with the
user's 10 previous ratings as history.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from benchmark.data.dataset import DatasetData
from benchmark.data.demographics import age_band
from benchmark.data.types import Catalog, Interactions
from benchmark.errors import DataError

HISTORY = 10
#: (users, items, liked, timestamps) arrays of rated pairs
Pairs = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
GROUP_TYPES = ("age", "gender", "occupation")


@dataclass(frozen=True)
class Example:
    user: int  # row of the UserTable (-1 when unknown)
    history: tuple[int, ...]  # item rows, oldest first
    history_liked: tuple[bool, ...]
    item: int
    liked: bool
    rating: float  # 1-5, NaN when unknown
    timestamp: int


@dataclass
class ItemTable:
    """Row i = item i: the plain title (as the silver references cite it), "Title (Year)",
    genre list and year."""

    titles: list[str]
    display: list[str]
    genres: list[list[str]]
    years: list[int | None]

    @classmethod
    def from_frame(cls, items: pd.DataFrame | None, n_items: int) -> ItemTable:
        from benchmark.explain.silver import attribute_list
        from benchmark.llm.pretrain import title_with_year

        if items is None or "title" not in items.columns or len(items) != n_items:
            raise DataError("ExplainRec needs item titles (and genres) in the catalogue",
                            "use a dataset with item metadata (MovieLens, Amazon)")
        column = "genres" if "genres" in items.columns else "categories"
        genres = [attribute_list(g) for g in items[column]] if column in items.columns \
            else [[] for _ in range(n_items)]
        years: list[int | None] = [None if pd.isna(y) else int(y) for y in items["year"]] \
            if "year" in items.columns else [None] * n_items
        titles = [str(t) for t in items["title"]]
        display = [title_with_year(t, y) for t, y in zip(titles, years)]
        return cls(titles, display, genres, years)

    def catalog(self) -> Catalog:
        frame = pd.DataFrame({"title": self.titles, "genres": self.genres,
                              "year": pd.array(self.years, dtype="Int64")})
        ids = np.array([str(i) for i in range(len(self.titles))])
        return Catalog(item_ids=ids, user_ids=np.array([], dtype=str), items=frame)


@dataclass
class UserTable:
    """Row u = user u: (age band, gender, occupation) names; "unknown" where absent."""

    groups: list[tuple[str, str, str]]

    @classmethod
    def from_frame(cls, users: pd.DataFrame | None, n_users: int) -> UserTable:
        if users is None or len(users) != n_users:
            return cls([("unknown age", "unknown", "unknown")] * n_users)
        ages = users["age"] if "age" in users.columns else [None] * n_users
        gender = users["gender"] if "gender" in users.columns else ["unknown"] * n_users
        occ = users["occupation"] if "occupation" in users.columns else ["unknown"] * n_users
        return cls([(age_band(a), str(g), str(o)) for a, g, o in zip(ages, gender, occ)])


def _by_user(part: Interactions):
    f = part.frame
    order = np.lexsort((np.arange(len(f)), f["timestamp"].to_numpy(), f["user"].to_numpy()))
    cols = [f[c].to_numpy()[order] for c in ("user", "item", "rating", "timestamp")]
    liked = part.liked()[order]
    bounds = np.flatnonzero(np.diff(cols[0])) + 1
    return zip(*(np.split(c, bounds) for c in (*cols, liked)))


def harness_examples(part: Interactions, history: int = HISTORY) -> list[Example]:
    """One example per rating with ``history`` earlier ratings of the same user (TALLRec rule)."""
    out = []
    for u, it, r, ts, liked in _by_user(part):
        for k in range(history, len(it)):
            out.append(Example(int(u[0]), tuple(int(x) for x in it[k - history:k]),
                               tuple(bool(x) for x in liked[k - history:k]), int(it[k]),
                               bool(liked[k]), float(r[k]), int(ts[k])))
    return out


def recent_history(part: Interactions, history: int = HISTORY) -> dict[int, tuple]:
    """user -> (last ``history`` items, their like labels), oldest first."""
    return {int(u[0]): (tuple(int(x) for x in it[-history:]),
                        tuple(bool(x) for x in liked[-history:]))
            for u, it, _, _, liked in _by_user(part) if len(u)}


def pairs_of(part: Interactions) -> Pairs:
    """(users, items, liked, timestamps) of every rating in ``part``."""
    f = part.frame
    return (f["user"].to_numpy().astype(np.int64), f["item"].to_numpy().astype(np.int64),
            part.liked(), f["timestamp"].to_numpy().astype(np.int64))


@dataclass
class ProtocolSide:
    """Side data of the TALLRec protocol: tables over the raw dataset's items and users."""

    items: ItemTable
    users: UserTable
    item_index: dict[str, int]
    user_index: dict[str, int]
    ratings: dict[tuple[str, str], float]

    @classmethod
    def from_data(cls, data: DatasetData) -> ProtocolSide:
        """The tables of the dataset being run, as the harness resolved it."""
        raw = data.raw()
        if raw.items is None:
            raise DataError(f"{data.name}: no item metadata", "use MovieLens for the protocol")
        item_index = {str(i): n for n, i in enumerate(raw.items.index)}
        users = raw.users
        user_index = {str(u): n for n, u in enumerate(users.index)} if users is not None else {}
        f = raw.interactions
        ratings = dict(zip(zip(f["user"].astype(str), f["item"].astype(str)),
                           f["rating"].astype(float)))
        return cls(ItemTable.from_frame(raw.items.reset_index(drop=True), len(item_index)),
                   UserTable.from_frame(None if users is None else users.reset_index(drop=True),
                                        len(user_index)),
                   item_index, user_index, ratings)

    def example(self, s) -> Example:
        """A TallrecSample (raw ids) as an Example; the rating is looked up in the raw data."""
        try:
            hist = tuple(self.item_index[i] for i in s.history)
            item = self.item_index[s.item]
        except KeyError as err:
            raise DataError(f"protocol sample cites item {err.args[0]!r} missing from the "
                            "catalogue", "rebuild the protocol from the same dataset") from None
        return Example(self.user_index.get(s.user, -1), hist, tuple(s.history_liked), item,
                       bool(s.liked), float(self.ratings.get((s.user, s.item), np.nan)),
                       int(s.timestamp))


def example_pairs(examples: list[Example]) -> Pairs:
    """(users, items, liked, timestamps) of the targets and histories of ``examples``, each
    (user, item) once: the ratings the protocol's training part reveals."""
    seen: dict[tuple[int, int], tuple[bool, int]] = {}
    for e in examples:
        for i, ok in zip(e.history, e.history_liked):
            seen.setdefault((e.user, i), (ok, e.timestamp))
        seen[(e.user, e.item)] = (e.liked, e.timestamp)
    keys = list(seen)
    return (np.array([k[0] for k in keys], dtype=np.int64),
            np.array([k[1] for k in keys], dtype=np.int64),
            np.array([seen[k][0] for k in keys], dtype=bool),
            np.array([seen[k][1] for k in keys], dtype=np.int64))


def interactions_from_pairs(users, items, liked, ts, n_users: int, n_items: int,
                            catalog: Catalog) -> Interactions:
    """An Interactions part from like labels (rating 5 = liked, 1 = not), for silver references."""
    frame = pd.DataFrame({"user": users.astype(np.int32), "item": items.astype(np.int32),
                          "rating": np.where(liked, 5.0, 1.0).astype(np.float32),
                          "timestamp": ts.astype(np.int64)})
    return Interactions(frame, n_users, n_items, 4.0, "all", catalog)
