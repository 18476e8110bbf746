"""LR-Recsys text side: prompts, leak-free silver targets, LM tuning and contrastive generation.

Prompts show the user's recent history (liked / disliked titles, TALLRec style) and the target
title, and ask for one reason for and one against. No rating of the pair itself enters a prompt
or a target:

- a pair seen at fit time (train or valid) gets the ``history`` interactions *before* it in the
  user's time-ordered train+valid timeline, so its own rating is never in its prompt;
- a pair scored later gets the user's last ``history`` train+valid interactions (the item itself
  removed if it is there);
- the LM's training target is ``format_contrastive(for, against)`` from a ``SilverBuilder`` that
  sees only the user's last ``history`` TRAIN interactions strictly before the pair
  (``PrefixSilver``): the item's own like/dislike cannot shape its reason, and the target cites
  only titles its prompt shows (for a chronological split the two windows are the same rows).

The tuned LM's trainable weights are cached (safetensors, keyed by backbone, recipe, seed and a
hash of the training texts), so the with/without-explanation variants tune it once.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from benchmark.atomic import temp_name
from benchmark.data.types import Catalog, Interactions
from benchmark.explain.contrastive import (
    AGAINST_LABEL,
    FOR_LABEL,
    ContrastivePair,
    format_contrastive,
    parse_contrastive,
)
from benchmark.explain.silver import SilverBuilder, SilverReference

RESPONSE = "### Response:\n"
INSTRUCTION = ("Given the movies the user liked and disliked, give one reason why the user may "
               "like the target movie and one reason why they may not.")
#: bump when the prompt or target wording changes (invalidates cached tuned LMs)
TEXT_VERSION = 1


def item_titles(catalog: Catalog | None, n_items: int) -> list[str]:
    """"Title (Year)" per item id; "Item <id>" where the catalogue has no title."""
    from benchmark.llm.pretrain import title_with_year

    items = catalog.items if catalog is not None else None
    if items is None or "title" not in items.columns:
        return [f"Item {i}" for i in range(n_items)]
    years = items["year"] if "year" in items.columns else [None] * len(items)
    return [title_with_year(t, y) for t, y in zip(items["title"], years)]


def build_prompt(titles: Sequence[str], hist_items: Sequence[int] | np.ndarray,
                 hist_liked: Sequence[bool] | np.ndarray, target: int) -> str:
    liked = ", ".join(f'"{titles[i]}"' for i, y in zip(hist_items, hist_liked) if y)
    disliked = ", ".join(f'"{titles[i]}"' for i, y in zip(hist_items, hist_liked) if not y)
    return (f"### Instruction:\n{INSTRUCTION}\n### Input:\nUser Preference: {liked}\n"
            f"User Unpreference: {disliked}\nTarget movie: \"{titles[target]}\"\n{RESPONSE}")


class Timeline:
    """One interaction part's rows in per-user time order (ties by row order)."""

    def __init__(self, part: Interactions) -> None:
        f = part.frame
        self.order = np.lexsort((np.arange(len(f)), f["timestamp"].to_numpy(),
                                 f["user"].to_numpy()))
        self.users = f["user"].to_numpy()[self.order]
        self.items = f["item"].to_numpy()[self.order]
        self.liked = part.liked()[self.order]
        # position of each original row inside its user's timeline
        starts = np.searchsorted(self.users, self.users)
        self.position = np.empty(len(f), dtype=np.int64)
        self.position[self.order] = np.arange(len(f)) - starts
        self._inv = np.empty(len(f), dtype=np.int64)  # original row -> sorted index
        self._inv[self.order] = np.arange(len(f))

    def span(self, user: int) -> tuple[int, int]:
        lo, hi = np.searchsorted(self.users, [user, user + 1])
        return int(lo), int(hi)

    def before(self, row: int, history: int) -> tuple[np.ndarray, np.ndarray]:
        """The ``history`` interactions preceding original row ``row`` in its user's timeline."""
        at = int(self._inv[row])
        start = at - int(self.position[row])
        lo = max(start, at - history)
        return self.items[lo:at], self.liked[lo:at]

    def recent(self, user: int, item: int, history: int) -> tuple[np.ndarray, np.ndarray]:
        """The user's last ``history`` interactions, the item itself left out."""
        lo, hi = self.span(user)
        keep = self.items[lo:hi] != item
        return self.items[lo:hi][keep][-history:], self.liked[lo:hi][keep][-history:]


