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

Weighted metrics (GAUC: per-user AUC weighted by the user's positives) are compared on the
quantity the leaderboard shows, the weighted mean: the difference, its bootstrap CI, the test
(``benchmark.stats.weighted``) and d_z all weight each user by the weight its track stored
(``<metric>_weight`` in per_user.npz). Without stored weights (runs before metric version 3)
the per-user values are unusable, as above: a plain-mean test would test another quantity.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from benchmark.errors import BenchError, DataError, UnknownNameError
from benchmark.metrics.pointwise import WEIGHTED_METRICS, weight_name
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
from benchmark.stats.paired import TestResult, paired_test
from benchmark.stats.pairing import Paired, pair_by_user
from benchmark.stats.seeds import across_seeds
from benchmark.stats.weighted import (
    weighted_cohens_d,
    weighted_mean,
    weighted_mean_diff_ci,
    weighted_paired_test,
)
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


#: protocols whose reported value is a mean over queries, stored per user with the user's
#: number of queries as ``<metric>@k_weight`` (benchmark/tracks/next_item.py)
PER_QUERY_PROTOCOLS = ("next_item", "next_item_masked")


def weight_key(key: MetricKey) -> MetricKey | None:
    """Where a weighted metric's per-user weights are stored; None for a plain mean."""
    if key.protocol in PER_QUERY_PROTOCOLS:
        return key.weight()
    name = weight_name(key.metric)
    return None if name is None else MetricKey(key.track, key.protocol, name, None)


def metric_sides(a_runs: dict[int, Run], b_runs: dict[int, Run], key: MetricKey,
                 a_seeds: list[int], b_seeds: list[int]
                 ) -> tuple[PerUserSides, PerUserSides | None]:
    """``per_user_sides`` of ``key`` and, for a weighted metric, of its per-user weights.

    A weighted metric whose weights are missing or damaged gets unusable values (fail closed):
    testing the plain mean of its per-user values would test another quantity than the one
    reported. Weights are None for a plain-mean metric.
    """
    pu = per_user_sides(a_runs, b_runs, key, a_seeds, b_seeds)
    wk = weight_key(key)
    if wk is None or pu.pooled or pu.unusable:
        return pu, None
    pw = per_user_sides(a_runs, b_runs, wk, a_seeds, b_seeds)
    if pw.pooled:
        runs = [a_runs[s] for s in a_seeds] + [b_runs[s] for s in b_seeds]
        files = ", ".join(str(r.folder / "per_user.npz") for r in runs)
        why = (f"{files} hold(s) no {wk.per_user_key()}: {key.metric} is weighted by "
               f"{WEIGHTED_METRICS[key.metric]}, and a test without the weights (runs before "
               "metric version 3) would test another quantity than the one reported")
        return PerUserSides(unusable=(why,)), None
    if pw.unusable:
        return PerUserSides(unusable=pw.unusable), None
    return pu, pw


def _weights_of(users: np.ndarray, side: tuple[np.ndarray, np.ndarray], what: str
                ) -> np.ndarray:
    """The weights of ``users`` from one side's (sorted users, weights)."""
    wu, wv = side
    at = np.clip(np.searchsorted(wu, users), 0, max(len(wu) - 1, 0))
    if len(wu) == 0 or not np.array_equal(wu[at], users):
        missing = int(np.sum(np.isin(users, wu, invert=True)))
        raise DataError(f"{what}: {missing} user(s) have a value but no weight",
                        RERUN_FIX)
    return np.asarray(wv[at], dtype=np.float64)


def pair_sides(pu: PerUserSides, pw: PerUserSides | None, what: str
               ) -> tuple[Paired, np.ndarray | None]:
    """Values paired by user id and, for a weighted metric, each paired user's weight.

    The weight is the mean of the two sides' weights (the same number when both runs evaluated
    the same test pairs, as comparable runs do), averaged over seeds like the values.
    """
    assert pu.a is not None and pu.b is not None
    p = pair_by_user(pu.a[0], pu.a[1], pu.b[0], pu.b[1], what=what)
    if pw is None:
        return p, None
    assert pw.a is not None and pw.b is not None
    w = (_weights_of(p.users, pw.a, f"{what} (first run)")
         + _weights_of(p.users, pw.b, f"{what} (second run)")) / 2
    return p, w


def paired_p(p: Paired, weights: np.ndarray | None, test: str, seed: int = 0) -> TestResult:
    """The paired test of the reported quantity: plain mean, or weighted mean when weighted."""
    if weights is None:
        return paired_test(p.a, p.b, test, seed=seed)
    return weighted_paired_test(p.a, p.b, weights, test, seed=seed)


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
                and selected(k, opts.metrics) and direction(k.metric, k.track) != 0]
        for key in keys:
            pu, pw = metric_sides(seeds, base, key, shared, shared)
            if pu.pooled:
                pooled.append(f"{model} {key}")
            elif pu.unusable and len(shared) < 2:
                unusable.setdefault("; ".join(pu.unusable), []).append(f"{model} {key}")
            else:
                rows.append(_row(dataset, model, key, seeds, base, shared, opts, pu, pw))
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
         shared: list[int], opts: CompareOptions, pu: PerUserSides,
         pw: PerUserSides | None = None) -> dict:
    """One model-vs-baseline row: per-user test when possible, else the seed-level view only.

    With weights (``pw``), means, difference, CI, test and d_z are of the weighted mean.
    """
    sm, sb, st = across_seeds({s: runs[s].values[key] for s in shared},
                              {s: base[s].values[key] for s in shared}, opts.test,
                              seed=opts.seed)
    seed_level = {"dataset": dataset, "track": key.track, "protocol": key.protocol,
                  "metric": key.label, "model": model, "baseline": opts.baseline,
                  "split_hash": runs[shared[0]].split_hash[:12],
                  "seeds": " ".join(map(str, shared)), "test": opts.test,
                  "model_seeds": sm.text(), "baseline_seeds": sb.text(), "p_seeds": st.pvalue,
                  "weighted_by": WEIGHTED_METRICS.get(key.metric, "") if pw is not None else "",
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
    p, w = pair_sides(pu, pw, f"{model} vs {opts.baseline} {key}")
    test = paired_p(p, w, opts.test, seed=opts.seed)
    wtl = win_tie_loss(p.a, p.b, higher_is_better=direction(key.metric, key.track) > 0)
    if w is None:
        ci = mean_diff_ci(p.a, p.b, confidence=opts.confidence, n_resamples=opts.n_resamples,
                          seed=opts.seed)
        means = float(p.b.mean()), float(p.a.mean()), float(p.diff.mean())
        effects = cohens_d_paired(p.a, p.b), rank_biserial(p.a, p.b)
    else:
        ci = weighted_mean_diff_ci(p.a, p.b, w, confidence=opts.confidence,
                                   n_resamples=opts.n_resamples, seed=opts.seed)
        means = weighted_mean(p.b, w), weighted_mean(p.a, w), weighted_mean(p.diff, w)
        # the rank-biserial r has no weighted form: n/a rather than a plain-mean number
        effects = weighted_cohens_d(p.a, p.b, w), float("nan")
        if test.note.startswith("Wilcoxon"):
            seed_level["note"] = test.note
    return {**seed_level, "n_users": len(p),
            "baseline_mean": means[0], "model_mean": means[1], "diff": means[2],
            "ci_low": ci.low, "ci_high": ci.high, "p": test.pvalue, "cohens_d": effects[0],
            "rank_biserial": effects[1], "wins": wtl.wins, "ties": wtl.ties,
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
        weighted = sorted({(r.metric, r.weighted_by) for r in g.itertuples() if r.weighted_by})
        if weighted:
            parts.append("_Weighted metrics, as the leaderboard reports them: "
                         + "; ".join(f"{m} = per-user values weighted by {by}"
                                     for m, by in weighted)
                         + ". Their means, diff, CI (user-level bootstrap of the weighted "
                         "difference), test (weighted t: linearised standard error; or weighted "
                         "sign-flip) and d_z are of the weighted mean; r_rb is n/a; W/T/L counts "
                         "users._\n")
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
