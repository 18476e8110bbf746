"""The language-model side: prompts with soft tokens as ``inputs_embeds``, cached scoring, decoding.

A prompt is a list of segments (text, or an item id whose soft token goes there). Text segments
are tokenized on their own (no special tokens) and cached; a soft slot holds the tokenizer's
<unk> id in ``input_ids`` and its embedding is replaced by the item's soft token.

Scoring many targets for one user (``rank``, ``score_all``, the sampled protocol) runs the user's
prefix once and reuses its key/value cache for every target suffix, which gives the same scores
as running each full prompt (tested) at a fraction of the cost.
"""

from __future__ import annotations

import numpy as np
import torch

from benchmark.llm.soft_prompts import SegmentEncoder, embed, forward_rows, greedy, left_pad

__all__ = ["SegmentEncoder", "embed", "forward_rows", "left_pad", "answer_logits",
           "prefix_answer_logits", "greedy"]


def answer_logits(bb, soft_tokens, rows, yes: int, no: int) -> torch.Tensor:
    """logit(Yes) - logit(No) after each full prompt (no cache)."""
    logits, _, _ = forward_rows(bb, soft_tokens, rows, keep=1)
    return logits[:, -1, yes] - logits[:, -1, no]


def prefix_answer_logits(bb, soft_tokens, prefix, suffixes, yes: int, no: int,
                         batch_size: int = 64) -> np.ndarray:
    """logit(Yes) - logit(No) for one shared prefix and many suffixes (prefix run once)."""
    from benchmark.llm.prefix import cache_arg, expand_cache, returned_cache

    out = np.empty(len(suffixes))
    cache_kw = cache_arg(bb.model)  # "cache" (transformers 5) or "past_key_values" (older)
    dev = bb.device
    p_ids = torch.tensor([prefix[0]], dtype=torch.long, device=dev)
    p_soft = torch.tensor([prefix[1]], dtype=torch.long, device=dev)
    n_pre = p_ids.shape[1]
    with torch.inference_mode():
        pre = bb.model(inputs_embeds=embed(bb.model, soft_tokens, p_ids, p_soft),
                       position_ids=torch.arange(n_pre, device=dev)[None], use_cache=True)
        pre_cache = returned_cache(pre)  # the model's own cache object, batch of one
        for start in range(0, len(suffixes), batch_size):
            chunk = suffixes[start:start + batch_size]
            b, width = len(chunk), max(len(s[0]) for s in chunk)
            ids = torch.full((b, width), bb.tokenizer.pad_token_id, dtype=torch.long)
            soft = torch.full((b, width), -1, dtype=torch.long)
            mask = torch.zeros((b, n_pre + width), dtype=torch.long)
            mask[:, :n_pre] = 1
            lengths = torch.tensor([len(s[0]) for s in chunk])
            for n, (i, s) in enumerate(chunk):  # left padding between prefix and suffix,
                ids[n, width - len(i):] = torch.tensor(i)  # masked out, so every suffix ends
                soft[n, width - len(s):] = torch.tensor(s)  # in the last column
                mask[n, n_pre + width - len(i):] = 1
            pad = (width - lengths)[:, None].to(dev)
            pos = (n_pre + torch.arange(width, device=dev)[None] - pad).clamp(min=0)
            last = bb.model(inputs_embeds=embed(bb.model, soft_tokens, ids.to(dev),
                                                soft.to(dev)),
                            attention_mask=mask.to(dev), position_ids=pos,
                            use_cache=True, **{cache_kw: expand_cache(pre_cache, b)},
                            logits_to_keep=1).logits[:, -1].float()
            out[start:start + b] = (last[:, yes] - last[:, no]).cpu().numpy()
    return out
