"""Generated text cut to whole sentences: decoding stops at a token limit, mid-sentence.

A model's explanation ends wherever ``max_new_tokens`` ran out ("... a crime drama with a dark
and gritty"). Shown to a person, or scored for readability, a cut-off clause reads as a
fragment, so generated explanations keep their complete sentences only. Text after a blank line
(a small model starting a new, unrelated block) is dropped first. When no sentence is complete
the text is returned unchanged (and a readability check will count it as what it is).
"""

from __future__ import annotations

import re

_END = re.compile(r"[.!?][\"'”’)]*(?=\s|$)")


def whole_sentences(text: str, skip: int = 0) -> str:
    """``text`` up to its last complete sentence; sentence ends inside the first ``skip``
    characters (a title such as "G.I. Jane" that the text starts with) do not count."""
    block = re.split(r"\n\s*\n", (text or "").strip(), maxsplit=1)[0]
    flat = re.sub(r"\s+", " ", block).strip()
    ends = [m.end() for m in _END.finditer(flat) if m.start() >= skip]
    return flat[:ends[-1]] if ends else flat
