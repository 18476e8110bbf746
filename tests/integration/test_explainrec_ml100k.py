"""ExplainRec on real MovieLens-100K data: the knowledge base for users without history, and the
TALLRec protocol and harness tracks end to end on a tiny backbone (the real run is
suites/explainrec.toml)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import spearmanr

from benchmark.data.split import SplitSpec, make_split
from explainrec.data import GROUP_TYPES, ItemTable, UserTable, pairs_of
from explainrec.knowledge import PreferenceKB


@pytest.fixture(scope="module")
def split(raw_ml100k):
    return make_split(raw_ml100k, SplitSpec(strategy="chrono", seed=0))


def test_kb_score_of_a_user_without_history_tracks_their_groups(split):
    """Remove every rating of some users from training (they have no history); their KB score
    must vary across items and correlate positively with the held-out (test-part) like rate of
    the users sharing their demographic groups."""
    items = ItemTable.from_frame(split.catalog.items, split.n_items)
    users = UserTable.from_frame(split.catalog.users, split.n_users)
    u, i, liked, ts = pairs_of(split.train)
    cold = np.arange(0, split.n_users, 90)[:10]
    keep = ~np.isin(u, cold)
    kb = PreferenceKB(items, users, u[keep], i[keep], liked[keep], ts[keep])
    tu, ti, tl, _ = pairs_of(split.test)
    checked = 0
    for user in cold:
        assert user not in kb.user_hist  # no history at all
        groups = users.groups[user]
        same = np.array([any(users.groups[x][k] == groups[k] for k in range(len(GROUP_TYPES)))
                         for x in range(split.n_users)])
        sel = same[tu] & (tu != user)
        counts = np.bincount(ti[sel], minlength=split.n_items)
        likes = np.bincount(ti[sel], weights=tl[sel].astype(float), minlength=split.n_items)
        rated = np.flatnonzero(counts >= 5)
        score = kb.prior_logit(np.full(len(rated), user), rated, loo=False)
        assert np.std(score) > 0.1
        rho = spearmanr(score, likes[rated] / counts[rated]).statistic
        assert rho > 0.2, (user, rho)
        checked += 1
    assert checked == len(cold)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory, split):
    pytest.importorskip("peft")
    from benchmark.llm.testing import save_tiny

    root = tmp_path_factory.mktemp("er-ml100k")
    feats = root / "feat"
    feats.mkdir()
    rng = np.random.default_rng(0)
    np.save(feats / "text_feat.npy", rng.normal(size=(split.n_items, 8)).astype(np.float32))
    return {"backbone": str(save_tiny("causal", root / "tiny")), "feature_dir": str(feats),
            "max_train_samples": 24, "batch_size": 8, "max_new_tokens": 12}


@pytest.mark.slow  # about a minute on a loaded 2-core machine
def test_tracks_end_to_end(split, tiny, tmp_path):
    from benchmark.registry import build_model
    from benchmark.runner.prepare import resolve_dataset
    from benchmark.tracks.accuracy import AccuracySettings, AccuracyTrack
    from benchmark.tracks.base import TrackContext
    from benchmark.tracks.explanation import ExplanationSettings, ExplanationTrack
    from benchmark.tracks.tallrec import TallrecSettings, TallrecTrack

    ctx = TrackContext(split=split, split_dir=tmp_path, dataset="ml-100k", seed=0,
                       max_eval_users=4, data=resolve_dataset("ml-100k"), build_model=lambda *a: build_model("explainrec", tiny))
    tal = TallrecTrack(TallrecSettings(max_test_samples=30, keep_samples=1), None, False).run(ctx)
    (row,) = tal.rows
    assert (row.track, row.protocol, row.metric, row.n) == ("tallrec", "tallrec", "auc", 30)
    assert tal.info["tallrec"]["fit"]["trained_on"] == "tallrec protocol samples"
    acc = AccuracyTrack(AccuracySettings(ks=[10], protocols=["sampled", "pointwise"],
                                         sampled_negatives=20), tmp_path, False).run(ctx)
    keys = {(r.protocol, r.metric, r.k) for r in acc.rows}
    assert {("sampled", "ndcg", 10), ("pointwise", "auc", None)} <= keys
    exp = ExplanationTrack(ExplanationSettings(max_pairs=3), None, False).run(ctx)
    rows = {r.metric: r.value for r in exp.rows}
    assert {"bleu4", "rouge_l", "fidelity", "bleu4_for", "bleu4_against"} <= set(rows)
    if "grounding" in rows:  # only when the tiny model's texts cite anything
        assert rows["grounding"] == 1.0
    assert all("explanation" in s and "<item>" in s["prompt"] for s in exp.samples)
    info = ctx.fitted_model().fit_info()
    assert info["modalities_used"] == ["interactions", "text"]
    assert info["explanation_grounding"]["texts"] == 6  # 3 pairs x (for, against)
