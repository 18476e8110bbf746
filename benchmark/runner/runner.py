"""The runner: every (dataset x seed x model) job of a suite, one run folder each.

A job whose folder is complete, with the same fingerprint and verified files, is skipped; a stale
or damaged one is set aside and run again (``_resume``); a job that fails writes error.json and
the suite goes on. Every split is built once per (dataset, seed) and shared by all models. Each
job's folder is locked while this runner checks and runs it (``locks.py``): a second runner on
the same ``--out`` leaves a held job, runs its other jobs, then waits for the held ones and
applies the resume rules to them, so every job is trained once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from benchmark.config.suite import SuiteSpec
from benchmark.errors import BenchError, UnknownNameError
from benchmark.models.abilities import DatasetReader
from benchmark.models.base import build_config
from benchmark.progress import silenced
from benchmark.registry import model_class
from benchmark.runner import locks, store
from benchmark.runner.abilities import check_abilities
from benchmark.runner.env import collect_env
from benchmark.runner.executors import ExecutorSettings, Job, run_local, run_ray
from benchmark.runner.fingerprint import job_fingerprint
from benchmark.runner.job import JobOutcome, run_job, tag
from benchmark.runner.prepare import prepare_split, resolve_dataset
from benchmark.runner.suite_progress import SuiteProgress

log = logging.getLogger("recbench")

__all__ = ["JobOutcome", "SuiteOutcome", "preflight", "run_job", "run_suite"]


@dataclass
class SuiteOutcome:
    jobs: list[JobOutcome] = field(default_factory=list)

    @property
    def failed(self) -> list[JobOutcome]:
        return [j for j in self.jobs if j.status == "failed"]


def preflight(suite: SuiteSpec) -> None:
    """Check data files, every model's params and abilities before anything trains."""
    datasets = [resolve_dataset(d.name) for d in suite.datasets]
    for data in datasets:
        data.spec.check_files(data.base)
    for m in suite.models:
        cls = model_class(m.name)
        build_config(cls.Config, dict(m.params), f"suite model {m.key!r}")
        if issubclass(cls, DatasetReader):  # a config naming another dataset: refused now
            model = cls(dict(m.params), name=m.key)
            for data in datasets:
                model.use_dataset(data)
    check_abilities(suite)  # every track a model entry names can use that model


def run_suite(suite: SuiteSpec, out_dir: Path, *, seeds: list[int] | None = None,
              only: list[str] | None = None, progress: bool = True,
              cache_dir: Path | None = None, executor: ExecutorSettings | None = None
              ) -> SuiteOutcome:
    """Run every job of the suite that is not already complete, then wait for the jobs another
    runner held and treat them by the same rules (skip-then-recheck), until none is left."""
    executor = executor or ExecutorSettings()
    models = suite.models
    if only:
        keys = [m.key for m in models]
        for name in only:
            if name not in keys:
                raise UnknownNameError("model in this suite", name, keys)
        models = [m for m in models if m.key in only]
    for d in suite.datasets:  # datasets given by path: found by name from here on
        d.register()
    preflight(suite)
    outcome = SuiteOutcome()
    env = collect_env()
    todo = [(d, seed, list(models)) for d in suite.datasets for seed in (seeds or suite.seeds)]
    tracker = SuiteProgress(sum(len(t[2]) for t in todo), show=progress)
    with silenced(not progress), tracker:
        _rounds(suite, todo, out_dir, env, progress, cache_dir, executor, outcome, tracker)
    return outcome


def _rounds(suite: SuiteSpec, todo: list, out_dir: Path, env: dict, progress: bool,
            cache_dir: Path | None, executor: ExecutorSettings, outcome: SuiteOutcome,
            tracker: SuiteProgress) -> None:
    """Rounds of ``_run_round`` until no job is left that another runner held."""
    while todo:
        held = _run_round(suite, todo, out_dir, env, progress, cache_dir, executor, outcome,
                          tracker)
        for d, seed, entry in held:
            folder = store.RunKey(suite.name, d.name, entry.key, seed).folder(out_dir)
            log.info("wait for %s/%s seed %d: held by another runner", d.name, entry.key, seed)
            locks.wait_unlocked(folder)
        todo = []
        for d, seed, entry in held:  # regroup by (dataset, seed): one split each
            if todo and todo[-1][0] is d and todo[-1][1] == seed:
                todo[-1][2].append(entry)
            else:
                todo.append((d, seed, [entry]))


