"""Tracks declare their metrics, headlines and neutral settings; reports read only that."""

from __future__ import annotations

import numpy as np
import pytest

from benchmark.models.dummy import RandomRecommender
from benchmark.registry import TRACKS, metric_meta, track_class, track_meta
from benchmark.report.check_costs import cost_meta, cpu_twin, floor_for
from benchmark.report.comparable import reasons_not_comparable
from benchmark.report.headline import console_columns, is_headline
from benchmark.report.metric_meta import direction
from benchmark.report.runs import load_run
from benchmark.runner.fingerprint import result_settings
from benchmark.track_meta import JOB_METRICS, TrackMeta
from benchmark.tracks.accuracy import AccuracySettings, AccuracyTrack
from benchmark.tracks.base import TrackContext
from benchmark.tracks.efficiency import EfficiencySettings, EfficiencyTrack
from tests.unit.test_report import make_run

#: what each track emits (from its code), for the tracks too costly to run here (they need an
#: LM, a judge or an explainer); accuracy and efficiency are run below as well (the synthetic
#: chrono split has one label per test user: no GAUC, so pointwise is listed)
EMITTED = {
    "accuracy": ["auc", "gauc", "gauc_pairs"],
    "cold_start": ["hit", "ndcg", "mrr", "recall", "precision", "auc", "gauc", "gauc_pairs"],
    "tallrec": ["auc"],
    "alignment": ["item_title_acc", "history_coverage", "next_hit", "next_ndcg", "rank_ndcg",
                  "interest_acc", "interest_auc"],
    "explanation": [f"{m}{s}" for m in ("bleu1", "bleu4", "bleu1_sentence", "bleu4_sentence",
                                        "rouge1", "rouge2", "rouge_l", "grounding")
                    for s in ("", "_for", "_against")]
    + ["usr", "fmr", "fcr", "div", "readable_rate", "fidelity", "stance_rate", "alignment",
       "malformed_rate", "judge_usefulness", "judge_accuracy", "judge_clarity",
       "judge_unrated_rate", "judge_usefulness_reference", "judge_unrated_rate_reference"],
}
#: the directions the reports hard-coded before the tracks declared them
OLD_LOWER = {
    "train_seconds", "latency_ms_p50", "latency_ms_p95", "latency_ms_p99", "peak_memory_mb",
    "inference_seconds", "fit_seconds", "peak_rss_mb_fit", "peak_rss_mb_eval", "malformed_rate",
    "judge_unrated_rate", "judge_unrated_rate_reference", "train_cpu_seconds",
    "inference_cpu_seconds", "latency_cpu_ms_p50", "latency_cpu_ms_p95", "latency_cpu_ms_p99",
    "fit_cpu_seconds", "job_seconds", "job_cpu_seconds"}
OLD_NEUTRAL = {"params", "params_trainable", "n_parameters"}


def _emitted_by_a_small_run(split) -> dict[str, set[str]]:
    model = RandomRecommender({}, name="random")
    model.fit(split.train, split.valid, seed=0)
    acc = AccuracyTrack(AccuracySettings(ks=[5], protocols=["full", "next_item"]),
                        None, progress=False).evaluate(model, split)
    ctx = TrackContext(split=split, split_dir=None, dataset="synthetic", seed=0,  # type: ignore[arg-type]
                       max_eval_users=None, build_model=lambda *_: RandomRecommender({}))
    eff = EfficiencyTrack(EfficiencySettings(requests=3, warmup=0, throughput_users=4),
                          None, progress=False).run(ctx)
    return {"accuracy": {r.metric for r in acc.rows},
            "efficiency": {r.metric for r in eff.rows}}


def test_every_track_declares_every_metric_it_emits(split_synthetic):
    emitted = {t: set(v) for t, v in EMITTED.items()}
    for track, names in _emitted_by_a_small_run(split_synthetic).items():
        emitted.setdefault(track, set()).update(names)
    assert set(emitted) == set(TRACKS)  # a new track adds itself here
    for track, names in emitted.items():
        missing = sorted(n for n in names if track_meta(track).metric(n) is None)
        assert not missing, f"{track} emits undeclared metrics {missing}"


def test_declarations_keep_the_old_directions():
    every = {n for names in EMITTED.values() for n in names} | OLD_LOWER | OLD_NEUTRAL | {
        "throughput_users_per_s", "ndcg", "hit", "auc", "gauc"}
    for name in every:
        old = 0 if name in OLD_NEUTRAL else -1 if name in OLD_LOWER else 1
        assert direction(name) == old, name
        for track in TRACKS:  # a track's own reading agrees with the global one
            if track_meta(track).metric(name) is not None:
                assert direction(name, track) == old, (track, name)


