"""The README's "Extending" examples, run as written: the track module and the model module are
copied from the README into a temporary package, registered with the README's registry lines,
and run on the README's suite (MovieLens-100K, in-process), so the example cannot rot."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from benchmark import registry
from benchmark.cli import main
from benchmark.config.suite import load_suite
from benchmark.runner import store
from benchmark.runner.executors import ExecutorSettings
from benchmark.runner.runner import run_suite

README = Path(__file__).resolve().parents[2] / "README.md"
PACKAGE = "longtail_example"


def examples() -> dict[str, str]:
    """Each code block of the README's Extending section, by the name in its ``example:``
    marker."""
    text = README.read_text()
    section = text[text.index("\n## Extending\n"):]
    end = section.find("\n## ", 1)
    section = section if end < 0 else section[:end]
    blocks = re.findall(r"<!-- example: (\S+) -->\n```\w*\n(.*?)```", section, re.S)
    return dict(blocks)


def test_readme_has_the_examples():
    assert set(examples()) == {"longtail.py", "mostrated.py", "registry", "suite.toml"}


@pytest.fixture
def registered(tmp_path, monkeypatch):
    """The README's modules as package ``longtail_example``; its registry lines added."""
    found = examples()
    pkg = tmp_path / "src" / PACKAGE
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "longtail.py").write_text(found["longtail.py"])
    (pkg / "mostrated.py").write_text(found["mostrated.py"])
    monkeypatch.syspath_prepend(str(tmp_path / "src"))
    lines = dict(re.findall(r'"(\w+)": "([\w.]+:\w+)"', found["registry"]))
    assert lines == {"most_rated": f"{PACKAGE}.mostrated:MostRated",
                     "longtail": f"{PACKAGE}.longtail:LongTailTrack"}
    monkeypatch.setitem(registry.MODELS, "most_rated", lines["most_rated"])
    monkeypatch.setitem(registry.TRACKS, "longtail", lines["longtail"])
    suite = tmp_path / "suite.toml"
    suite.write_text(found["suite.toml"])
    return suite


def test_the_example_track_and_model_run_in_a_suite(registered, tmp_path, capsys):
    suite = load_suite(registered)
    out = tmp_path / "runs"
    outcome = run_suite(suite, out, progress=False, cache_dir=tmp_path / "cache",
                        executor=ExecutorSettings(isolate=False))
    assert {j.key.model: j.status for j in outcome.jobs} == {"most_rated": "done",
                                                             "pop": "done"}
    shares = {}
    for model in ("most_rated", "pop"):
        folder = out / "extending" / "ml-100k" / model / "seed-0"
        rows = store.read_metrics(folder)["rows"]
        (row,) = [r for r in rows if r["track"] == "longtail"]
        assert (row["protocol"], row["metric"], row["k"], row["n"]) == ("full", "longtail", 10,
                                                                         100)
        assert {(r["track"], r["metric"], r["k"]) for r in rows} >= {("accuracy", "ndcg", 10)}
        per_user = np.load(folder / "per_user.npz")
        values = per_user["longtail/full/longtail@10"]
        assert values.shape == (100,) and ((values >= 0) & (values <= 1)).all()
        assert row["value"] == pytest.approx(values.mean())
        assert len(per_user["longtail/full/users"]) == 100
        shares[model] = row["value"]
        config = json.loads((folder / "config.json").read_text())
        assert config["track_settings"]["longtail"] == {"k": 10}
    # both rank by popularity, so their top 10s come from the most-rated fifth
    assert shares["most_rated"] < 0.5 and shares["pop"] < 0.5
    assert main(["report", str(out), "--format", "csv"]) == 0
    assert "longtail" in capsys.readouterr().out
