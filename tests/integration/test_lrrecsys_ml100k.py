"""LR-Recsys on real MovieLens-100K with the small fixture backbone trained here: the LM learns
the contrastive format from leak-free silver targets, and the accuracy and explanation tracks
run end to end (the measured run is the lead's suites/explainers.toml)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("torch")

from benchmark.data.split import SplitSpec, make_split  # noqa: E402
from benchmark.registry import build_model  # noqa: E402

# the fixture's recipe (full tuning at 3e-3 suits a model trained from scratch, not SmolLM2)
SMALL = {"dnn_train_pairs": 400, "dnn_valid_pairs": 200, "ae_epochs": 10,
         "backbone": "trained-here", "finetune": "full", "lm_lr": 3e-3}


@pytest.fixture(scope="module")
def split(raw_ml100k):
    return make_split(raw_ml100k, SplitSpec(strategy="chrono", seed=0))


@pytest.mark.slow  # a few minutes on a loaded 2-core machine (LM tuning + ~1,500 generations)
def test_tracks_end_to_end(split, tmp_path):
    from benchmark.explain.contrastive import parse_contrastive
    from benchmark.runner.prepare import resolve_dataset
    from benchmark.tracks.accuracy import AccuracySettings, AccuracyTrack
    from benchmark.tracks.base import TrackContext
    from benchmark.tracks.explanation import ExplanationSettings, ExplanationTrack

    params = {**SMALL, "cache_dir": str(tmp_path / "cache")}
    ctx = TrackContext(split=split, split_dir=tmp_path, dataset="ml-100k", seed=0,
                       max_eval_users=4, data=resolve_dataset("ml-100k"),
                       build_model=lambda *a: build_model("lrrecsys", params))
    model = ctx.fitted_model()
    info = model.fit_info()
    lm = info["lm"]
    assert lm["backbone"]["origin"].startswith("small model trained from scratch here")
    assert lm["backbone"]["pretrained"] is False
    assert lm["tuning"]["final_loss"] < 0.5 * lm["tuning"]["first_loss"]
    assert not parse_contrastive(lm["example_target"]).malformed
    assert info["malformed_fit"]["pairs"] == 600
    assert info["malformed_fit"]["rate"] < 0.5  # the tuned LM mostly writes both halves
    assert 0.5 < info["dnn"]["best_valid_auc"] <= 1.0

    acc = AccuracyTrack(AccuracySettings(ks=[10], protocols=["pointwise"]), tmp_path,
                        False).run(ctx)
    (auc_row,) = [r for r in acc.rows if r.metric == "auc"]
    assert 0.0 <= auc_row.value <= 1.0 and auc_row.n > 0
    exp = ExplanationTrack(ExplanationSettings(max_pairs=5, fidelity_candidates=5), None,
                           False).run(ctx)
    rows = {r.metric: r.value for r in exp.rows}
    assert {"bleu4_for", "rouge_l_for", "bleu4_against", "malformed_rate"} <= set(rows)
    assert all({"for", "against", "malformed", "prompt"} <= set(s) for s in exp.samples)
    assert all("Target movie" in s["prompt"] for s in exp.samples)
    # a second model with the same recipe reuses the tuned LM (cache) and scores identically
    again = build_model("lrrecsys", params)
    again.fit(split.train, split.valid, seed=0)
    assert "cached" in again.fit_info()["lm"]["tuning"]
    users, items = np.array([0, 1, 2]), np.array([10, 20, 30])
    np.testing.assert_allclose(again.score(users, items), model.score(users, items))
