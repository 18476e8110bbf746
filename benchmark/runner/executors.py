"""Executors: who runs a suite's (dataset x seed x model) jobs. Same jobs, same run folders.

- ``local`` (default): one job after another, each in its own child process
  (``isolation.py``), so a job that crashes, is killed (out of memory) or passes the suite's
  ``job_timeout_s`` records error.json and the suite goes on. ``isolate=False``
  (``recbench run --in-process``) runs jobs in this process instead, for debuggers and
  profilers; there a crash ends the suite and no time limit applies.
- ``ray``: each job is a Ray task with the model's resource request (``resources`` in the
  suite's model entry: cpus, gpus). The driver builds every split once and ships it to the
  workers through Ray's object store; workers write run folders themselves, so ``--out`` must be
  on a filesystem every node sees (a shared mount on a cluster; the local disk on one machine).
  A task whose worker dies (killed, out of memory) is retried ``max_retries`` times by Ray; after
  that the job gets an error.json and the suite goes on. A model that raises is not retried: the
  job records the error itself, as with the local executor. Resume works across executors: a job
  whose folder is complete is skipped by either.
"""

from __future__ import annotations

import logging
import os
import pickle
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args

from benchmark.config.suite import DatasetEntry, ModelEntry, SuiteSpec
from benchmark.data.dataset import DatasetData
from benchmark.errors import BenchError, ConfigError
from benchmark.offline import OFFLINE_ENV
from benchmark.progress import SILENCING
from benchmark.runner import store
from benchmark.runner.isolation import LOG_NAME, run_isolated
from benchmark.runner.job import JobOutcome, run_job
from benchmark.runner.suite_progress import SuiteProgress

log = logging.getLogger("recbench")


@dataclass(frozen=True)
class Job:
    """One (dataset, seed, model) run and everything needed to execute it anywhere."""

    key: store.RunKey
    entry: ModelEntry
    dataset_entry: DatasetEntry
    split_dir: Path
    #: the dataset as the runner resolved it (None: the job resolves it by name)
    data: DatasetData | None = None


#: who runs the jobs (``recbench run --executor``)
ExecutorKind = Literal["local", "ray"]
EXECUTOR_KINDS: tuple[str, ...] = get_args(ExecutorKind)


@dataclass(frozen=True)
class ExecutorSettings:
    kind: ExecutorKind = "local"
    #: Ray cluster address ("auto", "ray://host:10001"); None starts a local instance
    address: str | None = None
    #: CPUs of a local Ray instance started by us (None = all of this machine's)
    num_cpus: int | None = None
    #: retries of a job whose worker died (Ray's max_retries)
    max_retries: int = 2
    #: local: each job in a child process (False: in this process, for debugging)
    isolate: bool = True

    def __post_init__(self) -> None:
        if self.kind not in EXECUTOR_KINDS:  # else the runner would run nothing
            raise ConfigError(f"unknown executor kind {self.kind!r}",
                              f"use one of {', '.join(EXECUTOR_KINDS)}")


def run_local(suite: SuiteSpec, jobs: list[Job], splits: dict, out_dir: Path, env: dict,
              progress: bool, settings: ExecutorSettings | None = None,
              tracker: SuiteProgress | None = None) -> list:
    """Run ``jobs`` one after another, each in a child process unless ``settings.isolate`` is
    off. Each split is pickled once to a private temporary folder and read by every child.
    Each outcome carries the job's wall seconds; ``tracker`` hears of each start and end."""
    tracker = tracker or SuiteProgress(len(jobs), show=False)
    outcomes = []
    with tempfile.TemporaryDirectory(prefix="recbench-jobs-") as tmp:
        workdir = Path(tmp)
        split_files: dict[Path, Path] = {}
        for job in jobs:
            tracker.start(job.key)
            start = time.monotonic()
            if settings is not None and not settings.isolate:
                outcome = run_job(suite, job.key, job.entry, job.dataset_entry,
                                  splits[job.split_dir], job.split_dir, out_dir, env, progress,
                                  data=job.data)
            else:
                if job.split_dir not in split_files:
                    split_files[job.split_dir] = workdir / f"split-{len(split_files)}.pkl"
                    split_files[job.split_dir].write_bytes(
                        pickle.dumps(splits[job.split_dir], protocol=pickle.HIGHEST_PROTOCOL))
                outcome = run_isolated(suite, job, split_files[job.split_dir], workdir,
                                       out_dir, env, progress, suite.job_timeout_s)
            outcome.seconds = time.monotonic() - start
            tracker.finish(job.key, outcome.seconds, ran=outcome.status != "skipped")
            outcomes.append(outcome)
    return outcomes


