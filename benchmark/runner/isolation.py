"""The parent side of process isolation: one child process per job of the local executor.

A model that ends its process (``os._exit``, a segfault in native code, the kernel's
out-of-memory killer) or never returns must cost only its own job. So each job runs in a fresh
``python -m benchmark.runner.job_process`` started with ``subprocess`` (not ``fork``: torch and
fork do not mix; not ``multiprocessing``: its spawn re-imports the parent's ``__main__`` and
cannot catch the child's native-level output). The child gets its own session (so a time limit
kills the whole process group, data-loader workers included), writes stdout and stderr to
``job.log`` in the run folder (kept), and reports its outcome in a small JSON file. When the
child ends without reporting, the parent writes error.json itself: exit code or signal, time
limit, the child's peak memory (sampled high-water mark) and the last lines of its log.
"""

from __future__ import annotations

import json
import logging
import os
import pickle
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmark.registry import MODELS, TRACKS
from benchmark.runner import store
from benchmark.runner.job import JobOutcome

log = logging.getLogger("recbench")

LOG_NAME = "job.log"
#: lines of job.log copied into error.json
TAIL_LINES = 40
#: seconds between SIGTERM (timeout) and SIGKILL of the job's process group
KILL_GRACE_S = 5.0
#: ``type`` of an error.json written by the parent (the child's own keep the exception's name)
CRASHED, TIMED_OUT = "JobProcessDied", "JobTimeout"


def log_tail(path: Path, n: int = TAIL_LINES, width: int = 400) -> list[str]:
    """The last ``n`` non-empty lines of a log; progress-bar redraws (\\r) count as lines."""
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            fh.seek(max(0, fh.tell() - 256 * 1024))
            text = fh.read().decode("utf-8", "replace")
    except OSError:
        return []
    lines = [ln.rstrip() for ln in text.replace("\r", "\n").split("\n") if ln.strip()]
    return [ln if len(ln) <= width else ln[:width] + " ..." for ln in lines[-n:]]


def _child_env() -> dict[str, str]:
    """The parent's environment, plus the repository on the path and unbuffered output (a
    process that dies by ``os._exit`` or a signal never flushes its buffers)."""
    env = dict(os.environ)
    repo = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (repo, env.get("PYTHONPATH", "")) if p)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _signal_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _exited(pid: int) -> bool:
    """Whether the child has ended, without reaping it (its pgid stays reserved till then)."""
    return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None


def _high_water_mb(pid: int) -> float:
    """The child's peak RSS so far: the kernel's high-water mark (VmHWM), else its current RSS.

    Not ``wait4``'s ``ru_maxrss``: on Linux that includes the parent's RSS at fork time.
    """
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except (OSError, ValueError):
        pass
    try:  # no /proc (macOS): sampled RSS
        import psutil

        return psutil.Process(pid).memory_info().rss / 2**20
    except Exception:
        return 0.0


def _wait(proc: subprocess.Popen, timeout_s: float | None) -> tuple[int, float, bool]:
    """Wait for the child; kill its group at the limit. Returns (exit code, peak MB, timed out).

    The exit code is negative for a signal, as in ``Popen.returncode``. The peak is sampled at
    every poll (at most 0.1 s apart), so only growth in the child's last moments is missed.
    """
    start, delay, timed_out, killed_at, peak = time.monotonic(), 0.005, False, None, 0.0
    try:
        while not _exited(proc.pid):
            peak = max(peak, _high_water_mb(proc.pid))
            now = time.monotonic()
            if timeout_s is not None and not timed_out and now - start > timeout_s:
                timed_out, killed_at = True, now
                _signal_group(proc.pid, signal.SIGTERM)  # the child dumps its stack, then dies
            elif killed_at is not None and now - killed_at > KILL_GRACE_S:
                _signal_group(proc.pid, signal.SIGKILL)
                killed_at = None
            time.sleep(delay)
            delay = min(delay * 2, 0.1)
    except BaseException:  # Ctrl-C in the parent: the job must not outlive it
        _signal_group(proc.pid, signal.SIGKILL)
        proc.wait()
        raise
    _signal_group(proc.pid, signal.SIGKILL)  # processes the job left behind
    proc.returncode = os.waitstatus_to_exitcode(os.waitpid(proc.pid, 0)[1])
    return proc.returncode, peak, timed_out