def test_undeclared_track_and_metric_read_as_quality():
    assert track_meta("accuracy").metric("made_up") is None
    assert metric_meta("made_up").sign == 1 and metric_meta("made_up").cost == "none"
    assert TrackMeta().headline == () and TrackMeta().neutral_settings == frozenset()


def test_headlines_come_from_the_tracks():
    cols = console_columns(["efficiency", "cold_start", "accuracy", "tallrec"])
    assert cols[:6] == [("accuracy", "full", "ndcg", 10), ("accuracy", "full", "recall", 10),
                        ("accuracy", "full", "hit", 10), ("accuracy", "sampled", "ndcg", 10),
                        ("accuracy", "pointwise", "auc", None),
                        ("accuracy", "pointwise", "gauc", None)]
    assert cols[6:] == [("efficiency", "*", "latency_ms_p50", None),
                        ("cold_start", "new_user", "auc", None),
                        ("cold_start", "new_item", "auc", None),
                        ("cold_start", "cross_domain", "auc", None)]  # tallrec: gated only
    assert is_headline("tallrec", "tallrec", "auc", None)
    assert is_headline("accuracy", "next_item_masked", "ndcg", 10)
    assert is_headline("explanation", "review", "bleu4", None)
    assert not is_headline("accuracy", "full", "ndcg", 20)
    assert not is_headline("unknown", "full", "ndcg", 10)


def test_check_costs_come_from_declarations():
    # cost kinds: which numbers are costs, and the floor by unit
    assert cost_meta("efficiency/cpu/peak_memory_mb").cost == "memory"
    assert floor_for("efficiency/cpu/peak_memory_mb") == 64.0
    assert floor_for("efficiency/cpu/latency_cpu_ms_p95") == 2.0
    assert floor_for("efficiency.json/job_seconds") == 1.0
    assert floor_for("explanation/silver/malformed_rate") == 0.0
    # a quality metric whose name contains "mb" is not a memory cost (the old substring rule)
    assert cost_meta("accuracy/full/mb_recall@10").cost == "none"
    assert cpu_twin("efficiency/cpu/inference_seconds") == "efficiency/cpu/inference_cpu_seconds"
    assert cpu_twin("efficiency.json/inference_seconds") == "efficiency.json/job_cpu_seconds"
    assert cpu_twin("explanation/silver/malformed_rate") is None
    assert {m.pattern for m in JOB_METRICS if not m.gated} == {"peak_rss_mb_fit",
                                                                "peak_rss_mb_eval"}


def test_neutral_settings_are_settings_of_their_track():
    for track in TRACKS:
        fields = set(track_class(track).Settings.model_fields)
        assert track_meta(track).neutral_settings <= fields, track


def test_fingerprint_settings_leave_out_only_the_declared_knobs():
    acc = AccuracySettings()
    kept = result_settings("accuracy", acc)
    assert "user_batch" not in kept and "memory_budget_mb" not in kept
    assert kept["sampled_negatives"] == 100
    assert result_settings("cold_start", {"user_batch": 8, "ks": [10]}) == {"ks": [10]}


def test_runs_differing_only_in_memory_budget_are_comparable(tmp_path):
    users = np.arange(5)
    values = {"accuracy/full/ndcg@10": np.linspace(0, 1, 5)}
    settings = [{"accuracy": {"ks": [10], "sampled_negatives": 100, "user_batch": 1024,
                              "memory_budget_mb": mb}} for mb in (1024.0, 64.0)]
    a = load_run(make_run(tmp_path / "a", "m", 0, values, users, track_settings=settings[0]))
    b = load_run(make_run(tmp_path / "b", "m", 0, values, users, track_settings=settings[1]))
    assert reasons_not_comparable(a, b) == []
    settings[1]["accuracy"]["sampled_negatives"] = 50  # a setting that changes numbers
    c = load_run(make_run(tmp_path / "c", "m", 0, values, users, track_settings=settings[1]))
    assert reasons_not_comparable(a, c) == [
        "other accuracy protocol setting sampled_negatives: 100 vs 50"]


@pytest.mark.parametrize("track", sorted(TRACKS))
def test_every_track_has_a_meta(track):
    assert isinstance(getattr(track_class(track), "meta", None), TrackMeta)
