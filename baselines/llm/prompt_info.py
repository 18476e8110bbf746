"""Prompt-information baselines: what is written in a TALLRec prompt, scored without any LLM.

A language model that reads "User Preference: ..." / "User Unpreference: ..." and a target title
can at best use (a) how many of the 10 history items were liked and (b) what it knows about the
target item. These baselines score exactly that, so a reader sees whether an LLM beats its own
prompt:
- ``prompt_share``: the share of liked items among the 10 in the prompt (+1/+2 smoothing);
- ``prompt_prior``: the target item's smoothed like rate, (likes + a * global) / (n + a),
  counted on the training samples (protocol) or the train part (harness split);
- ``prompt_both``: the two combined as a sum of their log-odds (no fitted weights).
On the harness split the history is the user's 10 most recent train+valid ratings, as TALLRec's
harness prompts use, and exact ties are broken by a fixed pseudo-random jitter below 1e-9.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from benchmark.data.types import Interactions
from benchmark.errors import ConfigError
from benchmark.models.abilities import SampleScorer
from benchmark.models.base import Capability, Recommender
from benchmark.protocols.tallrec import HISTORY, TallrecSample


@dataclasses.dataclass
class PromptInfoConfig:
    smoothing: float = 5.0  # pseudo-count a of the item prior (towards the global like rate)


def _tie_break(users: np.ndarray, items: np.ndarray) -> np.ndarray:
    """A fixed pseudo-random value in [0, 1e-9) per (user, item), for ranking only.

    ``prompt_share`` gives every item of a user the same score; the sampled protocol lists a
    user's positives before the negatives, so exact ties would be broken in the positives'
    favour. This jitter makes ties random (and deterministic) instead."""
    h = (users.astype(np.uint64) * np.uint64(1_000_003) + items.astype(np.uint64))
    h = (h * np.uint64(2_654_435_761)) % np.uint64(2**32)
    return h.astype(np.float64) / 2**32 * 1e-9


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


class _PromptInfo(Recommender, SampleScorer):
    """Shared machinery: item like counts, recent histories, and the three scores."""

    Config = PromptInfoConfig
    capabilities = frozenset({Capability.RANK, Capability.SCORE})
    use_share: ClassVar[bool] = True
    use_prior: ClassVar[bool] = True

    def __init__(self, config: dict[str, Any] | None = None, *, workdir: Path | None = None,
                 name: str | None = None) -> None:
        super().__init__(config, workdir=workdir, name=name)
        if self.config.smoothing < 0:
            raise ConfigError(f"smoothing = {self.config.smoothing}", "use a value >= 0")
        self._info: dict[str, Any] = {}

    def _set_prior(self, items: list[str], liked: np.ndarray) -> None:
        self._likes: dict[str, float] = {}
        self._counts: dict[str, float] = {}
        for it, ok in zip(items, liked):
            self._counts[it] = self._counts.get(it, 0.0) + 1.0
            self._likes[it] = self._likes.get(it, 0.0) + float(ok)
        self._global = float(np.mean(liked)) if len(liked) else 0.5

    def _prior(self, items: list[str]) -> np.ndarray:
        a = self.config.smoothing
        return np.array([(self._likes.get(i, 0.0) + a * self._global)
                         / (self._counts.get(i, 0.0) + a) if (self._counts.get(i) or a) else
                         self._global for i in items])

    def _combine(self, share: np.ndarray, items: list[str]) -> np.ndarray:
        score = np.zeros(len(items))
        if self.use_share:
            score += _logit(share)
        if self.use_prior:
            score += _logit(self._prior(items))
        return score

    # --- the TALLRec protocol -------------------------------------------------------------
    def fit_samples(self, train: list[TallrecSample], valid: list[TallrecSample],
                    titles: dict[str, str], *, seed: int) -> None:
        self._set_prior([s.item for s in train], np.array([s.liked for s in train]))
        self._info = {"trained_on": "tallrec protocol samples", "n_train_samples": len(train),
                      "prior_source": "targets of the training samples"}

    def score_samples(self, samples: list[TallrecSample]) -> np.ndarray:
        share = np.array([(sum(s.history_liked) + 1.0) / (len(s.history_liked) + 2.0)
                          for s in samples])
        return self._combine(share, [s.item for s in samples])

    # --- the harness split ----------------------------------------------------------------
    def _fit(self, train: Interactions, valid: Interactions, *, seed: int) -> None:
        f = train.frame
        self._set_prior([str(i) for i in f["item"].to_numpy()], train.liked())
        hist = self.history
        assert hist is not None  # remembered by fit before _fit
        order = np.lexsort((np.arange(len(hist.frame)), hist.frame["timestamp"].to_numpy(),
                            hist.frame["user"].to_numpy()))
        users = hist.frame["user"].to_numpy()[order]
        liked = hist.liked()[order]
        self._share = np.full(self.n_users, 0.5)
        bounds = np.flatnonzero(np.diff(users)) + 1
        for u, lk in zip(np.split(users, bounds), np.split(liked, bounds)):
            if len(u):
                last = lk[-HISTORY:]
                self._share[u[0]] = (last.sum() + 1.0) / (len(last) + 2.0)
        self._info = {"trained_on": "harness split train part",
                      "prior_source": "train ratings", "history": "last 10 train+valid ratings"}

    def score(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        users = np.asarray(users, dtype=np.int64)
        items = np.asarray(items, dtype=np.int64)
        return (self._combine(self._share[users], [str(i) for i in items])
                + _tie_break(users, items))

    def score_all(self, users: np.ndarray) -> np.ndarray:
        users = np.asarray(users, dtype=np.int64)
        prior = _logit(self._prior([str(i) for i in range(self.n_items)]))
        out = np.zeros((len(users), self.n_items))
        if self.use_share:
            out += _logit(self._share[users])[:, None]
        if self.use_prior:
            out += prior[None, :]
        grid_u = np.repeat(users, self.n_items)
        grid_i = np.tile(np.arange(self.n_items), len(users))
        return out + _tie_break(grid_u, grid_i).reshape(len(users), self.n_items)

    def fit_info(self) -> dict[str, Any]:
        return dict(self._info)


class PromptShare(_PromptInfo):
    """Share of liked items among the 10 in the prompt (the same for every target)."""

    use_prior = False


class PromptPrior(_PromptInfo):
    """Smoothed like rate of the target item."""

    use_share = False


class PromptBoth(_PromptInfo):
    """Sum of the two log-odds."""
