"""The one interface every model implements (DESIGN.md, "The model interface").

A model is built from its config dict (validated by the model's own ``Config`` dataclass), trained
with ``fit`` on the harness split, and evaluated only through ``score`` / ``score_all`` / ``rank``
/ ``explain``. The harness never reaches inside a model.
"""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from enum import StrEnum
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from benchmark.data.types import Interactions
from benchmark.errors import ConfigError


class Capability(StrEnum):
    RANK = "rank"
    SCORE = "score"
    EXPLAIN = "explain"
    COLD_USER = "cold_user"
    COLD_ITEM = "cold_item"
    #: scores items given an explicit, time-ordered history (``benchmark.models.history``)
    HISTORY = "history"


@dataclasses.dataclass
class NoConfig:
    """Config for models without hyper-parameters."""


def build_config(cls: type, values: dict[str, Any], where: str) -> Any:
    """Instantiate a config dataclass from a dict; unknown keys and bad types are errors."""
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - set(fields))
    if unknown:
        import difflib

        hints = []
        for key in unknown:
            close = difflib.get_close_matches(key, list(fields), n=1, cutoff=0.5)
            hints.append(f"{key!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
        raise ConfigError(
            f"{where}: unknown parameter(s) {', '.join(hints)}",
            f"valid parameters: {', '.join(sorted(fields)) or '(none)'}",
        )
    coerced = {}
    for key, value in values.items():
        default = fields[key].default
        if default is not dataclasses.MISSING and default is not None:
            expected = type(default)
            ok = isinstance(value, expected) or (expected is float and isinstance(value, int))
            if isinstance(value, bool) and expected is not bool:
                ok = False
            if not ok:
                raise ConfigError(
                    f"{where}: parameter {key!r} = {value!r} has type {type(value).__name__}",
                    f"expected {expected.__name__}, like the default {default!r}",
                )
            if expected is float:
                value = float(value)
        coerced[key] = value
    try:
        return cls(**coerced)
    except (TypeError, ValueError) as err:
        raise ConfigError(f"{where}: {err}") from None


class Recommender(ABC):
    """Base class of every model.

    Subclasses set ``Config`` (a dataclass of hyper-parameters), ``capabilities`` and implement
    ``fit`` plus ``score_all`` (dense scores over every item) and/or ``score`` (pairs).
    ``rank`` is derived from those; override it when a model ranks more cleverly.
    """

    Config: ClassVar[type] = NoConfig
    capabilities: ClassVar[frozenset[Capability]] = frozenset({Capability.RANK, Capability.SCORE})
    #: modalities the model uses, e.g. {"interactions", "text"}; recorded with every result
    modalities: ClassVar[frozenset[str]] = frozenset({"interactions"})

    def __init__(self, config: dict[str, Any] | None = None, *, workdir: Path | None = None,
                 name: str | None = None) -> None:
        self.name = name or type(self).__name__
        self.config = build_config(self.Config, dict(config or {}), f"model {self.name!r}")
        self.workdir = Path(workdir) if workdir is not None else None
        self.n_users = 0
        self.n_items = 0
        # train + valid after fit: the history against which test users are ranked and scored
        self.history: Interactions | None = None

    # --- training -------------------------------------------------------------------------
    @abstractmethod
    def fit(self, train: Interactions, valid: Interactions, *, seed: int) -> None:
        """Train on ``train``; ``valid`` is for early stopping and tuning only.

        Implementations must call ``self._remember(train, valid)`` so that sequential models and
        the default helpers know each user's history at test time.
        """

    def _remember(self, train: Interactions, valid: Interactions) -> None:
        self.n_users, self.n_items = train.n_users, train.n_items
        self.history = train.concat(valid)

    # --- inference ------------------------------------------------------------------------
    def score_all(self, users: np.ndarray) -> np.ndarray:
        """Scores of every item for each user: float array (len(users), n_items).

        The default asks ``score`` for every pair; dense models override this.
        """
        users = np.asarray(users, dtype=np.int64)
        items = np.arange(self.n_items, dtype=np.int64)
        pairs_u = np.repeat(users, self.n_items)
        pairs_i = np.tile(items, len(users))
        return self.score(pairs_u, pairs_i).reshape(len(users), self.n_items)

    def score(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        """Pointwise scores of (user, item) pairs, higher = more likely liked.

        The default reads them off ``score_all`` one user block at a time.
        """
        users = np.asarray(users, dtype=np.int64)
        items = np.asarray(items, dtype=np.int64)
        out = np.empty(len(users), dtype=np.float64)
        uniq, inverse = np.unique(users, return_inverse=True)
        order = np.argsort(inverse, kind="stable")  # pairs grouped by user, once
        bounds = np.searchsorted(inverse[order], np.arange(0, len(uniq) + 256, 256))
        for b, start in enumerate(range(0, len(uniq), 256)):
            block = uniq[start:start + 256]
            dense = np.asarray(self.score_all(block))
            sel = order[bounds[b]:bounds[b + 1]]
            out[sel] = dense[inverse[sel] - start, items[sel]]
        return out

    def rank(self, users: np.ndarray, k: int, candidates: np.ndarray | None = None,
             exclude: list[np.ndarray] | None = None) -> np.ndarray:
        """Top-k item ids per user, best first: int array (len(users), k).

        candidates: optional (len(users), c) array; ranking is then among those items only.
        exclude: optional per-user arrays of items never to recommend (e.g. already seen).
        Slots that cannot be filled (fewer eligible items than k) hold -1.
        """
        from benchmark.metrics.topk import topk_from_scores

        users = np.asarray(users, dtype=np.int64)
        if candidates is not None:
            candidates = np.asarray(candidates, dtype=np.int64)
            scores = self.score(np.repeat(users, candidates.shape[1]), candidates.ravel())
            scores = scores.reshape(candidates.shape)
            order = topk_from_scores(scores, min(k, candidates.shape[1]))
            return np.take_along_axis(candidates, order, axis=1)
        scores = np.array(self.score_all(users), dtype=np.float64, copy=True)
        if exclude is not None:
            for row, items in enumerate(exclude):
                scores[row, items] = -np.inf
        return topk_from_scores(scores, k, invalid=-np.inf)

    def explain(self, users: np.ndarray, items: np.ndarray) -> list[str]:
        """Natural-language reasons why each item suits each user (explaining models only)."""
        raise NotImplementedError(f"{self.name} does not explain its recommendations")

    # --- bookkeeping ----------------------------------------------------------------------
    def num_parameters(self) -> int:
        """Trainable parameters (0 for non-parametric models); reported by the efficiency track."""
        return 0

    def fit_info(self) -> dict[str, Any]:
        """What training decided (epochs run, best valid score, chosen hyper-parameters)."""
        return {}

    def describe(self) -> dict[str, Any]:
        """What goes into config.json next to the results."""
        return {
            "class": f"{type(self).__module__}:{type(self).__qualname__}",
            "config": dataclasses.asdict(self.config),
            "capabilities": sorted(c.value for c in self.capabilities),
            "modalities": sorted(self.modalities),
        }
