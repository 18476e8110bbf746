"""One dataset as the runner resolved it: its spec (``datasets/<name>.toml`` or a file given by
path), the folder its files are relative to, and its raw side data (item attributes, user
profiles, review text), read at most once per process.

The runner resolves the dataset of a job once (``benchmark.runner.prepare.resolve_dataset``) and
hands this object to the tracks (``TrackContext.data``) and to the models that need side data
(``benchmark.models.abilities.DatasetReader``, given it before their fit); neither names a
dataset file itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from benchmark.data.loaders import load_raw

if TYPE_CHECKING:
    from benchmark.config.dataset_spec import DatasetSpec
    from benchmark.data.types import RawDataset

#: default cache of built splits and derived data (git-ignored)
CACHE_DIR = Path(__file__).resolve().parents[2] / "datasets" / "cache"


@dataclass
class DatasetData:
    name: str
    spec: DatasetSpec
    #: the folder the spec's relative paths are resolved against
    base: Path
    _raw: RawDataset | None = field(default=None, repr=False, compare=False)

    def raw(self) -> RawDataset:
        """The dataset's raw files as its loader reads them (checked, then cached here)."""
        if self._raw is None:
            self.spec.check_files(self.base)
            self._raw = load_raw(self.spec.loader, **self.spec.loader_args(self.base))
        return self._raw

    @property
    def has_reviews(self) -> bool:
        """Whether the dataset's loader keeps review text (Amazon)."""
        return self.spec.loader == "amazon"
