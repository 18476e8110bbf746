"""Dataset files (``datasets/<name>.toml``): where the data is and how it is split."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from benchmark.config.base import Strict, parse_model, read_toml
from benchmark.data.split import SplitSpec
from benchmark.errors import UnknownNameError

#: where dataset TOML files live, relative to the project root
DATASET_DIR = Path(__file__).resolve().parents[2] / "datasets"


class SplitSettings(Strict):
    strategy: Literal["chrono", "random"] = "chrono"
    ratios: tuple[float, float, float] = (0.8, 0.1, 0.1)
    kcore: int = Field(0, ge=0)


class SplitOverrides(Strict):
    """Per-suite changes to a dataset's split (any field left out keeps the dataset's value)."""

    strategy: Literal["chrono", "random"] | None = None
    ratios: tuple[float, float, float] | None = None
    kcore: int | None = Field(None, ge=0)


class DatasetSpec(Strict):
    name: str
    loader: Literal["ml-100k", "ml-1m", "ml-25m", "amazon"]
    description: str = ""
    #: loader path arguments (path, reviews_path, meta_path), relative to the datasets folder
    paths: dict[str, str] = {}
    #: other loader arguments, passed as they are (e.g. Amazon's version = "2014")
    options: dict[str, str] = {}
    #: where a user gets the raw files (shown when they are missing)
    download: str = ""
    like_threshold: float = 4.0
    positives: Literal["all", "liked"] = "all"
    split: SplitSettings = SplitSettings()

    def split_spec(self, seed: int, overrides: SplitOverrides | None = None) -> SplitSpec:
        s = self.split
        o = overrides or SplitOverrides()
        return SplitSpec(
            strategy=o.strategy or s.strategy,
            ratios=tuple(o.ratios or s.ratios),
            seed=seed,
            kcore=s.kcore if o.kcore is None else o.kcore,
            like_threshold=self.like_threshold,
            positives=self.positives,
        )

    def resolved_paths(self, base: Path) -> dict[str, Path]:
        return {k: (base / v).resolve() for k, v in self.paths.items()}

    def loader_args(self, base: Path) -> dict[str, object]:
        return {**self.resolved_paths(base), **self.options}

    def check_files(self, base: Path) -> None:
        """Fail fast, before any training, when a raw file or folder is missing."""
        from benchmark.errors import DataError

        for key, path in self.resolved_paths(base).items():
            if not path.exists():
                where = f"download it from {self.download} and " if self.download else ""
                raise DataError(
                    f"dataset {self.name!r}: {key} {path} not found",
                    f"{where}put it at {path} (or change '{key}' in datasets/{self.name}.toml)",
                )


def known_datasets(folder: Path = DATASET_DIR) -> list[str]:
    return sorted(p.stem for p in folder.glob("*.toml"))


def load_dataset_spec(name_or_path: str | Path, folder: Path = DATASET_DIR) -> tuple[DatasetSpec, Path]:
    """The spec and the folder its relative paths are resolved against."""
    path = Path(name_or_path)
    if path.suffix != ".toml":
        path = folder / f"{name_or_path}.toml"
        if not path.is_file():
            raise UnknownNameError("dataset", str(name_or_path), known_datasets(folder))
    spec = parse_model(DatasetSpec, read_toml(path), str(path))
    return spec, path.parent
