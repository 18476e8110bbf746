"""Zero-shot preference transfer, part 2: meta-learning for cold start (first-order MAML).

theta_new = theta_base - a * grad_theta L_support(theta, S_new): one (or a few) gradient steps on
a new user's small support set, applied to the LoRA adapter parameters only. The base is
meta-trained so that this step helps: in an episode (one training user), the inner step is
taken on a support set of that user's examples and the query loss is evaluated at the adapted
parameters; its gradient there is applied to the base (first-order MAML: the second-order term
through the inner step is dropped).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

import torch


def adapter_parameters(model) -> list[torch.nn.Parameter]:
    """The trainable LoRA weights (names containing "lora_")."""
    return [p for n, p in model.named_parameters() if p.requires_grad and "lora_" in n]


def inner_step(params: Sequence[torch.nn.Parameter], loss_fn: Callable[[], torch.Tensor],
               lr: float, steps: int = 1) -> list[float]:
    """theta <- theta - lr * grad L_support(theta), in place; returns the support losses seen
    before each step."""
    seen = []
    for _ in range(steps):
        loss = loss_fn()
        grads = torch.autograd.grad(loss, list(params), allow_unused=True)
        with torch.no_grad():
            for p, g in zip(params, grads):
                if g is not None:
                    p.sub_(lr * g)  # in place, as p -= lr * g
        seen.append(float(loss.detach()))
    return seen


@contextmanager
def adapted(params: Sequence[torch.nn.Parameter], loss_fn: Callable[[], torch.Tensor],
            lr: float, steps: int = 1) -> Iterator[list[float]]:
    """Inside the block the parameters are theta_new; they are restored on exit."""
    saved = [p.detach().clone() for p in params]
    try:
        with torch.enable_grad():
            losses = inner_step(params, loss_fn, lr, steps)
        yield losses
    finally:
        with torch.no_grad():
            for p, s in zip(params, saved):
                p.copy_(s)


def fomaml_episode(params: Sequence[torch.nn.Parameter], support_fn: Callable[[], torch.Tensor],
                   query_fn: Callable[[], torch.Tensor], inner_lr: float,
                   optimizer: torch.optim.Optimizer) -> dict[str, float]:
    """One first-order MAML update of the base parameters; returns the episode's losses."""
    with adapted(params, support_fn, inner_lr) as support_losses:
        query = query_fn()
        grads = torch.autograd.grad(query, list(params), allow_unused=True)
    optimizer.zero_grad(set_to_none=True)
    for p, g in zip(params, grads):
        p.grad = None if g is None else g.detach().clone()
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    return {"support": support_losses[0], "query_adapted": float(query.detach())}
