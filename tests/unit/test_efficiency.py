"""The efficiency track on models whose costs are known: latency, parameters, memory."""

from __future__ import annotations

import dataclasses
import time

import numpy as np
import pytest

from benchmark.measure import PeakMemory
from benchmark.models.base import Recommender
from benchmark.tracks.base import TrackContext
from benchmark.tracks.efficiency import (
    EfficiencySettings,
    EfficiencyTrack,
    parameter_counts,
    percentiles_ms,
)


@dataclasses.dataclass
class SlowConfig:
    delay_ms: float = 3.0


class SlowRanker(Recommender):
    """Every score_all call sleeps ``delay_ms``: latency per one-user request is at least that."""

    Config = SlowConfig

    def fit(self, train, valid, *, seed):
        self._remember(train, valid)
        time.sleep(0.05)

    def score_all(self, users):
        time.sleep(self.config.delay_ms / 1000)
        return np.tile(np.arange(self.n_items, dtype=float), (len(users), 1))

    def num_parameters(self) -> int:
        return 42


def _ctx(split, model_cls, params=None):
    return TrackContext(split=split, split_dir=None, dataset="synthetic", seed=0,
                        max_eval_users=None, build_model=lambda purpose="model": model_cls(params),
                        memory_probe=PeakMemory)


def test_latency_training_time_and_rows(split_synthetic):
    track = EfficiencyTrack(EfficiencySettings(requests=20, warmup=2, throughput_users=60,
                                               batch_size=16), None, progress=False)
    result = track.run(_ctx(split_synthetic, SlowRanker, {"delay_ms": 3.0}))
    rows = {r.metric: r for r in result.rows}
    assert {r.protocol for r in result.rows} == {"cpu"}
    assert rows["train_seconds"].value >= 0.05
    assert 3.0 <= rows["latency_ms_p50"].value <= rows["latency_ms_p95"].value \
        <= rows["latency_ms_p99"].value
    assert rows["latency_ms_p50"].n == 20
    # 60 users in 4 batches of 16: at least 4 sleeps of 3 ms, so at most 60 / 0.012 users/s
    assert rows["throughput_users_per_s"].value <= 60 / 0.012
    assert rows["params"].value == 42 and rows["params_trainable"].value == 42
    assert rows["peak_memory_mb"].value > 10  # a Python process holds more than 10 MiB
    info = result.info["efficiency"]
    assert "RSS" in info["memory_measured"] and "GB = MiB / 1024" in info["units"]
    assert info["hardware"]["cpu_count"] >= 1


def test_parameter_counts_of_torch_modules(split_synthetic):
    torch = pytest.importorskip("torch")

    class Holder(SlowRanker):
        def fit(self, train, valid, *, seed):
            self.net = torch.nn.Linear(4, 3)  # 12 weights + 3 biases
            self.frozen = torch.nn.Embedding(10, 2)  # 20, frozen
            self.frozen.weight.requires_grad_(False)
            self.alias = self.net  # shared module counted once

    m = Holder()
    m.fit(split_synthetic.train, split_synthetic.valid, seed=0)  # fit always remembers the data
    assert parameter_counts(m)[:2] == (35, 15)
    assert parameter_counts(SlowRanker())[:2] == (42, 42)


def test_percentiles_and_memory_probe():
    got = percentiles_ms([0.001 * i for i in range(1, 101)])  # 1..100 ms
    assert got["latency_ms_p50"] == pytest.approx(50.5)
    assert got["latency_ms_p99"] == pytest.approx(99.01)
    import psutil

    before = psutil.Process().memory_info().rss / 2**20
    import mmap

    with PeakMemory(interval=0.005) as mem:
        # 256 MiB of fresh anonymous pages, every page written: an allocator could hand back
        # pages this process already holds (RSS unchanged), a new mapping cannot
        block = mmap.mmap(-1, 256 * 2**20)
        view = np.frombuffer(block, dtype=np.uint8)
        view[::4096] = 1
        time.sleep(0.3)  # the sampler thread gets many turns even on a loaded machine
        del view
        block.close()
    after = psutil.Process().memory_info().rss / 2**20
    # the 256 MiB were freed before the block ended: only the sampled peak still shows them
    assert mem.summary()["rss_peak_mb"] - before >= 200
    assert mem.summary()["rss_peak_mb"] - after >= 200
