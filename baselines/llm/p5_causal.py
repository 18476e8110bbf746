"""P5's prompt families on a decoder-only LM (the suite's default, SmolLM2-135M-Instruct).

A causal LM reads ``source + "\\n"`` and the target follows it; training is teacher forcing on the
target tokens (+ eos) only. What is trained: LoRA on the attention query/value projections, plus
the embedding rows of the added user/item id tokens (a gradient mask keeps every pretrained row
of the vocabulary frozen; with tied input/output embeddings, as in SmolLM2, the same rows are the
id tokens' output vectors). New id rows start from the mean embedding of the text they stand
for (an item's title, a user's profile), so the pretrained model sees "a movie like this title"
rather than noise from the first step.

Short answers (stars, yes/no, an item token) are read off the next-token distribution after the
prompt. One user's prompts in a ``score`` call share everything up to the item, so that prefix
runs once and only the few tokens after it run per item (see :func:`next_token_logprobs`):
3 of the rating prompt's 17 SmolLM2 tokens per pair. Explanations are greedy generations from
the tokenizer's chat template (a user turn) when it has one, else from the plain prompt.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Sequence
from typing import Any

import numpy as np

from baselines.llm import p5_prompts as P
from baselines.llm.chatrec_prompts import profile_text

SEP = "\n"  # between a P5 source text and its answer
MIN_SHARED = 4  # shared prefix tokens below which a group of prompts runs as plain rows


@functools.cache
def _cache_name() -> str:
    """The key/value cache's argument (and output) name: "cache" from transformers 5.x on."""
    from transformers.modeling_outputs import CausalLMOutputWithPast

    fields = getattr(CausalLMOutputWithPast, "__dataclass_fields__", {})
    return "cache" if "cache" in fields else "past_key_values"


def id_texts(n_users: int, n_items: int, catalog: Any) -> list[str]:
    """The text each id token stands for, users first: profile, then title (or "item 12")."""
    items = None if catalog is None else catalog.items
    titled = items is not None and "title" in items.columns
    users = [profile_text(catalog, u) for u in range(n_users)]
    return users + [str(items["title"].iloc[i]) if titled and items is not None
                    else f"item {i}" for i in range(n_items)]


