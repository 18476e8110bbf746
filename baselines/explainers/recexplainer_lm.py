"""RecExplainer's language-model side: the projection of target embeddings into the LM, tuning,
candidate scoring and yes/no answers, all on soft-token prompts (``benchmark.llm.soft_prompts``).

The target's user and item vectors are frozen buffers; one trained linear layer maps them to the
LM's hidden size (intention alignment). Answers are scored by their mean token log-probability
(title tokens + eos) so that long and short titles compete fairly.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from benchmark.errors import DataError
from benchmark.llm.soft_prompts import SegmentEncoder, forward_rows
from benchmark.llm.train import warmup_linear_decay
from benchmark.progress import enabled


class TargetProjection(nn.Module):
    """Soft tokens from a target recommender's embeddings: index < n_items is an item, index
    n_items + u is user u. Only ``proj`` (d -> LM hidden size) is trained; ``init_std`` should be
    the LM's own input-embedding spread, so soft tokens start on the scale of word tokens."""

    items: torch.Tensor  # buffers (register_buffer)
    users: torch.Tensor

    def __init__(self, user_emb: np.ndarray, item_emb: np.ndarray, hidden: int,
                 init_std: float = 0.02) -> None:
        super().__init__()
        u, i = np.asarray(user_emb, np.float32), np.asarray(item_emb, np.float32)
        if u.ndim != 2 or i.ndim != 2 or u.shape[1] != i.shape[1]:
            raise DataError(f"target embeddings have shapes {u.shape} and {i.shape}",
                            "pass (n_users, d) and (n_items, d) arrays with the same d")
        if not (np.isfinite(u).all() and np.isfinite(i).all()):
            raise DataError("target embeddings contain NaN or infinity",
                            "check the target model's scores")
        scale = float(np.concatenate([u.ravel(), i.ravel()]).std()) or 1.0
        self.register_buffer("items", torch.from_numpy(i / scale))
        self.register_buffer("users", torch.from_numpy(u / scale))
        self.n_items = i.shape[0]
        self.proj = nn.Linear(i.shape[1], hidden)
        nn.init.normal_(self.proj.weight, std=init_std / np.sqrt(i.shape[1]))  # out std ~ init_std
        nn.init.zeros_(self.proj.bias)

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        is_item = idx < self.n_items
        vec = torch.where(is_item[:, None], self.items[idx.clamp(max=self.n_items - 1)],
                          self.users[(idx - self.n_items).clamp(min=0)])
        return self.proj(vec)


def _answer(enc: SegmentEncoder, text: str, eos: int | None) -> list[int]:
    return enc.text(text) + ([eos] if eos is not None else [])


