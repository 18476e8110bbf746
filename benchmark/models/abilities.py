"""Optional model abilities as types: a model has one by subclassing its mixin.

Tracks use abilities beyond the base interface (contrastive explanations, the prompts behind
explanations, alignment hooks of a model that explains another, a protocol's own samples). Each
is an abstract mixin tied to one :class:`Capability`; a model gains it by subclassing the mixin
and implementing its abstract methods, and tracks test ``isinstance(model, Mixin)``, never a
method name. Two checks keep declarations honest:

- at class creation (``check_class``, called by ``Recommender.__init_subclass__``): a class that
  defines an ability's method without subclassing its type is an error (the track would ignore
  the method), and so is an ability whose ``requires`` capabilities the class does not declare;
- at suite validation (``declaration_problems``): a capability in ``capabilities`` that names
  an ability without its type.

``HistoryScorer`` is the ability of the next-item protocol (``benchmark.models.history`` says
how the track uses it).
"""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from benchmark.errors import BenchError, ConfigError
from benchmark.metrics.topk import topk_from_scores
from benchmark.models.capability import Capability

if TYPE_CHECKING:
    from benchmark.data.dataset import DatasetData
    from benchmark.explain.contrastive import ContrastivePair
    from benchmark.models.base import Recommender
    from benchmark.protocols.tallrec import TallrecSample


class Ability(ABC):
    """Base of every ability mixin. A mixin sets ``capability`` (and what it ``requires``)."""

    capability: ClassVar[Capability]
    #: the model's name (an ability is mixed into a Recommender, which sets it)
    name: str
    #: capabilities a model with this ability must also list in its ``capabilities``
    requires: ClassVar[frozenset[Capability]] = frozenset()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "capability" in cls.__dict__ or not hasattr(cls, "capabilities"):
            return  # an ability type itself, or a combination of mixins without a model
        declared = frozenset(cls.capabilities)
        for kind in ability_types(cls):
            for need in sorted(kind.requires - declared):
                raise TypeError(f"{cls.__qualname__} subclasses {kind.__name__} but does not "
                                f"declare Capability.{need.name} in its capabilities")


class HistoryScorer(Ability):
    """Scores (or ranks) items given an explicit, time-ordered history (SASRec, GRU4Rec).

    The class must also list ``Capability.HISTORY`` in its ``capabilities``.
    """

    capability = Capability.HISTORY
    requires = frozenset({Capability.HISTORY})
    n_items: int

    @abstractmethod
    def score_history(self, users: np.ndarray, histories: Sequence[np.ndarray]) -> np.ndarray:
        """Scores of every item for each query: float array (len(users), n_items).

        ``histories[q]`` holds harness item ids, oldest first (possibly empty); the model keeps
        as much of it as it uses (e.g. the last ``max_seq_length`` items). ``users[q]`` is the
        query's user, for models that also use a user representation.
        """

    def rank_history(self, users: np.ndarray, histories: Sequence[np.ndarray], k: int,
                     exclude: list[np.ndarray] | None = None) -> np.ndarray:
        """Top-k item ids per query given its history, best first (ties: lower item id).

        ``exclude``: optional per-query arrays of items never to recommend. Slots that cannot be
        filled hold -1, as in ``Recommender.rank``.
        """
        scores = np.array(self.score_history(users, histories), dtype=np.float64, copy=True)
        if exclude is not None:
            for row, items in enumerate(exclude):
                scores[row, items] = -np.inf
        return topk_from_scores(scores, k, invalid=-np.inf)


class ContrastiveExplainer(Ability):
    """Explains each pair twice: why the item suits the user, and why it may not."""

    capability = Capability.CONTRASTIVE
    requires = frozenset({Capability.EXPLAIN})

    @abstractmethod
    def explain_contrastive(self, users: np.ndarray, items: np.ndarray
                            ) -> Sequence[tuple[str, str] | ContrastivePair]:
        """One (for, against) pair, or a ``ContrastivePair`` (malformed ones flagged), per pair."""


class PromptedExplainer(Ability):
    """Writes its explanations from prompts the explanation track keeps with the samples."""

    capability = Capability.EXPLAIN_PROMPTS
    requires = frozenset({Capability.EXPLAIN})

    @abstractmethod
    def explain_prompts(self, users: np.ndarray, items: np.ndarray) -> list[str]:
        """The prompt behind ``explain``'s text of each pair."""