class CausalP5:
    """Training loss, answer log-probabilities and explanations of P5 on a causal LM."""

    kind = "causal"

    def __init__(self, bb: Any, config: Any) -> None:
        self.bb = bb
        self.c = config
        self._answers: dict[str, list[int]] = {}

    @property
    def chat(self) -> bool:
        """Whether the tokenizer has a chat template (explanations are then written in it)."""
        return bool(getattr(self.bb.tokenizer, "chat_template", None))

    # ------------------------------------------------------------------ set-up
    def setup(self, n_users: int, n_items: int, catalog: Any) -> list[dict]:
        """Add the id tokens, initialise their rows from text, add LoRA; the optimiser groups."""
        import torch
        from tokenizers import AddedToken

        from benchmark.llm import add_lora

        tok, model = self.bb.tokenizer, self.bb.model
        old = model.get_input_embeddings().weight.shape[0]
        tokens = P.id_tokens(n_users, n_items)
        self.added = tok.add_tokens([AddedToken(t, lstrip=True, normalized=False)
                                     for t in tokens])
        model.resize_token_embeddings(max(len(tok), old), mean_resizing=False)
        new_ids = tok.convert_tokens_to_ids(tokens)
        texts = id_texts(n_users, n_items, catalog)
        text_ids = tok(texts, add_special_tokens=False)["input_ids"]
        inp = model.get_input_embeddings().weight
        out = model.get_output_embeddings().weight
        self.weights = [inp] if out is inp else [inp, out]
        mask = torch.zeros(inp.shape[0], 1, dtype=inp.dtype, device=inp.device)
        mask[new_ids] = 1.0
        with torch.no_grad():
            for w in self.weights:
                for row, ids in zip(new_ids, text_ids):
                    w[row] = w[ids].mean(0) if ids else w[:old].mean(0)
        lora_targets = list(self.c.lora_targets) or None
        self.bb = add_lora(self.bb, r=self.c.lora_r, alpha=self.c.lora_alpha,
                           dropout=self.c.lora_dropout, targets=lora_targets)
        for w in self.weights:  # only the id rows learn: every other row's gradient is zeroed
            w.requires_grad_(True)
            w.register_hook(lambda g, m=mask: g * m)
        ids_set = {id(w) for w in self.weights}
        lora = [p for p in self.bb.model.parameters() if p.requires_grad and id(p) not in ids_set]
        self.trainable = sum(p.numel() for p in lora) + len(new_ids) * inp.shape[1] * len(
            self.weights)
        # weight decay 0 on the embeddings: AdamW's decay would move the frozen pretrained rows
        return [{"params": lora, "lr": self.c.learning_rate, "weight_decay": self.c.weight_decay},
                {"params": self.weights, "lr": self.c.id_learning_rate, "weight_decay": 0.0}]

    def describe(self) -> dict:
        """What was trained, for fit_info."""
        targets = list(self.c.lora_targets) or ["q_proj", "v_proj"]
        return {"finetuning": f"LoRA r={self.c.lora_r} on {'/'.join(targets)} (lr "
                              f"{self.c.learning_rate:g}) + the added id tokens' embedding rows "
                              f"(lr {self.c.id_learning_rate:g}); pretrained rows frozen",
                "trainable_parameters": int(self.trainable),
                "id_token_init": "mean embedding of the item's title / the user's profile text",
                "explanation_prompt": "the tokenizer's chat template (user turn)" if self.chat
                                      else "plain prompt"}

    # ------------------------------------------------------------------ text
    def prompt(self, sample_family: str, source: str) -> str:
        """What the LM reads before the answer: a chat turn for explanations, else source + SEP."""
        if sample_family == "explanation" and self.chat:
            return self.bb.tokenizer.apply_chat_template(
                [{"role": "user", "content": source}], tokenize=False, add_generation_prompt=True)
        return source + SEP

    def answer_ids(self, answer: str, context: str = SEP) -> list[int]:
        """Token ids of ``answer`` as written right after ``context`` (cached after SEP)."""
        from benchmark.llm.scoring import answer_ids

        if context != SEP:
            return answer_ids(self.bb.tokenizer, answer, context)
        if answer not in self._answers:
            self._answers[answer] = answer_ids(self.bb.tokenizer, answer, SEP)
        return self._answers[answer]

    # ------------------------------------------------------------------ training
    def loss(self, batch: Sequence[P.Sample]):
        """Mean cross-entropy over the batch's target tokens (+ eos), teacher forced."""
        import torch

        from benchmark.llm.scoring import causal_forward

        tok = self.bb.tokenizer
        eos = [tok.eos_token_id] if tok.eos_token_id is not None else []
        prompts = [self.prompt(s.family, s.source) for s in batch]
        enc = tok(prompts)["input_ids"]
        targets = []
        for s, p in zip(batch, prompts):
            ids = self.answer_ids(s.target, p if s.family == "explanation" else SEP)
            targets.append(ids[: self.c.max_target_len - 1] + eos)
        rows = [list(e) + t for e, t in zip(enc, targets)]
        keep = max(len(t) for t in targets) + 1
        logits = causal_forward(self.bb, rows, keep)[:, :-1, :]
        labels = torch.full(logits.shape[:2], -100, dtype=torch.long)
        for r, t in enumerate(targets):  # rows are left padded: every target ends the row
            labels[r, keep - 1 - len(t):] = torch.tensor(t, dtype=torch.long)
        return torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]),
                                                 labels.to(logits.device).reshape(-1))

    # ------------------------------------------------------------------ inference
    def logprobs(self, sources: Sequence[str], answers: Sequence[Sequence[int]],
                 groups: np.ndarray | None = None) -> np.ndarray:
        """log P(answer | source) per source and answer: (len(sources), len(answers))."""
        from benchmark.llm import continuation_logprobs

        prompts = [s + SEP for s in sources]
        if any(len(a) != 1 for a in answers):  # a tokenizer that splits e.g. "yes"
            return continuation_logprobs(self.bb, prompts, answers, self.c.eval_batch_size)
        rows = [list(x) for x in self.bb.tokenizer(prompts)["input_ids"]]
        return next_token_logprobs(self.bb, rows, [a[0] for a in answers], groups,
                                   self.c.eval_batch_size)

    def explain(self, sources: Sequence[str]) -> list[str]:
        """Greedy explanations from the same prompt format the explanation family trained on."""
        from benchmark.llm import generate

        prompts = [self.prompt("explanation", s) for s in sources]
        return generate(self.bb, prompts, max_new_tokens=self.c.explain_max_tokens,
                        batch_size=16, progress=self.c.show_progress)


