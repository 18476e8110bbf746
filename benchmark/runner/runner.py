"""The local executor: every (dataset x seed x model) job of a suite, one run folder each.

A job whose folder is complete is skipped (resume); a job that fails writes error.json and the
suite goes on. Every split is built once per (dataset, seed) and shared by all models.
"""

from __future__ import annotations

import logging
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from benchmark.config.suite import SuiteSpec
from benchmark.errors import BenchError
from benchmark.runner import store
from benchmark.runner.env import collect_env
from benchmark.runner.executors import ExecutorSettings
from benchmark.runner.memory import PeakMemory

log = logging.getLogger("recbench")


@dataclass
class JobOutcome:
    key: store.RunKey
    folder: Path
    status: str  # "done", "skipped" (already complete), "failed"
    error: str = ""


@dataclass
class SuiteOutcome:
    jobs: list[JobOutcome] = field(default_factory=list)

    @property
    def failed(self) -> list[JobOutcome]:
        return [j for j in self.jobs if j.status == "failed"]


def preflight(suite: SuiteSpec) -> None:
    """Check data files and every model's params before anything trains."""
    from benchmark.config.dataset_spec import load_dataset_spec
    from benchmark.models.base import build_config
    from benchmark.registry import model_class

    for d in suite.datasets:
        spec, base = load_dataset_spec(d.name)
        spec.check_files(base)
    for m in suite.models:
        build_config(model_class(m.name).Config, dict(m.params), f"suite model {m.key!r}")


def run_suite(suite: SuiteSpec, out_dir: Path, *, seeds: list[int] | None = None,
              only: list[str] | None = None, progress: bool = True,
              cache_dir: Path | None = None, executor: ExecutorSettings | None = None
              ) -> SuiteOutcome:
    """Build each (dataset, seed) split once, then hand the pending jobs to the executor."""
    from benchmark.data.prepare import prepare_split
    from benchmark.registry import UnknownNameError
    from benchmark.runner.executors import Job, run_local, run_ray

    executor = executor or ExecutorSettings()
    models = suite.models
    if only:
        keys = [m.key for m in models]
        for name in only:
            if name not in keys:
                raise UnknownNameError("model in this suite", name, keys)
        models = [m for m in models if m.key in only]
    preflight(suite)
    seeds = seeds or suite.seeds
    outcome = SuiteOutcome()
    env = collect_env()
    jobs: list[Job] = []
    splits: dict[Path, object] = {}
    for d in suite.datasets:
        for seed in seeds:
            pending = []
            for m in models:
                key = store.RunKey(suite.name, d.name, m.key, seed)
                if store.is_complete(key.folder(out_dir)):
                    outcome.jobs.append(JobOutcome(key, key.folder(out_dir), "skipped"))
                    log.info("skip %s/%s seed %d: already complete", d.name, m.key, seed)
                else:
                    pending.append((key, m))
            if not pending:
                continue
            try:
                split, split_dir = prepare_split(d.name, seed, d.split, cache_dir)
            except BenchError as err:  # bad data: record it for each job, go on with the rest
                for key, _ in pending:
                    store.write_error(key.folder(out_dir), config={"dataset": d.name},
                                      error={"type": type(err).__name__, "message": str(err)})
                    outcome.jobs.append(JobOutcome(key, key.folder(out_dir), "failed", str(err)))
                log.error("dataset %s seed %d: %s", d.name, seed, err)
                continue
            group = [Job(key, m, d, split_dir) for key, m in pending]
            if executor.kind == "local":  # one split in memory at a time
                outcome.jobs += run_local(suite, group, {split_dir: split}, out_dir, env,
                                          progress)
            else:
                splits[split_dir] = split
                jobs += group
    if executor.kind == "ray" and jobs:
        outcome.jobs += run_ray(suite, jobs, splits, out_dir, env, executor)
    return outcome


def run_job(suite, key, entry, dataset_entry, split, split_dir, out_dir, env,
            progress) -> JobOutcome:
    from benchmark.registry import build_model, track_class

    folder = key.folder(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    config = {
        "schema_version": store.SCHEMA_VERSION,
        "suite": suite.name,
        "model": {"name": entry.name, "label": entry.key, "params": entry.params},
        "dataset": dataset_entry.model_dump(),
        "seed": key.seed,
        "split": {**split.describe(), "folder": str(split_dir)},
        "tracks": suite.tracks_for(entry),
        "track_settings": {t: suite.settings_for(t).model_dump() for t in suite.tracks_for(entry)},
    }
    log.info("run %s/%s seed %d", key.dataset, key.model, key.seed)
    try:
        from benchmark.tracks.base import TrackContext

        def fresh_model(purpose: str = "model"):
            # each fit gets its own work folder: extra fits (cold-start sets) must not
            # overwrite the main model's files
            return build_model(entry.name, entry.params, workdir=folder / purpose,
                               label=entry.key)

        config["model"].update(fresh_model().describe())
        ctx = TrackContext(split=split, split_dir=split_dir, dataset=key.dataset, seed=key.seed,
                           max_eval_users=dataset_entry.max_eval_users, build_model=fresh_model,
                           memory_probe=PeakMemory)
        rows, per_user, info, samples = [], {}, {}, []
        inference_s, calls = 0.0, 0
        with PeakMemory() as mem_eval:
            for track_name in suite.tracks_for(entry):
                track = track_class(track_name)(suite.settings_for(track_name), split_dir,
                                                 progress)
                result = track.run(ctx)
                rows += [r.to_dict() for r in result.rows]
                per_user.update(result.per_user)
                info.update(result.info)
                samples += [{"track": track_name, **s} for s in result.samples]
                inference_s += result.inference_seconds
                calls += result.inference_calls
        if ctx.has_fitted_model:
            config["model"]["fit"] = ctx.fitted_model().fit_info()
            n_parameters = ctx.fitted_model().num_parameters()
        else:
            n_parameters = None
        metrics = {"suite": suite.name, "model": entry.key, "dataset": key.dataset,
                   "seed": key.seed, "split": split.describe(), "rows": rows, "info": info}
        efficiency = {"fit_seconds": ctx.fit_seconds, "inference_seconds": inference_s,
                      "inference_calls": calls, "peak_rss_mb_fit": ctx.fit_peak_mb,
                      "peak_rss_mb_eval": mem_eval.peak_mb, "n_parameters": n_parameters,
                      # fits on other data made by tracks (cold-start sets), by purpose
                      "extra_fit_seconds": dict(ctx.extra_fit_seconds),
                      "memory_fit": ctx.fit_memory, "memory_eval": mem_eval.summary()}
        store.write_run(folder, config=config, metrics=metrics, per_user=per_user,
                        efficiency=efficiency, samples=samples, env=env)
        return JobOutcome(key, folder, "done")
    except Exception as err:  # a failing model must not stop the suite
        message = str(err) if isinstance(err, BenchError) else f"{type(err).__name__}: {err}"
        store.write_error(folder, config=config, error={
            "type": type(err).__name__, "message": message, "traceback": traceback.format_exc()})
        log.error("%s/%s seed %d failed: %s", key.dataset, key.model, key.seed, message)
        return JobOutcome(key, folder, "failed", message)
