"""The environment a run happened in: enough to tell two machines or two commits apart.

Also the CPU facts beside every efficiency number: the thread setting and torch's thread count
(``apply_threads``, ``thread_info``), process CPU seconds (``cpu_seconds``) and the machine's load
average (``load_average``). Wall time on a shared machine depends on what else runs; CPU seconds
at a known thread count much less so.
"""

from __future__ import annotations

import importlib.util
import os
import platform
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any

#: variables the BLAS / OpenMP runtimes read when they load; set by ``apply_threads``
THREAD_ENV = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")
#: the suite's ``threads`` inside a job (LLM models' thread choice honours it; 0 / unset = none)
THREADS_VAR = "RECBENCH_THREADS"

PACKAGES = ("numpy", "scipy", "pandas", "torch", "recbole", "scikit-learn", "explainrec-bench")


def git_commit(cwd: Path | None = None) -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=cwd or Path(__file__).parent,
                             capture_output=True, text=True, timeout=5)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=cwd or Path(__file__).parent, capture_output=True, text=True,
                               timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0:
        return None
    return out.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")


def package_versions() -> dict[str, str | None]:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def hardware() -> dict:
    info = {"platform": platform.platform(), "machine": platform.machine(),
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


def collect_env() -> dict:
    return {"git_commit": git_commit(), "packages": package_versions(), "hardware": hardware()}


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
