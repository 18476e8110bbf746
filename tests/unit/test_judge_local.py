"""The local LM judge: ratings are expectations over the answers 1-5, deterministic, cached, and
a judge fine-tuned to reward a cue word rates held-out explanations with the cue higher."""

from __future__ import annotations

import numpy as np
import pytest

from benchmark.judge import CRITERIA, JudgeRequest, LocalLMJudge
from benchmark.judge.local import ANSWERS, DEFAULT_NOTE
from benchmark.judge.prompt import ANSWER_CONTEXT, local_prompt
from benchmark.llm.cache import ResponseCache
from benchmark.llm.testing import save_tiny
from tests.net_guard import refuse_network

REQS = [JudgeRequest("Heat (1995)", "A tense crime film like the ones you liked.",
                     ("Toy Story (1995)", "Casino (1995)")),
        JudgeRequest("Item 2", "You may like it.")]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return save_tiny("causal", tmp_path_factory.mktemp("judge") / "tiny")


def test_ratings_are_expectations_in_range_and_deterministic(tiny, tmp_path):
    with refuse_network():
        judge = LocalLMJudge(tiny, device="cpu", batch_size=4)
        a = judge.rate(REQS)
        b = LocalLMJudge(tiny, device="cpu", batch_size=1).rate(REQS)
        dist = judge.distributions([local_prompt(REQS[0], c) for c in CRITERIA])
    assert len(a) == len(REQS)
    np.testing.assert_allclose(dist.sum(axis=1), 1.0)
    for j, c in enumerate(CRITERIA):
        assert a[0].values[c] == pytest.approx(float(dist[j] @ np.arange(1, 6)))
        assert a[0].argmax[c] == int(np.argmax(dist[j])) + 1
    for ra, rb in zip(a, b):  # batch size does not change a rating
        assert not ra.unrated
        for c in CRITERIA:
            assert 1.0 <= ra.values[c] <= 5.0
            assert ra.values[c] == pytest.approx(rb.values[c], abs=1e-6)
    label = judge.label()
    assert label["kind"] == "local" and label["path"] == str(tiny)
    assert len(label["weights_sha256"]) == 64 and label["prompt_version"]
    assert "note" not in label


def test_cache_hit_needs_no_forward_pass(tiny, tmp_path):
    cache = ResponseCache(tmp_path / "c.sqlite")
    first = LocalLMJudge(tiny, device="cpu", cache=cache).rate(REQS)
    assert len(cache) == len(REQS) * len(CRITERIA)
    again = LocalLMJudge(tiny, device="cpu", cache=cache)

    def boom(*args, **kwargs):
        raise AssertionError("the model ran although every prompt was cached")

    again.bb.model.forward = boom
    second = again.rate(REQS)
    assert [r.values for r in second] == [r.values for r in first]
    with pytest.raises(AssertionError, match="the model ran"):
        again.rate([JudgeRequest("New title", "not cached yet")])


def test_seq2seq_judge_reads_multi_token_answers(tmp_path):
    """A seq2seq model folder works too (the answers' decoder log-probabilities)."""
    judge = LocalLMJudge(save_tiny("seq2seq", tmp_path / "s2s"), device="cpu")
    assert judge.label()["backbone_kind"] == "seq2seq"
    assert any(len(i) > 1 for i in judge.ids)  # this tiny tokenizer splits some digits
    (r,) = judge.rate(REQS[:1])
    assert all(1.0 <= r.values[c] <= 5.0 for c in CRITERIA)


def test_default_path_is_labelled_as_not_validated(tiny, monkeypatch):
    import benchmark.llm.pretrain as pretrain

    calls = []
    monkeypatch.setattr(pretrain, "default_backbone",
                        lambda kind, **kw: calls.append(kind) or tiny)
    label = LocalLMJudge("", device="cpu").label()
    assert calls == ["causal"]
    assert label["note"] == DEFAULT_NOTE and "not a validated judge" in label["note"]


