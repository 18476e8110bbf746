"""Leaderboards: per (dataset, track, protocol), models x metrics as mean +- std over seeds,
best / second best marked, and a dagger where a model is significantly better than a baseline.

Tables are generic over (track, protocol, metric, k): whatever rows the runs hold become columns,
so tracks added later need no change here. Rendering lives in ``render``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from benchmark.errors import BenchError, DataError
from benchmark.report.comparable import reasons_not_comparable
from benchmark.report.compare import metric_sides, pair_sides, paired_p, selected
from benchmark.report.metric_meta import direction
from benchmark.report.runs import RERUN_FIX, MetricKey, Run, group_runs
from benchmark.stats.corrections import correct
from benchmark.stats.pairing import mean_by_user
from benchmark.stats.seeds import summarize


@dataclass
class Cell:
    mean: float
    std: float
    n_seeds: int
    mark: str = ""  # "best", "second" or ""
    dagger: bool = False
    p_corrected: float = float("nan")


@dataclass
class Board:
    dataset: str
    track: str
    protocol: str
    metrics: list[MetricKey]
    models: list[str]
    cells: dict[tuple[str, str], Cell]
    modalities: dict[str, str]
    seeds: list[int]
    split: str
    baseline: str | None = None
    notes: list[str] = field(default_factory=list)
    #: per model: the split hashes (12 hex digits) and code commits of its runs, for CSV rows
    provenance: dict[str, tuple[str, str]] = field(default_factory=dict)

    @property
    def title(self) -> str:
        return f"{self.dataset} | {self.track} | protocol={self.protocol}"

    @property
    def footer(self) -> str:
        text = (f"dataset={self.dataset}; split={self.split}; protocol={self.protocol}; "
                f"seeds={self.seeds}; mean ± std over seeds")
        return "; ".join([text, *self.notes])


@dataclass(frozen=True)
class SignificanceSpec:
    baseline: str
    test: str = "ttest"
    correction: str = "holm"
    alpha: float = 0.05


def per_user_over_seeds(runs: dict[int, Run], key: MetricKey, seeds: list[int]):
    """Each user's value averaged over ``seeds`` (users present in every seed), or None."""
    parts = [runs[s].per_user(key) for s in seeds]
    present = [p for p in parts if p is not None]
    if len(present) < len(parts):
        return None
    return mean_by_user(present)


def build_boards(runs: list[Run], significance: SignificanceSpec | None = None,
                 metrics: tuple[str, ...] = ()) -> list[Board]:
    """``metrics``: only these columns (labels like 'ndcg@10', 'full/ndcg@10'); all if empty."""
    groups = group_runs(runs)
    sections: dict[tuple[str, str, str], list[MetricKey]] = {}
    for r in runs:
        for key in r.values:
            if not selected(key, metrics):
                continue
            keys = sections.setdefault((r.dataset, key.track, key.protocol), [])
            if key not in keys:
                keys.append(key)
    if not sections:
        raise BenchError(f"no metric among {', '.join(metrics)}",
                         "use labels as in the tables, e.g. ndcg@10 or full/ndcg@10")
    boards = []
    for (dataset, track, protocol), keys in sorted(sections.items()):
        models = sorted({m for (d, m), seeds in groups.items() if d == dataset
                         and any(k in run.values for run in seeds.values() for k in keys)})
        boards.append(_board(dataset, track, protocol, keys, models, groups, significance))
    return boards


def _board(dataset, track, protocol, keys, models, groups, sig) -> Board:
    cells: dict[tuple[str, str], Cell] = {}
    seeds: set[int] = set()
    splits: set[str] = set()
    for model in models:
        for seed, run in groups[(dataset, model)].items():
            if any(k in run.values for k in keys):
                seeds.add(seed)
                s = run.metrics["split"]
                splits.add(f"{s.get('strategy', '?')} (hash {run.split_hash[:12]})")
        for key in keys:
            vals = [run.values[key] for run in groups[(dataset, model)].values()
                    if key in run.values]
            if vals:
                s = summarize(vals)
                cells[(model, key.label)] = Cell(s.mean, s.std, s.n)
    for key in keys:
        _mark_best(cells, models, key)
    first = next(iter(groups[(dataset, models[0])].values())) if models else None
    board = Board(dataset, track, protocol, keys, models, cells,
                  {m: "+".join(next(iter(groups[(dataset, m)].values())).modalities) or "-"
                   for m in models},
                  sorted(seeds), ", ".join(sorted(splits)))
    for m in models:
        runs = groups[(dataset, m)].values()
        board.provenance[m] = (" ".join(sorted({r.split_hash[:12] for r in runs})),
                               " ".join(sorted({r.commit for r in runs})))
    if first is not None and protocol == "sampled":
        n = first.protocol_settings(track).get("sampled_negatives")
        if n:
            board.notes.append(f"sampled = test positives + {n} frozen negatives")
    if first is not None and track == "alignment":
        info = first.metrics.get("info", {})
        levels = {k: (v, info.get("alignment_popularity", {}).get(k))
                  for k, v in info.get("alignment_chance", {}).items()}
        board.notes.append(
            f"target = {info.get('alignment_target', {}).get('name', 'the explained model')}'s "
            "outputs on test users the explainer did not train on; random / popularity-only: "
            + ", ".join(f"{k} {c:.3f} / {'-' if p is None else f'{p:.3f}'}"
                        for k, (c, p) in levels.items()))
    if first is not None and track == "tallrec":
        sub = first.metrics.get("info", {}).get("tallrec", {}).get("test_subset")
        if sub:
            board.notes.append(f"TALLRec test questions: {sub['chosen']}, n = {sub['n']} of "
                               f"{sub['of']}, hash {sub['sha256']}")
    lms = sorted({lm for m in models for run in groups[(dataset, m)].values()
                  for lm in language_models(run)})
    if lms:
        board.notes.append("language models: " + ", ".join(lms))
    if sig is not None:
        _daggers(board, groups, sig)
    return board


