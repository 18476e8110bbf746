"""The history page of `recbench leaderboard --site`: each headline metric over the result
folders (one per commit, oldest first), with the steps where `recbench check` would fail marked.

Each step (folder i-1 -> folder i) is checked with ``check.check`` and its default options, so
the page marks exactly what the CI gate would: a red cross on a model's point where a metric is
a REGRESSION, and the step's exit status (0 pass, 1 regression, 2 not comparable) in a table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from benchmark.report.leaderboard import build_boards
from benchmark.report.runs import MetricKey
from benchmark.report.site.common import headline_key, number, protocol_rank, slug
from benchmark.report.site.figures import Figure, _save
from benchmark.report.site.history import History
from benchmark.stats.seeds import summarize


@dataclass
class Step:
    label: str
    status: int
    verdict: str
    regressions: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


@dataclass
class HistoryPage:
    labels: list[str]
    steps: list[Step]
    figures: list[Figure]


def _check_steps(hist: History) -> tuple[list[Step], set[tuple[int, str, str, str]]]:
    from benchmark.report.check import CheckOptions, check

    steps, marks = [], set()
    for i in range(1, len(hist.runs)):
        res = check(hist.runs[i - 1], hist.runs[i], CheckOptions())
        label = f"{hist.labels[i - 1]} → {hist.labels[i]}"
        regs = [ln for ln in res.lines if ln.verdict == "REGRESSION"]
        for ln in regs:
            marks.add((i, ln.dataset, ln.model, ln.metric))
        verdict = {0: "pass", 1: "regression", 2: "not comparable"}.get(res.status, "?")
        steps.append(Step(label, res.status, verdict,
                          [f"{ln.model} on {ln.dataset} {ln.metric}: {number(ln.baseline)} → "
                           f"{number(ln.current)} ({ln.rel:+.1%}, corrected p "
                           f"{_p(ln.p_corrected)})" for ln in regs],
                          [p.splitlines()[0] for p in res.problems][:5]))
    return steps, marks


def _p(p: float) -> str:
    return "< 1e-16" if p < 1e-16 else f"{p:.3g}"


def history_page(hist: History, out: Path) -> HistoryPage:
    steps, marks = _check_steps(hist)
    boards = build_boards(hist.runs[-1])
    keys = [(b.dataset, k) for b in sorted(boards, key=lambda b: (b.dataset, b.track,
                                                                  protocol_rank(b.protocol)))
            if not re.match(r"new_user_n\d+$", b.protocol) and (k := headline_key(b.metrics))]
    figures = [_figure(hist, dataset, key, marks, out) for dataset, key in keys]
    return HistoryPage(hist.labels, steps, [f for f in figures if f is not None])


def _figure(hist: History, dataset: str, key: MetricKey, marks, out: Path) -> Figure | None:
    from benchmark.report.plots import _pyplot

    series: dict[str, list[tuple[int, float, float]]] = {}
    for i, runs in enumerate(hist.runs):
        per_model: dict[str, list[float]] = {}
        for r in runs:
            if r.dataset == dataset and key in r.values:
                per_model.setdefault(r.model, []).append(r.values[key])
        for model, vals in per_model.items():
            s = summarize(vals)
            series.setdefault(model, []).append((i, s.mean, 0.0 if s.n < 2 else s.std))
    if not series:
        return None
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7.5, 3.2))
    described, flagged = [], []
    for model, pts in sorted(series.items()):
        ax.errorbar([p[0] for p in pts], [p[1] for p in pts], yerr=[p[2] for p in pts],
                    marker="o", capsize=2, label=model)
        bad = [p for p in pts if (p[0], dataset, model, str(key)) in marks]
        if bad:
            ax.scatter([p[0] for p in bad], [p[1] for p in bad], marker="X", s=120,
                       color="red", zorder=5)
            flagged += [f"{model} at {hist.labels[p[0]]}" for p in bad]
        described.append(f"{model} " + " → ".join(number(p[1]) for p in pts))
    ax.set_xticks(range(len(hist.labels)), hist.labels, rotation=20, ha="right", fontsize=7)
    ax.set_ylabel(key.label)
    ax.set_title(f"{dataset} | {key}", fontsize=9)
    ax.legend(fontsize=7)
    alt = (f"Line chart, {dataset} {key} over {len(hist.labels)} result folders, oldest first: "
           + "; ".join(described) + (". Regressions (red crosses): " + ", ".join(flagged)
                                     if flagged else ". No regression."))
    path = _save(fig, out, slug(f"history-{dataset}-{key}"))
    caption = f"{dataset} | {key} over commits" + (
        f" — regression at {', '.join(flagged)}" if flagged else "")
    return Figure(path, alt, caption)
