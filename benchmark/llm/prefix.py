"""Shared-prefix key/value reuse and length bucketing for batched causal-LM passes.

The prompts of one protocol open with the same long text (TALLRec: the Alpaca preamble and the
instruction, about half of each prompt). Causal attention makes a token's hidden states depend on
the tokens before it only, so that opening can run once and every prompt's remaining tokens
(its suffix) can attend to its cached keys and values: the logits are those of the full prompt,
at the cost of the suffix. Everything is cut in token space (ids of the fully encoded prompts),
never in text, so a tokenizer that merges across the cut cannot change a result.

Suffixes of one batch are left padded *between* the prefix and the suffix (masked out), with
explicit position ids, so every row's last real token is in the last column and only the last
few positions need the vocabulary projection (``logits_to_keep``).

The cache object is the one the model returns (a ``transformers`` ``Cache``); it is copied and
repeated along the batch for each batch, never converted to legacy tuples.
"""

from __future__ import annotations

import copy
import inspect
from collections.abc import Sequence
from typing import Any

#: below this many shared tokens the prefix pass is not worth it; plain batches are used
MIN_PREFIX = 8


def cache_arg(model: Any) -> str:
    """Name of the forward argument that takes a key/value cache: ``cache`` in current
    transformers (where ``past_key_values`` is deprecated), ``past_key_values`` in older ones."""
    base = model.get_base_model() if hasattr(model, "get_base_model") else model  # peft wrapper
    params = inspect.signature(base.forward).parameters
    return "cache" if "cache" in params else "past_key_values"


def returned_cache(out: Any) -> Any:
    """The key/value cache a forward pass returned, read without the deprecated name when the
    installed transformers has the new one."""
    cache = getattr(out, "cache", None)
    return cache if cache is not None else out.past_key_values


def common_prefix_length(rows: Sequence[Sequence[int]]) -> int:
    """Number of leading token ids that every row shares (0 for no rows)."""
    if not rows:
        return 0
    first = rows[0]
    n = min(len(r) for r in rows)
    for r in rows[1:]:
        k = 0
        while k < n and r[k] == first[k]:
            k += 1
        n = k
        if n == 0:
            break
    return n


def shared_prefix_length(rows: Sequence[Sequence[int]], min_prefix: int = MIN_PREFIX) -> int:
    """Tokens to run once as a shared prefix: the common prefix, cut so that every row keeps at
    least one token of its own (its last token's logits come from the suffix pass); 0 when that
    is shorter than ``min_prefix`` or there are fewer than two rows (nothing to share)."""
    if len(rows) < 2:
        return 0
    n = min(common_prefix_length(rows), min(len(r) for r in rows) - 1)
    return n if n >= max(min_prefix, 1) else 0


def length_buckets(lengths: Sequence[int], batch_size: int) -> list[list[int]]:
    """Indices grouped into batches of similar length (sorted, stable), so that little of each
    batch is padding. Results do not depend on the grouping; only the cost does."""
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    size = max(1, int(batch_size))
    return [order[s:s + size] for s in range(0, len(order), size)]


def run_prefix(bb: Any, prefix: Sequence[int]) -> Any:
    """One forward pass over the shared prefix (batch of one); returns its key/value cache.

    Call inside ``torch.inference_mode()``; the vocabulary projection runs on one position only."""
    import torch

    ids = torch.tensor([list(prefix)], dtype=torch.long, device=bb.device)
    pos = torch.arange(ids.shape[1], device=bb.device)[None]
    out = bb.model(input_ids=ids, position_ids=pos, use_cache=True, logits_to_keep=1)
    return returned_cache(out)


def expand_cache(cache: Any, batch: int) -> Any:
    """A fresh copy of a batch-of-one cache repeated ``batch`` times (the forward pass that uses
    it appends to it, so the shared prefix cache itself is never modified)."""
    out = copy.deepcopy(cache)
    if batch > 1:
        out.batch_repeat_interleave(batch)
    return out


def prefix_forward(bb: Any, cache: Any, n_prefix: int, suffixes: Sequence[Sequence[int]],
                   keep: int) -> Any:
    """Logits of the last ``keep`` positions of prefix + each suffix: (batch, keep, vocab).

    The same numbers as ``causal_forward`` on the full rows (up to float rounding). Each suffix
    must have at least ``keep`` tokens. Call inside ``torch.inference_mode()``."""
    import torch

    b = len(suffixes)
    width = max(len(s) for s in suffixes)
    ids = torch.full((b, width), bb.tokenizer.pad_token_id, dtype=torch.long)
    mask = torch.zeros((b, n_prefix + width), dtype=torch.long)
    mask[:, :n_prefix] = 1
    pad = torch.empty(b, dtype=torch.long)
    for i, s in enumerate(suffixes):
        pad[i] = width - len(s)
        if len(s):
            ids[i, width - len(s):] = torch.tensor(list(s), dtype=torch.long)
            mask[i, n_prefix + width - len(s):] = 1
    # real suffix tokens continue the prefix's positions; pads (masked) get harmless ones
    pos = (n_prefix + torch.arange(width)[None] - pad[:, None]).clamp(min=n_prefix)
    kw = {cache_arg(bb.model): expand_cache(cache, b)}
    out = bb.model(input_ids=ids.to(bb.device), attention_mask=mask.to(bb.device),
                   position_ids=pos.to(bb.device), use_cache=True, logits_to_keep=keep, **kw)
    return out.logits[:, -keep:, :].float()