def language_models(run: Run) -> set[str]:
    """"name (weights sha256[:12], pretrained or fixture)" of every LM a run's info records."""
    found: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if "weights_sha256" in node and "origin" in node:
                what = "pretrained" if node.get("pretrained", True) else "test fixture"
                found.add(f"{node.get('name') or Path(str(node.get('path', '?'))).name} "
                          f"(weights {str(node['weights_sha256'])[:12]}, {what})")
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(run.config.get("model", {}).get("fit"))
    walk(run.metrics.get("info"))
    return found


def _mark_best(cells, models, key: MetricKey) -> None:
    sign = direction(key.metric, key.track)
    if sign == 0:
        return
    present = [(cells[(m, key.label)].mean * sign, m) for m in models if (m, key.label) in cells]
    distinct = sorted({v for v, _ in present}, reverse=True)
    for value, model in present:
        if value == distinct[0]:
            cells[(model, key.label)].mark = "best"
        elif len(distinct) > 1 and value == distinct[1]:
            cells[(model, key.label)].mark = "second"


def _daggers(board: Board, groups, sig: SignificanceSpec) -> None:
    if sig.baseline not in board.models:
        board.notes.append(f"no † column: baseline {sig.baseline!r} has no run here")
        return
    base_runs = groups[(board.dataset, sig.baseline)]
    tests, untested = [], []
    refused = {}
    for model in board.models:
        runs = groups[(board.dataset, model)]
        for s in sorted(set(runs) & set(base_runs)):
            why = reasons_not_comparable(runs[s], base_runs[s], {board.track})
            if why and model != sig.baseline:
                refused[model] = why[0]
    board.notes += [f"no † for {m}: not comparable with {sig.baseline} ({w})"
                    for m, w in refused.items()]
    for key in board.metrics:
        if direction(key.metric, key.track) == 0:
            continue
        for model in board.models:
            if (model == sig.baseline or model in refused
                    or (model, key.label) not in board.cells):
                continue
            runs = groups[(board.dataset, model)]
            shared = sorted(set(runs) & set(base_runs))
            pu, pw = (metric_sides(runs, base_runs, key, shared, shared) if shared
                      else (None, None))
            if pu is not None and pu.unusable:  # damaged or missing file: fail closed
                raise DataError("cannot test significance: " + "; ".join(pu.unusable),
                                RERUN_FIX)
            if pu is None or pu.a is None or pu.b is None:
                if key.label not in untested:
                    untested.append(key.label)
                continue
            # the quantity the cell shows: the plain mean, or the weighted mean (GAUC)
            paired, weights = pair_sides(pu, pw, f"{model} vs {sig.baseline} {key}")
            p = paired_p(paired, weights, sig.test).pvalue
            diff = (np.average(paired.diff, weights=weights) if weights is not None
                    else paired.diff.mean())
            better = np.sign(diff) == direction(key.metric, key.track)
            tests.append((model, key.label, p, better))
    if tests:
        adjusted = correct([t[2] for t in tests], sig.correction)
        for (model, label, _, better), p in zip(tests, adjusted):
            cell = board.cells[(model, label)]
            cell.p_corrected = float(p)
            cell.dagger = bool(better and p < sig.alpha)
    board.baseline = sig.baseline
    board.notes.append(
        f"† = significantly better than {sig.baseline} (paired two-sided {sig.test} over "
        f"per-user values averaged across shared seeds, {sig.correction} correction over "
        f"{len(tests)} comparisons, alpha {sig.alpha})")
    if untested:
        board.notes.append(f"not tested (no per-user values): {', '.join(untested)}")


def check_formats(fmt: str, allowed: tuple[str, ...]) -> None:
    if fmt not in allowed:
        raise BenchError(f"unknown report format {fmt!r}", f"use one of {', '.join(allowed)}")
