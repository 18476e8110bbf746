"""The backbone layer: tokenizer, loading, device/dtype, LoRA, label tokens, scoring, cache."""

from __future__ import annotations

import hashlib
import json
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from benchmark.errors import BenchError  # noqa: E402
from benchmark.llm import (  # noqa: E402
    ResponseCache,
    adapter_sha256,
    add_lora,
    choose_device,
    choose_dtype,
    continuation_logprobs,
    find_label_tokens,
    finetune_causal,
    generate,
    load_backbone,
    load_tokenizer,
    yes_probability,
)
from benchmark.llm.testing import save_tiny  # noqa: E402

PROMPTS = ["Below is an instruction. ### Response:\n",
           "User Preference: \"Toy Story (1995)\", \"Heat (1995)\" ### Response:\n",
           "x ### Response:\n"]


@pytest.fixture(scope="module")
def causal_dir(tmp_path_factory):
    return save_tiny("causal", tmp_path_factory.mktemp("tiny-causal"))


@pytest.fixture()
def bb(causal_dir):
    return load_backbone(causal_dir)


def char_tokenizer(folder):
    """A byte-level tokenizer without merges: every answer is several tokens."""
    from benchmark.llm import train_bpe_tokenizer

    train_bpe_tokenizer(["a"], folder, vocab_size=300)  # 256 bytes + specials, no merges
    return load_tokenizer(folder)


