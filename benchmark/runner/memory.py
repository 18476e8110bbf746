"""Peak memory during a block: process RSS (sampled in a thread) and, on CUDA, the GPU peaks.

ru_maxrss only ever grows over a process's life, so it cannot give the peak of one run among
many; sampling RSS every few milliseconds can (it may miss spikes shorter than the interval).
When torch is already imported and CUDA is available, the block also records
``torch.cuda.max_memory_allocated`` / ``max_memory_reserved`` (peak statistics reset on entry);
torch is never imported here, so CPU-only runs stay light.

The same block's CPU cost is recorded beside its memory: wall seconds, process CPU seconds (user
+ system over all threads; child processes waited for inside the block separately), torch's
thread count at entry and exit (None when torch is not loaded) and the load average at both ends,
so the fit's numbers (``ctx.fit_memory``) and the job's carry them.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import Any

from benchmark.runner.env import cpu_seconds, load_average, torch_threads_now


def _cuda():
    """torch.cuda when torch is loaded and a GPU is usable, else None."""
    torch = sys.modules.get("torch")
    if torch is None:
        return None
    try:
        return torch.cuda if torch.cuda.is_available() else None
    except Exception:  # a broken CUDA setup must not break a CPU measurement
        return None


class PeakMemory:
    def __init__(self, interval: float = 0.02) -> None:
        self.interval = interval
        self.peak_bytes = 0
        self.cuda_allocated_bytes: int | None = None
        self.cuda_reserved_bytes: int | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.wall_seconds: float | None = None
        self.cpu_seconds: float | None = None
        self.children_cpu_seconds: float | None = None
        self.torch_threads: tuple[int | None, int | None] = (None, None)
        self.load_average: tuple[list[float] | None, list[float] | None] = (None, None)
        self._t0 = 0.0
        self._cpu0 = (0.0, 0.0)

    def __enter__(self) -> PeakMemory:
        import psutil

        proc = psutil.Process()
        self.peak_bytes = proc.memory_info().rss
        cuda = _cuda()
        if cuda is not None:
            cuda.synchronize()
            cuda.reset_peak_memory_stats()

        def sample() -> None:
            while not self._stop.wait(self.interval):
                self.peak_bytes = max(self.peak_bytes, proc.memory_info().rss)

        self._thread = threading.Thread(target=sample, daemon=True)
        self._thread.start()
        self.torch_threads = (torch_threads_now(), None)
        self.load_average = (load_average(), None)
        self._cpu0 = cpu_seconds()
        self._t0 = time.perf_counter()
        return self

    def __exit__(self, *exc) -> None:
        self.wall_seconds = time.perf_counter() - self._t0
        own, children = cpu_seconds()
        self.cpu_seconds = own - self._cpu0[0]
        self.children_cpu_seconds = children - self._cpu0[1]
        self.torch_threads = (self.torch_threads[0], torch_threads_now())
        self.load_average = (self.load_average[0], load_average())
        self._stop.set()
        if self._thread:
            self._thread.join()
        import psutil

        self.peak_bytes = max(self.peak_bytes, psutil.Process().memory_info().rss)
        cuda = _cuda()  # torch may have been imported inside the block
        if cuda is not None:
            cuda.synchronize()
            self.cuda_allocated_bytes = int(cuda.max_memory_allocated())
            self.cuda_reserved_bytes = int(cuda.max_memory_reserved())

    @property
    def peak_mb(self) -> float:
        return self.peak_bytes / 2**20

    def summary(self) -> dict[str, Any]:
        """Every peak measured, in MiB (CUDA entries only when a GPU was in use), and the block's
        wall and CPU seconds, torch threads [entry, exit] and load average [entry, exit]."""
        out: dict[str, Any] = {"rss_peak_mb": self.peak_mb, "wall_seconds": self.wall_seconds,
                               "cpu_seconds": self.cpu_seconds,
                               "children_cpu_seconds": self.children_cpu_seconds,
                               "torch_threads": list(self.torch_threads),
                               "load_average": list(self.load_average)}
        if self.cuda_allocated_bytes is not None:
            out["cuda_max_allocated_mb"] = self.cuda_allocated_bytes / 2**20
            out["cuda_max_reserved_mb"] = (self.cuda_reserved_bytes or 0) / 2**20
        return out
