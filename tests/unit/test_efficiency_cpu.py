"""Efficiency numbers on a shared machine: CPU seconds, torch threads and load average beside
every wall time; the suite's ``threads`` applied in each job; ``check`` gates CPU time when both
runs have it."""

from __future__ import annotations

import dataclasses
import json
import os
import time

import numpy as np
import pytest

from benchmark.measure import PeakMemory
from benchmark.models.base import Recommender
from benchmark.tracks.base import TrackContext
from benchmark.tracks.efficiency import EfficiencySettings, EfficiencyTrack

#: CPU seconds the busy fit burns, whatever the machine's load (it spins on process_time)
BUSY_CPU_S = 0.3
#: CPU seconds it is sure to show (timer resolution)
BUSY_MIN_S = BUSY_CPU_S - 0.02
#: CPU a busy or sleeping block may show beyond its own work (memory sampler threads, timers)
SLACK_S = 0.1


@dataclasses.dataclass
class BusyConfig:
    mode: str = "busy"  # "busy": spin BUSY_CPU_S of CPU; "sleep": sleep that long
    torch: bool = False  # import torch in fit and record its thread count


class BusyLoop(Recommender):
    """Fit spins one thread until it has used BUSY_CPU_S of CPU (or sleeps as long); scores
    are popularity. Records the threads it saw inside its job."""

    Config = BusyConfig

    def fit(self, train, valid, *, seed):
        self._remember(train, valid)
        if self.config.mode == "busy":
            t0, x = time.process_time(), 0
            while time.process_time() - t0 < BUSY_CPU_S:
                x += 1
        else:
            time.sleep(BUSY_CPU_S)
        self.pop = np.bincount(train.frame["item"].to_numpy(), minlength=self.n_items) * 1.0
        self._seen = {"omp": os.environ.get("OMP_NUM_THREADS"),
                      "recbench_threads": os.environ.get("RECBENCH_THREADS")}
        if self.config.torch:
            import torch

            self._seen["torch_threads"] = torch.get_num_threads()

    def score_all(self, users):
        return np.broadcast_to(self.pop, (len(users), self.n_items))

    def fit_info(self):
        return self._seen


def _run_track(split, mode: str):
    ctx = TrackContext(split=split, split_dir=None, dataset="synthetic", seed=0,
                       max_eval_users=None,
                       build_model=lambda purpose="model": BusyLoop({"mode": mode}),
                       memory_probe=PeakMemory)
    track = EfficiencyTrack(EfficiencySettings(requests=20, warmup=2, throughput_users=60,
                                               batch_size=16), None, progress=False)
    result = track.run(ctx)
    return {r.metric: r.value for r in result.rows}, result.info["efficiency"]


def test_cpu_seconds_beside_wall_time(split_synthetic):
    busy, info = _run_track(split_synthetic, "busy")
    # one spinning thread: CPU >= what it burnt, <= wall x 1 thread + slack
    assert BUSY_MIN_S <= busy["train_cpu_seconds"] <= busy["train_seconds"] + SLACK_S
    assert 0 <= busy["inference_cpu_seconds"] <= busy["inference_seconds"] + SLACK_S
    assert 0 <= busy["latency_cpu_ms_p50"] <= busy["latency_cpu_ms_p95"] \
        <= busy["latency_cpu_ms_p99"]
    for metric in ("train_seconds", "latency_ms_p50", "throughput_users_per_s", "params"):
        assert metric in busy  # the existing rows stay
    sleepy, _ = _run_track(split_synthetic, "sleep")
    assert sleepy["train_seconds"] >= BUSY_CPU_S and sleepy["train_cpu_seconds"] < SLACK_S
    # CPU context recorded beside the numbers: threads, load at both ends of fit and inference
    assert info["threads"]["cpu_count"] == os.cpu_count()
    assert set(info["threads"]) >= {"setting", "torch", "env", "torch_fit", "torch_inference"}
    assert info["cpu_seconds"]["fit"] == busy["train_cpu_seconds"]
    if hasattr(os, "getloadavg"):
        assert len(info["load_average_fit"]) == 2 and len(info["load_average_fit"][0]) == 3
        assert len(info["load_average_inference"][1]) == 3


def test_memory_probe_measures_cpu_of_its_block():
    with PeakMemory() as probe:
        t0 = time.process_time()
        while time.process_time() - t0 < 0.1:
            pass
    summary = probe.summary()
    assert 0.09 <= summary["cpu_seconds"] <= summary["wall_seconds"] + SLACK_S
    assert summary["children_cpu_seconds"] >= 0
    assert len(summary["torch_threads"]) == 2 and len(summary["load_average"]) == 2


