"""Suite files (``suites/<name>.toml``): which models x datasets x tracks x seeds a run covers."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, PrivateAttr, ValidationInfo, field_validator, model_validator

from benchmark.config import dataset_spec
from benchmark.config.base import Cutoffs, Strict, parse_model, read_toml
from benchmark.config.dataset_spec import (
    SplitOverrides,
    known_datasets,
    load_dataset_spec,
    register_dataset_file,
)
from benchmark.config.names import NAME_FORM, safe_name
from benchmark.errors import ConfigError, UnknownNameError

Protocol = Literal["full", "sampled", "pointwise", "next_item"]


def _distinct(what: str, names: list[str], fix: str, where: str = "") -> None:
    """Each name once, and no two that differ only in case (one run folder each)."""
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ValueError(f"{what} {dup} appear twice{where}; {fix}")
    _same_folder(what.replace("(s)", "s"), names)


def _same_folder(what: str, names: list[str]) -> None:
    """Names that differ only in case share a folder on case-insensitive filesystems."""
    seen: dict[str, str] = {}
    for name in names:
        other = seen.setdefault(name.casefold(), name)
        if other != name:
            raise ValueError(f"{what} {other!r} and {name!r} differ only in case, so they would "
                             "share one run folder; rename one")


class Resources(Strict):
    """What one job of this model asks an executor for (the Ray executor schedules by it)."""

    cpus: float = Field(1.0, ge=0, allow_inf_nan=False)
    gpus: float = Field(0.0, ge=0, allow_inf_nan=False)


class ModelEntry(Strict):
    #: registry name (``recbench list``)
    name: str
    #: display name and run-folder name; defaults to ``name`` (set it to run one model twice)
    label: str | None = None
    #: the model's hyper-parameters, checked against its Config before anything trains
    params: dict[str, Any] = {}
    #: per-job resource request, e.g. ``resources = { cpus = 2, gpus = 1 }``
    resources: Resources = Resources()
    #: run only these of the suite's tracks for this model (None = all of them), e.g. to keep an
    #: expensive LLM out of a track it is not compared on; a track named here must find the
    #: abilities it needs in the model (checked before training, ``benchmark.runner.abilities``)
    tracks: list[str] | None = None

    @property
    def key(self) -> str:
        return self.label or self.name

    _safe_names = field_validator("name", "label")(classmethod(
        lambda cls, v: v if v is None else safe_name(v)))


class DatasetEntry(Strict):
    """One ``[[datasets]]`` entry: ``name = "ml-100k"`` (a file in ``datasets/``) or
    ``path = "../mydata/mydata.toml"`` (a dataset file anywhere; ``load_suite`` resolves it
    against the suite file's folder and sets ``name`` to the file's ``name`` key)."""

    #: the dataset's name: its run-folder name (for a ``path`` entry, the file's ``name`` key)
    name: str
    #: absolute path of a dataset file outside ``datasets/`` (None = ``datasets/<name>.toml``)
    path: str | None = None
    split: SplitOverrides | None = None
    #: evaluate on a deterministic subset of this many test users (None = all); for quick runs
    max_eval_users: int | None = Field(None, gt=0)

    _safe_name = field_validator("name")(classmethod(lambda cls, v: safe_name(v)))

    def register(self) -> None:
        """Make this process find a ``path`` entry's file by the dataset's name (every lookup
        by name, in tracks and job processes, then reads the same file)."""
        if self.path is not None:
            register_dataset_file(self.name, Path(self.path))


class AccuracySettings(Strict):
    ks: Cutoffs = [5, 10, 20]
    protocols: list[Protocol] = ["full", "sampled", "pointwise"]
    sampled_negatives: int = Field(100, gt=0)
    #: next_item only: remove items the user saw before each query from its ranking (rows are
    #: then labelled next_item_masked); false = RecBole's evaluation of sequential models
    mask_seen: bool = False
    #: at most this many users scored per batch in full ranking
    user_batch: int = Field(1024, gt=0)
    #: full ranking's memory budget for one batch of scores (and its working copy), in MiB;
    #: the batch shrinks to fit it, so the users x items matrix never exists at once
    memory_budget_mb: float = Field(1024.0, gt=0, allow_inf_nan=False)

    def check_catalogue(self, n_items: int, dataset: str) -> None:
        """Once the split is known: a cut-off k above the number of items measures nothing (every
        item is in the top k), so it is an error naming the key and the allowed range."""
        too_big = [k for k in self.ks if k > n_items]
        if too_big:
            raise ConfigError(f"[accuracy] ks: k = {too_big} is larger than dataset {dataset!r}'s "
                              f"catalogue ({n_items} items)",
                              f"use ks between 1 and {n_items} for this dataset")


class SuiteSpec(Strict):
    """A suite file. Each track's settings live in a section named after the track
    (``[accuracy]``, ``[cold_start]``, ...) and are validated by that track's own ``Settings``
    model (see ``settings_for``), so adding a track never touches this class."""

    name: str
    description: str = ""
    seeds: list[int] = [0]
    #: track names from the registry (``recbench list tracks``), run in this order
    tracks: list[str] = ["accuracy"]
    datasets: list[DatasetEntry]
    models: list[ModelEntry]
    #: wall-clock limit of one job in seconds (None = none); a job past it is killed and records
    #: error.json, the suite goes on; `recbench run --job-timeout` overrides it (local executor)
    job_timeout_s: float | None = Field(None, gt=0, allow_inf_nan=False, strict=True)
    #: CPU threads of every job: torch.set_num_threads, OMP/MKL/OpenBLAS variables and BLAS
    #: pools, set in each job before its model is built (0 = leave the libraries' defaults); a
    #: model's own ``num_threads`` > 0 still wins inside that model. Recorded in config.json and
    #: efficiency.json; not in the fingerprint (like ``resources``: it sets speed, not the task)
    threads: int = Field(0, ge=0, strict=True)
    #: raw per-track sections, keyed by track name (filled from the top-level sections)
    sections: dict[str, dict[str, Any]] = {}
    _settings: dict[str, Any] = PrivateAttr(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _collect_track_sections(cls, data: Any) -> Any:
        from benchmark.registry import TRACKS

        if isinstance(data, dict):
            data = dict(data)
            sections = dict(data.pop("sections", None) or {})
            for track in TRACKS:
                if track in data:
                    sections[track] = data.pop(track)
            data["sections"] = sections
        return data

    _safe_name = field_validator("name")(classmethod(lambda cls, v: safe_name(v)))

    @field_validator("seeds")
    @classmethod
    def _seed_range(cls, seeds: list[int]) -> list[int]:
        bad = [s for s in seeds if not 0 <= s < 2**32]
        if bad:
            raise ValueError(f"seeds {bad}: each seed must be an integer in 0 .. 2**32 - 1")
        return seeds

    @field_validator("models", "datasets")
    @classmethod
    def _not_empty(cls, entries: list, info: ValidationInfo) -> list:
        if not entries:
            raise ValueError(f"{info.field_name} is empty: a suite runs at least one "
                             f"[[{info.field_name}]] entry (else it would do nothing and exit 0)")
        return entries

    @field_validator("tracks")
    @classmethod
    def _known_tracks(cls, tracks: list[str]) -> list[str]:
        from benchmark.registry import TRACKS

        unknown = [t for t in tracks if t not in TRACKS]
        if unknown:
            raise ValueError(f"unknown track(s) {unknown}; known: {sorted(TRACKS)}")
        if not tracks:
            raise ValueError("tracks must list at least one track")
        return tracks

    def settings_for(self, track: str) -> Any:
        """The validated settings of ``track`` (its defaults when the suite has no section)."""
        if track not in self._settings:
            from benchmark.registry import track_class

            raw = self.sections.get(track, {})
            if not isinstance(raw, dict):
                raise ConfigError(f"suite {self.name!r}: [{track}] must be a table of settings")
            self._settings[track] = parse_model(track_class(track).Settings, raw,
                                                f"suite {self.name!r} [{track}]")
        return self._settings[track]

    def tracks_for(self, entry: ModelEntry) -> list[str]:
        """The tracks a model entry runs, in the suite's order."""
        return [t for t in self.tracks if entry.tracks is None or t in entry.tracks]

    @property
    def accuracy(self) -> AccuracySettings:
        return self.settings_for("accuracy")

    @model_validator(mode="after")
    def _unique_labels(self) -> SuiteSpec:
        _distinct("model label(s)", [m.key for m in self.models],
                  "give each entry a distinct 'label'")
        _distinct("dataset(s)", [d.name for d in self.datasets],
                  "their runs would share one folder (run a second split as another suite)",
                  where=" under [[datasets]]")
        if not self.seeds:
            raise ValueError("seeds must list at least one seed")
        for m in self.models:
            extra = [t for t in (m.tracks or []) if t not in self.tracks]
            if extra or m.tracks == []:
                raise ValueError(f"model {m.key!r}: tracks {m.tracks} must be a non-empty subset "
                                 f"of the suite's tracks {self.tracks}")
        return self


