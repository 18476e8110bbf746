"""Supervised fine-tuning of a causal LM on (prompt, answer) pairs, loss on the answer only.

Whatever is trainable is trained: the LoRA weights after ``add_lora``, or the whole model when
the caller unfroze it (``bb.model.requires_grad_(True)``, full fine-tuning).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import numpy as np

from benchmark.errors import BenchError
from benchmark.llm.loading import Backbone
from benchmark.llm.scoring import answer_ids, causal_forward
from benchmark.progress import enabled


def warmup_linear_decay(total: int):
    """LR factor per step: linear warm-up over the first 5% of ``total`` steps, then linear
    decay to 0 (shared by the LM tuning loops)."""
    warm = max(1, total // 20)
    return lambda s: min(1.0, (s + 1) / warm) * max(0.0, 1.0 - s / max(1, total))


def finetune_causal(bb: Backbone, prompts: Sequence[str], answers: Sequence[str], *,
                    epochs: int = 1, lr: float = 3e-4, batch_size: int = 16, seed: int = 0,
                    max_steps: int | None = None, progress: bool = True,
                    context: str = "### Response:\n", weight_decay: float = 0.0,
                    after_epoch: Callable[[int], None] | None = None) -> dict:
    """Teacher-forced cross-entropy on each answer's tokens followed by eos.

    ``after_epoch(epoch)`` runs after each full pass over the data (model in eval mode during
    the call), e.g. to score a validation set and keep the best weights."""
    import torch
    from tqdm.auto import tqdm

    if bb.kind != "causal":
        raise BenchError("finetune_causal needs a causal LM", "load a causal backbone")
    if len(prompts) != len(answers) or not prompts:
        raise BenchError(f"got {len(prompts)} prompts and {len(answers)} answers",
                         "pass one answer per prompt, at least one pair")
    params = [p for p in bb.model.parameters() if p.requires_grad]
    if not params:
        raise BenchError("the model has no trainable parameters",
                         "call add_lora() first, or bb.model.requires_grad_(True) for full "
                         "fine-tuning")
    tok = bb.tokenizer
    eos = [tok.eos_token_id] if tok.eos_token_id is not None else []
    ans_cache = {a: answer_ids(tok, a, context) + eos for a in set(answers)}
    enc = [list(x) for x in tok(list(prompts))["input_ids"]]
    rows = [e + ans_cache[a] for e, a in zip(enc, answers)]
    targets = [ans_cache[a] for a in answers]
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    steps_per_epoch = (len(rows) + batch_size - 1) // batch_size
    total = steps_per_epoch * epochs if max_steps is None else min(max_steps,
                                                                    steps_per_epoch * epochs)
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, warmup_linear_decay(total))
    bb.model.train()
    t0, step, epoch, losses = time.perf_counter(), 0, 0, []
    bar = tqdm(total=total, desc="LLM fine-tuning", unit="step", disable=not enabled(progress),
               leave=False, mininterval=1.0)
    try:
        while step < total:
            for b in np.array_split(rng.permutation(len(rows)), steps_per_epoch):
                if step >= total:
                    break
                keep = max(len(targets[i]) for i in b) + 1
                logits = causal_forward(bb, [rows[i] for i in b], keep)[:, :-1, :]
                tgt = torch.full(logits.shape[:2], -100, dtype=torch.long)
                for r, i in enumerate(b):
                    tgt[r, keep - 1 - len(targets[i]):] = torch.tensor(targets[i])
                loss = torch.nn.functional.cross_entropy(
                    logits.reshape(-1, logits.shape[-1]), tgt.to(logits.device).reshape(-1))
                opt.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(params, 1.0)
                opt.step()
                sched.step()
                losses.append(loss.item())
                step += 1
                bar.update(1)
            epoch += 1
            if after_epoch is not None:
                bb.model.eval()
                after_epoch(epoch)
                bb.model.train()
    finally:
        bar.close()
        bb.model.eval()
    tail = losses[-max(1, len(losses) // 10):]
    return {"steps": step, "seconds": time.perf_counter() - t0,
            "final_loss": float(np.mean(tail)), "first_loss": losses[0] if losses else None}
