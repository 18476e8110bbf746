"""The site's figures (matplotlib, SVG), each with alt text that states what it shows.

- headline bars per (dataset, track): one panel per protocol, error bars = std over seeds
- cold start by support size: the new-user groups (N = 0, 1, ... support interactions)
- ablation deltas: each variant of a model family (e.g. ExplainRec's no_* variants) minus the
  full model, on the headline metrics
- efficiency: training time against quality, one point per model

A figure without data is left out (the caller says why), never drawn empty.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from benchmark.report.plots import _pyplot
from benchmark.report.runs import MetricKey, Run, group_runs
from benchmark.report.site.common import number, slug
from benchmark.stats.seeds import summarize

QUALITY = (MetricKey("accuracy", "full", "ndcg", 10), MetricKey("accuracy", "next_item", "ndcg", 10),
           MetricKey("accuracy", "pointwise", "auc", None), MetricKey("tallrec", "tallrec", "auc", None))
ABLATION = QUALITY[:3] + (MetricKey("explanation", "silver", "rouge_l", None),
                          MetricKey("explanation", "silver", "bleu4", None))


@dataclass
class Figure:
    path: str  # relative to the site root
    alt: str
    caption: str


def _stat(seeds: dict[int, Run], key: MetricKey) -> tuple[float, float] | None:
    vals = [r.values[key] for r in seeds.values() if key in r.values]
    if not vals:
        return None
    s = summarize(vals)
    return s.mean, (0.0 if s.n < 2 or s.std != s.std else s.std)


def _save(fig, out: Path, name: str) -> str:
    plt = _pyplot()
    (out / "figures").mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(out / "figures" / f"{name}.svg", format="svg", metadata={"Date": None})
    plt.close(fig)
    return f"figures/{name}.svg"


def headline_bars(table, out: Path) -> Figure:
    """``table``: an ``overview.OverviewTable``; its rows' order is kept (best first)."""
    plt = _pyplot()
    plt.rcParams["svg.hashsalt"] = "recbench"
    n = len(table.columns)
    fig, axes = plt.subplots(1, n, figsize=(min(3.2 * n + 1, 13), 2.9), squeeze=False)
    parts = []
    for i, (ax, col) in enumerate(zip(axes[0], table.columns)):
        models = [m for m, cells in table.rows if cells[i] is not None]
        cells = [col.board.cells[(m, col.key.label)] for m in models]
        means = [c.mean for c in cells]
        errs = [c.std if c.n_seeds > 1 and c.std == c.std else 0.0 for c in cells]
        ax.bar(range(len(models)), means, yerr=errs, capsize=3, color="#4c78a8")
        ax.set_xticks(range(len(models)), models, rotation=30, ha="right", fontsize=8)
        ax.set_title(col.header, fontsize=9)
        ax.tick_params(axis="y", labelsize=8)
        parts.append(f"{col.header}: " + ", ".join(
            f"{m} {number(c.mean)}" for m, c in zip(models, cells)))
    alt = (f"Bar chart, {table.dataset} {table.track}: headline metric per protocol and model, "
           f"error bars = std over seeds. " + "; ".join(parts))
    path = _save(fig, out, slug(f"headline-{table.dataset}-{table.track}"))
    return Figure(path, alt, f"{table.dataset} | {table.track}: headline metrics "
                             "(mean, error bars = std over seeds)")


_SUPPORT = re.compile(r"^new_user_n(\d+)$")


def cold_start_support(runs: list[Run], out: Path) -> list[Figure]:
    figs = []
    groups = group_runs(runs)
    for dataset in sorted({d for d, _ in groups}):
        sizes: dict[int, str] = {}
        for (d, _), seeds in groups.items():
            for r in seeds.values():
                if d != dataset:
                    continue
                default = r.config.get("track_settings", {}).get("cold_start", {}).get(
                    "default_support")
                for k in r.values:
                    m = _SUPPORT.match(k.protocol) if k.track == "cold_start" else None
                    if m:
                        sizes[int(m.group(1))] = k.protocol
                    elif k.track == "cold_start" and k.protocol == "new_user" and default is not None:
                        sizes[int(default)] = "new_user"
        if len(sizes) < 2:
            continue
        metric = MetricKey("cold_start", "new_user", "auc", None)
        present = any(MetricKey("cold_start", p, "auc", None) in r.values
                      for p in sizes.values() for s in groups.values() for r in s.values())
        if not present:
            metric = MetricKey("cold_start", "new_user", "ndcg", 10)
        plt = _pyplot()
        fig, ax = plt.subplots(figsize=(6.5, 3.2))
        described = []
        for (d, model), seeds in sorted(groups.items()):
            if d != dataset:
                continue
            stats = [(n, _stat(seeds, MetricKey("cold_start", p, metric.metric, metric.k)))
                     for n, p in sorted(sizes.items())]
            pts = [(n, s) for n, s in stats if s is not None]
            if not pts:
                continue
            ax.errorbar([n for n, _ in pts], [s[0] for _, s in pts],
                        yerr=[s[1] for _, s in pts], marker="o", capsize=3, label=model)
            described.append(f"{model} " + ", ".join(f"N={n}: {number(s[0])}" for n, s in pts))
        ax.set_xlabel("support interactions per new user (N)")
        ax.set_ylabel(metric.label)
        ax.set_xticks(sorted(sizes))
        ax.legend(fontsize=7)
        alt = (f"Line chart, {dataset} cold start: {metric.label} of new users by number of "
               "support interactions, one line per model. " + "; ".join(described))
        figs.append(Figure(_save(fig, out, slug(f"cold-start-{dataset}")), alt,
                           f"{dataset}: cold-start {metric.label} by support size "
                           "(error bars = std over seeds)"))
    return figs


