"""Issue 15, item 4: two runners started together on one suite and one --out train every job
once (fits are counted by a model that appends to a file) and write the same metrics.json,
byte for byte, as one runner alone.

Run as ``python -m tests.robustness.test_resume_concurrent SUITE OUT CACHE GO`` this module is
one of the runners: it registers the counting model, waits for the GO file, runs the suite.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from benchmark.data.types import Interactions
from benchmark.models.base import Recommender

REPO = Path(__file__).resolve().parents[2]
MODEL = "tests.robustness.test_resume_concurrent:CountingPop"
SUITE = """
name = "conc"
seeds = [0, 1]
[[datasets]]
name = "ml-100k"
max_eval_users = 40
[[models]]
name = "counting"
label = "a"
params = {{ log = "{log}", tag = "a" }}
[[models]]
name = "counting"
label = "b"
params = {{ log = "{log}", tag = "b", sleep = 0.5 }}
[accuracy]
ks = [10]
protocols = ["full", "sampled"]
sampled_negatives = 20
"""


@dataclasses.dataclass
class CountingConfig:
    #: file that gets one line per fit ("<tag> <seed> <pid>")
    log: str = ""
    tag: str = ""
    #: seconds to spend in fit, so that two runners overlap
    sleep: float = 1.0


class CountingPop(Recommender):
    """Popularity scores; every fit appends a line to ``log`` (O_APPEND: whole lines)."""

    Config = CountingConfig

    def fit(self, train: Interactions, valid: Interactions, *, seed: int) -> None:
        with open(self.config.log, "a") as fh:
            fh.write(f"{self.config.tag} {seed} {os.getpid()}\n")
        time.sleep(self.config.sleep)
        self._remember(train, valid)
        self._pop = np.bincount(train.frame["item"].to_numpy(), minlength=self.n_items)

    def score_all(self, users: np.ndarray) -> np.ndarray:
        return np.tile(self._pop.astype(np.float64), (len(users), 1))


def _runner(suite_path: str, out: str, cache: str, go: str) -> None:
    from benchmark import registry
    from benchmark.config.suite import load_suite
    from benchmark.runner.runner import run_suite

    registry.MODELS["counting"] = MODEL
    suite = load_suite(suite_path)
    while not Path(go).exists():
        time.sleep(0.01)
    outcome = run_suite(suite, Path(out), progress=False, cache_dir=Path(cache))
    print(json.dumps({f"{j.key.model}/{j.key.seed}": j.status for j in outcome.jobs}))


def _metrics(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes()
            for p in sorted(out.rglob("metrics.json"))}


def test_two_runners_train_each_job_once_with_sequential_results(tmp_path, monkeypatch):
    from benchmark import registry
    from benchmark.config.suite import load_suite
    from benchmark.runner.runner import run_suite

    fits = tmp_path / "fits.log"
    (tmp_path / "suite.toml").write_text(SUITE.format(log=fits))
    go = tmp_path / "go"
    env = {**os.environ, "OMP_NUM_THREADS": "1",
           "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    procs = [subprocess.Popen([sys.executable, "-m", "tests.robustness.test_resume_concurrent",
                               str(tmp_path / "suite.toml"), str(tmp_path / "runs"),
                               str(tmp_path / "cache"), str(go)], cwd=REPO, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    time.sleep(0.5)
    go.touch()
    results = [p.communicate(timeout=300) for p in procs]
    for p, (_, stderr) in zip(procs, results):
        assert p.returncode == 0, stderr[-3000:]
    lines = sorted(" ".join(ln.split()[:2]) for ln in fits.read_text().splitlines())
    assert lines == ["a 0", "a 1", "b 0", "b 1"], fits.read_text()  # each job trained once
    statuses = [json.loads(out.strip().splitlines()[-1]) for out, _ in results]
    for job in ("a/0", "a/1", "b/0", "b/1"):
        assert sorted(s[job] for s in statuses) == ["done", "skipped"], statuses
    assert not list((tmp_path / "runs").rglob("*.tmp"))
    assert not list((tmp_path / "cache").rglob("*.tmp"))

    # one runner alone, same cache: byte-identical metrics
    monkeypatch.setitem(registry.MODELS, "counting", MODEL)
    run_suite(load_suite(tmp_path / "suite.toml"), tmp_path / "alone", progress=False,
              cache_dir=tmp_path / "cache")
    together, alone = _metrics(tmp_path / "runs"), _metrics(tmp_path / "alone")
    assert len(alone) == 4 and together == alone


if __name__ == "__main__":
    _runner(*sys.argv[1:5])
