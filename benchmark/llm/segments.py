"""Prompt segments (text pieces and soft-token indices); light: no torch import."""

from __future__ import annotations

#: a prompt: text pieces and soft-token indices, in order
Segments = list


def merge_segments(segs: Segments) -> Segments:
    """Adjacent text pieces joined, so each is tokenized once and merges across them happen."""
    out: Segments = []
    for s in segs:
        if isinstance(s, str) and out and isinstance(out[-1], str):
            out[-1] += s
        else:
            out.append(s)
    return out
