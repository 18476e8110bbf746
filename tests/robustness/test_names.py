"""Issue 15, item 5: suite, dataset and model names and labels become folder names, so they must
be one safe folder name each and distinct ignoring case; else a ConfigError that names the file,
the key and the allowed form, before anything runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmark.cli import main
from benchmark.config.suite import load_suite
from benchmark.errors import ConfigError

GOOD = """
name = "{suite}"
[[datasets]]
name = "ml-100k"
[[models]]
name = "pop"
label = "{first}"
[[models]]
name = "pop"
label = "{second}"
"""
ALLOWED = "letters, digits and . _ + -"


def write(tmp_path: Path, suite: str = "s", first: str = "pp", second: str = "p2") -> Path:
    path = tmp_path / "suite.toml"
    path.write_text(GOOD.format(suite=suite, first=first, second=second))
    return path


@pytest.mark.parametrize("suite, first, second, key", [
    ("../escape", "pp", "p2", "'name'"),
    ("/tmp/abs", "pp", "p2", "'name'"),
    ("s", "pp", "pp/", "'models.1.label'"),
    ("s", "pp", "../../x", "'models.1.label'"),
    ("s", ".hidden", "p2", "'models.0.label'"),
    ("s", "a b", "p2", "'models.0.label'"),
    ("s", "pp", "a..b", "'models.1.label'"),
])
def test_unsafe_names_are_config_errors_naming_file_and_key(tmp_path, suite, first, second, key):
    path = write(tmp_path, suite, first, second)
    with pytest.raises(ConfigError) as err:
        load_suite(path)
    text = str(err.value)
    assert str(path) in text and key in text and ALLOWED in text, text


@pytest.mark.parametrize("first, second", [("PP", "pp"), ("pp", "pp"), ("Pop-1", "pop-1")])
def test_labels_equal_ignoring_case_are_config_errors(tmp_path, first, second):
    path = write(tmp_path, first=first, second=second)
    with pytest.raises(ConfigError) as err:
        load_suite(path)
    text = str(err.value)
    assert str(path) in text and "'models.1.label'" in text and "appear twice" in text, text
    assert repr(first) in text and repr(second) in text


def test_dataset_listed_twice_is_a_config_error(tmp_path):
    path = tmp_path / "suite.toml"
    path.write_text(GOOD.format(suite="s", first="a", second="b")
                    + '[[datasets]]\nname = "ML-100K"\n')
    with pytest.raises(ConfigError, match=r"'datasets.1.name'.*share one run folder"):
        load_suite(path)


def test_safe_names_still_load(tmp_path):
    suite = load_suite(write(tmp_path, "quick.v2", "tallrec-16", "explainrec+kb_1.0"))
    assert [m.key for m in suite.models] == ["tallrec-16", "explainrec+kb_1.0"]


def test_cli_says_so_without_traceback_and_writes_nothing(tmp_path, capsys):
    path = write(tmp_path, suite="../escape")
    out = tmp_path / "out" / "runs"
    assert main(["run", str(path), "--out", str(out), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "'name'" in err and ALLOWED in err and "Traceback" not in err
    assert not (tmp_path / "out").exists() and not (tmp_path / "out" / "escape").exists()
