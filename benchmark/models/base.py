"""The one interface every model implements (DESIGN.md, "The model interface").

A model is built from its config dict (validated by the model's own ``Config`` dataclass), trained
with ``fit`` on the harness split, and evaluated only through ``score`` / ``score_all`` / ``rank``
/ ``explain``. The harness never reaches inside a model.
"""

from __future__ import annotations

import dataclasses
import functools
from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from benchmark.config.model_params import build_config
from benchmark.data.types import Interactions
from benchmark.metrics.topk import topk_from_scores
from benchmark.models.abilities import check_class
from benchmark.models.capability import Capability

__all__ = ["Capability", "NoConfig", "Recommender", "build_config"]


@dataclasses.dataclass
class NoConfig:
    """Config for models without hyper-parameters."""


class Recommender(ABC):
    """Base class of every model.

    Subclasses set ``Config`` (a dataclass of hyper-parameters), ``capabilities`` and implement
    ``_fit`` (``fit`` is a template: it remembers the history, then calls ``_fit``) plus
    ``score_all`` (dense scores over every item) and/or ``score`` (pairs); each defaults to the
    other, so a concrete class without either is a TypeError when it is created. ``rank`` is
    derived from them; override it when a model ranks more cleverly, with the same semantics.
    Optional abilities are mixins of ``benchmark.models.abilities``.

    A class with abstract methods (an intermediate base) is not checked until a concrete
    subclass is created. Overriding ``fit`` itself (the older form) still works: the override
    is wrapped so that the history is remembered before it runs.
    """

    Config: ClassVar[type] = NoConfig
    capabilities: ClassVar[frozenset[Capability]] = frozenset({Capability.RANK, Capability.SCORE})
    #: modalities the model uses, e.g. {"interactions", "text"}; recorded with every result
    modalities: ClassVar[frozenset[str]] = frozenset({"interactions"})
    #: (id(train), id(valid)) while inside ``fit`` (set and reset by _Fitting; unset otherwise)
    _fit_inputs: tuple[int, int] | None

    def __init__(self, config: dict[str, Any] | None = None, *, workdir: Path | None = None,
                 name: str | None = None) -> None:
        self.name = name or type(self).__name__
        self.config = build_config(self.Config, dict(config or {}), f"model {self.name!r}")
        self.workdir = Path(workdir) if workdir is not None else None
        self.n_users = 0
        self.n_items = 0
        # train + valid after fit: the history against which test users are ranked and scored
        self.history: Interactions | None = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        own = vars(cls)
        if "_fit" in own and _defined_below_base(cls, "fit"):
            raise TypeError(f"{cls.__qualname__} implements _fit, but a parent class overrides "
                            "fit, which never calls it; override fit as the parent does")
        if "fit" in own and not getattr(own["fit"], "_remembers", False):  # the older form
            cls.fit = _remembering(own["fit"])  # type: ignore[method-assign]
            if getattr(cls._fit, "__isabstractmethod__", False):
                cls._fit = _trained_by_fit  # type: ignore[method-assign]
        check_class(cls)
        if not _abstract_names(cls):
            _implements_one(cls, ("score", "score_all"), "score_all (dense) or score (pairs)")

    # --- training -------------------------------------------------------------------------
    def fit(self, train: Interactions, valid: Interactions, *, seed: int) -> None:
        """Train on ``train``; ``valid`` is for early stopping and tuning only.

        The template every model runs: the history is remembered first (``_remember``: sizes
        and train + valid, which sequential models and the default helpers read at test time),
        then the model's own ``_fit`` trains.
        """
        with self._fitting(train, valid):
            self._fit(train, valid, seed=seed)

    @abstractmethod
    def _fit(self, train: Interactions, valid: Interactions, *, seed: int) -> None:
        """The model's training step; ``self.history`` and the sizes are already set."""

    def _remember(self, train: Interactions, valid: Interactions) -> None:
        """Sizes and train + valid history; done once per ``fit`` (a repeated call by an
        override of ``fit`` with the same data is free)."""
        if getattr(self, "_fit_inputs", None) == (id(train), id(valid)):
            return
        self.n_users, self.n_items = train.n_users, train.n_items
        self.history = train.concat(valid)

    def _fitting(self, train: Interactions, valid: Interactions) -> _Fitting:
        return _Fitting(self, train, valid)

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

        One semantics for every model: ``exclude`` is honoured with or without ``candidates``
        (an excluded candidate is never returned), an item scored -inf is never recommended,
        ties go to the lower item id (over candidates: the earlier candidate), and the result
        always has k columns.
        """
        users = np.asarray(users, dtype=np.int64)
        if candidates is not None:
            candidates = np.asarray(candidates, dtype=np.int64)
            scores = self.score(np.repeat(users, candidates.shape[1]), candidates.ravel())
            scores = np.array(scores, dtype=np.float64).reshape(candidates.shape)
            if exclude is not None:
                for row, items in enumerate(exclude):
                    scores[row, np.isin(candidates[row], items)] = -np.inf
            order = topk_from_scores(scores, k, invalid=-np.inf)
            top = np.where(order >= 0, np.take_along_axis(candidates, np.maximum(order, 0),
                                                          axis=1), -1)
            return _pad(top, k)
        scores = np.array(self.score_all(users), dtype=np.float64, copy=True)
        if exclude is not None:
            for row, items in enumerate(exclude):
                scores[row, items] = -np.inf
        return _pad(topk_from_scores(scores, k, invalid=-np.inf), k)

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


class _Fitting:
    """Inside one ``fit``: the history is remembered on entry, and a repeated ``_remember``
    with the same data (an override that still calls it) is skipped until the fit ends."""

    def __init__(self, model: Recommender, train: Interactions, valid: Interactions) -> None:
        self.model, self.train, self.valid = model, train, valid

    def __enter__(self) -> None:
        self.outer = getattr(self.model, "_fit_inputs", None)
        self.model._remember(self.train, self.valid)
        self.model._fit_inputs = (id(self.train), id(self.valid))

    def __exit__(self, *exc: object) -> None:
        self.model._fit_inputs = self.outer


def _remembering(fit: Callable[..., None]) -> Callable[..., None]:
    """An override of ``fit`` that remembers the history before its own body runs."""

    @functools.wraps(fit)
    def wrapper(self: Recommender, train: Interactions, valid: Interactions, *args: Any,
                **kwargs: Any) -> None:
        with self._fitting(train, valid):
            fit(self, train, valid, *args, **kwargs)

    wrapper._remembers = True  # type: ignore[attr-defined]
    return wrapper


def _trained_by_fit(self: Recommender, train: Interactions, valid: Interactions, *,
                    seed: int) -> None:
    """The training step of a class that overrides ``fit`` itself: the override trains."""


def _abstract_names(cls: type) -> set[str]:
    """What ABCMeta will call abstract (it has not looked yet when __init_subclass__ runs)."""
    names = {n for n, v in vars(cls).items() if getattr(v, "__isabstractmethod__", False)}
    for base in cls.__bases__:
        for n in getattr(base, "__abstractmethods__", ()):
            if getattr(getattr(cls, n, None), "__isabstractmethod__", False):
                names.add(n)
    return names


def _defined_below_base(cls: type, name: str) -> bool:
    """Whether a class between ``cls`` (excluded) and Recommender defines ``name``."""
    return any(name in vars(c) for c in cls.__mro__[1:] if c is not Recommender
               and issubclass(c, Recommender))


def _implements_one(cls: type, names: tuple[str, ...], what: str) -> None:
    """A concrete model overrides at least one of ``names`` (their defaults call each other)."""
    if not any(name in vars(c) for c in cls.__mro__ if c is not Recommender
               and c is not object for name in names):
        raise TypeError(f"{cls.__qualname__} must implement {what}: the base class's "
                        f"{' and '.join(names)} are defaults that need one of them")


def _pad(top: np.ndarray, k: int) -> np.ndarray:
    """k columns, -1 where there were fewer items than k to choose from."""
    if top.shape[1] >= k:
        return top
    out = np.full((top.shape[0], k), -1, dtype=np.int64)
    out[:, :top.shape[1]] = top
    return out
