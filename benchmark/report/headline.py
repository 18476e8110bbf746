"""The headline metrics: the few numbers a reader (and the regression gate) looks at first.

One definition for the console table at the end of `recbench run` and the gated family of
`recbench check`, so that what the user is shown first is what the gate protects. Each track
declares its own (``TrackMeta.headline``); this reads them.
"""

from __future__ import annotations

from benchmark.registry import TRACKS, track_meta

#: (track, protocol, metric, k); protocol "*" = any protocol of the track
Column = tuple[str, str, str, int | None]


def console_order(tracks: list[str]) -> list[str]:
    """``tracks`` as the console shows them: by declared rank, then in the suite's order."""
    return sorted(tracks, key=lambda t: track_meta(t).console_rank)


def console_columns(tracks: list[str]) -> list[Column]:
    """(track, protocol, metric, k) of the console table for a suite running ``tracks``."""
    return [(t, h.protocol, h.metric, h.k) for t in console_order(tracks)
            for h in track_meta(t).headline if h.console]


def is_headline(track: str, protocol: str, metric: str, k: int | None) -> bool:
    """Whether a quality metric belongs to the headline family that `recbench check` gates."""
    return track in TRACKS and any(h.matches(protocol, metric, k)
                                   for h in track_meta(track).headline)
