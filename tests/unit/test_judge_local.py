"""The local LM judge: ratings are expectations over the answers 1-5, deterministic, cached; a
chat-template prompt for instruction models; labels that say which judge it was; and a judge
fine-tuned to reward a cue word rates held-out explanations with the cue higher."""

from __future__ import annotations

import numpy as np
import pytest

from benchmark.judge import CRITERIA, JudgeRequest, LocalLMJudge
from benchmark.judge.local import ANSWERS, DEFAULT_NOTE, FIXTURE_NOTE, chat_answers
from benchmark.judge.prompt import ANSWER_CONTEXT, JUDGE_PROMPT_VERSION, chat_messages, local_prompt
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
    assert len(label["weights_sha256"]) == 64 and label["prompt_version"] == "judge-v2"
    assert label["name"] == "tiny" and label["origin"] == "local checkpoint folder"
    assert label["prompt_form"] == "plain text" and label["answers"] == list(ANSWERS)
    assert "note" not in label  # a user's own folder: no claim either way


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


def test_trained_here_is_labelled_as_the_test_fixture(tiny, monkeypatch):
    import benchmark.llm.pretrain as pretrain

    calls = []
    monkeypatch.setattr(pretrain, "default_backbone",
                        lambda kind, **kw: calls.append(kind) or tiny)
    label = LocalLMJudge("trained-here", device="cpu").label()
    assert calls == ["causal"]
    assert label["note"] == FIXTURE_NOTE and "not a language model judge" in label["note"]


def _with_template(src, dst, template: str):
    """A copy of the fixture folder whose tokenizer has the chat template ``template``."""
    import shutil

    from benchmark.llm import load_tokenizer

    shutil.copytree(src, dst)
    tok = load_tokenizer(dst)
    tok.chat_template = template
    tok.save_pretrained(str(dst))
    return dst


TEMPLATE = ("{% for m in messages %}<|{{ m['role'] }}|>\n{{ m['content'] }}</s>\n{% endfor %}"
            "{% if add_generation_prompt %}<|assistant|>\n{% endif %}")


def test_a_chat_template_is_used_when_the_tokenizer_has_one(tiny, tmp_path):
    folder = _with_template(tiny, tmp_path / "chat", TEMPLATE)
    with refuse_network():
        judge = LocalLMJudge(folder, device="cpu")
    assert judge.chat and judge.label()["prompt_form"] == "chat template"
    assert judge.answers == ("1", "2", "3", "4", "5")  # the template ends in a newline
    text = judge.prompt(REQS[0], "accuracy")
    assert text.startswith("<|system|>\n") and text.endswith("<|assistant|>\n")
    user = chat_messages(REQS[0], "accuracy")[1]["content"]
    assert f"<|user|>\n{user}</s>" in text and "Heat (1995)" in user
    assert "Casino (1995)" in user and REQS[0].explanation in user
    assert "accuracy" in user and "reference" not in text.lower()
    # the ratings are read after the chat prompt, not after the plain one
    (r,) = judge.rate(REQS[:1])
    chat = judge.distributions([judge.prompt(REQS[0], c) for c in CRITERIA])
    plain = judge.distributions([local_prompt(REQS[0], c) for c in CRITERIA])
    for j, c in enumerate(CRITERIA):
        assert r.values[c] == pytest.approx(float(chat[j] @ np.arange(1, 6)))
    assert not np.allclose(chat, plain)
    assert JUDGE_PROMPT_VERSION in judge.kind and "chat" in judge.kind  # no stale cache hits
    # the one-forward-pass reading equals the general continuation reading
    from benchmark.llm import continuation_logprobs

    few = [judge.prompt(q, "clarity") for q in REQS]
    np.testing.assert_allclose(judge._logprobs(few),
                               continuation_logprobs(judge.bb, few, judge.ids), atol=1e-4)
    plain_judge = LocalLMJudge(tiny, device="cpu")
    assert not plain_judge.chat and plain_judge.prompt(REQS[0], "clarity").endswith(
        ANSWER_CONTEXT)


def test_the_answer_form_follows_the_generation_prompt(tiny, tmp_path):
    """After "...Rating:" (no trailing whitespace) a reply writes " 3", after a newline "3"."""
    from benchmark.llm import load_tokenizer
    from benchmark.llm.scoring import answer_ids

    colon = _with_template(tiny, tmp_path / "colon", TEMPLATE.replace(
        "<|assistant|>\n", "Rating:"))
    tok = load_tokenizer(colon)
    form, ids = chat_answers(tok)
    assert form == ANSWERS
    context = tok.apply_chat_template([{"role": "user", "content": "x"}], tokenize=False,
                                      add_generation_prompt=True)
    assert context.endswith("Rating:")
    assert ids == [tuple(answer_ids(tok, a, context)) for a in ANSWERS]
    newline = load_tokenizer(_with_template(tiny, tmp_path / "nl", TEMPLATE))
    assert chat_answers(newline)[0] == ("1", "2", "3", "4", "5")


def test_the_default_judge_is_the_real_instruction_model():
    """The one test on the real default (about 5 s once converted): SmolLM2, chat form."""
    pytest.importorskip("gguf")
    from benchmark.llm.packaged import SMOLLM2_135M_INSTRUCT as LM

    with refuse_network():
        judge = LocalLMJudge("", device="cpu", threads=1)
        (r,) = judge.rate(REQS[:1])
    label = judge.label()
    assert label["name"] == "SmolLM2-135M-Instruct" and label["note"] == DEFAULT_NOTE
    assert f"{LM.distribution}=={LM.version}" in label["origin"]
    assert len(label["weights_sha256"]) == 64 and 134_000_000 < label["n_params"] < 135_000_000
    assert label["prompt_form"] == "chat template" and judge.answers == ("1", "2", "3", "4", "5")
    assert all(len(i) == 1 for i in judge.ids)
    assert judge.prompt(REQS[0], "clarity").endswith("<|im_start|>assistant\n")
    assert all(1.0 <= r.values[c] <= 5.0 for c in CRITERIA)


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
    from benchmark.llm import finetune_causal, load_backbone
    from benchmark.threads import torch_threads

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