def test_thread_choice_follows_the_suite_setting(monkeypatch):
    from benchmark.llm.threads import thread_choice

    backbone = object()  # never touched: no probe runs when a count is given
    monkeypatch.setenv("RECBENCH_THREADS", "3")
    assert thread_choice(backbone, 0) == {"num_threads": 3, "chosen_by": "suite threads setting"}
    assert thread_choice(backbone, 2) == {"num_threads": 2, "chosen_by": "config"}  # model wins


def test_threads_setting_is_validated(tmp_path):
    from benchmark.config.suite import load_suite
    from benchmark.errors import ConfigError

    base = '[[datasets]]\nname = "ml-100k"\n[[models]]\nname = "pop"\n'
    for value, ok in (("2", True), ("0", True), ("-1", False), ('"2"', False), ("1.5", False)):
        path = tmp_path / "s.toml"
        path.write_text(f'name = "s"\nthreads = {value}\n{base}')
        if ok:
            assert load_suite(path).threads == int(value)
        else:
            with pytest.raises(ConfigError, match="threads"):
                load_suite(path)
    path.write_text(f'name = "s"\n{base}')
    assert load_suite(path).threads == 0


SUITE = """
name = "thr"
seeds = [0]
threads = 3
tracks = ["accuracy", "efficiency"]
[[datasets]]
name = "ml-100k"
max_eval_users = 50
[[models]]
name = "busy_loop"
params = {{ torch = true }}
[accuracy]
ks = [10]
protocols = ["full"]
[efficiency]
requests = 10
warmup = 2
throughput_users = 50
"""


def test_suite_threads_applied_in_each_job_and_recorded(tmp_path, monkeypatch):
    """Through `recbench run` (the job in its own process): the job's torch and OMP see the
    suite's 3 threads (this test process runs with OMP_NUM_THREADS=1); config.json,
    efficiency.json and the efficiency track record them with CPU seconds and load."""
    from benchmark import registry
    from benchmark.cli import main
    from benchmark.runner import store

    pytest.importorskip("torch")
    monkeypatch.setitem(registry.MODELS, "busy_loop", "tests.unit.test_efficiency_cpu:BusyLoop")
    monkeypatch.setattr("benchmark.runner.prepare.CACHE_DIR", tmp_path / "cache")
    path = tmp_path / "thr.toml"
    path.write_text(SUITE.format())
    out = tmp_path / "runs"
    assert main(["run", str(path), "--out", str(out), "--no-progress"]) == 0
    folder = out / "thr" / "ml-100k" / "busy_loop" / "seed-0"
    config = json.loads((folder / "config.json").read_text())
    assert config["model"]["fit"] == {"omp": "3", "recbench_threads": "3", "torch_threads": 3}
    assert config["threads"]["setting"] == 3
    assert config["threads"]["env"]["OMP_NUM_THREADS"] == "3"
    eff = json.loads((folder / "efficiency.json").read_text())
    assert eff["threads"]["setting"] == 3 and eff["threads"]["torch"] == 3
    assert BUSY_MIN_S <= eff["fit_cpu_seconds"] <= eff["fit_seconds"] + SLACK_S
    assert eff["fit_cpu_seconds"] <= eff["job_cpu_seconds"] <= eff["job_seconds"] * 3 + SLACK_S
    assert set(eff["load_average"]) == {"job_start", "job_end"}
    # each track's own time; the main fit falls inside the first track's
    assert list(eff["track_seconds"]) == config["tracks"]
    first = eff["track_seconds"][config["tracks"][0]]
    assert first["cpu"] >= eff["fit_cpu_seconds"] - SLACK_S
    assert sum(t["wall"] for t in eff["track_seconds"].values()) <= eff["job_seconds"] + SLACK_S
    rows = {r["metric"]: r["value"] for r in store.read_metrics(folder)["rows"]
            if r["track"] == "efficiency"}
    assert rows["train_cpu_seconds"] == eff["fit_cpu_seconds"]
    info = store.read_metrics(folder)["info"]["efficiency"]
    assert info["threads"]["setting"] == 3 and info["threads"]["torch_inference"] == [3, 3]