def _describe_exit(code: int) -> tuple[int | None, str | None, str]:
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        hint = (" (SIGKILL is what the kernel's out-of-memory killer sends: see `dmesg`)"
                if -code == signal.SIGKILL else "")
        return None, name, f"was killed by {name}{hint}"
    hint = " (did the model call sys.exit?)" if code == 0 else ""
    return code, None, f"exited with code {code} before recording a result{hint}"


def crash_error(code: int, peak_mb: float, timed_out: bool, timeout_s: float | None,
                elapsed_s: float, log_path: Path) -> dict[str, Any]:
    """error.json of a job whose process ended without reporting (the usual keys plus details)."""
    exit_code, sig, what = _describe_exit(code)
    if timed_out:
        message = (f"job exceeded its time limit of {timeout_s:g} s and was stopped "
                   f"({sig or f'exit code {exit_code}'}); raise job_timeout_s in the suite or "
                   "pass --job-timeout")
    else:
        message = f"job process {what}"
    return {"type": TIMED_OUT if timed_out else CRASHED, "message": message,
            "exit_code": exit_code, "signal": sig, "timed_out": timed_out,
            "timeout_s": timeout_s, "elapsed_s": round(elapsed_s, 3),
            "peak_rss_mb": round(peak_mb, 1), "log": str(log_path),
            "log_tail": log_tail(log_path)}


def run_isolated(suite: Any, job: Any, split_file: Path, workdir: Path, out_dir: Path, env: dict,
                 progress: bool, timeout_s: float | None) -> Any:
    """Run one job in a child process; always returns its JobOutcome, never raises for a crash.

    ``split_file`` holds the pickled split (built once by the parent, read by every child, so
    each job sees the very same object); ``workdir`` is a private folder for the hand-over files.
    """
    key = job.key
    folder = key.folder(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    tag = f"{key.dataset}/{key.model} seed {key.seed}"
    n = len(list(workdir.glob("job-*.pkl")))
    spec_file, outcome_file = workdir / f"job-{n}.pkl", workdir / f"outcome-{n}.json"
    spec = {"suite": suite, "job": job, "split_file": str(split_file), "out_dir": str(out_dir),
            "env": env, "progress": progress, "outcome_file": str(outcome_file),
            "log_level": logging.getLogger("recbench").getEffectiveLevel(),
            # the child resolves names as this process does (tests register extra models)
            "models": dict(MODELS), "tracks": dict(TRACKS)}
    spec_file.write_bytes(pickle.dumps(spec, protocol=pickle.HIGHEST_PROTOCOL))
    log_path = folder / LOG_NAME
    log.info("run %s (log: %s)", tag, log_path)
    start = time.monotonic()
    with open(log_path, "wb") as log_fh:
        proc = subprocess.Popen(
            [sys.executable, "-m", "benchmark.runner.job_process", str(spec_file),
             str(os.getpid())], stdin=subprocess.DEVNULL, stdout=log_fh,
            stderr=subprocess.STDOUT, env=_child_env(), start_new_session=True)
        code, peak_mb, timed_out = _wait(proc, timeout_s)
    elapsed = time.monotonic() - start
    reported = json.loads(outcome_file.read_text()) if outcome_file.is_file() else None
    if reported is not None:  # results are on disk, whatever happened after
        if code != 0:  # e.g. a native library crashing at interpreter exit
            log.warning("%s: job process %s after reporting %s; its results are kept", tag,
                        _describe_exit(code)[2], reported["status"])
        outcome = JobOutcome(key, folder, reported["status"], reported.get("error", ""))
        if outcome.status == "failed":
            log.error("failed %s after %.1f s: %s", tag, elapsed, outcome.error)
        else:
            log.info("%s %s in %.1f s (peak RSS %.0f MB)", outcome.status, tag, elapsed, peak_mb)
        return outcome
    error = crash_error(code, peak_mb, timed_out, timeout_s, elapsed, log_path)
    store.write_error(folder, config={
        "schema_version": store.SCHEMA_VERSION, "suite": suite.name,
        "model": {"name": job.entry.name, "label": key.model, "params": job.entry.params},
        "dataset": job.dataset_entry.model_dump(), "seed": key.seed,
        "split": {"folder": str(job.split_dir)}, "executor": "local"}, error=error)
    log.error("failed %s after %.1f s: %s (peak RSS %.0f MB; last lines in %s)", tag, elapsed,
              error["message"], peak_mb, log_path)
    return JobOutcome(key, folder, "failed", error["message"])