def _one_folder_each(raw: dict[str, Any], path: Path) -> None:
    """Before validation, so the error names the exact key: two model entries (by label, else
    name) or two datasets that would share a run folder, compared ignoring case."""
    for section in ("models", "datasets"):
        entries = raw.get(section)
        if not isinstance(entries, list):
            continue
        seen: dict[str, int] = {}
        for i, entry in enumerate(entries):
            if not isinstance(entry, dict):
                continue
            field = "label" if section == "models" and entry.get("label") else "name"
            name = entry.get(field)
            if not isinstance(name, str):
                continue
            j = seen.setdefault(name.casefold(), i)
            if j == i:
                continue
            first = entries[j]
            other = first.get("label") or first.get("name")
            what = "model label(s)" if section == "models" else "dataset(s)"
            raise ConfigError(
                f"{path}: key '{section}.{i}.{field}': {what} {name!r} and {other!r} (entry "
                f"{section}.{j}) appear twice, compared ignoring case; they would share one run "
                "folder",
                f"give each entry a distinct {'label' if section == 'models' else 'name'} "
                f"({NAME_FORM})")


def _dataset_paths(raw: dict[str, Any], suite_path: Path) -> dict[str, Any]:
    """``[[datasets]]`` entries that give a dataset file by path (``path = "..."``, or a ``name``
    that is a path ending in ``.toml``): the path resolved against the suite file's folder, the
    file read and checked, and ``name`` set to the file's ``name`` key (the run-folder name)."""

    entries = raw.get("datasets")
    if not isinstance(entries, list):
        return raw
    out: list[Any] = []
    for i, entry in enumerate(entries):
        name = entry.get("name") if isinstance(entry, dict) else None
        if isinstance(entry, dict) and "path" in entry:
            given, key = entry["path"], f"datasets.{i}.path"
            if "name" in entry:
                raise ConfigError(
                    f"{suite_path}: key 'datasets.{i}': both name and path are given",
                    "give name (a dataset in datasets/) or path (a dataset file anywhere), not "
                    "both; a dataset given by path is named by the 'name' key in its file")
        elif isinstance(name, str) and (name.endswith(".toml") or "/" in name or "\\" in name):
            given, key = name, f"datasets.{i}.name"
            entry = {k: v for k, v in entry.items() if k != "name"}
        else:
            out.append(entry)
            continue
        if not isinstance(given, str) or not given.endswith(".toml"):
            raise ConfigError(f"{suite_path}: key '{key}': {given!r} is not a path to a dataset "
                              "file (.toml)", 'e.g. path = "../mydata/mydata.toml" (relative to '
                              "the suite file's folder, or absolute)")
        file = Path(given).expanduser()
        file = (file if file.is_absolute() else suite_path.parent / file).resolve()
        if not file.is_file():
            raise ConfigError(f"{suite_path}: key '{key}': dataset file {file} not found",
                              f"a relative path starts at the suite file's folder "
                              f"({suite_path.parent.resolve()}); or give an absolute path")
        spec, _ = load_dataset_spec(file)  # its errors name the dataset file and key
        shipped = {n.casefold(): n for n in known_datasets()}.get(spec.name.casefold())
        if shipped is not None and file != (dataset_spec.DATASET_DIR / f"{shipped}.toml").resolve():
            raise ConfigError(
                f"{suite_path}: key '{key}': dataset file {file} is named {spec.name!r}, like "
                f"the shipped dataset datasets/{shipped}.toml (compared ignoring case); their "
                "run folders and split caches would be mixed up",
                f"set another name in {file} ({NAME_FORM})")
        out.append({**entry, "name": spec.name, "path": str(file)})
    return {**raw, "datasets": out}


