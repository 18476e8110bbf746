"""ExplainRec's training loop: L = sum_t lambda_t L_t over the enabled tasks, FOMAML episodes.

Tasks and their losses (core.ERNet.losses):
  preference   alpha * L_pred
  explanation  beta * L_reason + gamma * L_consistency     (attribution on)
  rating       L_rating                                     (multi-task on)
  cross_domain L_cross                                      (multi-task on)
With multi-task off the lambdas stay 1 and only preference (+ explanation) train. With
zero-shot transfer on, ``meta_episodes`` first-order MAML episodes are spread over the steps.
"""

from __future__ import annotations

import time
from collections import defaultdict
from typing import cast

import numpy as np
import torch

from benchmark.progress import enabled
from explainrec import meta
from explainrec.attribution import bleu_rewards
from explainrec.core import ERNet, lr_lambda
from explainrec.data import Example
from explainrec.multitask import AdaptiveTaskWeights


def _task_losses(out: dict, cfg) -> dict[str, torch.Tensor]:
    tasks = {"preference": cfg.alpha * out["pred"]}
    if "reason" in out:
        tasks["explanation"] = cfg.beta * out["reason"] + cfg.gamma * out["consistency"]
    for t in ("rating", "cross_domain"):
        if t in out:
            tasks[t] = out[t]
    return tasks


def _mrt_loss(net: ERNet, batch, kb, reasons, n: int = 2) -> torch.Tensor:
    """REINFORCE with sentence-BLEU reward on sampled explanations (baseline: their mean)."""
    from explainrec.lm import forward_rows, greedy

    rows, prompts = [], []
    for e in batch[:n]:
        ids, soft = net.full_row(e)
        ans = net.yes if e.liked else net.no
        prompts.append((ids + ans + net.cue, soft + [-1] * (len(ans) + len(net.cue))))
    samples = greedy(net.bb, net.soft, prompts * 2, 32, [net.eos], sample=True)
    texts = [net.bb.tokenizer.decode(s, skip_special_tokens=True) for s in samples]
    rewards = np.concatenate([bleu_rewards([texts[k], texts[k + len(prompts)]], reasons[k])
                              for k in range(len(prompts))])
    rewards = rewards.reshape(len(prompts), 2).T.reshape(-1)
    adv = torch.tensor(rewards - rewards.mean(), dtype=torch.float32)
    for (ids, soft), s in zip(prompts * 2, samples):
        rows.append((ids + s + [net.eos], soft + [-1] * (len(s) + 1)))
    keep = max(len(s) for s in samples) + 2
    logits, _, _ = forward_rows(net.bb, net.soft, rows, keep=keep)
    logp = []
    for k, ((ids, _), s) in enumerate(zip(prompts * 2, samples)):
        off = keep - len(rows[k][0])
        tgt = torch.tensor(s + [net.eos])
        lp = torch.log_softmax(logits[k, off + len(ids) - 1:off + len(ids) + len(s)], -1)
        logp.append(lp.gather(-1, tgt[:, None]).sum())
    return -(adv * torch.stack(logp)).mean()


def train(net: ERNet, examples: list[Example], reasons: list[str] | None,
          kb: np.ndarray | None, seed: int, progress: bool = True) -> dict:
    from tqdm.auto import tqdm

    cfg, sw = net.cfg, net.sw
    tasks = ["preference"] + (["explanation"] if sw["attribution"] else []) + (
        ["rating", "cross_domain"] if sw["multitask"] else [])
    weights = AdaptiveTaskWeights(tasks, cfg.eta, cfg.lambda_rule, adaptive=sw["multitask"])
    params = net.trainable()
    opt = torch.optim.AdamW(params, lr=cfg.lr)
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    per_epoch = max(1, -(-len(examples) // cfg.batch_size))
    total = per_epoch * cfg.epochs
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_lambda(total))
    meta_at = set(np.linspace(total // 4, total - 1, cfg.meta_episodes).astype(int).tolist()) \
        if sw["zero_shot"] and cfg.meta_episodes > 0 else set()
    by_user: dict[int, list[int]] = defaultdict(list)
    for n, e in enumerate(examples):
        by_user[e.user].append(n)
    meta_users = [u for u, idx in by_user.items() if len(idx) > cfg.meta_support]
    kb_t = torch.tensor(kb, dtype=torch.float32) if kb is not None else None
    hist: dict[str, list[float]] = defaultdict(list)
    meta_log: list[dict] = []
    net.bb.model.train()
    net.train()
    t0, step = time.perf_counter(), 0
    bar = tqdm(total=total, desc=f"ExplainRec ({cfg.variant})", unit="step", leave=False,
               disable=not enabled(progress), mininterval=1.0)

    def run(idx, reasons_on: bool = True):
        return net.losses([examples[i] for i in idx], None if kb_t is None else kb_t[idx],
                          [reasons[i] for i in idx] if reasons is not None and reasons_on
                          else None)

    try:
        for _ in range(cfg.epochs):
            for idx in np.array_split(rng.permutation(len(examples)), per_epoch):
                out = run(idx)
                parts = {t: v for t, v in _task_losses(out, cfg).items() if t in tasks}
                if cfg.reason_loss == "token_ce+mrt" and reasons is not None \
                        and step % cfg.mrt_every == 0:
                    parts["explanation"] = parts["explanation"] + cfg.beta * _mrt_loss(
                        net, [examples[i] for i in idx], None, [reasons[i] for i in idx])
                # a tensor: every run trains at least one task
                loss = cast(torch.Tensor, sum(weights.weight(t) * v for t, v in parts.items()))
                opt.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(params, 1.0)
                opt.step()
                sched.step()
                values = {t: float(v.detach()) for t, v in parts.items()}
                weights.update(values)
                for t, v in values.items():
                    hist[t].append(v)
                hist["total"].append(float(loss.detach()))
                if step in meta_at and meta_users:
                    meta_log.append(_episode(net, run, by_user, meta_users, rng, opt, cfg))
                step += 1
                bar.update(1)
    finally:
        bar.close()
        net.bb.model.eval()
        net.eval()

    def mean_tail(v):
        return float(np.mean(v[-max(1, len(v) // 10):]))

    return {"steps": step, "seconds": time.perf_counter() - t0, "n_examples": len(examples),
            "first_losses": {t: v[0] for t, v in hist.items()},
            "final_losses": {t: mean_tail(v) for t, v in hist.items()},
            "lambda": weights.log(every=max(1, step // 20)), "meta_episodes": meta_log,
            "kb_gate": float(net.kb_gate.detach())}


def _episode(net, run, by_user, meta_users, rng, opt, cfg) -> dict:
    u = meta_users[int(rng.integers(len(meta_users)))]
    idx = rng.permutation(by_user[u])
    support, query = idx[:cfg.meta_support], idx[cfg.meta_support:2 * cfg.meta_support]
    params = meta.adapter_parameters(net.bb.model)
    log = meta.fomaml_episode(params, lambda: run(support, False)["pred"],
                              lambda: run(query, False)["pred"], cfg.meta_lr, opt)
    return {"user": int(u), **log}
