"""Datasets a user brings: a suite names a dataset TOML by path (outside ``datasets/``), the
``csv`` loader reads a plain ratings file (+ optional items file), and every job process finds
the same file by the dataset's name."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from baselines.pop import Pop
from benchmark.config import dataset_spec
from benchmark.config.dataset_spec import load_dataset_spec
from benchmark.config.suite import load_suite
from benchmark.data.ratings_file import load_ratings_file
from benchmark.errors import ConfigError, DataError

N_USERS, N_ITEMS, PER_USER = 12, 20, 10

DATASET_TOML = """
# a user's own data, outside the repository's datasets/ folder
name = "{name}"
loader = "csv"
description = "fixture ratings file"
paths = {{ ratings = "ratings.csv", items = "items.csv" }}
rating_scale = [1, 5]
like_threshold = 4

[split]
strategy = "chrono"
ratios = [0.8, 0.1, 0.1]
"""

SUITE = """
name = "mine"
seeds = [0]
tracks = ["accuracy", "efficiency"]
[[datasets]]
{dataset_line}
[[models]]
name = "pop"
[[models]]
name = "dataset_probe"
params = {{ dataset = "mydata" }}
[accuracy]
ks = [5]
protocols = ["full"]
[efficiency]
requests = 5
warmup = 1
throughput_users = 10
"""


@dataclasses.dataclass
class ProbeConfig:
    dataset: str = ""


class DatasetProbe(Pop):
    """Pop that, inside its job process, looks its dataset up by name (as tracks and protocols
    do) and records which file it found."""

    Config = ProbeConfig

    def fit(self, train, valid, *, seed):
        super().fit(train, valid, seed=seed)
        spec, base = load_dataset_spec(self.config.dataset)
        self._found = {"name": spec.name, "loader": spec.loader, "folder": str(base)}

    def fit_info(self):
        return self._found


@pytest.fixture(autouse=True)
def _own_registry(monkeypatch):
    """Datasets registered by path in a test stay in that test; the probe model is known (to
    job processes too: they get the parent's registry)."""
    from benchmark import registry

    monkeypatch.setattr(dataset_spec, "_FILES", {})
    monkeypatch.setitem(registry.MODELS, "dataset_probe",
                        "tests.unit.test_dataset_paths:DatasetProbe")


def write_dataset(folder: Path, name: str = "mydata") -> Path:
    """ratings.csv (user, item, rating, timestamp), items.csv (item, title, genres) and the
    dataset TOML in ``folder``; returns the TOML's path."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(3)
    lines = ["user,item,rating,timestamp"]
    for u in range(N_USERS):
        for t, i in enumerate(rng.choice(N_ITEMS, PER_USER, replace=False)):
            lines.append(f"u{u},m{i},{int(rng.integers(1, 6))},{1_600_000_000 + 3600 * u + t}")
    (folder / "ratings.csv").write_text("\n".join(lines) + "\n")
    items = ["item,title,genres", 'm0,"Good, the Bad (1966)",Western']
    items += [f"m{i},Movie {i} ({1990 + i}),Drama|Comedy" for i in range(1, N_ITEMS)]
    (folder / "items.csv").write_text("\n".join(items) + "\n")
    path = folder / f"{name}.toml"
    path.write_text(DATASET_TOML.format(name=name))
    return path


def test_csv_loader_reads_ratings_and_optional_items(tmp_path):
    write_dataset(tmp_path)
    raw = load_ratings_file(tmp_path / "ratings.csv", tmp_path / "items.csv")
    inter = raw.interactions
    assert list(inter.columns) == ["user", "item", "rating", "timestamp"]
    assert len(inter) == N_USERS * PER_USER and inter["user"].iloc[0] == "u0"
    assert inter["rating"].dtype == np.float32 and inter["timestamp"].dtype == np.int64
    assert raw.items.loc["m0", "title"] == "Good, the Bad" and raw.items.loc["m0", "year"] == 1966
    assert raw.items.loc["m3", "genres"] == ["Drama", "Comedy"]
    # no items file: interactions only; a TSV with other column names via options
    tsv = tmp_path / "r.tsv"
    tsv.write_text("uid\tiid\tstars\twhen\tignored\na\tx\t4.5\t10\tz\nb\ty\t2\t11\tz\n")
    raw = load_ratings_file(tsv, sep="\\t", user_column="uid", item_column="iid",
                            rating_column="stars", timestamp_column="when")
    assert raw.items is None and raw.interactions["rating"].tolist() == [4.5, 2.0]
    assert raw.interactions["item"].tolist() == ["x", "y"]


def test_csv_loader_errors_name_file_line_and_column(tmp_path):
    bad = tmp_path / "ratings.csv"
    bad.write_text("user,item,rating,timestamp\na,x,4,10\nb,y,great,11\n")
    with pytest.raises(DataError, match=r"ratings.csv:3: column 3 \(rating\) is 'great'"):
        load_ratings_file(bad)
    bad.write_text("user,item,rating,timestamp\na,x,9,10\n")
    with pytest.raises(DataError, match="outside 1-5"):
        load_ratings_file(bad)
    bad.write_text("user,item,score,timestamp\na,x,4,10\n")
    with pytest.raises(DataError, match="the header has no column 'rating'"):
        load_ratings_file(bad)
    with pytest.raises(DataError, match="not one character"):
        load_ratings_file(bad, sep="::")


def test_suite_names_a_dataset_file_by_path(tmp_path):
    toml = write_dataset(tmp_path / "elsewhere" / "mydata")
    suites = tmp_path / "suites"
    suites.mkdir()
    for line in ('path = "../elsewhere/mydata/mydata.toml"',
                 'name = "../elsewhere/mydata/mydata.toml"',  # a name that is a path: the same
                 f'path = "{toml}"'):  # absolute
        path = suites / "s.toml"
        path.write_text(SUITE.format(dataset_line=line))
        suite = load_suite(path)
        (d,) = suite.datasets
        assert d.name == "mydata" and d.path == str(toml.resolve())
    # registered in this process: a lookup by name reads that file, its paths beside it
    spec, base = load_dataset_spec("mydata")
    assert spec.loader == "csv" and base == toml.parent.resolve()
    assert spec.resolved_paths(base)["ratings"] == (toml.parent / "ratings.csv").resolve()


@pytest.mark.parametrize(("line", "dataset_name", "message"), [
    ('path = "../nowhere/x.toml"', "mydata", "key 'datasets.0.path': dataset file .*x.toml not "
                                             "found"),
    ('path = "../data/mydata.csv"', "mydata", "is not a path to a dataset file"),
    ('name = "mine"\npath = "../data/mydata.toml"', "mydata", "both name and path"),
    ('path = "../data/mydata.toml"', "ML-100K", "like the shipped dataset datasets/ml-100k.toml"),
    ('path = "../data/mydata.toml"', "../up", r"mydata.toml: key 'name'.*run-folder name"),
    ('name = "mydataa"', "mydata", "path = "),  # an unknown name: the fix mentions paths
])
def test_bad_dataset_paths_are_config_errors(tmp_path, line, dataset_name, message):
    write_dataset(tmp_path / "data")
    (tmp_path / "data" / "mydata.toml").write_text(DATASET_TOML.format(name=dataset_name))
    (tmp_path / "suites").mkdir()
    path = tmp_path / "suites" / "s.toml"
    path.write_text(SUITE.format(dataset_line=line))
    with pytest.raises(ConfigError, match=message) as err:
        load_suite(path)
    assert str(path) in str(err.value) or "mydata.toml" in str(err.value)


def test_recbench_run_on_a_dataset_outside_datasets(tmp_path, monkeypatch):
    """End to end through `recbench run`: each job in its own process, where the probe model
    looks the dataset up by name and must find the fixture file."""
    from benchmark.cli import main
    from benchmark.runner import store

    monkeypatch.setattr("benchmark.runner.prepare.CACHE_DIR", tmp_path / "cache")
    toml = write_dataset(tmp_path / "mydata")
    (tmp_path / "suites").mkdir()
    suite = tmp_path / "suites" / "mine.toml"
    suite.write_text(SUITE.format(dataset_line='path = "../mydata/mydata.toml"'))
    out = tmp_path / "runs"
    assert main(["run", str(suite), "--out", str(out), "--no-progress"]) == 0
    for model in ("pop", "dataset_probe"):
        folder = out / "mine" / "mydata" / model / "seed-0"
        assert store.read_marker(folder) is not None, model
        config = json.loads((folder / "config.json").read_text())
        assert config["dataset"]["name"] == "mydata"
        assert config["dataset"]["path"] == str(toml.resolve())
        assert config["split"]["n_users"] == N_USERS
        rows = {(r["track"], r["protocol"], r["metric"], r["k"])
                for r in store.read_metrics(folder)["rows"]}
        assert ("accuracy", "full", "ndcg", 5) in rows
        assert ("efficiency", "cpu", "train_cpu_seconds", None) in rows
    probe = json.loads((out / "mine/mydata/dataset_probe/seed-0/config.json").read_text())
    assert probe["model"]["fit"] == {"name": "mydata", "loader": "csv",
                                     "folder": str(toml.parent.resolve())}
    # the split cache is under the dataset's name
    assert any((tmp_path / "cache" / "mydata").iterdir())
