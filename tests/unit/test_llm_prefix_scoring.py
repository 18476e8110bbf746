"""Fast Yes/No scoring: shared-prefix key/value reuse and length bucketing give the scores of a
plain full-prompt forward; generation in length buckets gives each prompt's alone-greedy text;
no deprecated ``past_key_values`` use anywhere in the LM layer."""

from __future__ import annotations

import logging
import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("peft")

from benchmark.llm import (  # noqa: E402
    LabelTokens,
    ResponseCache,
    add_lora,
    continuation_logprobs,
    find_label_tokens,
    generate,
    load_backbone,
    yes_probability,
)
from benchmark.llm import prefix as P  # noqa: E402
from benchmark.llm.testing import save_tiny  # noqa: E402

OPENING = ("Below is an instruction that describes a task. ### Instruction: Whether the user "
           "will like the target movie? ### Input: ")
SUFFIXES = ['User Preference: "Toy Story (1995)", "Heat (1995)" User Unpreference: "Item 1"',
            "Item 2", 'User Preference: "Heat (1995)"', "x",
            'Whether the user will like the target movie "Item 2"? Yes. No. Yes.']
PROMPTS = [f"{OPENING}{s} ### Response:\n" for s in SUFFIXES]
UNRELATED = ["Heat ### Response:\n", "User Preference: Toy Story ### Response:\n",
             "x ### Response:\n", "Yes. No. Item 22 ### Response:\n"]


@pytest.fixture(scope="module")
def causal_dir(tmp_path_factory):
    return save_tiny("causal", tmp_path_factory.mktemp("tiny-causal"))