def test_import_of_benchmark_llm_stays_light():
    import subprocess

    code = ("import sys, benchmark.llm; "
            "print(any(m in sys.modules for m in ('torch', 'transformers', 'peft')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_tokenizer_is_left_padded_after_loading(causal_dir):
    tok = load_tokenizer(causal_dir)
    assert tok.padding_side == "left"
    enc = tok(["a", "a longer text here"], padding=True)["attention_mask"]
    assert enc[0][0] == 0 and enc[0][-1] == 1  # padding sits on the left
    assert load_tokenizer(causal_dir, padding_side="right").padding_side == "right"


def test_missing_paths_are_clear_errors(tmp_path):
    with pytest.raises(BenchError, match="not found"):
        load_backbone(tmp_path / "nowhere")
    with pytest.raises(BenchError, match="tokenizer folder not found"):
        load_tokenizer(tmp_path / "nowhere")


def test_device_and_dtype_for_cpu(bb):
    assert choose_device("auto") == ("cuda" if torch.cuda.is_available() else "cpu")
    assert choose_dtype("cpu") == torch.float32
    assert choose_dtype("cuda") == torch.bfloat16
    assert bb.dtype == torch.float32 and bb.kind == "causal"
    assert len(bb.weights_sha256) == 64 and bb.n_params > 0
    assert not any(p.requires_grad for p in bb.model.parameters())  # frozen as loaded


def test_label_tokens_single_token_tokenizer(bb):
    labels = find_label_tokens(bb.tokenizer, "Yes", "No")
    assert labels.single_token
    assert bb.tokenizer.decode(list(labels.yes_ids)) == "Yes"
    assert bb.tokenizer.decode(list(labels.no_ids)) == "No"


def test_label_tokens_multi_token_tokenizer(tmp_path):
    tok = char_tokenizer(tmp_path)
    labels = find_label_tokens(tok, "Yes", "No")
    assert len(labels.yes_ids) == 3 and len(labels.no_ids) == 2
    assert tok.decode(list(labels.yes_ids)) == "Yes" and not labels.single_token


def test_label_tokens_follow_the_context():
    """A SentencePiece-like tokenizer writes "Yes" differently after a space: the context counts."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {"<pad>": 0, "</s>": 1, "Yes": 2, "No": 3, "ĠYes": 4, "ĠNo": 5, "Ġ": 6, ":": 7,
             "A": 8, "Ġanswer": 9}
    tk = Tokenizer(models.WordLevel(vocab, unk_token="<pad>"))
    tk.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok = PreTrainedTokenizerFast(tokenizer_object=tk, pad_token="<pad>", eos_token="</s>")
    assert find_label_tokens(tok, context="A:").yes_ids == (2,)
    # "A answer " ends in a lone space that merges into " Yes": the answer starts at "ĠYes"
    assert find_label_tokens(tok, context="A answer ").yes_ids == (4,)


def _manual_logprob(bb, prompt: str, cont: list[int]) -> float:
    ids = bb.tokenizer(prompt)["input_ids"] + cont
    with torch.no_grad():
        logits = bb.model(input_ids=torch.tensor([ids])).logits[0].float()
    lp = torch.log_softmax(logits, -1)
    n = len(cont)
    return float(sum(lp[len(ids) - n - 1 + j, cont[j]] for j in range(n)))


def test_batched_left_padded_scores_match_one_by_one(bb):
    labels = find_label_tokens(bb.tokenizer, "Yes", "No")
    got = yes_probability(bb, PROMPTS, labels, batch_size=3)
    for prompt, p in zip(PROMPTS, got):
        y = _manual_logprob(bb, prompt, list(labels.yes_ids))
        n = _manual_logprob(bb, prompt, list(labels.no_ids))
        assert p == pytest.approx(np.exp(y) / (np.exp(y) + np.exp(n)), abs=1e-5)


def test_multi_token_answers_use_full_continuations(bb):
    yes = bb.tokenizer("Yes. Yes", add_special_tokens=False)["input_ids"]
    no = bb.tokenizer("No", add_special_tokens=False)["input_ids"]
    from benchmark.llm import LabelTokens

    labels = LabelTokens(tuple(yes), tuple(no))
    assert len(yes) > 1 and not labels.single_token
    lp = continuation_logprobs(bb, PROMPTS, [yes, no], batch_size=2)
    for row, prompt in enumerate(PROMPTS):
        assert lp[row, 0] == pytest.approx(_manual_logprob(bb, prompt, yes), abs=1e-4)
    got = yes_probability(bb, PROMPTS, labels, batch_size=2)
    np.testing.assert_allclose(got, 1 / (1 + np.exp(lp[:, 1] - lp[:, 0])), atol=1e-6)


def test_cache_returns_identical_scores_without_running_the_model(bb, tmp_path, monkeypatch):
    cache = ResponseCache(tmp_path / "c.sqlite")
    labels = find_label_tokens(bb.tokenizer, "Yes", "No")
    first = yes_probability(bb, PROMPTS, labels, cache=cache)
    texts = generate(bb, PROMPTS[:2], max_new_tokens=3, cache=cache)
    assert len(cache) == len(PROMPTS) + 2

    def boom(*args, **kwargs):
        raise AssertionError("the model ran although every answer was cached")

    monkeypatch.setattr(bb.model, "forward", boom)
    monkeypatch.setattr(bb.model, "generate", boom)
    np.testing.assert_array_equal(yes_probability(bb, PROMPTS, labels, cache=cache), first)
    assert generate(bb, PROMPTS[:2], max_new_tokens=3, cache=cache) == texts
    with pytest.raises(AssertionError, match="the model ran"):  # the patch is live
        yes_probability(bb, ["a prompt never seen"], labels, cache=cache)


def test_cache_key_includes_adapter(bb, tmp_path):
    cache = ResponseCache(tmp_path / "c.sqlite")
    cache.put_many("w", "a1", "k", ["p"], [0.25])
    assert cache.get_many("w", "a1", "k", ["p", "q"]) == [0.25, None]
    assert cache.get_many("w", "a2", "k", ["p"]) == [None]


def test_batched_generation_matches_single(bb):
    both = generate(bb, PROMPTS[:2], max_new_tokens=4, batch_size=2)
    one = [generate(bb, [p], max_new_tokens=4, batch_size=1)[0] for p in PROMPTS[:2]]
    assert both == one and all(isinstance(t, str) for t in both)


TRAIN_PROMPTS = [f"{w} ### Response:\n" for w in ("Toy Story", "Heat", "Item 1", "Item 2")] * 4
TRAIN_ANSWERS = ["Yes.", "No.", "Yes.", "No."] * 4


def test_lora_on_query_value_only(bb):
    lora = add_lora(bb, r=4)
    trainable = [n for n, p in lora.model.named_parameters() if p.requires_grad]
    assert trainable and all("lora_" in n for n in trainable)
    assert {n.split(".lora_")[0].rsplit(".", 1)[-1] for n in trainable} == {"q_proj", "v_proj"}
    before = adapter_sha256(lora)
    frozen = {n: p.detach().clone() for n, p in lora.model.named_parameters()
              if not p.requires_grad}
    finetune_causal(lora, TRAIN_PROMPTS, TRAIN_ANSWERS, epochs=2, lr=1e-2, progress=False)
    assert adapter_sha256(lora) != before
    assert all(torch.equal(p, frozen[n]) for n, p in lora.model.named_parameters()
               if not p.requires_grad)


def test_finetuning_learns_the_answers(causal_dir):
    bb = load_backbone(causal_dir)
    bb.model.requires_grad_(True)  # full fine-tuning: fast to learn for a model this small
    labels = find_label_tokens(bb.tokenizer, "Yes", "No")
    stats = finetune_causal(bb, TRAIN_PROMPTS, TRAIN_ANSWERS, epochs=30, lr=1e-2,
                            batch_size=16, progress=False)
    assert stats["final_loss"] < stats["first_loss"] / 2
    p = yes_probability(bb, TRAIN_PROMPTS[:4], labels)
    assert p[0] > 0.5 > p[1] and p[2] > 0.5 > p[3]


def test_seq2seq_backbone_scores_and_generates(tmp_path):
    bb = load_backbone(save_tiny("seq2seq", tmp_path))
    assert bb.kind == "seq2seq"
    labels = find_label_tokens(bb.tokenizer, "Yes", "No")
    p = yes_probability(bb, PROMPTS, labels, batch_size=2)
    assert p.shape == (3,) and np.all((p > 0) & (p < 1))
    lora = add_lora(bb)
    assert any(p.requires_grad for p in lora.model.parameters())
    assert len(generate(bb, PROMPTS[:2], max_new_tokens=3)) == 2


def test_default_backbone_is_built_once_and_hashed(tmp_path, monkeypatch):
    import benchmark.llm.pretrain as pretrain
    from benchmark.llm import default_backbone
    from benchmark.llm.loading import WEIGHT_SUFFIXES
    from benchmark.llm.testing import TEXTS, TINY_CAUSAL

    monkeypatch.setattr(pretrain, "corpus_texts", lambda dataset: list(TEXTS))
    folder = default_backbone("causal", cache_dir=tmp_path, size=TINY_CAUSAL, progress=False,
                              vocab_size=400)
    info = json.loads((folder / "backbone.json").read_text())
    assert info["origin"].startswith("small model trained from scratch here: a test fixture")
    assert info["pretrained"] is False
    assert info["pretrain"]["final_loss"] < info["pretrain"]["first_loss"]
    h = hashlib.sha256()
    for p in sorted(p for p in folder.iterdir() if p.suffix in WEIGHT_SUFFIXES):
        h.update(p.name.encode())
        h.update(p.read_bytes())
    assert info["weights_sha256"] == h.hexdigest()

    def no_rebuild(*args, **kwargs):
        raise AssertionError("rebuilt although cached")

    monkeypatch.setattr(pretrain, "_build", no_rebuild)
    assert default_backbone("causal", cache_dir=tmp_path, size=TINY_CAUSAL,
                            vocab_size=400) == folder
    bb = load_backbone(folder)
    assert bb.weights_sha256 == info["weights_sha256"] and bb.info["origin"] == info["origin"]
