"""The headline metrics: the few numbers a reader (and the regression gate) looks at first.

One definition for the console table at the end of `recbench run` and the gated family of
`recbench check`, so that what the user is shown first is what the gate protects.
"""

from __future__ import annotations

#: (track, protocol, metric, k)
Column = tuple[str, str, str, int | None]

#: accuracy track: (protocol, metric, k)
HEADLINE: list[tuple[str, str, int | None]] = [
    ("full", "ndcg", 10), ("full", "recall", 10), ("full", "hit", 10),
    ("sampled", "ndcg", 10), ("pointwise", "auc", None), ("pointwise", "gauc", None)]
#: one headline per other track, shown when the suite runs it: (track, protocol, metric, k);
#: protocol "*" = any protocol of the track
TRACK_HEADLINE: dict[str, list[Column]] = {
    "cold_start": [("cold_start", "new_user", "auc", None), ("cold_start", "new_item", "auc", None),
                   ("cold_start", "cross_domain", "auc", None)],
    "explanation": [("explanation", "*", "bleu4", None), ("explanation", "*", "rouge_l", None)],
    "efficiency": [("efficiency", "*", "latency_ms_p50", None)],
    "alignment": [("alignment", "target", "next_hit", 5), ("alignment", "target", "interest_acc",
                                                           None)],
}
#: gated besides the console's columns: the sequential protocols' NDCG@10 and TALLRec's AUC
#: (suites that run only those would otherwise have no headline to gate)
EXTRA_GATED: list[Column] = [("accuracy", "next_item", "ndcg", 10),
                             ("accuracy", "next_item_masked", "ndcg", 10),
                             ("tallrec", "tallrec", "auc", None)]


def console_columns(tracks: list[str]) -> list[tuple[str, str, str, int | None]]:
    """(track, protocol, metric, k) of the console table for a suite running ``tracks``."""
    cols = [("accuracy", p, m, k) for p, m, k in HEADLINE] if "accuracy" in tracks else []
    for track in tracks:
        cols += TRACK_HEADLINE.get(track, [])
    return cols


def is_headline(track: str, protocol: str, metric: str, k: int | None) -> bool:
    """Whether a quality metric belongs to the headline family that `recbench check` gates."""
    wanted = [("accuracy", p, m, kk) for p, m, kk in HEADLINE] + EXTRA_GATED
    for rows in TRACK_HEADLINE.values():
        wanted += rows
    return any(t == track and p in ("*", protocol) and m == metric and kk == k
               for t, p, m, kk in wanted)
