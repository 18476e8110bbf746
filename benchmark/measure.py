"""Measurement utilities shared by the runner and the tracks: peak memory of a block
(``PeakMemory``), process CPU seconds, load average, thread settings and counts, and the
machine's hardware facts.

Peak memory during a block: process RSS (sampled in a thread) and, on CUDA, the GPU peaks.
ru_maxrss only ever grows over a process's life, so it cannot give the peak of one run among
many; sampling RSS every few milliseconds can (it may miss spikes shorter than the interval).
When torch is already imported and CUDA is available, the block also records
``torch.cuda.max_memory_allocated`` / ``max_memory_reserved`` (peak statistics reset on entry);
torch is never imported here, so CPU-only runs stay light.

The same block's CPU cost is recorded beside its memory: wall seconds, process CPU seconds (user
+ system over all threads; child processes waited for inside the block separately), torch's
thread count at entry and exit (None when torch is not loaded) and the load average at both ends,
so the fit's numbers (``ctx.fit_memory``) and the job's carry them.

CPU facts beside every efficiency number: the thread setting and torch's thread count
(``apply_threads``, ``thread_info``), process CPU seconds (``cpu_seconds``) and the machine's load
average (``load_average``). Wall time on a shared machine depends on what else runs; CPU seconds
at a known thread count much less so.

A low module: it imports nothing of the harness, so the runner, tracks and language-model code
can all use it.
"""

from __future__ import annotations

import importlib.util
import os
import platform
import sys
import threading
import time
from typing import Any

#: variables the BLAS / OpenMP runtimes read when they load; set by ``apply_threads``
THREAD_ENV = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")
#: the suite's ``threads`` inside a job (LLM models' thread choice honours it; 0 / unset = none)
THREADS_VAR = "RECBENCH_THREADS"


def hardware() -> dict:
    info: dict[str, Any] = {"platform": platform.platform(), "machine": platform.machine(),
            "cpu_count": os.cpu_count(), "python": sys.version.split()[0]}
    try:
        import psutil

        info["memory_gb"] = round(psutil.virtual_memory().total / 2**30, 1)
    except ImportError:
        pass
    if "torch" in sys.modules:  # only report the GPU when torch is already loaded
        torch = sys.modules["torch"]
        info["cuda"] = bool(torch.cuda.is_available())
        if info["cuda"]:
            info["gpu"] = torch.cuda.get_device_name(0)
    return info


def load_average() -> list[float] | None:
    """The 1, 5 and 15 minute load averages (None where the platform has none)."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except (OSError, AttributeError):
        return None


def cpu_seconds() -> tuple[float, float]:
    """(this process's user + system CPU seconds, all threads, from ``time.process_time``; the
    same for its finished and waited-for child processes, from ``os.times``)."""
    t = os.times()
    return time.process_time(), t.children_user + t.children_system


def torch_threads_now() -> int | None:
    """torch's intra-op thread count in this thread, or None when torch is not loaded (it is
    never imported here)."""
    torch = sys.modules.get("torch")
    return int(torch.get_num_threads()) if torch is not None else None


def thread_env(n: int) -> dict[str, str]:
    """The environment variables that give a process's libraries ``n`` threads (empty for 0)."""
    return {k: str(n) for k in (*THREAD_ENV, THREADS_VAR)} if n > 0 else {}


def apply_threads(n: int) -> dict[str, Any]:
    """Give this process ``n`` CPU threads (0: change nothing), before a model is built.

    Sets ``THREAD_ENV`` and ``RECBENCH_THREADS`` (read by OpenMP / MKL / OpenBLAS when they load
    later), ``torch.set_num_threads(n)`` (torch is imported for it when installed: its own
    default from OMP_NUM_THREADS is capped at the CPU count, and models import it lazily), and
    the pools of BLAS libraries already loaded (numpy's) through threadpoolctl when it is
    installed. Returns ``thread_info(n)``."""
    if n > 0:
        os.environ.update(thread_env(n))
        torch = sys.modules.get("torch")
        if torch is None and importlib.util.find_spec("torch") is not None:
            import torch
        if torch is not None:
            torch.set_num_threads(n)
        try:
            from threadpoolctl import threadpool_limits
        except ImportError:
            pass
        else:
            threadpool_limits(n)
    return thread_info(n)


def thread_info(setting: int) -> dict[str, Any]:
    """What a result records about threads: the suite's setting (0 = libraries' defaults),
    torch's count now (None when the job never loaded torch), the thread variables and the
    machine's CPU count."""
    return {"setting": setting, "torch": torch_threads_now(),
            "env": {k: os.environ.get(k) for k in THREAD_ENV},
            "cpu_count": os.cpu_count()}


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