class PrefixSilver(SilverBuilder):
    """SilverBuilder that sees only a window of the user's timeline before the pair.

    ``before(user, item, position, window)``: the liked history is the user's interactions
    ``position - window .. position - 1`` (the ones its prompt shows), so the target cites only
    what the LM can read and never depends on the pair's own rating."""

    _span: tuple[int, int] | None = None

    def liked_history(self, user: int) -> np.ndarray:
        lo, hi = np.searchsorted(self._users, [user, user + 1])
        if self._span is not None:
            lo, hi = lo + self._span[0], min(hi, lo + self._span[1])
        items, liked = self._items[lo:hi], self._liked[lo:hi]
        return items[liked] if liked.any() else items

    def before(self, user: int, item: int, position: int, window: int) -> SilverReference:
        self._span = (max(0, position - window), position)
        try:
            return self.build(user, item)
        finally:
            self._span = None


def lm_training_texts(train: Interactions, timeline: Timeline, train_rows: np.ndarray,
                      titles: Sequence[str], history: int) -> tuple[list[str], list[str]]:
    """(prompt, target) for the given TRAIN rows; targets see only earlier train interactions.

    ``timeline`` is over train + valid (train rows first, so row ids agree)."""
    assert train.catalog is not None, "LR-Recsys texts need the item catalog"
    silver = PrefixSilver(train.catalog, train)
    own = Timeline(train)  # positions inside the train part alone, the order SilverBuilder uses
    f = train.frame
    users, items = f["user"].to_numpy(), f["item"].to_numpy()
    prompts, targets = [], []
    for r in train_rows:
        u, i = int(users[r]), int(items[r])
        h_items, h_liked = timeline.before(int(r), history)
        prompts.append(build_prompt(titles, h_items, h_liked, i))
        ref = silver.before(u, i, int(own.position[r]), history)
        targets.append(format_contrastive(ref.text, ref.against))
    return prompts, targets


def recipe_key(parts: dict, prompts: Sequence[str], targets: Sequence[str]) -> str:
    h = hashlib.sha256(json.dumps(parts, sort_keys=True).encode())
    for p, t in zip(prompts, targets):
        h.update(p.encode())
        h.update(b"\0")
        h.update(t.encode())
        h.update(b"\1")
    return h.hexdigest()[:24]


def save_trainable(model, path: Path) -> None:
    from safetensors.torch import save_file

    tensors = {n: p.detach().cpu().contiguous() for n, p in model.named_parameters()
               if p.requires_grad}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_name(path)  # unique: two runs may tune the same recipe at once
    try:
        save_file(tensors, str(tmp))
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


def load_trainable(model, path: Path) -> bool:
    """Copy cached trainable weights into ``model``; False when the file does not fit it."""
    import torch
    from safetensors.torch import load_file

    tensors = load_file(str(path))
    params = {n: p for n, p in model.named_parameters() if p.requires_grad}
    if set(tensors) != set(params) or any(tensors[n].shape != p.shape
                                          for n, p in params.items()):
        return False
    with torch.no_grad():
        for n, p in params.items():
            p.copy_(tensors[n].to(p.device, p.dtype))
    return True


def contrastive_generate(bb, prompts: Sequence[str], max_new_tokens: int, batch_size: int,
                         cache, adapter: str, *, primed: bool = True,
                         no_repeat_ngram: int = 0) -> list[ContrastivePair]:
    """Greedy generation (cached) parsed into halves; malformed answers are kept as such.

    ``primed``: the answer's labels are written by the harness and the LM writes each half after
    its label, up to the end of its line (``max_new_tokens`` // 2 tokens each): the "for" half
    after "Positive:", then the "against" half after the prompt, that half and "Negative:". The
    format is then guaranteed, the words are the LM's; an empty half is still malformed.
    ``primed=False``: one free answer that must carry both labels itself. ``no_repeat_ngram``:
    no n-gram repeats inside one generated text (``generate``)."""
    from benchmark.llm import generate

    show = len(prompts) > 256
    if not primed:
        raw = generate(bb, list(prompts), max_new_tokens=max_new_tokens, batch_size=batch_size,
                       cache=cache, progress=show, adapter=adapter,
                       no_repeat_ngram=no_repeat_ngram)
        return [parse_contrastive(t) for t in raw]
    half = max(1, max_new_tokens // 2)
    firsts = generate(bb, [p + FOR_LABEL for p in prompts], max_new_tokens=half,
                      batch_size=batch_size, cache=cache, progress=show, adapter=adapter,
                      stop="\n", no_repeat_ngram=no_repeat_ngram)
    seconds = generate(bb, [f"{p}{FOR_LABEL} {f}\n{AGAINST_LABEL}"
                            for p, f in zip(prompts, firsts)],
                       max_new_tokens=half, batch_size=batch_size, cache=cache, progress=show,
                       adapter=adapter, stop="\n", no_repeat_ngram=no_repeat_ngram)
    return [parse_contrastive(format_contrastive(f, a)) for f, a in zip(firsts, seconds)]
