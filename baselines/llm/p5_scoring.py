"""P5 on a seq2seq (encoder-decoder) checkpoint: teacher-forced training batches, the
log-probabilities of short answers (yes/no, a star rating, an item token) after a prompt, and
:class:`Seq2seqP5`, the seq2seq counterpart of :class:`baselines.llm.p5_causal.CausalP5`.

The encoder runs once per prompt; answers that are single tokens (atomic item ids, digits) are
read off one decoder step, longer answers are scored by teacher forcing with the encoder output
reused. Everything is batched; ``torch`` is imported inside the functions.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def encode_sources(tokenizer, sources: Sequence[str], max_len: int, device: str):
    """(input_ids, attention_mask) tensors for a batch of prompts (padded, truncated)."""
    enc = tokenizer(list(sources), add_special_tokens=False, padding=True, truncation=True,
                    max_length=max_len, return_tensors="pt")
    return enc["input_ids"].to(device), enc["attention_mask"].to(device)


def encode_targets(tokenizer, targets: Sequence[str], max_len: int, device: str):
    """Right-padded label ids (``-100`` = ignored), each target followed by ``</s>``."""
    import torch

    eos = tokenizer.eos_token_id
    rows = [tokenizer(t, add_special_tokens=False)["input_ids"][: max_len - 1] + [eos]
            for t in targets]
    width = max(len(r) for r in rows)
    labels = torch.full((len(rows), width), -100, dtype=torch.long)
    for n, r in enumerate(rows):
        labels[n, : len(r)] = torch.tensor(r, dtype=torch.long)
    return labels.to(device)


def answer_token_ids(tokenizer, answers: Sequence[str]) -> list[list[int]]:
    """Token ids of each answer as a decoder target starts with it; distinct answers required."""
    ids = [tokenizer(a, add_special_tokens=False)["input_ids"] for a in answers]
    if any(not x for x in ids) or len({tuple(x) for x in ids}) != len(ids):
        raise ValueError(f"answers {list(answers)} do not encode to distinct non-empty tokens")
    return ids


def answer_logprobs(model, input_ids, attention_mask, answers: Sequence[Sequence[int]]):
    """log P(answer | prompt) for each prompt row and each answer: float array (B, n_answers)."""
    import torch

    start = model.config.decoder_start_token_id
    batch = input_ids.shape[0]
    with torch.no_grad():
        encoder_outputs = model.get_encoder()(input_ids=input_ids,
                                              attention_mask=attention_mask)
        if all(len(a) == 1 for a in answers):
            dec = torch.full((batch, 1), start, dtype=torch.long, device=input_ids.device)
            logits = model(encoder_outputs=encoder_outputs, attention_mask=attention_mask,
                           decoder_input_ids=dec).logits[:, 0, :]
            logp = torch.log_softmax(logits.float(), dim=-1)
            cols = torch.tensor([a[0] for a in answers], device=logp.device)
            return logp[:, cols].cpu().numpy().astype(np.float64)
        out = np.zeros((batch, len(answers)), dtype=np.float64)
        for j, answer in enumerate(answers):
            ids = torch.tensor([start, *answer[:-1]], dtype=torch.long, device=input_ids.device)
            dec = ids.unsqueeze(0).expand(batch, -1)
            logits = model(encoder_outputs=encoder_outputs, attention_mask=attention_mask,
                           decoder_input_ids=dec).logits
            logp = torch.log_softmax(logits.float(), dim=-1)
            target = torch.tensor(list(answer), device=logp.device)
            picked = logp[:, torch.arange(len(answer)), target]
            out[:, j] = picked.sum(dim=1).cpu().numpy()
        return out


class Seq2seqP5:
    """P5 as in the paper: every weight of an encoder-decoder model fine-tuned on the families."""

    kind = "seq2seq"

    def __init__(self, bb: Any, config: Any) -> None:
        self.bb = bb
        self.c = config

    def setup(self, n_users: int, n_items: int, catalog: Any) -> list[dict]:
        """Add the id tokens (randomly initialised rows) and unfreeze every weight."""
        from tokenizers import AddedToken

        from baselines.llm.p5_prompts import id_tokens

        tok, model = self.bb.tokenizer, self.bb.model
        self.added = tok.add_tokens([AddedToken(t, lstrip=True, normalized=False)
                                     for t in id_tokens(n_users, n_items)])
        model.resize_token_embeddings(len(tok), mean_resizing=False)
        model.requires_grad_(True)
        return [{"params": list(model.parameters()), "lr": self.c.learning_rate,
                 "weight_decay": self.c.weight_decay}]

    def describe(self) -> dict:
        return {"finetuning": f"every weight (lr {self.c.learning_rate:g})",
                "trainable_parameters": int(sum(p.numel() for p in self.bb.model.parameters())),
                "id_token_init": "random (the model's initialiser)",
                "explanation_prompt": "plain prompt"}

    def answer_ids(self, answer: str) -> list[int]:
        return answer_token_ids(self.bb.tokenizer, [answer])[0]

    def loss(self, batch):
        """Mean cross-entropy of the targets (+ </s>) given the sources."""
        c, tok = self.c, self.bb.tokenizer
        ids, mask = encode_sources(tok, [s.source for s in batch], c.max_source_len,
                                   self.bb.device)
        labels = encode_targets(tok, [s.target for s in batch], c.max_target_len, self.bb.device)
        return self.bb.model(input_ids=ids, attention_mask=mask, labels=labels).loss

    def logprobs(self, sources: Sequence[str], answers: Sequence[Sequence[int]],
                 groups: np.ndarray | None = None) -> np.ndarray:
        """log P(answer | source): (len(sources), len(answers)); ``groups`` is not needed here."""
        c, out = self.c, []
        for start in range(0, len(sources), c.eval_batch_size):
            ids, mask = encode_sources(self.bb.tokenizer, sources[start:start + c.eval_batch_size],
                                       c.max_source_len, self.bb.device)
            out.append(answer_logprobs(self.bb.model, ids, mask, answers))
        return np.concatenate(out) if out else np.zeros((0, len(answers)))

    def explain(self, sources: Sequence[str]) -> list[str]:
        from benchmark.llm import generate

        return generate(self.bb, list(sources), max_new_tokens=self.c.explain_max_tokens,
                        batch_size=32, progress=self.c.show_progress)
