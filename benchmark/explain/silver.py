"""Silver explanation references for datasets without review text (MovieLens), version silver-v1.

MovieLens has no text a user wrote about an item, so the reference for a (user, item) pair is
built deterministically from the attributes linking the user's liked history (train + valid
items rated >= the like threshold; all history items if none is liked) to the item:

1. shared genres: the item's genres that occur in the liked history, most frequent there first
   (ties by name), at most two;
2. similar liked titles: liked history items sharing the most genres with the item (Jaccard),
   then the closest year, then the most recent interaction, at most two;
3. era: the item's decade, mentioned when at least a quarter of the liked history is from it.

"for" text:  "<Title> matches your taste for <g1> and <g2> films, like <T1> and <T2> that you
enjoyed[, and it is from the <1990s>, an era you often watch]."  With no shared genre:
"<Title> is a <genres> film, unlike <T1> that you enjoyed." (one title, the most recent liked).
"against" text (the contrastive half): "<Title> may not suit you: you rarely watch <genres not
in the history> films." or, when every genre is shared, "<Title> may not suit you: it is from the
<decade>, an era you rarely watch." or "... : it is far from your favourite genre <top genre>.".

The ground-truth feature of a pair (for FMR) is the first shared genre, else the item's first
genre. Change the wording or the rules => bump ``SILVER_VERSION`` (results are not comparable).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np
import pandas as pd

from benchmark.data.types import Catalog, Interactions
from benchmark.errors import DataError

SILVER_VERSION = "silver-v1"


@dataclass(frozen=True)
class SilverReference:
    text: str  # the "for" reference
    against: str  # the contrastive "against" reference
    feature: str | None  # ground-truth feature for FMR
    cited: tuple[str, ...]  # attributes and titles the reference cites


def attribute_list(value) -> list[str]:
    """Genre (or category) names; nested category paths (Amazon) are flattened, order kept."""
    out: list[str] = []
    if isinstance(value, (list, tuple, np.ndarray)):
        for g in value:
            for x in (attribute_list(g) if isinstance(g, (list, tuple, np.ndarray)) else [str(g)]):
                if x not in out:
                    out.append(x)
    return out


def _year(value) -> int | None:
    try:
        if value is None or pd.isna(value):
            return None
        return int(value)
    except (TypeError, ValueError):
        return None


def _join(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def decade(year: int | None) -> str | None:
    return None if year is None else f"{year // 10 * 10}s"


class SilverBuilder:
    """Builds silver references from a catalog and each user's history."""

    def __init__(self, catalog: Catalog, history: Interactions, strict: bool = True) -> None:
        """strict=False (review references only need titles and attributes for the feature
        measures): items without metadata get their raw id as title and no attributes."""
        items = catalog.items
        self.genres: list[list[str]]
        self.years: list[int | None]
        column = "genres" if items is not None and "genres" in items.columns else "categories"
        if items is None or "title" not in items.columns or column not in items.columns:
            if strict:
                raise DataError("silver references need item titles and genres (or categories) "
                                "in the catalog", "use a MovieLens or Amazon dataset with metadata")
            self.titles = [str(i) for i in catalog.item_ids]
            self.genres = [[] for _ in self.titles]
            self.years = [None] * len(self.titles)
        else:
            self.titles = [str(t) if isinstance(t, str) and t else str(i)
                           for t, i in zip(items["title"], catalog.item_ids)]
            self.genres = [attribute_list(g) for g in items[column]]
            self.years = [_year(y) for y in items["year"]] if "year" in items.columns else \
                [None] * len(self.titles)
        f = history.frame
        order = np.lexsort((np.arange(len(f)), f["timestamp"].to_numpy(), f["user"].to_numpy()))
        self._users = f["user"].to_numpy()[order]
        self._items = f["item"].to_numpy()[order]
        self._liked = (f["rating"].to_numpy() >= history.like_threshold)[order]

    def liked_history(self, user: int) -> np.ndarray:
        """The user's liked history items in time order (all history if none is liked)."""
        lo, hi = np.searchsorted(self._users, [user, user + 1])
        items, liked = self._items[lo:hi], self._liked[lo:hi]
        return items[liked] if liked.any() else items

    def history_terms(self, user: int) -> set[str]:
        """Titles, genres and decades of the user's whole history (for grounding)."""
        lo, hi = np.searchsorted(self._users, [user, user + 1])
        out: set[str] = set()
        for i in self._items[lo:hi]:
            out.add(self.titles[i])
            out.update(self.genres[i])
            d = decade(self.years[i])
            if d:
                out.add(d)
        return out

    def item_terms(self, item: int) -> set[str]:
        out = {self.titles[item], *self.genres[item]}
        d = decade(self.years[item])
        if d:
            out.add(d)
        return out

    def build(self, user: int, item: int) -> SilverReference:
        hist = self.liked_history(user)
        title, genres, year = self.titles[item], self.genres[item], self.years[item]
        counts = Counter(g for h in hist for g in self.genres[h])
        shared = sorted((g for g in genres if counts[g] > 0), key=lambda g: (-counts[g], g))[:2]
        item_set = set(genres)

        def closeness(pos_h):
            pos, h = pos_h
            hs = set(self.genres[h])
            union = hs | item_set
            jacc = len(hs & item_set) / len(union) if union else 0.0
            gap = abs(self.years[h] - year) if (self.years[h] is not None and year is not None) \
                else 10_000
            return (-jacc, gap, -pos)

        candidates = [(p, h) for p, h in enumerate(hist) if h != item]
        ranked = [h for _, h in sorted(candidates, key=closeness)]
        era = decade(year)
        era_share = (sum(decade(self.years[h]) == era for h in hist) / len(hist)
                     if len(hist) and era else 0.0)
        cited: list[str] = [title]
        if shared and ranked:
            similar = [self.titles[h] for h in ranked[:2]]
            text = (f"{title} matches your taste for {_join(shared)} films, like "
                    f"{_join(similar)} that you enjoyed")
            cited += shared + similar
            if era_share >= 0.25 and era:  # a share above 0 implies an era
                text += f", and it is from the {era}, an era you often watch"
                cited.append(era)
            text += "."
        else:
            kinds = _join(genres) if genres else "different kind of"
            recent = [self.titles[h] for _, h in candidates[-1:]]
            text = f"{title} is a {kinds} film" + (
                f", unlike {recent[0]} that you enjoyed." if recent else ".")
            cited += genres + recent
        unseen = [g for g in genres if counts[g] == 0]
        if unseen:
            against = f"{title} may not suit you: you rarely watch {_join(unseen)} films."
        elif era and era_share < 0.1:
            against = f"{title} may not suit you: it is from the {era}, an era you rarely watch."
        else:
            top = counts.most_common(1)[0][0] if counts else "usual"
            against = f"{title} may not suit you: it is far from your favourite genre {top}."
        feature = shared[0] if shared else (genres[0] if genres else None)
        return SilverReference(text, against, feature, tuple(cited))
