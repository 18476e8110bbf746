"""The paper's human-evaluation table beside an LLM judge's ratings of our runs.

The published numbers are means of human ratings (1-5) on usefulness, accuracy and clarity; ours
come from the explanation judge (``benchmark.judge``): the rows judge_usefulness, judge_accuracy
and judge_clarity that the judge step writes into metrics.json, or, for runs rated after the
fact, the run folder's judge.json / judge.jsonl (``recbench judge``). Same scale and criteria,
different instrument: a cell is never "reproduced" or "not reproduced", only
"not comparable: different instrument", with the judge named ("LLM judge X, not human raters").
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from benchmark.report.paper import ReproVerdict
from benchmark.report.runs import Run

INSTRUMENT_VERDICT: ReproVerdict = "not comparable: different instrument"
PREFIX = "judge_"


@dataclass
class JudgeValue:
    """One run's mean judge rating on a criterion, its per-pair ratings and the judge."""

    value: float
    per_pair: np.ndarray
    label: dict
    source: str  # where the rating was read: the track's rows or judge.json
    dataset: str


def is_judge_table(table) -> bool:
    """A table whose every column is a judge criterion (the human-evaluation table)."""
    return bool(table.columns) and all(c.metric.startswith(PREFIX) for c in table.columns)


def judge_name(label: dict) -> str:
    """How a judge is called in a verdict: model name (local) or model at URL (endpoint)."""
    if label.get("kind") == "endpoint":
        return f"{label.get('model', '?')} at {label.get('base_url', '?')}"
    return str(label.get("name") or Path(str(label.get("path") or "?")).name)


def _from_rows(run: Run, col) -> JudgeValue | None:
    for key in run.values:
        if (key.track == col.track and key.metric == col.metric and key.k is None
                and (col.protocol == "*" or key.protocol == col.protocol)):
            got = run.per_user(key)
            per_pair = got[1] if got is not None else np.array([run.values[key]])
            label = (run.metrics.get("info") or {}).get("explanation_judge") or {}
            return JudgeValue(run.values[key], np.asarray(per_pair, float), label,
                              "the track's judge rows", run.dataset)
    return None


def _from_judge_json(run: Run, col) -> JudgeValue | None:
    path = Path(run.folder) / "judge.json"
    if not path.is_file():
        return None
    out = json.loads(path.read_text())
    criterion = col.metric[len(PREFIX):]
    for protocol, rows in sorted((out.get("protocols") or {}).items()):
        if col.metric not in rows or (col.protocol not in ("*", protocol)):
            continue
        per_pair = []
        lines = Path(run.folder) / "judge.jsonl"
        if lines.is_file():
            for line in lines.read_text().splitlines():
                rec = json.loads(line) if line.strip() else {}
                v = (rec.get("judge") or {}).get(criterion)
                if rec.get("protocol") == protocol and v is not None:
                    per_pair.append(float(v))
        value = float(rows[col.metric]["value"])
        return JudgeValue(value, np.array(per_pair or [value]), out.get("judge") or {},
                          "judge.json (rated after the run)", run.dataset)
    return None


def judge_value(run: Run, col) -> JudgeValue | None:
    """The run's judge rating for ``col``: the track's rows first, else judge.json."""
    return _from_rows(run, col) or _from_judge_json(run, col)


def fill_cell(v, col, mine: list[Run], what: str, seed: int, n_resamples: int,
              confidence: float) -> None:
    """Fill verdict ``v`` for one judge column from the runs ``mine`` of one row."""
    from benchmark.stats.bootstrap import mean_ci

    found = {id(r): judge_value(r, col) for r in mine}
    rated = [r for r in mine if found[id(r)] is not None]
    if not mine:
        v.why = f"no run of {what} in the given run folders"
        return
    if not rated:
        v.why = (f"no judge ratings in our runs of {what}: run the explanation track with "
                 "[explanation.judge], or rate the runs with `recbench judge RUNDIR`")
        return
    on_paper = [r for r in rated if r.dataset in col.datasets]
    chosen = on_paper or rated
    v.dataset = sorted({r.dataset for r in chosen})[0]
    judged = {key: j for key, j in found.items() if j is not None}  # chosen runs are rated
    seeds = {r.seed: judged[id(r)] for r in chosen if r.dataset == v.dataset}
    values = np.array([j.value for j in seeds.values()])
    v.ours, v.n_seeds = float(values.mean()), len(values)
    v.ours_std = float(values.std(ddof=1)) if len(values) > 1 else None
    pooled = np.concatenate([j.per_pair for j in seeds.values()])
    if len(pooled) > 1:
        ci = mean_ci(pooled, confidence=confidence, seed=seed, n_resamples=n_resamples)
        v.ci = (ci.low, ci.high)
    names = sorted({judge_name(j.label) for j in seeds.values()})
    notes = sorted({j.label["note"] for j in seeds.values() if j.label.get("note")})
    versions = sorted({j.label.get("prompt_version", "?") for j in seeds.values()})
    sources = sorted({j.source for j in seeds.values()})
    v.verdict = INSTRUMENT_VERDICT
    v.why = (f"LLM judge {' / '.join(names)}, not human raters"
             + (f" ({'; '.join(notes)})" if notes else "")
             + f"; prompt {', '.join(versions)}; {len(pooled)} rated pairs from "
             + f"{' and '.join(sources)}; CI over pairs")


def extra_models(table, runs: list[Run], matched: set[int]) -> dict[str, list[Run]]:
    """Explaining models in ``runs`` that no table row names but the judge rated, by label."""
    out: dict[str, list[Run]] = {}
    for r in runs:
        if id(r) in matched:
            continue
        if any(judge_value(r, c) is not None for c in table.columns):
            out.setdefault(r.model, []).append(r)
    return dict(sorted(out.items()))
