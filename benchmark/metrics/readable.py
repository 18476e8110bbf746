"""Is an explanation something a person would read? A floor, not a quality score.

A text counts as readable when it has at least ``min_words`` words, starts like a sentence (a
letter, digit or quote, and not the tail of a title that was cut off), and names the item (its title, with
MovieLens' "Usual Suspects, The" also matched as "The Usual Suspects") or one of its genres /
categories. A fragment of a title such as ``, The (1995)" is a movie: Drama.`` fails on all three.
The explanation track reports the share of readable texts (``readable_rate``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_WORD = re.compile(r"[^\W_]+(?:['’-][^\W_]+)*")
_YEAR = re.compile(r"\s*\(\d{4}\)\s*$")
_ARTICLE = re.compile(r"^(?P<body>.+), (?P<art>The|A|An|Les|La|Le|Il|Das|Der|Die|El)$")


def title_forms(title: str) -> list[str]:
    """Lower-case ways a text may write ``title``: without its year, article moved to front."""
    core = _YEAR.sub("", title or "").strip()
    forms = {core.lower()}
    m = _ARTICLE.match(core)
    if m:
        forms.add(f"{m['art']} {m['body']}".lower())
        forms.add(m["body"].lower())
    return sorted(f for f in forms if f)


def names_item(text: str, title: str, genres: Sequence[str]) -> bool:
    """True when ``text`` contains a form of the title or a genre (or its plural) as a word."""
    low = (text or "").lower()
    for form in title_forms(title):
        if form in low:
            return True
    for g in genres:
        if g and re.search(rf"(?<!\w){re.escape(g.lower())}(?:s|es)?(?!\w)", low):
            return True
    return False


def continues_title(text: str, title: str) -> bool:
    """True when ``text`` starts with the tail of ``title`` cut after a space or comma (the
    text goes on from a title that was split), e.g. 'Suspects, The (1995)" is ...'."""
    for k in range(1, len(title)):
        tail = title[k:].strip()
        if title[k - 1] in " ," and len(tail) >= 3 and text.startswith(tail):
            return True
    return False


def readable(text: str, title: str, genres: Sequence[str], min_words: int = 6) -> bool:
    """A sentence of at least ``min_words`` words that names the item or one of its genres."""
    stripped = (text or "").strip()
    if not stripped or not (stripped[0].isalnum() or stripped[0] in "\"'“‘"):
        return False
    if continues_title(stripped, title or ""):
        return False
    return len(_WORD.findall(stripped)) >= min_words and names_item(stripped, title, genres)
