"""`recbench run` end to end with RecBole models: the runner, the adapters and the store together."""

import json
import os

import pytest

from benchmark.cli import main
from benchmark.runner import store

pytestmark = [pytest.mark.recbole,
              pytest.mark.filterwarnings("ignore::FutureWarning"),
              pytest.mark.filterwarnings("ignore::DeprecationWarning")]

SUITE = """
name = "mini"
seeds = [0]
[[datasets]]
name = "ml-100k"
max_eval_users = 100
[[models]]
name = "bpr"
params = { epochs = 2, learning_rate = 0.01, show_progress = false }
[[models]]
name = "gru4rec"
params = { epochs = 1, max_seq_length = 10, hidden_size = 32, embedding_size = 32, show_progress = false }
[accuracy]
ks = [10]
sampled_negatives = 50
"""


def test_cli_run_with_recbole_models(tmp_path, capsys):
    (tmp_path / "mini.toml").write_text(SUITE)
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        assert main(["run", "mini.toml", "--out", "runs", "--no-progress"]) == 0
    finally:
        os.chdir(cwd)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mini.toml", "runs"]  # nothing else
    for model in ("bpr", "gru4rec"):
        folder = tmp_path / "runs/mini/ml-100k" / model / "seed-0"
        assert store.is_complete(folder)
        rows = store.read_metrics(folder)["rows"]
        assert {r["protocol"] for r in rows} == {"full", "sampled", "pointwise"}
        assert all(0.0 <= r["value"] <= 1.0 for r in rows)
        config = json.loads((folder / "config.json").read_text())
        assert config["model"]["fit"]["epochs"] >= 1
        assert (folder / "model" / "saved").is_dir() and (folder / "model" / "log").is_dir()
        eff = json.loads((folder / "efficiency.json").read_text())
        assert eff["n_parameters"] > 0 and eff["fit_seconds"] > 0
    out = capsys.readouterr().out
    assert "bpr" in out and "gru4rec" in out and "split=chrono" in out
