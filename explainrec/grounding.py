"""Grounded explanations: cite only the item's and the user's history's titles and attributes.

The terms an explanation can cite are every title, genre (category) and decade of the
catalogue, matched like the explanation track matches them (``TermMatcher``: whole words,
case-insensitive). A citation is grounded when it belongs to the target item or to the user's
history (train + valid). An ungrounded one is replaced: a title by the user's most recent liked
title that shares a genre with the item (the strongest attribution of the prompt), a genre by
the item's first genre, a decade by the item's. Counts before repair give the model's own
grounding rate, reported in ``fit_info()["explanation_grounding"]``.

A title is cited only as written in the catalogue (its capitalisation) and not inside a hyphenated
word: many titles are common words, and "a heavy-handed tone" does not cite *Heavy* (1995), nor
should it be rewritten into another title. Genres and decades match case-insensitively.
"""

from __future__ import annotations

import re

from benchmark.explain.silver import SilverBuilder, decade
from benchmark.metrics.explanation import TermMatcher
from explainrec.data import ItemTable


class Grounder:
    def __init__(self, terms: SilverBuilder, items: ItemTable) -> None:
        self.terms, self.items = terms, items
        genres = sorted({g for gs in terms.genres for g in gs})
        decades = sorted({d for y in terms.years if (d := decade(y))})
        self.matcher = TermMatcher(genres + terms.titles + decades)
        self.kinds = {**{x.lower(): "title" for x in terms.titles},
                      **{x.lower(): "genre" for x in genres},
                      **{x.lower(): "decade" for x in decades}}
        self.counts = {"cited": 0, "grounded": 0, "repaired": 0, "texts": 0}

    def allowed(self, user: int, item: int) -> set[str]:
        return {x.lower() for x in self.terms.item_terms(item) | self.terms.history_terms(user)}

    def __call__(self, user: int, item: int, text: str, recent: tuple) -> str:
        """``text`` with every ungrounded citation replaced; ``recent`` = (items, liked) of the
        prompt's history."""
        allowed = self.allowed(user, item)
        cited = self.citations(text)
        bad = [c for c in cited if c.lower() not in allowed]
        self.counts["texts"] += 1
        self.counts["cited"] += len(cited)
        self.counts["grounded"] += len(cited) - len(bad)
        for term in dict.fromkeys(bad):
            repl = self.replacement(item, self.kinds.get(term.lower(), ""), recent)
            if self.kinds.get(term.lower()) == "title":
                text = re.sub(_title_pattern(term), repl, text)
            else:
                text = re.sub(r"(?<!\w)" + re.escape(term) + r"(?!\w)", repl, text,
                              flags=re.IGNORECASE)
            self.counts["repaired"] += 1
        return text

    def citations(self, text: str) -> list[str]:
        """The catalogue terms ``text`` cites, in order (titles only as titles, see above: a
        title counts as often as it is written as one, not as often as its word appears)."""
        as_title: dict[str, int] = {}  # title -> its title-written occurrences not yet counted
        out = []
        for c in self.matcher.find(text):
            if self.kinds.get(c.lower()) == "title":
                if c not in as_title:
                    as_title[c] = title_count(text, c)
                if as_title[c] == 0:
                    continue
                as_title[c] -= 1
            out.append(c)
        return out

    def replacement(self, item: int, kind: str, recent: tuple) -> str:
        genres = self.items.genres[item]
        if kind == "title":
            hist, liked = recent
            pool = [h for h, ok in zip(hist, liked) if ok] or list(hist)
            close = [h for h in pool if set(self.items.genres[h]) & set(genres)]
            return self.items.titles[(close or pool)[-1]] if pool else self.items.titles[item]
        if kind == "genre":
            return genres[0] if genres else "this kind of"
        if kind == "decade":
            return decade(self.items.years[item]) or "same era"
        return ""

    def report(self) -> dict:
        c = self.counts
        return {**c, "raw_grounding_rate": c["grounded"] / c["cited"] if c["cited"] else None}


def _title_pattern(title: str) -> str:
    return r"(?<![\w-])" + re.escape(title) + r"(?![\w-])"


def title_count(text: str, title: str) -> int:
    """How often ``text`` names ``title`` as a title: with the catalogue's capitalisation, not
    as part of a hyphenated word."""
    return len(re.findall(_title_pattern(title), text))