def _run_round(suite: SuiteSpec, todo: list, out_dir: Path, env: dict, progress: bool,
               cache_dir: Path | None, executor: ExecutorSettings,
               outcome: SuiteOutcome, tracker: SuiteProgress) -> list:
    """One pass over ``todo`` ([(dataset entry, seed, [model entries])]): build each split
    once, take each job's lock, apply the resume rules, run what is pending. Returns the jobs
    another runner held, as (dataset entry, seed, model entry)."""

    held: list = []
    ray_jobs: list[Job] = []
    splits: dict[Path, object] = {}
    taken: list = []  # every lock this round took
    try:
        for d, seed, entries in todo:
            try:
                split, split_dir = prepare_split(d.name, seed, d.split, cache_dir)
                data = resolve_dataset(d.name)  # by the runner; its jobs get it, not the name
            except BenchError as err:  # bad data: record it for each job, go on with the rest
                for m in entries:
                    key = store.RunKey(suite.name, d.name, m.key, seed)
                    lock = locks.try_lock(key.folder(out_dir))
                    if lock is not None:  # held: the other runner records it
                        store.write_error(key.folder(out_dir), config={"dataset": d.name},
                                          error={"type": type(err).__name__,
                                                 "message": str(err)})
                        lock.release()
                    outcome.jobs.append(JobOutcome(key, key.folder(out_dir), "failed", str(err)))
                    tracker.skip(key)
                log.error("dataset %s seed %d: %s", d.name, seed, err)
                continue
            group: list[Job] = []
            group_locks: list = []
            for m in entries:
                key = store.RunKey(suite.name, d.name, m.key, seed)
                lock = locks.try_lock(key.folder(out_dir))
                if lock is None:
                    log.info("held %s: another runner is running it; checking again after "
                             "this runner's other jobs", tag(key))
                    held.append((d, seed, m))
                    tracker.total += 1  # counted again when it is checked after this round
                    tracker.skip(key)
                    continue
                taken.append(lock)  # released in `finally` whatever happens (a no-op if done)
                if _resume(suite, key, m, d, split, out_dir, outcome):
                    group.append(Job(key, m, d, split_dir, data))
                    group_locks.append(lock)
                else:
                    lock.release()
                    tracker.skip(key)
            if not group:
                continue
            if executor.kind == "local":  # one split in memory at a time
                try:
                    outcome.jobs += run_local(suite, group, {split_dir: split}, out_dir, env,
                                              progress, executor, tracker)
                finally:
                    locks.release_all(group_locks)
            else:
                splits[split_dir] = split
                ray_jobs += group
        if executor.kind == "ray" and ray_jobs:
            outcome.jobs += run_ray(suite, ray_jobs, splits, out_dir, env, executor, tracker)
    finally:
        locks.release_all(taken)
    return held


def _resume(suite: SuiteSpec, key: store.RunKey, entry, dataset_entry, split, out_dir: Path,
            outcome: SuiteOutcome) -> bool:
    """The resume rules, applied under the job's lock; True when the job must run.

    - complete (fingerprint matches, every file matches its sha256): skipped;
    - stale (other fingerprint, or an old-format marker without one): rerun, the old folder
      renamed to ``seed-<n>.stale-<old short fingerprint>`` (``store.set_aside``);
    - damaged (a file missing or changed): redone, the old folder renamed to
      ``seed-<n>.damaged-<short fingerprint>``;
    - incomplete (never finished, or failed): run in place.
    Nothing computed is deleted, and set-aside folders are never reported.
    """
    folder = key.folder(out_dir)
    fp = job_fingerprint(suite, entry, dataset_entry, split, key.seed)
    state = store.check_run(folder, fp.sha256, fp.fields)
    if state.status == "complete":
        log.info("skip %s: complete (fingerprint %s matches, files verified)", tag(key),
                 fp.short)
        outcome.jobs.append(JobOutcome(key, folder, "skipped"))
        return False
    if state.status in ("stale", "damaged"):
        aside = store.set_aside(folder, state)
        what = "rerun" if state.status == "stale" else "redo"
        why = state.detail if state.status == "stale" else f"damaged: {state.detail}"
        log.warning("%s %s: %s; the old run is kept as %s", what, tag(key), why, aside.name)
    return True