def shared_prefix_len(rows: Sequence[Sequence[int]]) -> int:
    """Tokens every row starts with, leaving at least one token of each row after them."""
    n = min(len(r) for r in rows) - 1
    first = rows[0]
    for r in rows[1:]:
        k = 0
        while k < n and r[k] == first[k]:
            k += 1
        n = k
    return max(n, 0)


def next_token_logprobs(bb: Any, rows: Sequence[Sequence[int]], cols: Sequence[int],
                        groups: np.ndarray | None, batch_size: int) -> np.ndarray:
    """log P(next token = c) after each row, for each c in ``cols``: (len(rows), len(cols)).

    Rows with the same ``groups`` key that share a prefix of ``MIN_SHARED`` tokens or more run
    it once (its key/value cache is copied per batch); the rest run as left-padded rows.
    """
    import torch

    from benchmark.llm.scoring import causal_forward

    out = np.zeros((len(rows), len(cols)))
    col_t = torch.tensor(list(cols), dtype=torch.long, device=bb.device)
    keys = np.arange(len(rows)) if groups is None else np.asarray(groups)
    members: dict[Any, list[int]] = {}
    for i, g in enumerate(keys.tolist()):
        members.setdefault(g, []).append(i)
    plain: list[int] = []
    with torch.inference_mode():
        for idx in members.values():
            n = shared_prefix_len([rows[i] for i in idx]) if len(idx) > 1 else 0
            if n < MIN_SHARED:
                plain += idx
                continue
            prefix = torch.tensor([list(rows[idx[0]][:n])], dtype=torch.long, device=bb.device)
            cache = getattr(bb.model(input_ids=prefix, use_cache=True), _cache_name())
            for start in range(0, len(idx), batch_size):
                chunk = idx[start:start + batch_size]
                logits = _after_prefix(bb, cache, n, [rows[i][n:] for i in chunk])
                out[chunk] = torch.log_softmax(logits, -1)[:, col_t].cpu().numpy()
        for start in range(0, len(plain), batch_size):
            chunk = plain[start:start + batch_size]
            logits = causal_forward(bb, [list(rows[i]) for i in chunk], 1)[:, -1, :]
            out[chunk] = torch.log_softmax(logits, -1)[:, col_t].cpu().numpy()
    return out


def _after_prefix(bb: Any, cache: Any, n: int, suffixes: list[Sequence[int]]):
    """Last-position logits of ``prefix + suffix`` rows, the prefix's cache reused.

    Suffixes are left padded between the prefix and themselves (masked out, positions
    continuing the prefix), so the last position is every row's own last token."""
    import torch

    width = max(len(s) for s in suffixes)
    b = len(suffixes)
    ids = torch.full((b, width), bb.tokenizer.pad_token_id, dtype=torch.long)
    mask = torch.ones((b, n + width), dtype=torch.long)
    pos = torch.full((b, width), n, dtype=torch.long)
    for r, s in enumerate(suffixes):
        pad = width - len(s)
        ids[r, pad:] = torch.tensor(list(s), dtype=torch.long)
        mask[r, n:n + pad] = 0
        pos[r, pad:] = torch.arange(n, n + len(s))
    past = copy.deepcopy(cache)
    past.batch_repeat_interleave(b)
    dev = bb.device
    logits = bb.model(input_ids=ids.to(dev), attention_mask=mask.to(dev),
                      position_ids=pos.to(dev), use_cache=True, logits_to_keep=1,
                      **{_cache_name(): past}).logits
    return logits[:, -1, :].float()
