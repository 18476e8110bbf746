"""The efficiency track: training time, per-request latency, batched throughput, memory, size.

Rows, protocol "cuda" when the model's fit used the GPU, else "cpu":

- train_seconds: wall time of the main fit (``ctx.fitted_model``; the fit happens here if no track
  asked for the model before). The paper's "Training Time (hours)" is train_seconds / 3600.
- latency_ms_p50/p95/p99: one ``rank(k)`` request per call, one user each (seen items excluded),
  after ``warmup`` untimed requests; users drawn with the seed. Paper: "Inference (ms)".
- throughput_users_per_s: ``rank`` over ``throughput_users`` users in batches of ``batch_size``.
- peak_memory_mb: on CUDA the larger of ``torch.cuda.max_memory_allocated`` over the fit and
  over inference (reserved memory is kept in info); on CPU the peak resident set size (RSS) of
  the process over the fit and the timed inference. MiB; the paper's "Memory (GB)" is /1024.
- params / params_trainable: every parameter of the torch modules the model holds, and those
  requiring gradients; for models without torch modules both are ``num_parameters()``.
- CPU time beside the wall times (wall time on a shared machine depends on its load; CPU time
  at a known thread count much less): train_cpu_seconds (process user + system seconds over the
  main fit, every thread), inference_seconds / inference_cpu_seconds (wall / CPU of the timed
  requests plus the throughput pass), latency_cpu_ms_p50/p95/p99 (CPU ms per one-user request).
  ``recbench check`` gates the CPU numbers instead of the wall ones when both runs have them.

``info["efficiency"]`` says which memory was measured, the hardware, torch's thread count (fit
and inference; the suite's ``threads`` setting) and the load average (fit and inference, at the
start and end of each).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import Field

from benchmark.config.base import Strict
from benchmark.data.user_items import per_user_items
from benchmark.llm.cache import cache_stats, uncached
from benchmark.measure import THREADS_VAR, PeakMemory, hardware, thread_info
from benchmark.models.base import Recommender
from benchmark.track_meta import Headline, MetricMeta, TrackMeta
from benchmark.tracks.base import MetricRow, TrackContext, TrackResult
from benchmark.tracks.cold_start import FIT_CAPTION

UNITS = ("train_seconds: s (paper hours = s / 3600); latency: ms per one-user rank() request; "
         "throughput: users per second; peak_memory_mb: MiB (paper GB = MiB / 1024); "
         "*_cpu_*: process CPU time (user + system, all threads) in s or ms")


class EfficiencySettings(Strict):
    k: int = Field(10, gt=0)
    warmup: int = Field(10, ge=0)
    requests: int = Field(100, gt=0)
    throughput_users: int = Field(1000, gt=0)
    batch_size: int = Field(256, gt=0)


def parameter_counts(model: Recommender) -> tuple[int, int, str]:
    """(total, trainable, how counted): torch modules the model holds, else num_parameters()."""
    torch = sys.modules.get("torch")
    modules = []
    if torch is not None:
        for value in vars(model).values():
            if isinstance(value, torch.nn.Module):
                modules.append(value)
    if modules:
        seen: set[int] = set()
        total = trainable = 0
        for module in modules:
            for p in module.parameters():
                if id(p) in seen:
                    continue
                seen.add(id(p))
                total += p.numel()
                trainable += p.numel() if p.requires_grad else 0
        return total, trainable, "torch modules held by the model"
    n = int(model.num_parameters())
    return n, n, "model.num_parameters()"


def percentiles_ms(seconds: list[float], prefix: str = "latency_ms") -> dict[str, float]:
    """p50/p95/p99 of ``seconds`` in ms, named ``<prefix>_p50`` etc."""
    ms = np.asarray(seconds, dtype=np.float64) * 1000.0
    p50, p95, p99 = np.percentile(ms, [50, 95, 99])
    return {f"{prefix}_p50": float(p50), f"{prefix}_p95": float(p95),
            f"{prefix}_p99": float(p99)}


class EfficiencyTrack:
    name = "efficiency"
    Settings = EfficiencySettings
    meta = TrackMeta(
        metrics=(
            MetricMeta("train_seconds", "lower", "s", "time", cpu_twin="train_cpu_seconds"),
            MetricMeta("inference_seconds", "lower", "s", "time",
                       cpu_twin="inference_cpu_seconds"),
            MetricMeta("latency_ms_p*", "lower", "ms", "time", cpu_twin="latency_cpu_ms_p*"),
            MetricMeta("*_cpu_seconds", "lower", "s", "time"),
            MetricMeta("latency_cpu_ms_p*", "lower", "ms", "time"),
            # higher is better, yet a cost: never a quality test, and only lower-is-better
            # costs are gated by growth
            MetricMeta("throughput_users_per_s", "higher", "users/s", "time"),
            MetricMeta("peak_memory_mb", "lower", "MiB", "memory"),
            MetricMeta("params*", "neutral", "count")),
        headline=(Headline("*", "latency_ms_p50"),),
        caption=FIT_CAPTION)

    def __init__(self, settings: EfficiencySettings, work_dir: Path | None, progress=None) -> None:
        self.s = settings
        self.progress = progress

    def run(self, ctx: TrackContext) -> TrackResult:
        model = ctx.fitted_model()
        result = TrackResult()
        split = ctx.split
        users = np.unique(split.test.frame["user"].to_numpy())
        rng = np.random.default_rng(ctx.seed)
        history = split.train.concat(split.valid)
        n_req = self.s.warmup + self.s.requests
        req_users = rng.choice(users, size=n_req, replace=len(users) < n_req)
        seen = per_user_items(history.frame, np.unique(req_users))
        seen_of = dict(zip(np.unique(req_users).tolist(), seen))
        latencies: list[float] = []
        cpu_latencies: list[float] = []  # process CPU seconds per request (all threads)
        before = cache_stats()
        with PeakMemory() as mem, uncached():  # computed answers only: a cache read is no latency
            for i, u in enumerate(req_users):
                c0, t0 = time.process_time(), time.perf_counter()
                model.rank(np.array([u]), self.s.k, exclude=[seen_of[int(u)]])
                if i >= self.s.warmup:
                    latencies.append(time.perf_counter() - t0)
                    cpu_latencies.append(time.process_time() - c0)
            tp_users = users if len(users) <= self.s.throughput_users else np.sort(
                rng.choice(users, self.s.throughput_users, replace=False))
            tp_seen = per_user_items(history.frame, tp_users)
            c0, t0 = time.process_time(), time.perf_counter()
            for start in range(0, len(tp_users), self.s.batch_size):
                block = tp_users[start:start + self.s.batch_size]
                model.rank(block, self.s.k, exclude=tp_seen[start:start + self.s.batch_size])
            tp_seconds = time.perf_counter() - t0
            tp_cpu_seconds = time.process_time() - c0
        result.inference_seconds = sum(latencies) + tp_seconds
        result.inference_calls = len(latencies) + -(-len(tp_users) // self.s.batch_size)

        fit_mem = ctx.fit_memory or {"rss_peak_mb": ctx.fit_peak_mb}
        eval_mem = mem.summary()
        on_cuda = "cuda_max_allocated_mb" in fit_mem and fit_mem["cuda_max_allocated_mb"] > 0
        if on_cuda:
            peak = max(fit_mem["cuda_max_allocated_mb"],
                       eval_mem.get("cuda_max_allocated_mb", 0.0))
            measured = "CUDA torch.cuda.max_memory_allocated (fit and inference)"
        else:
            peak = max(v for v in (fit_mem.get("rss_peak_mb"), eval_mem["rss_peak_mb"])
                       if v is not None)
            measured = "process peak RSS, sampled every 20 ms (fit and inference)"
        protocol = "cuda" if on_cuda else "cpu"
        total, trainable, counted = parameter_counts(model)
        fit_cpu = fit_mem.get("cpu_seconds")
        values: dict[str, tuple[float, int]] = {
            "train_seconds": (float(ctx.fit_seconds or 0.0), 1),
            # the main fit's CPU seconds, when the job's probe measured them
            **({"train_cpu_seconds": (float(fit_cpu), 1)} if fit_cpu is not None else {}),
            # n: users ranked by the timed requests and the throughput pass
            "inference_seconds": (sum(latencies) + tp_seconds, len(latencies) + len(tp_users)),
            "inference_cpu_seconds": (sum(cpu_latencies) + tp_cpu_seconds,
                                      len(latencies) + len(tp_users)),
            **{k: (v, len(latencies)) for k, v in percentiles_ms(latencies).items()},
            **{k: (v, len(cpu_latencies))
               for k, v in percentiles_ms(cpu_latencies, "latency_cpu_ms").items()},
            "throughput_users_per_s": (len(tp_users) / tp_seconds if tp_seconds > 0 else
                                       float("inf"), len(tp_users)),
            "peak_memory_mb": (float(peak), 1),
            "params": (float(total), 1),
            "params_trainable": (float(trainable), 1),
        }
        for metric, (value, n) in values.items():
            result.rows.append(MetricRow("efficiency", protocol, metric, None, value, n))
        result.info["efficiency"] = {
            "memory_measured": measured, "memory_fit": fit_mem, "memory_inference": eval_mem,
            "params_counted": counted, "units": UNITS, "k": self.s.k,
            "requests": self.s.requests, "warmup": self.s.warmup,
            "throughput_batch": self.s.batch_size, "hardware": hardware(),
            "load_average": _load_average(),
            # CPU context of every number above: threads and load during the fit and inference
            "threads": {**thread_info(int(os.environ.get(THREADS_VAR) or 0)),
                        "torch_fit": fit_mem.get("torch_threads"),
                        "torch_inference": eval_mem.get("torch_threads")},
            "load_average_fit": fit_mem.get("load_average"),
            "load_average_inference": eval_mem.get("load_average"),
            "cpu_seconds": {"fit": fit_cpu, "inference": sum(cpu_latencies) + tp_cpu_seconds,
                            "fit_children": fit_mem.get("children_cpu_seconds"),
                            "cpu_per_wall_fit": _ratio(fit_cpu, ctx.fit_seconds),
                            "cpu_per_wall_inference": _ratio(
                                sum(cpu_latencies) + tp_cpu_seconds,
                                sum(latencies) + tp_seconds)},
            "cpu_seconds_note": "process user + system CPU time over all threads (the memory "
                                "sampler thread's small share included); on a loaded machine "
                                "wall time grows while CPU time at the same thread count "
                                "barely moves",
            "response_cache": "bypassed while timing (every answer computed); lookups "
                              f"{cache_stats()['misses'] - before['misses']} missed on purpose",
            "train_seconds_note": "main fit only; extra fits of other tracks are in "
                                  "efficiency.json extra_fit_seconds",
        }
        return result


def _ratio(cpu: float | None, wall: float | None) -> float | None:
    """CPU seconds per wall second (about the threads kept busy), None when unknown."""
    return round(cpu / wall, 3) if cpu is not None and wall else None


def _load_average() -> Any:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:  # not on every platform
        return None