class ModelExplainer(Ability):
    """Explains another, fitted recommender and answers questions about it (RecExplainer).

    The alignment track asks ``align_scores`` / ``align_yes`` about test users the explainer did
    not train on; the explanation track asks ``choose``.
    """

    capability = Capability.ALIGNMENT
    #: the fitted model being explained (set by ``fit``)
    explained_model: Recommender | None
    #: users whose target outputs the explainer was trained on (left out of the alignment track)
    alignment_train_users: np.ndarray

    @abstractmethod
    def align_scores(self, task: str, users: np.ndarray | None, items: np.ndarray | None,
                     candidates: np.ndarray) -> np.ndarray:
        """Scores (n, c) of each instance's candidates as the answer to ``task`` ("item_title",
        "history", "next_item" or "ranking"); ``users`` / ``items`` are None when the task has
        none."""

    @abstractmethod
    def align_yes(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        """P(yes) that the explained model recommends each item to each user."""

    def choose(self, users: np.ndarray, candidates: np.ndarray) -> np.ndarray:
        """The candidate the explainer says the explained model recommends next, per user."""
        cands = np.asarray(candidates, dtype=np.int64)
        s = self.align_scores("next_item", users, None, cands)
        return cands[np.arange(len(cands)), np.argmax(s, 1)]


class SampleScorer(Ability):
    """Trains and answers on a protocol's own samples (the TALLRec track), not the split."""

    capability = Capability.SAMPLES

    @abstractmethod
    def fit_samples(self, train: list[TallrecSample], valid: list[TallrecSample],
                    titles: dict[str, str], *, seed: int) -> None:
        """Train on the protocol's train samples; ``valid`` for early stopping only."""

    @abstractmethod
    def score_samples(self, samples: list[TallrecSample]) -> np.ndarray:
        """One score per sample, higher = more likely liked."""


class DatasetReader(Ability):
    """Reads side data of the dataset being run (raw item and user tables, ratings) beyond the
    split. The harness resolves the dataset once and hands it over (``use_dataset``) before
    every ``fit`` and ``fit_samples``; the model never names a dataset file itself.

    ``dataset_field`` names a config field that older configs use to name the dataset (kept so
    their fingerprints stay the same): left at its default, the harness's dataset wins; set to
    another dataset than the one being run, it is a clear error.
    """

    capability = Capability.DATASET
    #: the config field that names a dataset in older configs (None: none)
    dataset_field: ClassVar[str | None] = None
    dataset_data: DatasetData | None = None

    def use_dataset(self, data: DatasetData) -> None:
        """Take the dataset the harness resolved (before training)."""
        if self.dataset_field is not None:
            config = getattr(self, "config", None)
            named = getattr(config, self.dataset_field, None)
            default = _field_default(config, self.dataset_field)
            if named is not None and named != default and named != data.name:
                raise ConfigError(
                    f"model {self.name!r}: params {self.dataset_field} = {named!r}, but this "
                    f"job runs dataset {data.name!r}; its side data comes from the dataset "
                    "being run", f"remove {self.dataset_field!r} from the model's params (or "
                    f"set it to {data.name!r})")
        self.dataset_data = data

    def require_dataset(self) -> DatasetData:
        """The dataset handed over by the harness (an error when there is none)."""
        if self.dataset_data is None:
            raise BenchError(f"model {self.name!r} needs the dataset being run, and none was "
                             "handed to it", "run it through a track (recbench run), or call "
                             "use_dataset(benchmark.runner.prepare.resolve_dataset(name)) "
                             "before fitting")
        return self.dataset_data


def _field_default(config: Any, name: str) -> Any:
    """A dataclass field's default (None when it has none)."""
    for f in dataclasses.fields(config) if dataclasses.is_dataclass(config) else ():
        if f.name == name:
            return None if f.default is dataclasses.MISSING else f.default
    return None


#: every ability type, in the order errors list them
ABILITY_TYPES: tuple[type[Ability], ...] = (HistoryScorer, ContrastiveExplainer,
                                            PromptedExplainer, ModelExplainer, SampleScorer,
                                            DatasetReader)


def ability_types(cls: type) -> list[type[Ability]]:
    """The ability mixins ``cls`` subclasses."""
    return [kind for kind in ABILITY_TYPES if issubclass(cls, kind)]


def ability_type(capability: Capability) -> type[Ability] | None:
    """The mixin that implements ``capability``; None for the base interface's capabilities."""
    return next((k for k in ABILITY_TYPES if k.capability == capability), None)


def abilities_of(model: Any) -> frozenset[Capability]:
    """What a model (class or instance) can do: its declared capabilities whose type, if any,
    it implements, plus the abilities of every mixin it subclasses."""
    cls = model if isinstance(model, type) else type(model)
    typed = {k.capability for k in ability_types(cls)}
    declared = {c for c in getattr(cls, "capabilities", ()) if ability_type(c) is None}
    return frozenset(declared | typed)


def check_class(cls: type) -> None:
    """Class-creation check: a method of an ability defined without the ability's type."""
    for kind in ABILITY_TYPES:
        if issubclass(cls, kind):
            continue
        defined = sorted(n for n in getattr(kind, "__abstractmethods__", ()) if n in vars(cls))
        if defined:
            raise TypeError(f"{cls.__qualname__} defines {', '.join(defined)} but does not "
                            f"subclass {kind.__module__}.{kind.__name__}, so no track would "
                            f"use it; subclass it (ability {kind.capability.value!r})")


def declaration_problems(cls: type) -> list[str]:
    """Capabilities ``cls`` lists whose ability type it does not subclass (one line each)."""
    out = []
    for cap in getattr(cls, "capabilities", ()):
        kind = ability_type(cap)
        if kind is not None and not issubclass(cls, kind):
            out.append(f"{cls.__qualname__} declares the {cap.value!r} capability but is not a "
                       f"{kind.__module__}.{kind.__name__}")
    return out
