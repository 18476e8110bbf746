"""The ExplainRec network: LoRA backbone + item soft tokens + heads, and its per-batch losses.

Per example the training row is prompt (prefix + target) + answer ("Yes."/"No.") and, with
attribution on, "\\nReason: " + O_reason + </s>. From one forward pass:

- z = logit(Yes) - logit(No) at the first response position (+ g * KB prior logit when
  zero-shot transfer is on; g is learned);
- L_pred = BCE(z, liked); L_reason = token cross-entropy on the reason tokens;
- L_consistency = BCE(stance head(mean hidden of the reason tokens), sigmoid(z) detached);
- L_rating = mean squared error of a rating head (hidden state at the response position ->
  3 + 2 tanh) against the 1-5 rating, scaled by 1/4;
- L_cross = BCE(z, liked) on cross-domain examples only (target from the other genre-group
  domain than most of the history: the suite's MovieLens proxy domains).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from benchmark.data.coldstart import PROXY_SOURCE_GENRES, PROXY_TARGET_GENRES
from benchmark.errors import BenchError
from explainrec import attribution as attr
from explainrec.config import ExplainRecConfig
from explainrec.data import Example, ItemTable
from explainrec.fusion import ItemSoftTokens
from explainrec.lm import SegmentEncoder, forward_rows


def item_domains(items: ItemTable) -> np.ndarray:
    """0 = source genre group, 1 = target group, -1 = mixed or none (the proxy domains)."""
    src, tgt = set(PROXY_SOURCE_GENRES), set(PROXY_TARGET_GENRES)
    out = np.full(len(items.genres), -1)
    for i, gs in enumerate(items.genres):
        if gs and set(gs) <= src:
            out[i] = 0
        elif gs and set(gs) <= tgt:
            out[i] = 1
    return out


class ERNet(nn.Module):
    """Everything trainable besides the frozen backbone weights."""

    def __init__(self, cfg: ExplainRecConfig, items: ItemTable,
                 features: dict[str, np.ndarray] | None, seed: int) -> None:
        super().__init__()
        from benchmark.llm import add_lora, describe_backbone, load_backbone, resolve_backbone
        from benchmark.llm.chat import chat_frame

        self.cfg, self.items, self.sw = cfg, items, cfg.switches
        torch.manual_seed(seed)
        path = resolve_backbone(cfg.backbone, "causal", user="ExplainRec", dataset=cfg.dataset)
        bb = load_backbone(path, kind="causal", device=cfg.device, dtype=cfg.dtype)
        self.backbone_info = describe_backbone(bb)
        self.bb = add_lora(bb, r=cfg.lora_r, alpha=cfg.lora_alpha, dropout=cfg.lora_dropout)
        self.enc = SegmentEncoder(bb.tokenizer)
        self.frame = chat_frame(bb.tokenizer)  # None for a tokenizer without a chat template
        self.yes = self.enc.text(attr.ANSWERS[0])
        self.no = self.enc.text(attr.ANSWERS[1])
        if self.yes[0] == self.no[0]:
            raise BenchError("the tokenizer writes \"Yes.\" and \"No.\" with the same first token",
                             "use a backbone whose tokenizer separates them")
        self.yes_id, self.no_id = self.yes[0], self.no[0]
        self.cue = self.enc.text(attr.REASON_CUE)
        self.eos = bb.tokenizer.eos_token_id
        hidden = bb.model.config.hidden_size
        self.soft = ItemSoftTokens(features, hidden).to(bb.device) \
            if self.sw["multimodal"] and features else None
        self.stance = nn.Linear(hidden, 1).to(bb.device)
        self.rating = nn.Linear(hidden, 1).to(bb.device)
        self.kb_gate = nn.Parameter(torch.tensor(1.0, device=bb.device))
        self.domains = item_domains(items)

    # --- prompts ------------------------------------------------------------------------------
    def prompt(self, ex: Example, evidence: str | None = None):
        pre, suf = attr.prompt_segments(ex, self.items, attribution=self.sw["attribution"],
                                        frame=self.frame,
                                        soft=self.soft is not None, evidence=evidence)
        return self.enc.encode(pre), self.enc.encode(suf)

    def full_row(self, ex: Example, evidence: str | None = None):
        (pi, ps), (si, ss) = self.prompt(ex, evidence)
        return pi + si, ps + ss

    def trainable(self) -> list[nn.Parameter]:
        own = [p for n, p in self.named_parameters() if not n.startswith("bb_") and p.requires_grad]
        lora = [p for p in self.bb.model.parameters() if p.requires_grad]
        return lora + own

    # --- losses -------------------------------------------------------------------------------
    def cross_mask(self, batch: list[Example]) -> torch.Tensor:
        out = []
        for e in batch:
            d = self.domains[e.item]
            hist = [self.domains[i] for i in e.history if self.domains[i] >= 0]
            out.append(d >= 0 and bool(hist) and (np.mean(hist) > 0.5) != bool(d))
        return torch.tensor(out, dtype=torch.bool)

    def losses(self, batch: list[Example], kb: torch.Tensor | None,
               reasons: list[str] | None, evidence: list[str | None] | None = None
               ) -> dict[str, torch.Tensor]:
        dev = self.bb.device
        prompts = [self.full_row(e, evidence[n] if evidence else None)
                   for n, e in enumerate(batch)]
        rows, spans = [], []
        for n, ((ids, soft), e) in enumerate(zip(prompts, batch)):
            ans = self.yes if e.liked else self.no
            tail = list(ans)
            if reasons is not None:
                tail += self.cue + self.enc.text(reasons[n]) + [self.eos]
            rows.append((ids + tail, soft + [-1] * len(tail)))
            spans.append((len(ids), len(ids) + len(ans) + len(self.cue), len(ids) + len(tail)))
        keep = max(s[2] - s[0] for s in spans) + 1
        logits, hidden, width = forward_rows(self.bb, self.soft, rows, hidden=True, keep=keep)
        b = torch.arange(len(batch), device=dev)
        # column of position p of row n in the kept window: p + off[n] - (width - keep)
        off = torch.tensor([keep - len(r[0]) for r in rows], device=dev)
        resp = off + torch.tensor([s[0] for s in spans], device=dev) - 1
        z = logits[b, resp, self.yes_id] - logits[b, resp, self.no_id]
        if kb is not None:
            z = z + self.kb_gate * kb.to(dev)
        y = torch.tensor([float(e.liked) for e in batch], device=dev)
        out = {"z": z, "pred": nn.functional.binary_cross_entropy_with_logits(z, y)}
        if reasons is not None:
            ce, stance = [], []
            for n in range(len(batch)):
                start, end = off[n] + spans[n][1], off[n] + spans[n][2]
                tgt = torch.tensor(rows[n][0][spans[n][0]:spans[n][2]], device=dev)
                pred = logits[n, off[n] + spans[n][0] - 1:end - 1]
                ce.append(nn.functional.cross_entropy(pred, tgt, reduction="sum") / len(tgt))
                stance.append(self.stance(hidden[n, start:end].mean(0))[0])
            out["reason"] = torch.stack(ce).mean()
            out["stance"] = torch.stack(stance)
            out["consistency"] = attr.consistency_loss(out["stance"], z).mean()
        r = torch.tensor([e.rating for e in batch], device=dev)
        known = torch.isfinite(r)
        if known.any():
            r_hat = 3 + 2 * torch.tanh(self.rating(hidden[b, resp])[:, 0])
            out["rating"] = (((r_hat - r) / 2) ** 2)[known].mean()
        cross = self.cross_mask(batch).to(dev)
        if cross.any():
            out["cross_domain"] = nn.functional.binary_cross_entropy_with_logits(z[cross],
                                                                                 y[cross])
        return out


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -60, 60)))


def lr_lambda(total: int):
    warm = max(1, total // 20)
    return lambda s: min(1.0, (s + 1) / warm) * max(0.05, 0.5 * (1 + math.cos(math.pi * s
                                                                             / max(1, total))))
