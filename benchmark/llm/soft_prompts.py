"""Prompts with soft tokens: text segments plus embedding slots, fed as ``inputs_embeds``.

A prompt is a list of segments: text, or an int whose soft token goes there (an item's or a
user's vector mapped into the LM's input-embedding space by a trainable module). Text segments are
tokenized on their own (no special tokens) and cached; a soft slot holds the tokenizer's <unk> id
in ``input_ids`` and its embedding is replaced by ``soft_tokens(index)``. Used by ExplainRec
(multimodal item tokens) and RecExplainer (the target recommender's user and item embeddings).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from benchmark.llm.prefix import cache_arg, returned_cache
from benchmark.llm.segments import Segments, merge_segments  # noqa: F401  (re-exported)


class SegmentEncoder:
    """Token ids and soft-slot map of segment lists; text pieces are cached."""

    def __init__(self, tokenizer) -> None:
        self.tok = tokenizer
        self.slot = tokenizer.unk_token_id if tokenizer.unk_token_id is not None else 0
        self._cache: dict[str, list[int]] = {}

    def text(self, s: str) -> list[int]:
        ids = self._cache.get(s)
        if ids is None:
            ids = list(self.tok(s, add_special_tokens=False)["input_ids"])
            if len(self._cache) < 200_000:
                self._cache[s] = ids
        return ids

    def encode(self, segs: Segments) -> tuple[list[int], list[int]]:
        ids: list[int] = []
        soft: list[int] = []
        for s in segs:
            if isinstance(s, str):
                t = self.text(s)
                ids += t
                soft += [-1] * len(t)
            else:
                ids.append(self.slot)
                soft.append(int(s))
        return ids, soft


def embed(model, soft_tokens, ids: torch.Tensor, soft: torch.Tensor) -> torch.Tensor:
    """Token embeddings with each soft slot replaced by its item's soft token."""
    emb = model.get_input_embeddings()(ids)
    if soft_tokens is not None:
        where = soft >= 0
        if bool(where.any()):
            emb = emb.clone()
            emb[where] = soft_tokens(soft[where]).to(emb.dtype)
    return emb


def left_pad(rows: Sequence[tuple[list[int], list[int]]], pad_id: int, device: str):
    width = max(len(r[0]) for r in rows)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    soft = torch.full((len(rows), width), -1, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for n, (i, s) in enumerate(rows):
        ids[n, width - len(i):] = torch.tensor(i, dtype=torch.long)
        soft[n, width - len(i):] = torch.tensor(s, dtype=torch.long)
        mask[n, width - len(i):] = 1
    return ids.to(device), soft.to(device), mask.to(device)


def forward_rows(bb, soft_tokens, rows, hidden: bool = False, keep: int = 0):
    """Left-padded forward pass over the last ``keep`` positions (0 = all): (logits (B, K, V),
    last hidden (B, K, H) or None, width). Left padding puts every row's end in the last
    columns, so answers and explanations are all inside a short ``keep`` window, and the
    vocabulary projection (most of the cost of a small model) runs on those only."""
    ids, soft, mask = left_pad(rows, bb.tokenizer.pad_token_id, bb.device)
    pos = (mask.cumsum(-1) - 1).clamp(min=0)
    out = bb.model(inputs_embeds=embed(bb.model, soft_tokens, ids, soft), attention_mask=mask,
                   position_ids=pos, output_hidden_states=hidden, logits_to_keep=keep)
    h = out.hidden_states[-1][:, -keep:].float() if hidden else None
    return out.logits.float(), h, ids.shape[1]


def banned_ngram_tokens(seq: list[int], n: int) -> list[int]:
    """Tokens that would repeat an n-gram already in ``seq`` (its last n-1 tokens seen before)."""
    if n <= 0 or len(seq) < n:
        return []
    tail = tuple(seq[len(seq) - n + 1:])
    return [seq[k + n - 1] for k in range(len(seq) - n + 1) if tuple(seq[k:k + n - 1]) == tail]


def greedy(bb, soft_tokens, rows, max_new_tokens: int, stop_ids: Sequence[int],
           sample: bool = False, no_repeat_ngram: int = 0,
           primed: Sequence[Sequence[int]] | None = None) -> list[list[int]]:
    """Greedy (or, ``sample=True``, sampled) continuation of left-padded soft-token prompts,
    with a key/value cache. ``no_repeat_ngram`` = n > 0 never emits a token that repeats an
    n-gram of the continuation (a small model's greedy loops otherwise); ``primed[r]`` are the
    tokens row r already ends with that belong to the text (counted for the n-gram rule)."""
    ids, soft, mask = left_pad(rows, bb.tokenizer.pad_token_id, bb.device)
    pos = (mask.cumsum(-1) - 1).clamp(min=0)
    done = torch.zeros(len(rows), dtype=torch.bool, device=bb.device)
    out: list[list[int]] = [[] for _ in rows]
    stop = torch.tensor(list(stop_ids), device=bb.device)
    cache_kw = cache_arg(bb.model)  # "cache" (transformers 5) or "past_key_values" (older)
    with torch.inference_mode():
        # logits of the last position only: the full (batch, length, vocab) tensor of the
        # prompt is gigabytes at a 49k vocabulary and is never read
        res = bb.model(inputs_embeds=embed(bb.model, soft_tokens, ids, soft),
                       attention_mask=mask, position_ids=pos, use_cache=True, logits_to_keep=1)
        for _ in range(max_new_tokens):
            last = res.logits[:, -1, :].float()
            if no_repeat_ngram > 0:
                for n in range(len(rows)):
                    seen = list(primed[n] if primed else []) + out[n]
                    ban = banned_ngram_tokens(seen, no_repeat_ngram)
                    if ban:
                        last[n, ban] = float("-inf")
            nxt = (torch.multinomial(torch.softmax(last, -1), 1)[:, 0] if sample
                   else last.argmax(-1))
            for n in range(len(rows)):
                if not done[n] and not bool(torch.isin(nxt[n], stop)):
                    out[n].append(int(nxt[n]))
            done |= torch.isin(nxt, stop)
            if bool(done.all()):
                break
            mask = torch.cat([mask, torch.ones_like(mask[:, :1])], 1)
            pos = pos[:, -1:] + 1
            res = bb.model(inputs_embeds=bb.model.get_input_embeddings()(nxt[:, None]),
                           attention_mask=mask, position_ids=pos,
                           use_cache=True, **{cache_kw: returned_cache(res)})
    return out