def _remote_job(suite_raw: dict, job: Job, split, out_dir: str, env: dict):
    """Body of a Ray task: rebuild the suite from its validated dict and run the job. The
    harness's log lines go to the run folder's job.log, as with the local executor (the
    worker's own stdout stays in Ray's logs)."""
    suite = SuiteSpec.model_validate(suite_raw)
    folder = job.key.folder(Path(out_dir))
    folder.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(folder / LOG_NAME, mode="w")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    level = log.level
    log.addHandler(handler)
    log.setLevel(min(level or logging.INFO, logging.INFO))
    try:
        return run_job(suite, job.key, job.entry, job.dataset_entry, split, job.split_dir,
                       Path(out_dir), env, False, data=job.data)
    finally:
        log.removeHandler(handler)
        log.setLevel(level)
        handler.close()


def _resources(entry: ModelEntry) -> dict[str, float]:
    res = entry.resources
    return {"num_cpus": res.cpus, "num_gpus": res.gpus}


def run_ray(suite: SuiteSpec, jobs: list[Job], splits: dict, out_dir: Path, env: dict,
            settings: ExecutorSettings, tracker: SuiteProgress | None = None) -> list:
    """Submit every job as a Ray task; collect outcomes as they finish."""
    try:
        import ray
    except ImportError as err:
        raise BenchError("the ray executor needs ray, which is not installed",
                         "pip install 'explainrec-bench[distributed]' (or use --executor "
                         "local)") from err
    if suite.job_timeout_s is not None:
        log.warning("job_timeout_s is not enforced by the ray executor (local only)")
    started_here = not ray.is_initialized()
    if started_here:
        repo = str(Path(__file__).resolve().parents[2])
        path = os.pathsep.join(p for p in (repo, os.environ.get("PYTHONPATH", "")) if p)
        ray.init(address=settings.address, num_cpus=settings.num_cpus,
                 include_dashboard=False, log_to_driver=False, logging_level=logging.WARNING,
                 runtime_env={"env_vars": {"PYTHONPATH": path, **OFFLINE_ENV,
                                           "TOKENIZERS_PARALLELISM": "false",
                                           # --no-progress reaches the workers too
                                           **{k: os.environ[k] for k in SILENCING
                                              if k in os.environ}}})
    try:
        task = ray.remote(max_retries=settings.max_retries, retry_exceptions=False)(_remote_job)
        suite_raw = suite.model_dump()
        split_refs = {d: ray.put(s) for d, s in splits.items()}
        pending: dict[Any, Job] = {}
        for job in jobs:
            ref = task.options(**_resources(job.entry)).remote(
                suite_raw, job, split_refs[job.split_dir], str(out_dir), env)
            pending[ref] = job
        outcomes = []
        last = time.monotonic()
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            job = pending.pop(done[0])
            if tracker is not None:  # tasks overlap: the estimate uses the mean interval
                now = time.monotonic()
                tracker.finish(job.key, now - last)
                last = now
            try:
                outcomes.append(ray.get(done[0]))
            except Exception as err:  # the worker died on every attempt
                folder = job.key.folder(out_dir)
                message = (f"worker failed {settings.max_retries + 1} time(s): "
                           f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}")
                store.write_error(folder, config={"suite": suite.name, "model": job.key.model,
                                                  "dataset": job.key.dataset,
                                                  "seed": job.key.seed, "executor": "ray"},
                                  error={"type": type(err).__name__, "message": message})
                log.error("%s/%s seed %d: %s", job.key.dataset, job.key.model, job.key.seed,
                          message)
                outcomes.append(JobOutcome(job.key, folder, "failed", message))
        return outcomes
    finally:
        if started_here:
            ray.shutdown()
