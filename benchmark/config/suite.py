"""Suite files (``suites/<name>.toml``): which models x datasets x tracks x seeds a run covers."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from benchmark.config.base import Strict, parse_model, read_toml
from benchmark.config.dataset_spec import SplitOverrides
from benchmark.errors import ConfigError, UnknownNameError

Protocol = Literal["full", "sampled", "pointwise"]


class ModelEntry(Strict):
    #: registry name (``recbench list``)
    name: str
    #: display name and run-folder name; defaults to ``name`` (set it to run one model twice)
    label: str | None = None
    #: the model's hyper-parameters, checked against its Config before anything trains
    params: dict[str, Any] = {}

    @property
    def key(self) -> str:
        return self.label or self.name


class DatasetEntry(Strict):
    name: str
    split: SplitOverrides | None = None
    #: evaluate on a deterministic subset of this many test users (None = all); for quick runs
    max_eval_users: int | None = Field(None, gt=0)


class AccuracySettings(Strict):
    ks: list[int] = [5, 10, 20]
    protocols: list[Protocol] = ["full", "sampled", "pointwise"]
    sampled_negatives: int = Field(100, gt=0)
    #: users scored per batch in full ranking (bounds memory: batch x n_items floats)
    user_batch: int = Field(1024, gt=0)

    @field_validator("ks")
    @classmethod
    def _positive_ks(cls, ks: list[int]) -> list[int]:
        if not ks or any(k <= 0 for k in ks):
            raise ValueError("ks must be a non-empty list of positive integers")
        return sorted(set(ks))


class SuiteSpec(Strict):
    name: str
    description: str = ""
    seeds: list[int] = [0]
    tracks: list[Literal["accuracy"]] = ["accuracy"]
    datasets: list[DatasetEntry]
    models: list[ModelEntry]
    accuracy: AccuracySettings = AccuracySettings()

    @model_validator(mode="after")
    def _unique_labels(self) -> SuiteSpec:
        keys = [m.key for m in self.models]
        dup = sorted({k for k in keys if keys.count(k) > 1})
        if dup:
            raise ValueError(f"model label(s) {dup} appear twice; give each entry a distinct "
                             "'label'")
        if not self.seeds:
            raise ValueError("seeds must list at least one seed")
        return self


def load_suite(path: str | Path) -> SuiteSpec:
    """Read and validate a suite file; model and dataset names are checked against registries."""
    from benchmark.config.dataset_spec import known_datasets
    from benchmark.registry import MODELS

    path = Path(path)
    suite = parse_model(SuiteSpec, read_toml(path), str(path))
    for m in suite.models:
        if m.name not in MODELS:
            err = UnknownNameError("model", m.name, MODELS)
            raise ConfigError(f"{path}: {err.what}", err.fix)
    for d in suite.datasets:
        if d.name not in known_datasets():
            err = UnknownNameError("dataset", d.name, known_datasets())
            raise ConfigError(f"{path}: {err.what}", err.fix)
    return suite