# ------------------------------------------------------------------ the gate: CPU over wall
def _runs(tmp_path, name, train_s, train_cpu_s, fit_s, fit_cpu_s, gpu=False):
    """A run whose efficiency rows and efficiency.json hold the given wall / CPU seconds
    (None: an older run that recorded no CPU time)."""
    from tests.unit.test_report import make_run

    rows = [{"track": "efficiency", "protocol": "cpu", "metric": "train_seconds", "k": None,
             "value": train_s, "n": 1}]
    if train_cpu_s is not None:
        rows.append({"track": "efficiency", "protocol": "cpu", "metric": "train_cpu_seconds",
                     "k": None, "value": train_cpu_s, "n": 1})
    u = np.arange(50)
    folder = make_run(tmp_path / name, "m", 0, {"accuracy/full/ndcg@10": np.linspace(0, 1, 50)},
                      u, extra_rows=rows)
    eff = {"fit_seconds": fit_s, "inference_seconds": 1.0}
    if fit_cpu_s is not None:
        eff.update(fit_cpu_seconds=fit_cpu_s, job_seconds=fit_s + 1, job_cpu_seconds=fit_cpu_s)
    if gpu:
        eff["memory_fit"] = {"rss_peak_mb": 500.0, "cuda_max_allocated_mb": 800.0}
    (folder / "efficiency.json").write_text(json.dumps(eff))
    return tmp_path / name


def _check(capsys, a, b, *extra):
    from benchmark.cli import main

    code = main(["check", "--baseline", str(a), "--current", str(b), *extra])
    return code, capsys.readouterr().out


def _verdicts(out: str) -> dict[str, str]:
    got = {}
    for line in out.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) > 4 and cells[2] == "m":
            got[cells[3]] = cells[0]
    return got


def test_check_gates_cpu_time_when_both_runs_have_it(tmp_path, capsys):
    base = _runs(tmp_path, "base", 10.0, 9.0, 10.0, 9.0)
    # a loaded machine: wall time doubles, CPU time equal -> no cost regression
    loaded = _runs(tmp_path, "loaded", 20.0, 9.1, 20.0, 9.1)
    code, out = _check(capsys, base, loaded)
    assert code == 0, out
    v = _verdicts(out)
    assert v["efficiency/cpu/train_seconds"] == "info (wall)"
    assert v["efficiency.json/fit_seconds"] == "info (wall)"
    assert v["efficiency.json/inference_seconds"] == "info (wall)"  # in job_cpu_seconds
    assert v["efficiency/cpu/train_cpu_seconds"] == "ok"
    assert "info (wall) = wall time, not gated" in out
    # the code got slower: CPU time doubles (wall time the same) -> regression
    slower = _runs(tmp_path, "slower", 10.0, 18.0, 10.0, 18.0)
    code, out = _check(capsys, base, slower)
    assert code == 1, out
    v = _verdicts(out)
    assert v["efficiency/cpu/train_cpu_seconds"] == "REGRESSION"
    assert v["efficiency.json/fit_cpu_seconds"] == "REGRESSION"
    assert v["efficiency/cpu/train_seconds"] == "info (wall)"
    # checking only a wall time still gates its CPU time
    code, out = _check(capsys, base, slower, "--metrics", "train_seconds")
    assert code == 1, out
    assert set(_verdicts(out)) == {"efficiency/cpu/train_seconds",
                                   "efficiency/cpu/train_cpu_seconds"}


def test_check_gates_wall_time_when_a_run_has_no_cpu_time(tmp_path, capsys):
    old = _runs(tmp_path, "old", 10.0, None, 10.0, None)  # recorded before CPU time was
    loaded = _runs(tmp_path, "loaded", 20.0, 9.0, 20.0, 9.0)
    code, out = _check(capsys, old, loaded)
    assert code == 1, out
    v = _verdicts(out)
    assert v["efficiency/cpu/train_seconds"] == "REGRESSION"
    assert "efficiency/cpu/train_cpu_seconds" not in v  # one side only: not compared
    # a GPU fit: its CPU seconds are not its cost, efficiency.json's wall time stays gated
    gpu_base = _runs(tmp_path, "gpu_base", 10.0, None, 10.0, 9.0, gpu=True)
    gpu_slow = _runs(tmp_path, "gpu_slow", 10.0, None, 20.0, 9.0, gpu=True)
    code, out = _check(capsys, gpu_base, gpu_slow)
    assert code == 1 and _verdicts(out)["efficiency.json/fit_seconds"] == "REGRESSION", out


def test_cpu_twins():
    from benchmark.report.check import cpu_twin

    assert cpu_twin("efficiency/cpu/train_seconds") == "efficiency/cpu/train_cpu_seconds"
    assert cpu_twin("efficiency/cpu/latency_ms_p99") == "efficiency/cpu/latency_cpu_ms_p99"
    assert cpu_twin("efficiency/cuda/latency_ms_p99") is None  # GPU time is not CPU time
    assert cpu_twin("efficiency.json/fit_seconds") == "efficiency.json/fit_cpu_seconds"
    assert cpu_twin("efficiency/cpu/train_cpu_seconds") is None
    assert cpu_twin("efficiency/cpu/peak_memory_mb") is None
    assert cpu_twin("efficiency.json/peak_rss_mb_fit") is None
