"""Dataset files: where the data is and how it is split.

A dataset file is ``datasets/<name>.toml`` (named in a suite by its name) or a TOML file anywhere
(named in a suite by its path, ``[[datasets]] path = "..."``). A file outside ``datasets/`` is
registered under its ``name`` key when a suite names it (``register_dataset_file``), so code that
looks a dataset up by name (tracks, protocols, job processes) finds the same file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator

from benchmark.config.base import Strict, parse_model, read_toml
from benchmark.config.names import safe_name
from benchmark.data.loaders import LoaderKind
from benchmark.data.split import SplitSpec, check_ratios
from benchmark.errors import DataError, UnknownNameError

#: where dataset TOML files live, relative to the project root
DATASET_DIR = Path(__file__).resolve().parents[2] / "datasets"


class SplitSettings(Strict):
    strategy: Literal["chrono", "random", "leave_one_out"] = "chrono"
    #: train, valid, test shares of each user's interactions: each > 0, summing to 1
    ratios: tuple[float, float, float] = (0.8, 0.1, 0.1)
    kcore: int = Field(0, ge=0)

    @field_validator("ratios")
    @classmethod
    def _shares(cls, ratios: tuple[float, float, float] | None) -> tuple[float, float, float] | None:
        return check_ratios(ratios)


class SplitOverrides(Strict):
    """Per-suite changes to a dataset's split (any field left out keeps the dataset's value)."""

    strategy: Literal["chrono", "random", "leave_one_out"] | None = None
    ratios: tuple[float, float, float] | None = None
    kcore: int | None = Field(None, ge=0)

    @field_validator("ratios")
    @classmethod
    def _shares(cls, ratios: tuple[float, float, float] | None) -> tuple[float, float, float] | None:
        return check_ratios(ratios)


class DatasetSpec(Strict):
    #: the dataset's name: its run folders and cache folder; letters, digits and . _ + -
    name: str
    loader: LoaderKind
    description: str = ""
    #: loader path arguments (path, reviews_path, meta_path; ratings, items for "csv"), relative
    #: to the folder of the dataset file (``datasets/`` for the shipped ones); absolute allowed
    paths: dict[str, str] = {}
    #: other loader arguments, passed as they are (e.g. Amazon's version = "2014"; for "csv":
    #: sep, encoding, user_column, item_column, rating_column, timestamp_column, title_column,
    #: genres_column, year_column, genre_sep; see benchmark/data/ratings_file.py)
    options: dict[str, str] = {}
    #: where a user gets the raw files (shown when they are missing)
    download: str = ""
    like_threshold: float = Field(4.0, allow_inf_nan=False)
    positives: Literal["all", "liked"] = "all"
    #: [lowest, highest] valid rating; default: the loader's published scale (MovieLens-100K,
    #: 1M and Amazon 1-5, MovieLens-25M 0.5-5). A rating outside it, inf or NaN is a DataError
    #: naming the file and line (benchmark.data.ratings_check).
    rating_scale: tuple[float, float] | None = None
    split: SplitSettings = SplitSettings()

    @field_validator("name")
    @classmethod
    def _safe_name(cls, name: str) -> str:
        return safe_name(name)

    @field_validator("rating_scale")
    @classmethod
    def _ordered_scale(cls, scale: tuple[float, float] | None) -> tuple[float, float] | None:
        if scale is not None and not (float("-inf") < scale[0] <= scale[1] < float("inf")):
            raise ValueError(f"rating_scale {list(scale)} must be [lowest, highest] finite "
                             "numbers with lowest <= highest, e.g. [1, 5]")
        return scale

    def loader_scale(self) -> dict[str, tuple[float, float]]:
        """``rating_scale`` as a loader argument, when the dataset file sets one."""
        if not self.rating_scale:
            return {}
        lo, hi = self.rating_scale
        return {"rating_scale": (lo, hi)}

    def split_spec(self, seed: int, overrides: SplitOverrides | None = None) -> SplitSpec:
        s = self.split
        o = overrides or SplitOverrides()
        return SplitSpec(
            strategy=o.strategy or s.strategy,
            ratios=o.ratios or s.ratios,  # tuples already (pydantic validates them)
            seed=seed,
            kcore=s.kcore if o.kcore is None else o.kcore,
            like_threshold=self.like_threshold,
            positives=self.positives,
        )

    def resolved_paths(self, base: Path) -> dict[str, Path]:
        return {k: (base / Path(v).expanduser()).resolve() for k, v in self.paths.items()}

    def loader_args(self, base: Path) -> dict[str, object]:
        return {**self.resolved_paths(base), **self.options}

    def check_files(self, base: Path) -> None:
        """Fail fast, before any training, when a raw file or folder is missing."""
        for key, path in self.resolved_paths(base).items():
            if not path.exists():
                where = f"download it from {self.download} and " if self.download else ""
                raise DataError(
                    f"dataset {self.name!r}: {key} {path} not found",
                    f"{where}put it at {path} (or change '{key}' in "
                    f"{dataset_file(self.name) or f'datasets/{self.name}.toml'})",
                )


#: dataset files outside ``DATASET_DIR`` that a loaded suite names by path: name -> file
_FILES: dict[str, Path] = {}


def register_dataset_file(name: str, path: Path) -> None:
    """Make ``load_dataset_spec(name)`` read ``path`` in this process (a suite's dataset given by
    path; the runner registers it again in every job process, from the suite's entry)."""
    _FILES[name] = Path(path).resolve()


def dataset_file(name: str) -> Path | None:
    """The registered file of a dataset named by path, else None."""
    return _FILES.get(name)


def known_datasets(folder: Path | None = None) -> list[str]:
    """Dataset names in ``folder`` (default: ``DATASET_DIR``, read when called so tests can point
    it at a temporary folder)."""
    return sorted(p.stem for p in (folder or DATASET_DIR).glob("*.toml"))


def load_dataset_spec(name_or_path: str | Path,
                      folder: Path | None = None) -> tuple[DatasetSpec, Path]:
    """The spec and the folder its relative paths are resolved against (the file's folder).

    ``name_or_path``: a path ending in ``.toml``, a name registered by ``register_dataset_file``
    (when ``folder`` is not given), or a name in ``folder`` (default ``DATASET_DIR``)."""
    path = Path(name_or_path)
    if path.suffix != ".toml":
        registered = _FILES.get(str(name_or_path)) if folder is None else None
        folder = folder or DATASET_DIR
        path = registered or folder / f"{name_or_path}.toml"
        if registered is None and not path.is_file():  # a registered file's absence: read_toml
            raise UnknownNameError("dataset", str(name_or_path), known_datasets(folder))
    spec = parse_model(DatasetSpec, read_toml(path), str(path))
    return spec, path.parent
