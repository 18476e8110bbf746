"""What a track is given (``TrackContext``); what it returns lives in ``benchmark.results``."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from benchmark.errors import BenchError
from benchmark.models.abilities import DatasetReader
from benchmark.results import MetricKey, MetricRow, TrackResult

if TYPE_CHECKING:
    from benchmark.data.dataset import DatasetData
    from benchmark.data.split import Split
    from benchmark.data.types import Interactions
    from benchmark.models.base import Recommender

__all__ = ["MetricKey", "MetricRow", "TrackContext", "TrackResult"]


@dataclass
class TrackContext:
    """What a track may use for one (suite, dataset, model, seed) job.

    Every track runs through ``Track.run(ctx)``. The model fitted on the main split is built and
    trained lazily, once, by the first track that asks for it (``fitted_model``); tracks that
    train on other data (cold-start sets, another protocol's samples) build fresh, unfitted
    instances of the same model and params with ``build_model``.
    """

    split: Split
    split_dir: Path
    dataset: str
    seed: int
    max_eval_users: int | None
    #: a fresh, unfitted instance of this job's model (same registry name, label and params);
    #: ``build_model(purpose)`` gives it a work folder of its own (``<run>/<purpose>``) so that
    #: extra fits never overwrite the main model's files
    build_model: Callable[..., Recommender]
    #: measures peak process memory around a block: ``with memory_probe() as m: ...; m.peak_mb``
    memory_probe: Callable[[], Any] | None = None
    #: this job's dataset as the runner resolved it (spec, base folder, raw side data read
    #: once); tracks and models read side data (titles, reviews, raw samples) from here and
    #: never name a dataset file themselves. None only where a caller made the split itself.
    data: DatasetData | None = None
    #: another dataset by name (a cold-start cross-domain source), resolved as the runner
    #: resolves its own
    resolve_dataset: Callable[[str], DatasetData] | None = None
    fit_seconds: float | None = None
    fit_peak_mb: float | None = None
    #: peak memory of the main fit as the probe saw it (e.g. CUDA allocated/reserved), if any
    fit_memory: dict[str, Any] = field(default_factory=dict)
    #: seconds of every extra fit a track made (cold-start sets, ...), by purpose
    extra_fit_seconds: dict[str, float] = field(default_factory=dict)
    _fitted: Recommender | None = field(default=None, repr=False)

    def fitted_model(self) -> Recommender:
        """The job's model trained on ``split.train`` (``split.valid`` for early stopping)."""
        if self._fitted is None:
            model = self.prepared(self.build_model())
            probe = self.memory_probe() if self.memory_probe is not None else None
            t0 = time.perf_counter()
            if probe is not None:
                with probe:
                    model.fit(self.split.train, self.split.valid, seed=self.seed)
                self.fit_peak_mb = probe.peak_mb
                self.fit_memory = dict(getattr(probe, "summary", dict)())
            else:
                model.fit(self.split.train, self.split.valid, seed=self.seed)
            self.fit_seconds = time.perf_counter() - t0
            self._fitted = model
        return self._fitted

    def prepared(self, model: Recommender) -> Recommender:
        """``model``, handed this job's dataset first when it reads side data
        (``DatasetReader``); every fit made through the context goes through here."""
        if isinstance(model, DatasetReader):
            model.use_dataset(self.require_data())
        return model

    def require_data(self) -> DatasetData:
        """This job's dataset (spec and raw side data), for a track that reads raw files."""
        if self.data is None:
            raise BenchError(f"this track reads dataset {self.dataset!r}'s raw files, and the "
                             "job was given no resolved dataset",
                             "run the track through the runner (recbench run), or pass data= "
                             "(benchmark.runner.prepare.resolve_dataset) to TrackContext")
        return self.data

    def other_dataset(self, name: str) -> DatasetData:
        """Another dataset (a cross-domain source) resolved as the runner resolves the job's."""
        if self.resolve_dataset is None:
            raise BenchError(f"dataset {name!r} is needed but this job was given no resolver",
                             "run the track through the runner (recbench run)")
        return self.resolve_dataset(name)

    @property
    def has_fitted_model(self) -> bool:
        return self._fitted is not None

    def fit_extra(self, purpose: str, train: Interactions, valid: Interactions) -> Recommender:
        """A fresh instance trained on other data (a cold-start set, ...); its time is recorded.

        ``purpose`` names the fit in ``extra_fit_seconds`` and the model's work folder.
        """
        model = self.prepared(self.build_model(purpose))
        t0 = time.perf_counter()
        model.fit(train, valid, seed=self.seed)
        self.extra_fit_seconds[purpose] = time.perf_counter() - t0
        return model
