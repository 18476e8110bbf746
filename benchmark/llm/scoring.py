"""Batched scoring (answer probabilities) and batched generation with left padding.

The Yes/No token ids come from the tokenizer itself: each answer is encoded right after the
prompt's last words (``context``), so tokenizers that merge across a space or split "Yes" into
several pieces are handled the same way. When both answers are one token, the score is the
next-token probability ratio at the first response position; otherwise it is the ratio of the
answers' full continuation probabilities.

Causal scoring is arranged for speed without changing a result: prompts are sorted by token
length into batches (less padding), and the token prefix that all prompts of a call share is run
once and its key/value cache reused by every batch (``benchmark/llm/prefix.py``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from benchmark.errors import BenchError
from benchmark.llm.loading import Backbone
from benchmark.progress import enabled


@dataclass(frozen=True)
class LabelTokens:
    """Token ids of the two answers as they follow the prompt."""

    yes_ids: tuple[int, ...]
    no_ids: tuple[int, ...]

    @property
    def single_token(self) -> bool:
        return len(self.yes_ids) == 1 and len(self.no_ids) == 1

    def key(self) -> str:
        return f"{list(self.yes_ids)}|{list(self.no_ids)}"


def answer_ids(tokenizer, answer: str, context: str = "### Response:\n") -> list[int]:
    """Ids of ``answer`` as the tokenizer writes it right after ``context``."""
    ctx = tokenizer(context, add_special_tokens=False)["input_ids"]
    full = tokenizer(context + answer, add_special_tokens=False)["input_ids"]
    common = 0  # tokens the two encodings share; the answer starts where they part
    while common < min(len(ctx), len(full)) and ctx[common] == full[common]:
        common += 1
    if common == len(full):
        raise BenchError(f"answer {answer!r} adds no tokens after {context!r}",
                         "use a non-empty answer")
    return list(full[common:])


def find_label_tokens(tokenizer, yes: str = "Yes", no: str = "No",
                      context: str = "### Response:\n") -> LabelTokens:
    """The Yes/No token ids for any tokenizer (several ids per answer when it splits them)."""
    y = tuple(answer_ids(tokenizer, yes, context))
    n = tuple(answer_ids(tokenizer, no, context))
    if y == n:
        raise BenchError(f"answers {yes!r} and {no!r} encode to the same tokens {list(y)}",
                         "use answers the tokenizer can tell apart")
    return LabelTokens(y, n)


def _left_pad(rows: list[list[int]], pad_id: int, device: str):
    import torch

    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, r in enumerate(rows):
        if r:
            ids[i, width - len(r):] = torch.tensor(r, dtype=torch.long)
            mask[i, width - len(r):] = 1
    return ids.to(device), mask.to(device)


def _encode(bb: Backbone, prompts: Sequence[str]) -> list[list[int]]:
    return [list(x) for x in bb.tokenizer(list(prompts))["input_ids"]]


def causal_forward(bb: Backbone, rows: list[list[int]], keep: int):
    """Logits of the last ``keep`` positions of left-padded rows: (batch, keep, vocab)."""
    ids, mask = _left_pad(rows, bb.tokenizer.pad_token_id, bb.device)
    pos = (mask.cumsum(-1) - 1).clamp(min=0)
    out = bb.model(input_ids=ids, attention_mask=mask, position_ids=pos, logits_to_keep=keep)
    return out.logits[:, -keep:, :].float()


def _seq2seq_logprobs(bb: Backbone, prompts: Sequence[str],
                      conts: Sequence[Sequence[int]]) -> np.ndarray:
    import torch

    enc = bb.tokenizer(list(prompts), return_tensors="pt", padding=True).to(bb.device)
    out = np.zeros((len(prompts), len(conts)))
    for j, cont in enumerate(conts):
        labels = torch.tensor([list(cont)] * len(prompts), device=bb.device)
        logits = bb.model(**enc, labels=labels).logits.float()
        lp = torch.log_softmax(logits, -1).gather(-1, labels[..., None])[..., 0]
        out[:, j] = lp.sum(-1).cpu().numpy()
    return out


def _prefix_for(bb: Backbone, rows: list[list[int]], share_prefix: bool,
                min_prefix: int) -> tuple[int, object | None]:
    """(prefix length, its key/value cache) shared by ``rows``, or (0, None) when not worth it.

    Call inside ``torch.inference_mode()``."""
    from benchmark.llm.prefix import run_prefix, shared_prefix_length

    n = shared_prefix_length(rows, min_prefix) if share_prefix else 0
    return (n, run_prefix(bb, rows[0][:n])) if n else (0, None)


def _forward(bb: Backbone, rows: list[list[int]], keep: int, n_prefix: int,
             prefix_cache) -> Any:
    """Last ``keep`` logits of full rows, through the prefix cache when there is one."""
    if prefix_cache is None:
        return causal_forward(bb, rows, keep)
    from benchmark.llm.prefix import prefix_forward

    return prefix_forward(bb, prefix_cache, n_prefix, [r[n_prefix:] for r in rows], keep)


def _cont_logprobs(bb: Backbone, rows: list[list[int]], continuations: Sequence[Sequence[int]],
                   n_prefix: int, prefix_cache) -> np.ndarray:
    import torch

    out = np.zeros((len(rows), len(continuations)))
    for j, cont in enumerate(continuations):
        c = list(cont)
        logits = _forward(bb, [e + c for e in rows], len(c) + 1, n_prefix, prefix_cache)
        lp = torch.log_softmax(logits[:, :-1, :], -1)
        idx = torch.tensor(c, device=lp.device)[None, :, None].expand(len(rows), -1, 1)
        out[:, j] = lp.gather(-1, idx)[..., 0].sum(-1).cpu().numpy()
    return out


def continuation_logprobs(bb: Backbone, prompts: Sequence[str],
                          continuations: Sequence[Sequence[int]],
                          batch_size: int = 32, *, share_prefix: bool = False,
                          min_prefix: int = 8) -> np.ndarray:
    """log P(continuation | prompt) for every (prompt, continuation): (n_prompts, n_conts).

    ``share_prefix``: sort prompts by length into batches and run their common token prefix
    once (same numbers up to float rounding, much less work when prompts share an opening).
    Off by default, so existing callers keep their exact batches."""
    import torch

    out = np.zeros((len(prompts), len(continuations)))
    if not len(prompts):
        return out
    with torch.inference_mode():
        if bb.kind == "causal" and share_prefix:
            from benchmark.llm.prefix import length_buckets

            rows = _encode(bb, prompts)
            n_pre, pre = _prefix_for(bb, rows, True, min_prefix)
            for idx in length_buckets([len(r) for r in rows], batch_size):
                out[idx] = _cont_logprobs(bb, [rows[i] for i in idx], continuations, n_pre, pre)
            return out
        for start in range(0, len(prompts), batch_size):
            chunk = prompts[start:start + batch_size]
            if bb.kind == "seq2seq":
                out[start:start + len(chunk)] = _seq2seq_logprobs(bb, chunk, continuations)
                continue
            out[start:start + len(chunk)] = _cont_logprobs(bb, _encode(bb, chunk),
                                                           continuations, 0, None)
    return out


def _seq2seq_yes_prob(bb: Backbone, prompts: Sequence[str], labels: LabelTokens) -> np.ndarray:
    import torch

    if not labels.single_token:
        lp = continuation_logprobs(bb, prompts, [labels.yes_ids, labels.no_ids], len(prompts))
        return 1.0 / (1.0 + np.exp(lp[:, 1] - lp[:, 0]))
    y, n = labels.yes_ids[0], labels.no_ids[0]
    with torch.inference_mode():
        enc = bb.tokenizer(list(prompts), return_tensors="pt", padding=True).to(bb.device)
        start = bb.model.config.decoder_start_token_id
        dec = torch.full((len(prompts), 1), start, dtype=torch.long, device=bb.device)
        logits = bb.model(**enc, decoder_input_ids=dec).logits[:, -1, :].float()
    diff = (logits[:, n] - logits[:, y]).cpu().numpy().astype(np.float64)
    return 1.0 / (1.0 + np.exp(diff))


def _causal_yes_prob(bb: Backbone, rows: list[list[int]], labels: LabelTokens, n_prefix: int,
                     prefix_cache) -> np.ndarray:
    if not labels.single_token:
        lp = _cont_logprobs(bb, rows, [labels.yes_ids, labels.no_ids], n_prefix, prefix_cache)
        return 1.0 / (1.0 + np.exp(lp[:, 1] - lp[:, 0]))
    y, n = labels.yes_ids[0], labels.no_ids[0]
    logits = _forward(bb, rows, 1, n_prefix, prefix_cache)[:, -1, :]
    diff = (logits[:, n] - logits[:, y]).cpu().numpy().astype(np.float64)
    return 1.0 / (1.0 + np.exp(diff))  # = P(Yes) / (P(Yes) + P(No)) under the softmax


def yes_probability(bb: Backbone, prompts: Sequence[str], labels: LabelTokens,
                    batch_size: int = 32, cache=None, progress: bool = False,
                    adapter: str | None = None, *, share_prefix: bool = True,
                    min_prefix: int = 8) -> np.ndarray:
    """P(Yes) / (P(Yes) + P(No)) per prompt; cached by (weights, adapter, labels, prompt).

    ``adapter``: the adapter hash when the caller already knows it (else computed here).
    Causal backbones: the prompts not found in ``cache`` are sorted by token length into batches
    of ``batch_size``, and their common token prefix (when at least ``min_prefix`` tokens and
    ``share_prefix``) runs once, its key/value cache reused by every batch: the scores equal a
    plain full-prompt forward's up to float rounding, at a fraction of the cost."""
    import torch
    from tqdm.auto import tqdm

    from benchmark.llm.lora import adapter_sha256
    from benchmark.llm.prefix import length_buckets

    prompts = list(prompts)
    out = np.full(len(prompts), np.nan)
    kind = f"yes_prob:{labels.key()}"
    todo = list(range(len(prompts)))
    if cache is not None:
        adapter = adapter_sha256(bb) if adapter is None else adapter
        for i, v in enumerate(cache.get_many(bb.weights_sha256, adapter, kind, prompts)):
            if v is not None:
                out[i] = v
        todo = [i for i in todo if np.isnan(out[i])]
    bar = tqdm(total=len(todo), desc="LLM scoring", unit="prompt", disable=not enabled(progress),
               leave=False, mininterval=1.0)

    def done(idx: list[int]) -> None:
        if cache is not None:
            cache.put_many(bb.weights_sha256, adapter, kind, [prompts[i] for i in idx],
                           [float(out[i]) for i in idx])
        bar.update(len(idx))

    if bb.kind == "seq2seq":
        for start in range(0, len(todo), batch_size):
            idx = todo[start:start + batch_size]
            out[idx] = _seq2seq_yes_prob(bb, [prompts[i] for i in idx], labels)
            done(idx)
    elif todo:
        rows = _encode(bb, [prompts[i] for i in todo])
        with torch.inference_mode():
            n_pre, pre = _prefix_for(bb, rows, share_prefix, min_prefix)
            for batch in length_buckets([len(r) for r in rows], batch_size):
                idx = [todo[b] for b in batch]
                out[idx] = _causal_yes_prob(bb, [rows[b] for b in batch], labels, n_pre, pre)
                done(idx)
    bar.close()
    return out


