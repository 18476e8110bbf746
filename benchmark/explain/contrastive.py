"""Contrastive explanations (a reason for and a reason against), written and parsed in one format.

An LR-Recsys-style model asks a language model for both halves in one answer::

    Positive: <why the user may like the item>
    Negative: <why the user may not>

``parse_contrastive`` reads that answer back. Anything else (a missing or empty half, the halves
in the wrong order, a repeated label) is *malformed*: the pair keeps the raw text and
``malformed=True``, so the explanation track records it (and scores its halves as empty) instead
of dropping the sample.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

FOR_LABEL = "Positive:"
AGAINST_LABEL = "Negative:"
_LABEL = re.compile(r"(?im)^\s*(positive|negative)\s*:\s*")


@dataclass(frozen=True)
class ContrastivePair:
    """Both halves of a contrastive explanation; ``malformed`` pairs keep ``raw`` only."""

    for_text: str
    against_text: str
    raw: str = ""
    malformed: bool = False
    problem: str = ""  # why the raw text could not be parsed (empty when well formed)

    def halves(self) -> tuple[str, str]:
        return self.for_text, self.against_text


def format_contrastive(for_text: str, against_text: str) -> str:
    """The answer format the language model is trained to write."""
    return f"{FOR_LABEL} {for_text.strip()}\n{AGAINST_LABEL} {against_text.strip()}"


def malformed(raw: str, problem: str) -> ContrastivePair:
    return ContrastivePair("", "", raw=raw, malformed=True, problem=problem)


def parse_contrastive(raw: str) -> ContrastivePair:
    """Split ``raw`` into its "Positive:" and "Negative:" halves, or mark it malformed."""
    text = raw if isinstance(raw, str) else ""
    marks = list(_LABEL.finditer(text))
    labels = [m.group(1).lower() for m in marks]
    if labels.count("positive") != 1 or labels.count("negative") != 1:
        return malformed(text, f"expected one 'Positive:' and one 'Negative:' line, found "
                               f"{labels.count('positive')} and {labels.count('negative')}")
    if labels != ["positive", "negative"]:
        return malformed(text, "the 'Negative:' half comes before the 'Positive:' half")
    if text[:marks[0].start()].strip():
        return malformed(text, "text before the 'Positive:' label")
    pos = text[marks[0].end():marks[1].start()].strip()
    neg = text[marks[1].end():].strip()
    if not pos or not neg:
        return malformed(text, f"empty {'positive' if not pos else 'negative'} half")
    return ContrastivePair(pos, neg, raw=text)
