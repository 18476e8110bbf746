"""The explanation track's judge step: rate the first pairs' texts, add rows, per-user arrays,
a "judge" field to each sample and the judge's label to the result's info.

Rows (protocol of the track, k None): judge_usefulness, judge_accuracy, judge_clarity (mean of
the readable ratings, n = how many), judge_unrated_rate (share of (pair, criterion) ratings the
judge's answer did not give, n = rated pairs); with ``rate_references`` the same for the
reference texts, suffixed ``_reference`` (a calibration: a judge that cannot tell references
from model text says little).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from benchmark.judge.base import CRITERIA, JudgeRequest, Rating
from benchmark.judge.prompt import MAX_LIKED
from benchmark.judge.settings import JudgeSettings, make_judge
from benchmark.results import TrackResult


def summarise(ratings: list[Rating], suffix: str = "") -> dict[str, tuple[float, int]]:
    """metric -> (value, n): the mean rating per criterion over readable ones, unrated share."""
    out: dict[str, tuple[float, int]] = {}
    for c in CRITERIA:
        got = [v for r in ratings if (v := r.values[c]) is not None]
        if got:
            out[f"judge_{c}{suffix}"] = (float(np.mean(got)), len(got))
    missing = sum(len(r.unrated) for r in ratings)
    out[f"judge_unrated_rate{suffix}"] = (missing / max(1, len(ratings) * len(CRITERIA)),
                                          len(ratings))
    return out


def requests_for(samples: list[dict], field: str = "explanation") -> list[JudgeRequest]:
    """The judge's view of each sample: title, text, liked titles and item genres (stored by
    the track's judge step; older samples without them show neither)."""
    return [JudgeRequest(str(s["title"]), str(s.get(field) or ""),
                         tuple(s.get("judge_context") or ()),
                         tuple(s.get("judge_item_genres") or ())) for s in samples]


def judge_explanations(s: JudgeSettings, result: TrackResult, protocol: str,
                       samples: list[dict], builder, cache_dir: Path | None = None,
                       progress: bool = False) -> None:
    """Rate ``samples`` (this track's, in pair order) in place and extend ``result``."""
    t0 = time.perf_counter()
    judge = make_judge(s, cache_dir, progress=bool(progress))
    chosen = samples[:s.max_pairs]
    for smp in chosen:
        liked = builder.liked_history(int(smp["user"]))[-MAX_LIKED:]
        smp["judge_context"] = [builder.titles[i] for i in liked]
        smp["judge_item_genres"] = list(builder.genres[int(smp["item"])])
    parts = [("", "explanation", "judge")]
    if s.rate_references:
        parts.append(("_reference", "reference", "judge_reference"))
    for suffix, field, key in parts:
        ratings = judge.rate(requests_for(chosen, field))
        for metric, (value, n) in summarise(ratings, suffix).items():
            result.add(protocol, metric, value=value, n=n)
        for c in CRITERIA:
            arr = np.full(len(samples), np.nan)
            arr[:len(ratings)] = [np.nan if r.values[c] is None else r.values[c]
                                  for r in ratings]
            result.keep(protocol, f"judge_{c}{suffix}", arr)
        for r, smp in enumerate(samples):
            smp[key] = ratings[r].to_json() if r < len(ratings) else None
    result.info["explanation_judge"] = {
        **judge.label(), "criteria": list(CRITERIA), "rated_pairs": len(chosen),
        "selection": f"the first {len(chosen)} of the track's {len(samples)} seeded pairs",
        "rate_references": s.rate_references, "seconds": time.perf_counter() - t0}