def ablation_deltas(runs: list[Run], out: Path) -> list[Figure]:
    """Families: one registry model run under several labels on a dataset (params differ)."""
    families: dict[tuple[str, str], dict[str, dict[int, Run]]] = {}
    for (dataset, label), seeds in group_runs(runs).items():
        first = next(iter(seeds.values()))
        families.setdefault((dataset, first.registry_name), {})[label] = seeds
    figs = []
    for (dataset, name), variants in sorted(families.items()):
        if len(variants) < 2:
            continue
        ref = next((lbl for lbl, s in variants.items()
                    if next(iter(s.values())).params.get("variant") == "full"), sorted(variants)[0])
        keys = [k for k in ABLATION if _stat(variants[ref], k) is not None]
        if not keys:
            continue
        plt = _pyplot()
        others = sorted(v for v in variants if v != ref)
        fig, axes = plt.subplots(1, len(keys), squeeze=False,
                                 figsize=(min(3.6 * len(keys) + 1, 13), 0.45 * len(others) + 1.4))
        described = []
        for ax, key in zip(axes[0], keys):
            base = _stat(variants[ref], key)
            assert base is not None  # keys are those the reference has
            stats = [_stat(variants[v], key) for v in others]
            deltas = [np.nan if s is None else s[0] - base[0] for s in stats]
            ax.barh(range(len(others)), deltas, xerr=[0 if s is None else s[1] for s in stats],
                    capsize=3, color=["#c44e52" if d < 0 else "#55a868" for d in deltas])
            ax.set_yticks(range(len(others)), others, fontsize=8)
            ax.axvline(0, color="black", linewidth=0.8)
            ax.set_title(f"Δ {key} vs {ref}", fontsize=8)
            described.append(f"{key}: " + ", ".join(f"{v} {d:+.4f}" for v, d in zip(others, deltas)))
        alt = (f"Horizontal bar chart, {dataset} {name} ablation: each variant minus {ref}. "
               + "; ".join(described))
        figs.append(Figure(_save(fig, out, slug(f"ablation-{dataset}-{name}")), alt,
                           f"{dataset}: {name} variants minus {ref} (error bars = variant's std "
                           "over seeds)"))
    return figs


def _train_seconds(run: Run) -> float | None:
    for k, v in run.values.items():
        if k.track == "efficiency" and k.metric == "train_seconds":
            return v
    fit = run.efficiency.get("fit_seconds")
    return float(fit) if isinstance(fit, (int, float)) else None


def efficiency_scatter(runs: list[Run], out: Path) -> list[Figure]:
    figs = []
    groups = group_runs(runs)
    for dataset in sorted({d for d, _ in groups}):
        mine = {m: s for (d, m), s in groups.items() if d == dataset}
        key = next((k for k in QUALITY if any(_stat(s, k) for s in mine.values())), None)
        if key is None:
            continue
        pts = []
        for model, seeds in sorted(mine.items()):
            q = _stat(seeds, key)
            t = [x for x in map(_train_seconds, seeds.values()) if x is not None]
            if q is not None and t:
                pts.append((model, max(float(np.mean(t)), 1e-3), q[0]))
        if len(pts) < 2:
            continue
        plt = _pyplot()
        fig, ax = plt.subplots(figsize=(6.5, 3.4))
        ax.scatter([p[1] for p in pts], [p[2] for p in pts], color="#4c78a8")
        for model, x, y in pts:
            ax.annotate(model, (x, y), fontsize=7, xytext=(3, 3), textcoords="offset points")
        ax.set_xscale("log")
        ax.set_xlabel("training time, s (log scale; mean over seeds)")
        ax.set_ylabel(str(key))
        alt = (f"Scatter plot, {dataset}: training time against {key}, one point per model. "
               + "; ".join(f"{m} {x:.2f} s, {number(y)}" for m, x, y in pts))
        figs.append(Figure(_save(fig, out, slug(f"efficiency-{dataset}")), alt,
                           f"{dataset}: training time vs {key} (up and left is better)"))
    return figs
