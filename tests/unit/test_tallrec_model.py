"""TALLRec on a tiny backbone: shots, label tokens, both protocols, and the tallrec track."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("peft")

from benchmark.errors import ConfigError  # noqa: E402
from benchmark.llm.testing import save_tiny  # noqa: E402
from benchmark.protocols import tallrec as proto  # noqa: E402
from benchmark.registry import build_model  # noqa: E402


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return str(save_tiny("causal", tmp_path_factory.mktemp("tallrec-tiny")))


@pytest.fixture(scope="module")
def data(raw_ml100k):
    return proto.build_samples(raw_ml100k)


def params(tiny, **extra):
    return {"backbone": tiny, "epochs": 1, "min_steps": 2, "batch_size": 8,
            "max_train_samples": 24, "cache": False, **extra}


def test_config_errors():
    with pytest.raises(ConfigError, match="shots"):
        build_model("tallrec", {"shots": -1})
    with pytest.raises(ConfigError, match="finetune"):
        build_model("tallrec", {"finetune": "qlora"})


def test_few_shot_on_the_protocol(tiny, data):
    m = build_model("tallrec", params(tiny, shots=16))
    m.fit_samples(data.train, data.valid, data.titles, seed=0)
    info = m.fit_info()
    assert info["n_train_samples"] == 16 and info["shots"] == 16
    assert info["train"]["steps"] >= 2
    tok = m.bb.tokenizer
    assert tok.decode(info["label_token_ids"]["yes"]) == "Yes"
    assert tok.decode(info["label_token_ids"]["no"]) == "No"
    # LoRA on q/v only: a small share of the weights trains
    assert 0 < info["params_trainable"] < info["backbone"]["n_params"] / 5
    s = m.score_samples(data.test[:5])
    assert s.shape == (5,) and np.all((s > 0) & (s < 1))


@pytest.mark.slow
def test_full_finetuning_option_trains_every_weight(tiny, data):
    m = build_model("tallrec", params(tiny, shots=8, finetune="full"))
    m.fit_samples(data.train, data.valid, data.titles, seed=0)
    assert m.fit_info()["params_trainable"] == m.fit_info()["backbone"]["n_params"]


def test_harness_split(tiny, split_synthetic):
    m = build_model("tallrec", params(tiny))
    m.fit(split_synthetic.train, split_synthetic.valid, seed=0)
    assert m.fit_info()["n_train_samples"] == 24
    users, items = np.array([0, 0, 3]), np.array([1, 2, 5])
    s = m.score(users, items)
    assert s.shape == (3,) and np.isfinite(s).all()
    dense = m.score_all(np.array([0]))
    assert dense.shape == (1, split_synthetic.n_items)
    np.testing.assert_allclose(dense[0, [1, 2]], s[:2], atol=1e-6)


def test_tallrec_track_rows_and_skip(split_synthetic, tiny):
    from benchmark.runner.prepare import resolve_dataset
    from benchmark.tracks.base import TrackContext
    from benchmark.tracks.tallrec import TallrecSettings, TallrecTrack

    track = TallrecTrack(TallrecSettings(max_test_samples=40, keep_samples=2), None, False)

    def ctx(name, p):
        return TrackContext(split=split_synthetic, split_dir=None, dataset="ml-100k", seed=0,
                            max_eval_users=None, data=resolve_dataset("ml-100k"),
                            build_model=lambda purpose="model": build_model(name, p))

    context = ctx("prompt_share", {})
    res = track.run(context)
    assert context.extra_fit_seconds["tallrec"] >= 0
    (row,) = res.rows
    assert (row.track, row.protocol, row.metric, row.k, row.n) == ("tallrec", "tallrec", "auc",
                                                                   None, 40)
    assert 0.5 < row.value <= 1.0
    assert res.info["tallrec"]["n_test"] == 1000 and len(res.samples) == 2
    assert res.samples[0]["prompt"].endswith("### Response:\n")
    skipped = track.run(ctx("pop", {}))
    assert not skipped.rows and "pop" in skipped.info["tallrec_skipped"]


def test_checkpoint_choice_uses_validation_and_restores_the_best(tiny, data):
    from benchmark.llm import yes_probability
    from benchmark.metrics.pointwise import auc

    m = build_model("tallrec", params(tiny, shots=16, min_steps=8, valid_subset=24,
                                      valid_evals=4, lr=3e-3))
    m.fit_samples(data.train, data.valid, data.titles, seed=0)
    chk = m.fit_info()["train"]["checkpoint"]
    history = {int(k): v for k, v in chk["valid_auc_by_epoch"].items()}
    # before training (epoch 0), at most 4 evaluated epochs, the last one always
    assert chk["valid_questions"] == 24 and len(history) <= 5
    assert 0 in history and chk["epochs"] in history
    assert chk["valid_auc"] == max(history.values())
    assert history[chk["chosen_epoch"]] == chk["valid_auc"]
    # the weights in place are the chosen ones: recomputing the valid AUC gives the same value
    pick = np.sort(np.random.default_rng(0 + 5).permutation(len(data.valid))[:24])
    prompts = [proto.prompt(data.valid[i], data.titles) for i in pick]
    labels = np.array([data.valid[i].liked for i in pick])
    again = auc(labels, yes_probability(m.bb, prompts, m.labels, 64))
    assert abs(again - chk["valid_auc"]) < 1e-9
    # scoring merges LoRA into the weights: the same scores to 1e-6
    before = yes_probability(m.bb, prompts, m.labels, 64)
    merged = m._score_prompts(prompts)
    np.testing.assert_allclose(merged, before, atol=1e-5)
