"""`recbench compare`: every model against a baseline on the same users, metric by metric.

Per-user values are averaged over the seeds both models ran, paired by user id, and tested
(two-sided); p-values are corrected over the whole family of rows printed. Each row also says the
difference with a bootstrap CI, effect sizes, win/tie/loss over users, and the seed-level view
(mean +- std over seeds, paired test over seeds).

Fails closed like ``check``: a metric whose per-user values should exist but cannot be used (a
run's per_user.npz missing or damaged, or one model without values the other kept) gets the
seed-level row only, with a note, when >= 2 seeds are shared, else an error naming the file.
Pooled metrics (no per-user values on any run, e.g. AUC) are listed under the tables as not
compared, never dropped without a word.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from benchmark.errors import BenchError, DataError, UnknownNameError
from benchmark.report.comparable import reasons_not_comparable
from benchmark.report.metric_meta import direction
from benchmark.report.runs import (
    RERUN_FIX,
    MetricKey,
    PerUserSides,
    Run,
    group_runs,
    per_user_sides,
)
from benchmark.stats.bootstrap import mean_diff_ci
from benchmark.stats.corrections import correct
from benchmark.stats.effect import cohens_d_paired, rank_biserial
from benchmark.stats.paired import paired_test
from benchmark.stats.pairing import pair_by_user
from benchmark.stats.seeds import across_seeds
from benchmark.stats.wtl import win_tie_loss


@dataclass(frozen=True)
class CompareOptions:
    baseline: str
    metrics: tuple[str, ...] = ()
    test: str = "ttest"
    correction: str = "holm"
    confidence: float = 0.95
    n_resamples: int = 2000
    seed: int = 0
    alpha: float = 0.05


def selected(key: MetricKey, patterns: tuple[str, ...]) -> bool:
    """A pattern matches the label ('ndcg@10'), 'protocol/label' or 'track/protocol/label'."""
    if not patterns:
        return True
    names = {key.label, f"{key.protocol}/{key.label}", str(key)}
    return any(p in names for p in patterns)


def compare(runs: list[Run], opts: CompareOptions) -> pd.DataFrame:
    groups = group_runs(runs)
    models = sorted({m for _, m in groups})
    if opts.baseline not in models:
        raise UnknownNameError("baseline model", opts.baseline, models)
    rows: list[dict] = []
    pooled: list[str] = []
    unusable: dict[str, list[str]] = {}
    for (dataset, model), seeds in sorted(groups.items()):
        base = groups.get((dataset, opts.baseline))
        if model == opts.baseline or base is None:
            continue
        shared = sorted(set(seeds) & set(base))
        if not shared:
            raise BenchError(f"{model} and {opts.baseline} on {dataset} share no seed "
                             f"({sorted(seeds)} vs {sorted(base)})", "run both with the same seeds")
        for s in shared:
            why = reasons_not_comparable(seeds[s], base[s])
            if why:
                raise BenchError(f"cannot compare {model} with {opts.baseline} on {dataset} "
                                 f"seed {s}: {'; '.join(why)}",
                                 "compare runs made on the same split, protocol settings and "
                                 "metric version")
        keys = [k for k in seeds[shared[0]].values if k in base[shared[0]].values
                and selected(k, opts.metrics) and direction(k.metric) != 0]
        for key in keys:
            pu = per_user_sides(seeds, base, key, shared, shared)
            if pu.pooled:
                pooled.append(f"{model} {key}")
            elif pu.unusable and len(shared) < 2:
                unusable.setdefault("; ".join(pu.unusable), []).append(f"{model} {key}")
            else:
                rows.append(_row(dataset, model, key, seeds, base, shared, opts, pu))
    if unusable:
        what = "; ".join(f"{reason} (needed for {', '.join(m[:3])}"
                         f"{' ...' if len(m) > 3 else ''})" for reason, m in unusable.items())
        raise DataError(f"cannot compare per user: {what}",
                        f"{RERUN_FIX}; or run >= 2 seeds of both models (then only the "
                        "seed-level test is used for those metrics)")
    if not rows:
        raise BenchError("no metric with per-user values to compare"
                         + (f" among {', '.join(opts.metrics)}" if opts.metrics else "")
                         + (f" (pooled, tested over seeds only: {', '.join(pooled[:4])})"
                            if pooled else ""),
                         "check --metrics names against `recbench report` columns "
                         "(e.g. ndcg@10, full/ndcg@10)")
    df = pd.DataFrame(rows)
    df["p_corrected"] = correct(df["p"].to_numpy(), opts.correction)
    df.attrs["not_compared"] = pooled
    return df


def _row(dataset: str, model: str, key: MetricKey, runs: dict[int, Run], base: dict[int, Run],
         shared: list[int], opts: CompareOptions, pu: PerUserSides) -> dict:
    """One model-vs-baseline row: per-user test when possible, else the seed-level view only."""
    sm, sb, st = across_seeds({s: runs[s].values[key] for s in shared},
                              {s: base[s].values[key] for s in shared}, opts.test,
                              seed=opts.seed)
    seed_level = {"dataset": dataset, "track": key.track, "protocol": key.protocol,
                  "metric": key.label, "model": model, "baseline": opts.baseline,
                  "split_hash": runs[shared[0]].split_hash[:12],
                  "seeds": " ".join(map(str, shared)), "test": opts.test,
                  "model_seeds": sm.text(), "baseline_seeds": sb.text(), "p_seeds": st.pvalue,
                  "note": ""}
    a, b = pu.a, pu.b
    n_common = 0 if a is None or b is None else len(np.intersect1d(a[0], b[0]))
    if n_common < 2:
        # e.g. max_eval_users drew other users in each seed, or a per-user file is unusable:
        # the seed-level test only
        nan = float("nan")
        if pu.unusable:
            seed_level["note"] = ("seed-level test only, per-user values unusable: "
                                  + "; ".join(pu.unusable))
        return {**seed_level, "n_users": n_common,
                "baseline_mean": float(np.mean([base[s].values[key] for s in shared])),
                "model_mean": float(np.mean([runs[s].values[key] for s in shared])),
                "diff": nan, "ci_low": nan, "ci_high": nan, "p": nan, "cohens_d": nan,
                "rank_biserial": nan, "wins": 0, "ties": 0, "losses": 0}
    assert a is not None and b is not None
    p = pair_by_user(a[0], a[1], b[0], b[1], what=f"{model} vs {opts.baseline} {key}")
    test = paired_test(p.a, p.b, opts.test, seed=opts.seed)
    ci = mean_diff_ci(p.a, p.b, confidence=opts.confidence, n_resamples=opts.n_resamples,
                      seed=opts.seed)
    wtl = win_tie_loss(p.a, p.b, higher_is_better=direction(key.metric) > 0)
    return {**seed_level, "n_users": len(p),
            "baseline_mean": float(p.b.mean()), "model_mean": float(p.a.mean()),
            "diff": float(p.diff.mean()), "ci_low": ci.low, "ci_high": ci.high,
            "p": test.pvalue, "cohens_d": cohens_d_paired(p.a, p.b),
            "rank_biserial": rank_biserial(p.a, p.b), "wins": wtl.wins, "ties": wtl.ties,
            "losses": wtl.losses}


def render(df: pd.DataFrame, opts: CompareOptions, fmt: str = "md") -> str:
    if fmt == "csv":
        return df.to_csv(index=False)
    if fmt != "md":
        raise BenchError(f"unknown compare format {fmt!r}", "use md or csv")
    from tabulate import tabulate

    parts = []
    pct = int(round(opts.confidence * 100))
    for (dataset, track, protocol), g in df.groupby(["dataset", "track", "protocol"], sort=True):
        table = [[r.model, r.metric, r.n_users, f"{r.baseline_mean:.4f}", f"{r.model_mean:.4f}",
                  "n/a" if r.diff != r.diff else
                  f"{r.diff:+.4f} [{r.ci_low:+.4f}, {r.ci_high:+.4f}]", _p(r.p),
                  _p(r.p_corrected) + (" *" if r.p_corrected < opts.alpha else ""),
                  _num(r.cohens_d), _num(r.rank_biserial),
                  f"{r.wins}/{r.ties}/{r.losses}" if r.n_users >= 2 else "n/a", f"{r.model_seeds} vs {r.baseline_seeds}",
                  _p(r.p_seeds)] for r in g.itertuples()]
        headers = ["model", "metric", "users", opts.baseline, "model", f"diff [{pct}% CI]",
                   "p", f"p ({opts.correction})", "d_z", "r_rb", "W/T/L", "over seeds",
                   "p (seeds)"]
        seeds = ", ".join(sorted({s for x in g["seeds"] for s in x.split()}, key=int))
        split = ", ".join(sorted(set(g["split_hash"])))
        parts.append(f"**{dataset} | {track} | protocol={protocol} | split hash {split} | "
                     f"vs {opts.baseline}**\n\n"
                     + tabulate(table, headers, tablefmt="github", disable_numparse=True)
                     + f"\n\n_Per-user values averaged over seeds {seeds}, paired by user id "
                     "(users = those both models were evaluated on in every seed; with fewer "
                     "than 2, e.g. when max_eval_users drew other users per seed, only the "
                     "seed-level test applies and the means are of the run means); "
                     f"two-sided {opts.test}; {opts.correction} correction over all "
                     f"{len(df)} rows of this comparison (* = below alpha {opts.alpha}); bootstrap CI ({opts.n_resamples} "
                     f"resamples, seed {opts.seed}); W/T/L = users where the model is "
                     f"better / equal / worse; 'over seeds' = mean ± std of the run means, "
                     f"p (seeds) = paired {opts.test} over seeds (needs ≥ 2)._\n")
        parts += [f"**note:** {r.model} {r.metric}: {r.note}\n" for r in g.itertuples()
                  if r.note]
    pooled = df.attrs.get("not_compared") or []
    if pooled:
        parts.append(f"_Not compared (pooled metrics without per-user values; see `recbench "
                     f"report` for their mean ± std over seeds): {', '.join(pooled)}._\n")
    return "\n".join(parts)


def _num(x: float) -> str:
    return "n/a" if x != x else f"{x:+.3f}"


def _p(p: float) -> str:
    if p != p:
        return "n/a"
    return f"{p:.2e}" if p < 1e-3 else f"{p:.4f}"
