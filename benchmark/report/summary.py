"""The table printed at the end of `recbench run`: headline metrics per model, with provenance."""

from __future__ import annotations

import json
from pathlib import Path

HEADLINE = [("full", "ndcg", 10), ("full", "recall", 10), ("full", "hit", 10),
            ("sampled", "ndcg", 10), ("pointwise", "auc", None), ("pointwise", "gauc", None)]


def print_summary(suite, out: Path, outcome) -> None:
    from rich.console import Console
    from rich.table import Table

    from benchmark.runner import store

    console = Console(stderr=False)
    if not console.is_terminal or console.width < 150:
        console = Console(width=150)
    by_dataset: dict[str, list] = {}
    for job in outcome.jobs:
        by_dataset.setdefault(job.key.dataset, []).append(job)
    for dataset, jobs in by_dataset.items():
        split_desc = ""
        table = Table(title=f"{suite.name} | {dataset}", show_lines=False)
        table.add_column("model")
        table.add_column("seed", justify="right")
        for protocol, metric, k in HEADLINE:
            table.add_column(f"{metric}{'@' + str(k) if k else ''}\n[{protocol}]", justify="right")
        table.add_column("fit s", justify="right")
        table.add_column("status")
        for job in jobs:
            if job.status == "failed":
                table.add_row(job.key.model, str(job.key.seed), *[""] * len(HEADLINE), "",
                              "[red]failed[/red] (below)")
                continue
            m = store.read_metrics(job.folder)
            s = m["split"]
            split_desc = (f"split={s['strategy']} {s['ratios']} seed={s['seed']} "
                          f"hash={s['hash'][:12]} positives={s['positives']} "
                          f"like>={s['like_threshold']:g}")
            values = {(r["protocol"], r["metric"], r["k"]): r["value"] for r in m["rows"]}
            eff = json.loads((job.folder / "efficiency.json").read_text())
            cells = [f"{values[h]:.4f}" if h in values else "-" for h in HEADLINE]
            table.add_row(job.key.model, str(job.key.seed), *cells, f"{eff['fit_seconds']:.1f}",
                          "done" if job.status == "done" else "resumed")
        table.caption = (f"{split_desc}\nfull = all items minus train/valid; sampled = "
                         f"positives + {suite.accuracy.sampled_negatives} frozen negatives; "
                         f"pointwise = labelled test pairs. Results: {out}")
        console.print(table)
    failed = [j for j in outcome.jobs if j.status == "failed"]
    for job in failed:
        console.print(f"[red]failed[/red] {job.key.dataset}/{job.key.model} seed {job.key.seed}: "
                      f"{job.error}\n  details: {job.folder / 'error.json'}", markup=True,
                      highlight=False)