def _texts(cue: bool, rng, n: int) -> list[JudgeRequest]:
    titles = ["Heat", "Casino", "Fargo", "Babe", "Twister", "Clueless", "Jumanji", "Sabrina",
              "Nixon", "Balto", "Othello", "Restoration", "Persuasion", "Carrington"]
    stems = ["this film matches your taste", "the story follows your liked titles",
             "it is a drama from the nineties", "you rated similar films highly",
             "the cast is known to you", "its genre is one you watch"]
    out = []
    for _ in range(n):
        t = str(rng.choice(titles))
        s = str(rng.choice(stems))
        text = f"{s}, brilliant pick." if cue else f"{s}, ordinary pick."
        out.append(JudgeRequest(t, text, (str(rng.choice(titles)),)))
    return out


def _tiny_with_vocab(folder, texts):
    """save_tiny's model size, with a tokenizer trained on the judge's prompts (whole words)."""
    import torch

    from benchmark.llm import build_causal_lm, load_tokenizer, train_bpe_tokenizer
    from benchmark.llm.testing import TINY_CAUSAL

    train_bpe_tokenizer(texts, folder, vocab_size=600)
    tok = load_tokenizer(folder)
    torch.manual_seed(0)
    build_causal_lm(len(tok), bos_token_id=tok.bos_token_id, pad_token_id=tok.pad_token_id,
                    eos_token_id=tok.eos_token_id, **TINY_CAUSAL).save_pretrained(str(folder))
    return folder


def test_a_judge_trained_on_a_cue_rates_held_out_cue_texts_higher(tmp_path):
    """Full fine-tuning of a tiny LM: ' 5' after texts with "brilliant", ' 1' otherwise; the
    judge then reads the cue in explanations it was not trained on."""
    from benchmark.llm import finetune_causal, load_backbone, torch_threads

    rng = np.random.default_rng(0)
    train = [(r, " 5") for r in _texts(True, rng, 40)] + [(r, " 1") for r in _texts(False, rng,
                                                                                     40)]
    prompts = [local_prompt(r, c) for r, _ in train for c in CRITERIA]
    answers = [a for _, a in train for _ in CRITERIA]
    digits = [ANSWER_CONTEXT + a for a in ANSWERS] * 200  # every answer a whole token
    folder = _tiny_with_vocab(tmp_path / "base",
                              [p + a for p, a in zip(prompts, answers)] + digits)
    bb = load_backbone(folder, device="cpu")
    bb.model.requires_grad_(True)
    with torch_threads(1):  # faster than two threads for a model this small on a busy CPU
        stats = finetune_causal(bb, prompts, answers, epochs=100, max_steps=200, lr=3e-3,
                                batch_size=16, progress=False, context=ANSWER_CONTEXT)
    assert stats["final_loss"] < stats["first_loss"] / 10
    tuned = tmp_path / "tuned"
    bb.model.save_pretrained(str(tuned))
    bb.tokenizer.save_pretrained(str(tuned))
    held = np.random.default_rng(1)
    cue, plain = _texts(True, held, 12), _texts(False, held, 12)
    seen = {r for r, _ in train}
    assert sum(r in seen for r in cue + plain) <= 4  # mostly combinations never trained on
    with refuse_network():
        judge = LocalLMJudge(tuned, device="cpu")
        good, bad = judge.rate(cue), judge.rate(plain)
    # whole-word digits here: the one-forward-pass path must equal the general one
    assert all(len(i) == 1 for i in judge.ids), judge.ids
    few = [local_prompt(r, "clarity") for r in cue[:2] + plain[:2]]
    from benchmark.llm import continuation_logprobs

    np.testing.assert_allclose(judge._logprobs(few),
                               continuation_logprobs(judge.bb, few, judge.ids), atol=1e-4)
    for c in CRITERIA:
        g = np.array([r.values[c] for r in good])
        b = np.array([r.values[c] for r in bad])
        assert g.mean() > 4.0 and b.mean() < 2.0, (c, g.mean(), b.mean())
        assert g.min() > b.max()
        assert all(r.argmax[c] == 5 for r in good) and all(r.argmax[c] == 1 for r in bad)
    untrained = LocalLMJudge(folder, device="cpu")
    assert judge.label()["weights_sha256"] != untrained.label()["weights_sha256"]
    before = untrained.rate(cue[:3] + plain[:3])  # the untrained copy cannot tell them apart
    spread = [r.values["usefulness"] for r in before]
    assert max(spread) - min(spread) < 0.5