def tune(bb, soft: TargetProjection | None, enc: SegmentEncoder, prompts: Sequence[list],
         answers: Sequence[str], *, epochs: int, lr: float, batch_size: int, seed: int,
         projection_lr: float | None = None, progress: bool = True) -> dict:
    """Teacher-forced cross-entropy on the answers (+ eos), averaged per example; trains the
    LM's trainable weights (LoRA or all) and the projection."""
    from tqdm.auto import tqdm

    eos = bb.tokenizer.eos_token_id
    encoded = [enc.encode(p) for p in prompts]
    targets = [_answer(enc, a, eos) for a in answers]
    params = [p for p in bb.model.parameters() if p.requires_grad]
    groups: list[dict[str, Any]] = [{"params": params, "lr": lr}]
    if soft is not None:
        groups.append({"params": list(soft.parameters()), "lr": projection_lr or lr})
        params = params + groups[1]["params"]
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    per_epoch = max(1, -(-len(encoded) // batch_size))
    total = per_epoch * epochs
    opt = torch.optim.AdamW(groups)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, warmup_linear_decay(total))
    bb.model.train()
    losses: list[float] = []
    t0 = time.perf_counter()
    bar = tqdm(total=total, desc="RecExplainer alignment tuning", unit="step", leave=False,
               disable=not enabled(progress), mininterval=1.0)
    try:
        for _ in range(epochs):
            for b in np.array_split(rng.permutation(len(encoded)), per_epoch):
                rows = [(encoded[i][0] + targets[i], encoded[i][1] + [-1] * len(targets[i]))
                        for i in b]
                keep = max(len(targets[i]) for i in b) + 1
                logits, _, _ = forward_rows(bb, soft, rows, keep=keep)
                logits = logits[:, :-1, :]
                tgt = torch.full(logits.shape[:2], -100, dtype=torch.long)
                for r, i in enumerate(b):
                    tgt[r, keep - 1 - len(targets[i]):] = torch.tensor(targets[i])
                tok_loss = nn.functional.cross_entropy(
                    logits.reshape(-1, logits.shape[-1]), tgt.to(logits.device).reshape(-1),
                    reduction="none").view(tgt.shape)
                # each example weighs the same: a one-token "Yes." counts as much as a title
                mask = (tgt != -100).to(tok_loss.device)
                loss = ((tok_loss * mask).sum(1) / mask.sum(1).clamp(min=1)).mean()
                opt.zero_grad(set_to_none=True)
                loss.backward()
                nn.utils.clip_grad_norm_(params, 1.0)
                opt.step()
                sched.step()
                losses.append(float(loss.detach()))
                bar.update(1)
    finally:
        bar.close()
        bb.model.eval()
    tail = losses[-max(1, len(losses) // 10):]
    return {"steps": len(losses), "seconds": time.perf_counter() - t0,
            "first_loss": losses[0] if losses else None, "final_loss": float(np.mean(tail))}


#: prompts with at least this many candidate answers run once and share their key/value cache
SHARED_PROMPT_MIN = 3


def answer_scores(bb, soft, enc: SegmentEncoder, prompts: Sequence[list],
                  answers: Sequence[Sequence[str]], batch_size: int = 64) -> np.ndarray:
    """Mean token log-probability of each candidate answer after its prompt: (n, c).

    A prompt with several candidates (the alignment track asks 10-20 per prompt) runs once and
    every candidate continues from its key/value cache; prompts with one or two candidates are
    scored as full rows, batched by length. Both give the numbers of a full forward pass of
    prompt + answer (tested to 1e-4)."""
    eos = bb.tokenizer.eos_token_id
    width = max((len(a) for a in answers), default=0)
    out = np.full((len(prompts), width), np.nan)
    rows, where, lengths = [], [], []
    with torch.inference_mode():
        for n, (p, cands) in enumerate(zip(prompts, answers)):
            ids, sl = enc.encode(p)
            targets = [_answer(enc, a, eos) for a in cands]
            if len(cands) >= SHARED_PROMPT_MIN:
                out[n, :len(cands)] = _shared_prompt_scores(bb, soft, (ids, sl), targets,
                                                            batch_size)
                continue
            for c, t in enumerate(targets):
                rows.append((ids + t, sl + [-1] * len(t)))
                where.append((n, c))
                lengths.append(len(t))
        order = np.argsort([len(r[0]) for r in rows], kind="stable")  # similar lengths together
        for start in range(0, len(rows), batch_size):
            idx = order[start:start + batch_size]
            keep = max(lengths[i] for i in idx) + 1
            logits, _, _ = forward_rows(bb, soft, [rows[i] for i in idx], keep=keep)
            lp = torch.log_softmax(logits[:, :-1, :], -1)
            for r, i in enumerate(idx):
                answer = torch.tensor(rows[i][0][-lengths[i]:])
                got = lp[r, keep - 1 - lengths[i]:].gather(-1, answer[:, None])[:, 0]
                n, c = where[i]
                out[n, c] = float(got.mean())
    return out


def _shared_prompt_scores(bb, soft, prompt: tuple[list[int], list[int]],
                          targets: Sequence[list[int]], batch_size: int) -> np.ndarray:
    """Mean log-probability of each target after one prompt, the prompt run once: its last
    logits score every target's first token, its cache feeds the targets' other tokens
    (right padded and masked, positions continuing the prompt's)."""
    from benchmark.llm.prefix import cache_arg, expand_cache, returned_cache
    from benchmark.llm.soft_prompts import embed

    dev = bb.device
    ids = torch.tensor([prompt[0]], dtype=torch.long, device=dev)
    sl = torch.tensor([prompt[1]], dtype=torch.long, device=dev)
    n_pre = ids.shape[1]
    pre = bb.model(inputs_embeds=embed(bb.model, soft, ids, sl),
                   position_ids=torch.arange(n_pre, device=dev)[None], use_cache=True,
                   logits_to_keep=1)
    first = torch.log_softmax(pre.logits[0, -1].float(), -1)
    cache = returned_cache(pre)
    scores = np.empty(len(targets))
    for start in range(0, len(targets), batch_size):
        chunk = targets[start:start + batch_size]
        b, w = len(chunk), max(len(t) for t in chunk)
        tok = torch.full((b, w), bb.tokenizer.pad_token_id, dtype=torch.long)
        mask = torch.zeros((b, n_pre + w), dtype=torch.long)
        mask[:, :n_pre] = 1
        for r, t in enumerate(chunk):
            tok[r, :len(t)] = torch.tensor(t)
            mask[r, n_pre:n_pre + len(t)] = 1
        pos = (n_pre + torch.arange(w))[None].expand(b, w)
        res = bb.model(input_ids=tok.to(dev), attention_mask=mask.to(dev),
                       position_ids=pos.to(dev), use_cache=True,
                       **{cache_arg(bb.model): expand_cache(cache, b)})
        lp = torch.log_softmax(res.logits.float(), -1)  # row r, column j predicts token j + 1
        for r, t in enumerate(chunk):
            got = [float(first[t[0]])]
            got += [float(lp[r, j - 1, t[j]]) for j in range(1, len(t))]
            scores[start + r] = float(np.mean(got))
    return scores


def yes_probability(bb, soft, enc: SegmentEncoder, prompts: Sequence[list], yes: int, no: int,
                    batch_size: int = 64) -> np.ndarray:
    """P(Yes) / (P(Yes) + P(No)) at the first response position."""
    rows = [enc.encode(p) for p in prompts]
    out = np.empty(len(rows))
    with torch.inference_mode():
        for start in range(0, len(rows), batch_size):
            logits, _, _ = forward_rows(bb, soft, rows[start:start + batch_size], keep=1)
            diff = (logits[:, -1, no] - logits[:, -1, yes]).double().cpu().numpy()
            out[start:start + len(diff)] = 1.0 / (1.0 + np.exp(diff))
    return out