def _suite_keys() -> dict[str, Any]:
    """A suite file's valid top-level keys and their types: the fields, and one table per track."""
    from benchmark.registry import TRACKS

    keys: dict[str, Any] = {k: f.annotation for k, f in SuiteSpec.model_fields.items()
                            if k != "sections"}
    return {**keys, **{track: dict for track in TRACKS}}


def load_suite(path: str | Path) -> SuiteSpec:
    """Read and validate a suite file; model and dataset names are checked against registries.
    Datasets given by path are resolved against the suite file's folder and registered in this
    process under their names (``DatasetEntry.register``)."""
    from benchmark.registry import MODELS

    path = Path(path)
    raw = _dataset_paths(read_toml(path), path)
    _one_folder_each(raw, path)
    suite = parse_model(SuiteSpec, raw, str(path), _suite_keys())
    for track in suite.sections:  # every section checked now, not mid-run
        try:
            suite.settings_for(track)
        except ConfigError as err:
            raise ConfigError(err.what.replace(f"suite {suite.name!r}", str(path), 1),
                              err.fix) from None
    for m in suite.models:
        if m.name not in MODELS:
            unknown = UnknownNameError("model", m.name, MODELS)
            raise ConfigError(f"{path}: {unknown.what}", unknown.fix)
    for d in suite.datasets:
        if d.path is None and d.name not in known_datasets():
            unknown = UnknownNameError("dataset", d.name, known_datasets())
            raise ConfigError(f"{path}: {unknown.what}", f"{unknown.fix}; or give a dataset file "
                              'anywhere by path: path = "../mydata/mydata.toml" (relative to '
                              "the suite file)")
    for d in suite.datasets:
        d.register()
    return suite
