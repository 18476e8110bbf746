"""One job: run a (dataset, seed, model) into its run folder (``run_job``) and its outcome.

Every executor calls ``run_job``: in this process, in a child process (``job_process.py``) or on
a Ray worker; the runner above decides which jobs run and where.
"""

from __future__ import annotations

import logging
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from benchmark.data.dataset import DatasetData
from benchmark.errors import BenchError
from benchmark.measure import PeakMemory, apply_threads, cpu_seconds, thread_info
from benchmark.registry import build_model, track_class
from benchmark.runner import store
from benchmark.runner.fingerprint import job_fingerprint
from benchmark.runner.prepare import resolve_dataset
from benchmark.tracks.base import TrackContext

log = logging.getLogger("recbench")


#: "done", "skipped" (complete, fingerprint matches) or "failed"
JobStatus = Literal["done", "skipped", "failed"]


@dataclass
class JobOutcome:
    key: store.RunKey
    folder: Path
    status: JobStatus
    error: str = ""
    #: wall seconds of the job as this runner saw it (None: skipped, or not timed here)
    seconds: float | None = None


def tag(key: store.RunKey) -> str:
    return f"{key.dataset}/{key.model} seed {key.seed}"


def run_job(suite, key, entry, dataset_entry, split, split_dir, out_dir, env,
            progress, data: DatasetData | None = None) -> JobOutcome:
    """Run one job into its folder (the caller holds the folder's lock; ``run_suite`` has
    applied the resume rules, which are applied again here for callers that did not)."""
    dataset_entry.register()  # a job process finds a dataset given by path, as the parent did
    threads = apply_threads(suite.threads)  # before any model is built
    folder = key.folder(out_dir)
    fp = job_fingerprint(suite, entry, dataset_entry, split, key.seed)
    if store.read_marker(folder) is not None:
        state = store.check_run(folder, fp.sha256, fp.fields)
        if state.status == "complete":
            return JobOutcome(key, folder, "skipped")
        aside = store.set_aside(folder, state)
        log.warning("%s: %s; the old run is kept as %s", tag(key), state.detail, aside.name)
    folder.mkdir(parents=True, exist_ok=True)
    config = {
        "schema_version": store.SCHEMA_VERSION,
        "suite": suite.name,
        "model": {"name": entry.name, "label": entry.key, "params": entry.params},
        "dataset": dataset_entry.model_dump(),
        "seed": key.seed,
        "threads": threads,
        "split": {**split.describe(), "folder": str(split_dir)},
        "tracks": suite.tracks_for(entry),
        "track_settings": {t: suite.settings_for(t).model_dump() for t in suite.tracks_for(entry)},
        "fingerprint": fp.to_dict(),
    }
    log.info("run %s/%s seed %d", key.dataset, key.model, key.seed)
    try:
        def fresh_model(purpose: str = "model"):
            # each fit gets its own work folder: extra fits (cold-start sets) must not
            # overwrite the main model's files
            return build_model(entry.name, entry.params, workdir=folder / purpose,
                               label=entry.key)

        config["model"].update(fresh_model().describe())
        ctx = TrackContext(split=split, split_dir=split_dir, dataset=key.dataset, seed=key.seed,
                           max_eval_users=dataset_entry.max_eval_users, build_model=fresh_model,
                           memory_probe=PeakMemory,
                           data=data if data is not None else resolve_dataset(dataset_entry.name),
                           resolve_dataset=resolve_dataset)
        rows, per_user, info, samples = [], {}, {}, []
        inference_s, calls = 0.0, 0
        # each track's wall and process CPU seconds, the fits it triggered included (the main
        # fit falls in the first track that asks for the model)
        track_seconds: dict[str, dict[str, float]] = {}
        with PeakMemory() as mem_eval:  # every track, the main fit included
            for track_name in suite.tracks_for(entry):
                track = track_class(track_name)(suite.settings_for(track_name), split_dir,
                                                 progress)
                wall0, cpu0 = time.perf_counter(), cpu_seconds()[0]
                result = track.run(ctx)
                track_seconds[track_name] = {"wall": time.perf_counter() - wall0,
                                             "cpu": cpu_seconds()[0] - cpu0}
                log.info("%s: track %s took %.1f s wall, %.1f s CPU", tag(key), track_name,
                         track_seconds[track_name]["wall"], track_seconds[track_name]["cpu"])
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
                      "memory_fit": ctx.fit_memory, "memory_eval": mem_eval.summary(),
                      # CPU context: process CPU seconds (user + system, all threads) of the
                      # main fit and of the whole job (every track, fits included), torch's
                      # threads (the suite's setting; torch's count at the end, None if the job
                      # never loaded torch) and the load average at the job's start and end
                      "fit_cpu_seconds": ctx.fit_memory.get("cpu_seconds"),
                      "job_seconds": mem_eval.wall_seconds,
                      "job_cpu_seconds": mem_eval.cpu_seconds,
                      "job_children_cpu_seconds": mem_eval.children_cpu_seconds,
                      "track_seconds": track_seconds,
                      "threads": {**thread_info(suite.threads),
                                  "torch_fit": ctx.fit_memory.get("torch_threads")},
                      "load_average": dict(zip(("job_start", "job_end"),
                                               mem_eval.load_average, strict=True))}
        store.write_run(folder, config=config, metrics=metrics, per_user=per_user,
                        efficiency=efficiency, samples=samples, env=env,
                        fingerprint=fp.to_dict())
        return JobOutcome(key, folder, "done")
    except Exception as err:  # a failing model must not stop the suite
        message = str(err) if isinstance(err, BenchError) else f"{type(err).__name__}: {err}"
        store.write_error(folder, config=config, error={
            "type": type(err).__name__, "message": message, "traceback": traceback.format_exc()})
        log.error("%s/%s seed %d failed: %s", key.dataset, key.model, key.seed, message)
        return JobOutcome(key, folder, "failed", message)