def sharpen(model, seed: int = 0, std: float = 0.3) -> None:
    """Re-draw the weight matrices larger than at initialisation, so that the logits are far
    from uniform and any mistake in positions, masks or cache would show."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for _, p in sorted(model.named_parameters(), key=lambda x: x[0]):
            if p.ndim >= 2:
                p.copy_(torch.randn(p.shape, generator=g) * std)


@pytest.fixture()
def bb(causal_dir):
    b = load_backbone(causal_dir)
    sharpen(b.model)
    return b


def alone_logits(bb, prompts) -> np.ndarray:
    """Next-token logits after each prompt, run alone: no batch, no padding, no cache."""
    out = []
    with torch.inference_mode():
        for p in prompts:
            ids = torch.tensor([bb.tokenizer(p)["input_ids"]])
            out.append(bb.model(input_ids=ids).logits[0, -1].float().numpy())
    return np.stack(out).astype(np.float64)


def alone_logprob(bb, prompt: str, cont: list[int]) -> float:
    ids = list(bb.tokenizer(prompt)["input_ids"]) + cont
    with torch.inference_mode():
        lp = torch.log_softmax(bb.model(input_ids=torch.tensor([ids])).logits[0].double(), -1)
    return float(sum(lp[len(ids) - len(cont) - 1 + j, c] for j, c in enumerate(cont)))


def alone_yes(bb, prompts, labels: LabelTokens) -> np.ndarray:
    if labels.single_token:
        lg = alone_logits(bb, prompts)
        return 1 / (1 + np.exp(lg[:, labels.no_ids[0]] - lg[:, labels.yes_ids[0]]))
    y = np.array([alone_logprob(bb, p, list(labels.yes_ids)) for p in prompts])
    n = np.array([alone_logprob(bb, p, list(labels.no_ids)) for p in prompts])
    return 1 / (1 + np.exp(n - y))


def logit(p: np.ndarray) -> np.ndarray:
    return np.log(p) - np.log1p(-p)


def encode(bb, prompts) -> list[list[int]]:
    return [list(x) for x in bb.tokenizer(list(prompts))["input_ids"]]


@pytest.fixture()
def prefix_calls(monkeypatch):
    """Records the length of every shared prefix run."""
    calls: list[int] = []
    real = P.run_prefix

    def spy(bb, prefix):
        calls.append(len(prefix))
        return real(bb, prefix)

    monkeypatch.setattr(P, "run_prefix", spy)
    return calls


# --- the token helpers --------------------------------------------------------------------------
def test_common_prefix_is_cut_so_every_row_keeps_a_token():
    assert P.common_prefix_length([[1, 2, 3], [1, 2, 4], [1, 2]]) == 2
    assert P.common_prefix_length([[5, 1], [1, 5]]) == 0 and P.common_prefix_length([]) == 0
    rows = [list(range(20)) + [7], list(range(20))]
    assert P.common_prefix_length(rows) == 20
    assert P.shared_prefix_length(rows) == 19  # row 2 keeps its last token
    assert P.shared_prefix_length(rows, min_prefix=20) == 0  # too short to be worth it
    assert P.shared_prefix_length([list(range(30))]) == 0  # one row: nothing to share
    assert P.shared_prefix_length([[1, 2], [3, 4]]) == 0


def test_length_buckets_sort_and_cover_every_index():
    lengths = [5, 1, 9, 1, 7, 3, 5]
    buckets = P.length_buckets(lengths, 3)
    assert [len(b) for b in buckets] == [3, 3, 1]
    assert sorted(i for b in buckets for i in b) == list(range(7))
    flat = [lengths[i] for b in buckets for i in b]
    assert flat == sorted(flat) and buckets[0] == [1, 3, 5]  # stable among equal lengths
    assert P.length_buckets([], 4) == []


# --- exactness on the fixture model ---------------------------------------------------------
def test_prefix_forward_logits_equal_full_prompts(bb, prefix_calls):
    rows = encode(bb, PROMPTS)
    n = P.shared_prefix_length(rows)
    assert n >= 8 and len({len(r) for r in rows}) == len(rows)  # different suffix lengths
    with torch.inference_mode():
        cache = P.run_prefix(bb, rows[0][:n])
        got = P.prefix_forward(bb, cache, n, [r[n:] for r in rows], 1)[:, -1].double().numpy()
        again = P.prefix_forward(bb, cache, n, [r[n:] for r in rows[:2]], 1)[:, -1].numpy()
    ref = alone_logits(bb, PROMPTS)
    assert np.ptp(ref) > 1  # the sharpened model's logits are far from uniform
    np.testing.assert_allclose(got, ref, atol=1e-5, rtol=0)
    np.testing.assert_allclose(again, ref[:2], atol=1e-5, rtol=0)  # the prefix cache is intact


@pytest.mark.parametrize("batch_size", [1, 2, 32])
def test_single_token_scores_equal_the_full_forward(bb, prefix_calls, batch_size):
    labels = find_label_tokens(bb.tokenizer, "Yes", "No")
    assert labels.single_token
    got = yes_probability(bb, PROMPTS, labels, batch_size=batch_size)
    assert len(prefix_calls) == 1 and prefix_calls[0] >= 8
    ref = alone_yes(bb, PROMPTS, labels)
    assert np.ptp(ref) > 0.05
    np.testing.assert_allclose(got, ref, atol=1e-5, rtol=0)


def test_multi_token_answers_equal_the_full_forward(bb, prefix_calls):
    yes = bb.tokenizer("Yes. Yes", add_special_tokens=False)["input_ids"]
    no = bb.tokenizer(" No.", add_special_tokens=False)["input_ids"]
    labels = LabelTokens(tuple(yes), tuple(no))
    assert len(yes) > 1 and len(no) > 1
    got = yes_probability(bb, PROMPTS, labels, batch_size=2)
    assert len(prefix_calls) == 1
    ref = alone_yes(bb, PROMPTS, labels)
    np.testing.assert_allclose(got, ref, atol=1e-5, rtol=0)
    np.testing.assert_allclose(logit(got), logit(ref), atol=1e-4, rtol=0)  # near 0 or 1 too
    fast = continuation_logprobs(bb, PROMPTS, [yes, no], batch_size=2, share_prefix=True)
    plain = continuation_logprobs(bb, PROMPTS, [yes, no], batch_size=2)
    assert len(prefix_calls) == 2
    np.testing.assert_allclose(fast, plain, atol=1e-5, rtol=0)
    np.testing.assert_allclose(fast[:, 0], [alone_logprob(bb, p, yes) for p in PROMPTS],
                               atol=1e-5, rtol=0)


def test_lora_wrapped_model_scores_equal_its_full_forward(bb, prefix_calls):
    labels = find_label_tokens(bb.tokenizer, "Yes", "No")
    base = yes_probability(bb, PROMPTS, labels)
    lora = add_lora(bb, r=4, dropout=0.0)
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():  # a trained-looking adapter: B = 0 would change nothing
        for name, p in lora.model.named_parameters():
            if "lora_B" in name:
                p.copy_(torch.randn(p.shape, generator=g) * 0.5)
    assert type(lora.model).__name__.startswith("PeftModel")
    got = yes_probability(lora, PROMPTS, labels, batch_size=2)
    assert len(prefix_calls) == 2
    ref = alone_yes(lora, PROMPTS, labels)
    np.testing.assert_allclose(got, ref, atol=1e-5, rtol=0)
    assert np.abs(got - base).max() > 1e-3  # the adapter really is in the forward pass
    multi = LabelTokens(tuple(bb.tokenizer("Yes. Yes", add_special_tokens=False)["input_ids"]),
                        labels.no_ids)
    np.testing.assert_allclose(logit(yes_probability(lora, PROMPTS, multi, batch_size=3)),
                               logit(alone_yes(lora, PROMPTS, multi)), atol=1e-4, rtol=0)


def test_fallback_without_a_shared_prefix_is_bucketed_plain_batches(bb, prefix_calls):
    labels = find_label_tokens(bb.tokenizer, "Yes", "No")
    assert P.shared_prefix_length(encode(bb, UNRELATED)) == 0
    got = yes_probability(bb, UNRELATED, labels, batch_size=3)
    assert prefix_calls == []
    np.testing.assert_allclose(got, alone_yes(bb, UNRELATED, labels), atol=1e-5, rtol=0)
    # a shared prefix, but switched off (or under min_prefix): the same scores, no prefix pass
    off = yes_probability(bb, PROMPTS, labels, batch_size=2, share_prefix=False)
    short = yes_probability(bb, PROMPTS, labels, batch_size=2, min_prefix=10_000)
    one = yes_probability(bb, PROMPTS[:1], labels)
    assert prefix_calls == []
    ref = alone_yes(bb, PROMPTS, labels)
    np.testing.assert_allclose(off, ref, atol=1e-5, rtol=0)
    np.testing.assert_allclose(short, ref, atol=1e-5, rtol=0)
    np.testing.assert_allclose(one, ref[:1], atol=1e-5, rtol=0)


def test_response_cache_is_read_first_and_written_with_the_same_keys(bb, tmp_path,
                                                                     monkeypatch):
    import benchmark.llm.scoring as S

    labels = find_label_tokens(bb.tokenizer, "Yes", "No")
    cache = ResponseCache(tmp_path / "c.sqlite")
    kind = f"yes_prob:{labels.key()}"  # the key format of earlier caches
    cache.put_many(bb.weights_sha256, "", kind, [PROMPTS[2]], [0.123])
    encoded: list[str] = []
    real_encode = S._encode

    def spy(b, prompts):
        encoded.extend(prompts)
        return real_encode(b, prompts)

    monkeypatch.setattr(S, "_encode", spy)
    got = yes_probability(bb, PROMPTS, labels, batch_size=2, cache=cache)
    assert got[2] == 0.123 and PROMPTS[2] not in encoded and len(encoded) == len(PROMPTS) - 1
    ref = alone_yes(bb, PROMPTS, labels)
    keep = [i for i in range(len(PROMPTS)) if i != 2]
    np.testing.assert_allclose(got[keep], ref[keep], atol=1e-5, rtol=0)
    stored = cache.get_many(bb.weights_sha256, "", kind, PROMPTS)
    assert stored[2] == 0.123 and np.allclose([stored[i] for i in keep], got[keep], atol=0)

    def boom(*args, **kwargs):
        raise AssertionError("the model ran although every answer was cached")

    monkeypatch.setattr(bb.model, "forward", boom)
    np.testing.assert_array_equal(yes_probability(bb, PROMPTS, labels, cache=cache), got)


# --- generation ------------------------------------------------------------------------------
def test_bucketed_generation_equals_one_prompt_at_a_time(bb):
    prompts = PROMPTS + UNRELATED  # nine prompts of many lengths, in mixed order
    batched = generate(bb, prompts, max_new_tokens=6, batch_size=4)
    alone = [generate(bb, [p], max_new_tokens=6, batch_size=1)[0] for p in prompts]
    assert batched == alone
    assert len(set(alone)) > 1 and all(isinstance(t, str) for t in batched)


def test_generation_stops_at_the_stop_string_and_is_cached_apart(bb, tmp_path):
    """With ``stop``, each text is the free greedy text up to its first stop string (greedy
    decoding is the same up to there); the cache keeps the two kinds apart. The fixture writes
    no newline, so the stop is its most frequent visible character."""
    from collections import Counter

    from benchmark.llm import ResponseCache

    prompts = PROMPTS + UNRELATED
    free = generate(bb, prompts, max_new_tokens=24, batch_size=4)
    stop = Counter(c for t in free for c in t if not c.isspace()).most_common(1)[0][0]
    cache = ResponseCache(tmp_path / "r.sqlite")
    stopped = generate(bb, prompts, max_new_tokens=24, batch_size=4, stop=stop, cache=cache)
    assert stopped == [t.split(stop, 1)[0].strip() for t in free]
    assert any(len(s) < len(t) for s, t in zip(stopped, free)), "the stop must shorten some"
    assert generate(bb, prompts, max_new_tokens=24, batch_size=4, cache=cache) == free
    assert generate(bb, prompts, max_new_tokens=24, batch_size=4, stop=stop,
                    cache=cache) == stopped


def test_no_repeat_bans_continuation_ngrams_only():
    """The ban sees the continuation (from ``start`` on), never the prompt: a title's n-grams
    can be quoted, a loop in the answer cannot."""
    import torch

    from benchmark.llm.scoring import _no_repeat_in_continuation

    def allowed(ids: list[int], start: int) -> set[int]:
        scores = torch.zeros(1, 12)
        out = _no_repeat_in_continuation(2, start)(torch.tensor([ids]), scores)
        return {t for t in range(12) if out[0, t] > float("-inf")}

    assert allowed([9, 9, 9, 1, 2, 1], 3) == set(range(12)) - {2}  # "1 2" in the answer
    assert allowed([1, 2, 9, 1], 2) == set(range(12))  # "1 2" only in the prompt
    assert allowed([1, 2, 1, 3, 1], 0) == set(range(12)) - {2, 3}


def test_no_repeat_generation_is_cached_apart(bb, tmp_path):
    from benchmark.llm import ResponseCache

    cache = ResponseCache(tmp_path / "r.sqlite")
    free = generate(bb, PROMPTS, max_new_tokens=16, cache=cache)
    banned = generate(bb, PROMPTS, max_new_tokens=16, cache=cache, no_repeat_ngram=2)
    assert banned != free  # the fixture loops; the ban changes its greedy text
    assert generate(bb, PROMPTS, max_new_tokens=16, cache=cache, no_repeat_ngram=2) == banned


# --- no deprecated cache API ---------------------------------------------------------------
class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def test_no_past_key_values_deprecation(bb, monkeypatch):
    import transformers.utils.generic as generic
    from transformers.utils import logging as hf_logging

    from benchmark.llm.soft_prompts import SegmentEncoder, greedy
    from explainrec.lm import prefix_answer_logits

    said: list[str] = []  # warning_once remembers earlier messages: record every call instead
    monkeypatch.setattr(generic.logger, "warning_once", lambda msg, *a, **k: said.append(msg))
    handler = _Records()
    hf_logging.get_logger("transformers").addHandler(handler)
    labels = find_label_tokens(bb.tokenizer, "Yes", "No")
    enc = SegmentEncoder(bb.tokenizer)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yes_probability(bb, PROMPTS, labels, batch_size=2)
            yes_probability(bb, PROMPTS, LabelTokens((5, 6), (7,)), batch_size=2)
            generate(bb, PROMPTS[:3], max_new_tokens=3, batch_size=2)
            greedy(bb, None, [enc.encode([p]) for p in PROMPTS[:2]], 3, [-1])
            prefix_answer_logits(bb, None, enc.encode([OPENING]),
                                 [enc.encode([s]) for s in SUFFIXES], labels.yes_ids[0],
                                 labels.no_ids[0], batch_size=2)
    finally:
        hf_logging.get_logger("transformers").removeHandler(handler)
    text = " ".join([*said, *handler.messages, *(str(w.message) for w in caught)])
    assert "past_key_values" not in text and "cache_params" not in text, text


# --- the real default backbone (slow: ~30 s on one CPU thread) ------------------------------
@pytest.mark.slow
def test_real_backbone_prefix_scores_equal_the_full_forward():
    from benchmark.errors import BenchError
    from benchmark.llm import resolve_backbone
    from benchmark.protocols import tallrec as proto
    from benchmark.runner.prepare import resolve_dataset

    try:
        real = load_backbone(resolve_backbone("default", progress=False), device="cpu")
        data = proto.load_protocol(resolve_dataset("ml-100k"))
    except BenchError as e:
        pytest.skip(f"default backbone or ml-100k not available: {e}")
    prompts = [proto.prompt(s, data.titles) for s in data.test[:4]]
    assert len({len(r) for r in encode(real, prompts)}) > 1
    assert P.shared_prefix_length(encode(real, prompts)) >= 50  # preamble + instruction
    full = find_label_tokens(real.tokenizer, *proto.ANSWERS, context=proto.RESPONSE_CONTEXT)
    first = LabelTokens(full.yes_ids[:1], full.no_ids[:1])  # what TALLRec scores with
    base = yes_probability(real, prompts, first, batch_size=3)
    np.testing.assert_allclose(base, alone_yes(real, prompts, first), atol=1e-4, rtol=0)
    assert not full.single_token  # "Yes." is two tokens: the continuation path
    np.testing.assert_allclose(yes_probability(real, prompts, full, batch_size=3),
                               alone_yes(real, prompts, full), atol=1e-4, rtol=0)
    lora = add_lora(real, r=4, dropout=0.0)
    g = torch.Generator().manual_seed(2)
    with torch.no_grad():
        for name, p in lora.model.named_parameters():
            if "lora_B" in name:
                p.copy_(torch.randn(p.shape, generator=g) * 0.02)
    got = yes_probability(lora, prompts, first, batch_size=3)
    np.testing.assert_allclose(got, alone_yes(lora, prompts, first), atol=1e-4, rtol=0)
    assert np.abs(got - base).max() > 1e-3  # the adapter changes the scores