def generate(bb: Backbone, prompts: Sequence[str], max_new_tokens: int = 32,
             batch_size: int = 16, cache=None, progress: bool = False,
             adapter: str | None = None, stop: str | None = None,
             no_repeat_ngram: int = 0) -> list[str]:
    """Greedy continuations (new text only), batched with left padding; cached like scores.

    Uncached prompts are sorted by token length into batches (less padding to run through
    every decoding step); each prompt's text is the same as when it is generated alone.
    ``stop``: a causal prompt's decoding ends once its text holds this string (a batch ends
    when all its rows have), and the text is cut before it. ``no_repeat_ngram`` = n > 0 (causal
    only): no n-gram repeats inside the continuation (the prompt's own n-grams stay allowed, so
    a title can be quoted; transformers' ``no_repeat_ngram_size`` would ban those too)."""
    import torch
    from tqdm.auto import tqdm

    from benchmark.llm.lora import adapter_sha256
    from benchmark.llm.prefix import length_buckets

    prompts = list(prompts)
    out: list[str | None] = [None] * len(prompts)
    kind = (f"gen:{max_new_tokens}" + (f":stop={json.dumps(stop)}" if stop else "")
            + (f":norepeat={no_repeat_ngram}" if no_repeat_ngram > 0 else ""))
    if cache is not None:
        adapter = adapter_sha256(bb) if adapter is None else adapter
        out = cache.get_many(bb.weights_sha256, adapter, kind, prompts)
    todo = [i for i, v in enumerate(out) if v is None]
    tok = bb.tokenizer
    rows = _encode(bb, [prompts[i] for i in todo]) if todo else []
    bar = tqdm(total=len(todo), desc="LLM generation", unit="prompt", disable=not enabled(progress),
               leave=False, mininterval=1.0)
    for bucket in length_buckets([len(r) for r in rows], batch_size):
        idx = [todo[b] for b in bucket]
        batch = [prompts[i] for i in idx]
        with torch.inference_mode():
            if bb.kind == "seq2seq":
                enc = tok(batch, return_tensors="pt", padding=True).to(bb.device)
                gen = bb.model.generate(**enc, max_new_tokens=max_new_tokens, do_sample=False)
                texts = tok.batch_decode(gen, skip_special_tokens=True)
            else:
                ids, mask = _left_pad([rows[b] for b in bucket], tok.pad_token_id, bb.device)
                extra: dict[str, Any] = {"stop_strings": [stop], "tokenizer": tok} if stop \
                    else {}
                if no_repeat_ngram > 0:
                    extra["logits_processor"] = _no_repeat_in_continuation(
                        no_repeat_ngram, ids.shape[1])
                gen = bb.model.generate(input_ids=ids, attention_mask=mask, do_sample=False,
                                        max_new_tokens=max_new_tokens,
                                        pad_token_id=tok.pad_token_id, **extra)
                texts = tok.batch_decode(gen[:, ids.shape[1]:], skip_special_tokens=True)
        for i, t in zip(idx, texts):
            out[i] = (t.split(stop, 1)[0] if stop else t).strip()
        if cache is not None:
            cache.put_many(bb.weights_sha256, adapter, kind, batch, [out[i] for i in idx])
        bar.update(len(idx))
    bar.close()
    return [str(x) for x in out]


def _no_repeat_in_continuation(n: int, start: int):
    """A transformers logits processor list that bans, per row, every token that would repeat an
    n-gram of the row's continuation (the tokens from position ``start`` on)."""
    from transformers import LogitsProcessor, LogitsProcessorList

    from benchmark.llm.soft_prompts import banned_ngram_tokens

    class NoRepeatInContinuation(LogitsProcessor):
        def __call__(self, input_ids, scores):
            for row in range(input_ids.shape[0]):
                ban = banned_ngram_tokens(input_ids[row, start:].tolist(), n)
                if ban:
                    scores[row, ban] = float("-inf")
            return scores

    return LogitsProcessorList([NoRepeatInContinuation()])
