"""Choose torch's CPU thread count by measurement rather than by habit.

On a 2-core machine shared with other jobs one thread was measured faster than two, and on an
idle one two were faster: neither is a safe default. ``measured_threads`` times the same short
forward pass at each candidate count and returns the fastest, with the timings, so the choice is
recorded beside the results it produced. On a GPU the count does not matter and is left alone.
A suite's ``threads = N`` (``RECBENCH_THREADS`` in the job) replaces the probe for models whose
own ``num_threads`` is 0.
"""

from __future__ import annotations

import os
import time
from typing import Any

from benchmark.llm.loading import Backbone
from benchmark.measure import THREADS_VAR
from benchmark.threads import torch_threads

_CHOSEN: dict[tuple[str, int], dict[str, Any]] = {}


def _candidates() -> list[int]:
    import torch

    most = max(1, min(os.cpu_count() or 1, torch.get_num_threads() or 1, 8))
    return sorted({1, most})


def measured_threads(bb: Backbone, tokens: int = 96, batch: int = 2, repeats: int = 2
                     ) -> dict[str, Any]:
    """{"num_threads": fastest count, "probe_seconds": {count: best time}} for ``bb``.

    Measured once per (model path, machine) in a process; a GPU backbone reports the torch
    default without probing."""
    import torch

    if bb.device != "cpu":
        return {"num_threads": torch.get_num_threads(), "probe_seconds": {}, "device": bb.device}
    key = (bb.path, os.cpu_count() or 1)
    if key in _CHOSEN:
        return _CHOSEN[key]
    vocab = int(getattr(bb.model.config, "vocab_size", 100) or 100)
    ids = torch.randint(3, max(4, vocab - 1), (batch, tokens), generator=torch.Generator()
                        .manual_seed(0))
    times: dict[int, float] = {}
    with torch.inference_mode():
        for n in _candidates():
            with torch_threads(n):
                bb.model(input_ids=ids)  # warm-up at this count
                best = float("inf")
                for _ in range(repeats):
                    t0 = time.perf_counter()
                    bb.model(input_ids=ids)
                    best = min(best, time.perf_counter() - t0)
                times[n] = best
    fastest = min(times, key=lambda n: times[n])
    _CHOSEN[key] = {"num_threads": fastest, "probe_seconds": {str(k): v for k, v in times.items()},
                    "probe": f"forward of {batch}x{tokens} tokens, best of {repeats}"}
    return _CHOSEN[key]


def suite_threads() -> int:
    """The suite's ``threads`` setting inside a job (``RECBENCH_THREADS``, set by the runner),
    0 when the suite sets none."""
    value = os.environ.get(THREADS_VAR, "").strip()
    return int(value) if value.isdigit() else 0


def thread_choice(bb: Backbone, requested: int) -> dict[str, Any]:
    """The count a model should use: ``requested`` when > 0, else the suite's ``threads``
    setting when it has one, else the measured fastest."""
    if requested > 0:
        return {"num_threads": requested, "chosen_by": "config"}
    if suite_threads() > 0:
        return {"num_threads": suite_threads(), "chosen_by": "suite threads setting"}
    return {**measured_threads(bb), "chosen_by": "timed probe"}
