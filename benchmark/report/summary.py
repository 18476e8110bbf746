"""The table printed at the end of `recbench run`: headline metrics per model, with provenance."""

from __future__ import annotations

import json
from pathlib import Path

HEADLINE = [("full", "ndcg", 10), ("full", "recall", 10), ("full", "hit", 10),
            ("sampled", "ndcg", 10), ("pointwise", "auc", None), ("pointwise", "gauc", None)]
#: one headline per other track, shown when the suite runs it: (track, protocol, metric, k)
TRACK_HEADLINE = {
    "cold_start": [("cold_start", "new_user", "auc", None), ("cold_start", "new_item", "auc", None),
                   ("cold_start", "cross_domain", "auc", None)],
    "explanation": [("explanation", "*", "bleu4", None), ("explanation", "*", "rouge_l", None)],
    "efficiency": [("efficiency", "*", "latency_ms_p50", None)],
    "alignment": [("alignment", "target", "next_hit", 5), ("alignment", "target", "interest_acc",
                                                           None)],
}


def print_summary(suite, out: Path, outcome) -> None:
    from rich.console import Console
    from rich.markup import escape
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
        headline = [("accuracy", p, m, k) for p, m, k in HEADLINE] if (
            "accuracy" in suite.tracks) else []
        for track in suite.tracks:
            headline += TRACK_HEADLINE.get(track, [])
        for track, protocol, metric, k in headline:
            where = track if protocol == "*" else protocol
            # escaped: rich would take "[new_user]" for a style tag and drop it
            table.add_column(escape(f"{metric}{'@' + str(k) if k else ''}\n[{where}]"),
                             justify="right")
        table.add_column("fit s", justify="right")
        table.add_column("status")
        for job in jobs:
            if job.status == "failed":
                table.add_row(job.key.model, str(job.key.seed), *[""] * len(headline), "",
                              "[red]failed[/red] (below)")
                continue
            m = store.read_metrics(job.folder)
            s = m["split"]
            split_desc = (f"split={s['strategy']} {s['ratios']} seed={s['seed']} "
                          f"hash={s['hash'][:12]} positives={s['positives']} "
                          f"like>={s['like_threshold']:g}")
            values = {}
            for r in m["rows"]:
                values[(r["track"], r["protocol"], r["metric"], r["k"])] = r["value"]
                values.setdefault((r["track"], "*", r["metric"], r["k"]), r["value"])
            eff = json.loads((job.folder / "efficiency.json").read_text())
            cells = [f"{values[h]:.4f}" if h in values else "-" for h in headline]
            fit = eff.get("fit_seconds")
            extra = sum((eff.get("extra_fit_seconds") or {}).values())
            fit_text = "-" if fit is None else f"{fit:.1f}"
            if extra:
                fit_text += f" (+{extra:.1f})"
            table.add_row(job.key.model, str(job.key.seed), *cells, fit_text,
                          "done" if job.status == "done" else "resumed")
        caption = f"{split_desc}"
        if "accuracy" in suite.tracks:
            caption += (f"\nfull = all items minus train/valid; sampled = positives + "
                        f"{suite.accuracy.sampled_negatives} frozen negatives; pointwise = "
                        "labelled test pairs.")
        if "cold_start" in suite.tracks or "efficiency" in suite.tracks:
            caption += ("\ncold_start auc: pointwise on each cold set (see info for fallbacks "
                        "and the cross-domain source); fit s (+extra fits on cold-start sets).")
        table.caption = f"{caption} Results: {out}"
        console.print(table)
    failed = [j for j in outcome.jobs if j.status == "failed"]
    for job in failed:
        console.print(f"[red]failed[/red] {job.key.dataset}/{job.key.model} seed {job.key.seed}: "
                      f"{job.error}\n  details: {job.folder / 'error.json'}", markup=True,
                      highlight=False)
