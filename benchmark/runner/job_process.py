"""The child side of process isolation: ``python -m benchmark.runner.job_process SPEC PPID``.

Runs exactly one job with the same ``run_job`` as the in-process executor, on the split the
parent pickled, so results are identical. stdout and stderr are the job's log file. The outcome
goes to a small JSON file named in the spec; a child that ends without writing it is treated by
the parent as crashed (see ``isolation.py``). A model that raises is recorded by ``run_job``
itself (error.json with the traceback), as in-process.
"""

from __future__ import annotations

import faulthandler
import json
import logging
import os
import pickle
import signal
import sys
from pathlib import Path


def _die_with_parent(parent_pid: int) -> None:
    """Linux: get SIGKILL when the parent dies (killed, or its terminal closed), so no job runs
    on unsupervised; the child is in its own session and would not see the parent's signals."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        os._exit(1)


def main(spec_path: str, parent_pid: int) -> int:
    _die_with_parent(parent_pid)
    # a segfault or the parent's SIGTERM (time limit) dumps every thread's stack into the log,
    # so error.json's log tail shows where the job was
    faulthandler.enable(all_threads=True)
    faulthandler.register(signal.SIGTERM, all_threads=True, chain=True)
    spec = pickle.loads(Path(spec_path).read_bytes())
    if not spec["progress"]:  # every bar in this job, library bars included
        from benchmark.progress import disable_all

        disable_all()
    level = spec["log_level"]
    logging.basicConfig(level=level if level <= logging.DEBUG else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("recbench").setLevel(level)

    from benchmark import registry

    registry.MODELS.clear()
    registry.MODELS.update(spec["models"])
    registry.TRACKS.clear()
    registry.TRACKS.update(spec["tracks"])
    from benchmark.runner.job import run_job

    job = spec["job"]
    split = pickle.loads(Path(spec["split_file"]).read_bytes())
    outcome = run_job(spec["suite"], job.key, job.entry, job.dataset_entry, split, job.split_dir,
                      Path(spec["out_dir"]), spec["env"], spec["progress"], data=job.data)
    out = Path(spec["outcome_file"])
    tmp = out.with_name(f"{out.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps({"status": outcome.status, "error": outcome.error}))
    os.replace(tmp, out)  # atomic: the parent never reads half a report
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], int(sys.argv[2])))
