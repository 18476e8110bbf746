"""The TALLRec track: a model trained and tested on the TALLRec protocol's own samples.

Rows: track "tallrec", protocol "tallrec", metric "auc" (k None, n = test samples). Only models
with the ``samples`` ability (``benchmark.models.abilities.SampleScorer``: ``fit_samples`` /
``score_samples``; TALLRec, ExplainRec and the prompt-information baselines) take part; any other
model is skipped and the skip is recorded in the result's info (a suite entry that names this
track for such a model is an error at suite validation).
The model is a fresh instance (``ctx.build_model("tallrec")``): it never sees the harness split
here; its training time goes to ``ctx.extra_fit_seconds["tallrec"]`` and the result's info.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from pydantic import Field

from benchmark.config.base import Strict
from benchmark.llm.cache import cache_stats
from benchmark.metrics.pointwise import auc
from benchmark.models.abilities import SampleScorer
from benchmark.models.capability import Capability
from benchmark.protocols import tallrec as proto
from benchmark.track_meta import Headline, TrackMeta, quality_metrics
from benchmark.tracks.base import MetricRow, TrackContext, TrackResult
from benchmark.tracks.common import check_scores


class TallrecSettings(Strict):
    #: score only the first N test samples (None = all 1,000); for quick checks only
    max_test_samples: int | None = Field(None, gt=0)
    #: score a fixed subset of N test questions, drawn with ``subset_seed`` (not the run seed),
    #: so every model and seed of a suite answers the same questions; size and hash recorded
    test_subset: int | None = Field(None, gt=0)
    subset_seed: int = 0
    #: how many test samples (prompt, label, score) go to samples.jsonl
    keep_samples: int = Field(20, ge=0)


class TallrecTrack:
    name = "tallrec"
    Settings = TallrecSettings
    requires = frozenset({Capability.SAMPLES})
    #: AUC gated only (no console column): suites that run only TALLRec need a headline
    meta = TrackMeta(metrics=quality_metrics("auc"),
                     headline=(Headline("tallrec", "auc", console=False),))

    def __init__(self, settings: TallrecSettings, work_dir: Path | None, progress=None) -> None:
        self.s = settings
        self.progress = progress

    def run(self, ctx: TrackContext) -> TrackResult:
        result = TrackResult()
        model = ctx.build_model("tallrec")  # its own work folder: <run>/tallrec
        if not isinstance(model, SampleScorer):
            result.info["tallrec_skipped"] = (f"model {model.name!r} does not implement "
                                              "fit_samples/score_samples")
            return result
        data = proto.load_protocol(ctx.require_data())
        ctx.prepared(model)
        test, subset = test_questions(data.test, self.s)
        t0 = time.perf_counter()
        model.fit_samples(data.train, data.valid, data.titles, seed=ctx.seed)
        train_s = time.perf_counter() - t0
        ctx.extra_fit_seconds["tallrec"] = train_s
        before = cache_stats()
        t0 = time.perf_counter()
        scores = check_scores(model.score_samples(test), model.name, (len(test),))
        infer_s = time.perf_counter() - t0
        hits = cache_stats()["hits"] - before["hits"]
        labels = np.array([s.liked for s in test])
        result.rows.append(MetricRow("tallrec", "tallrec", "auc", None, auc(labels, scores),
                                     len(test)))
        result.inference_seconds, result.inference_calls = infer_s, 1
        result.info["tallrec"] = {
            **data.info(), "n_test_scored": len(test), "test_subset": subset,
            "train_seconds": train_s,
            "inference_seconds": infer_s,
            # a cached answer costs a database read, not a forward pass: no latency then
            "latency_ms_per_request": None if hits else 1000 * infer_s / len(test),
            "served_from_cache": f"{hits} of {len(test)} test answers",
            "fit": model.fit_info()}
        item_index = {str(r): i for i, r in enumerate(ctx.split.catalog.item_ids)}
        for s, score in list(zip(test, scores))[: self.s.keep_samples]:
            result.samples.append({
                "protocol": "tallrec", "user_raw": s.user, "item_raw": s.item,
                "item": item_index.get(s.item), "title": data.titles[s.item],
                "prompt": proto.prompt(s, data.titles), "reference": proto.answer(s),
                "prediction": float(score)})
        return result


def test_questions(test: list, s: TallrecSettings) -> tuple[list, dict]:
    """The questions a model answers, and how they were chosen (size, seed, content hash)."""
    import hashlib

    chosen = test[: s.max_test_samples]
    how = "all" if s.max_test_samples is None else f"first {s.max_test_samples}"
    if s.test_subset is not None and s.test_subset < len(chosen):
        pick = np.sort(np.random.default_rng(s.subset_seed).permutation(len(chosen))
                       [: s.test_subset])
        chosen = [chosen[i] for i in pick]
        how = f"seeded subset of {s.test_subset} (subset_seed {s.subset_seed})"
    ids = "\n".join(f"{q.user}\t{q.item}\t{q.timestamp}" for q in chosen)
    return chosen, {"n": len(chosen), "of": len(test), "chosen": how,
                    "sha256": hashlib.sha256(ids.encode()).hexdigest()[:12],
                    "yes": int(sum(q.liked for q in chosen))}
