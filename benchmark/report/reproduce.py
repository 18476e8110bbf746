"""`recbench reproduce`: published numbers beside ours, the difference and a verdict.

Verdicts: "reproduced" (the published value lies inside our confidence interval), "not
reproduced" (outside it), or "not comparable" with the reason: other dataset, other backbone, no
run of that model, no such metric in our runs, or no confidence interval to judge by. Our number
is shown whenever we have one, comparable or not. A published BLEU / ROUGE whose scale the paper
does not state (0-1 or 0-100) is shown in both readings and is "not comparable: unknown scale",
never judged across scales. A weighted metric's CI (GAUC) is of its weighted mean. The human-evaluation table is set beside an
LLM judge's ratings (``benchmark.report.human_study``): "not comparable: different instrument",
with extra rows for the other explaining models the judge rated in the given runs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats as sps

from benchmark.report import human_study
from benchmark.report.compare import weight_key
from benchmark.report.leaderboard import per_user_over_seeds
from benchmark.report.paper import OUR_SCALE, Column, PaperTable, ReproVerdict, Row
from benchmark.report.runs import MetricKey, Run
from benchmark.stats.bootstrap import mean_ci
from benchmark.stats.weighted import weighted_mean_ci

SCALE_VERDICT: ReproVerdict = "not comparable: unknown scale"

BACKBONE_KEYS = ("backbone", "base_model", "model_name", "llm", "lm")


@dataclass
class Verdict:
    row: str
    column: str
    paper: float
    ours: float | None = None
    ours_std: float | None = None
    n_seeds: int = 0
    ci: tuple[float, float] | None = None
    dataset: str = ""
    verdict: ReproVerdict = "not comparable"
    why: str = ""
    #: the published value on our scale per reading, when the paper does not state its scale
    readings: dict[str, float] | None = None

    @property
    def delta(self) -> float | None:
        """ours - paper; None across an unknown scale (see ``deltas``)."""
        if self.ours is None or np.isnan(self.paper) or self.readings:
            return None
        return self.ours - self.paper

    @property
    def deltas(self) -> dict[str, float]:
        """ours - paper per reading of an unknown scale (empty when the scale is known)."""
        if self.ours is None or not self.readings:
            return {}
        return {scale: self.ours - value for scale, value in self.readings.items()}


def _model_config(run: Run) -> dict:
    return {**run.params, **(run.config.get("model", {}).get("config") or {})}


def matches(run: Run, row: Row) -> bool:
    if run.registry_name != row.model:
        return False
    cfg = _model_config(run)
    return all(cfg.get(k) == v for k, v in row.params.items())


def _key_in(run: Run, col: Column) -> MetricKey | None:
    for key in run.values:
        if (key.track == col.track and key.metric == col.metric and key.k == col.k
                and (col.protocol == "*" or key.protocol == col.protocol)):
            return key
    return None


def _backbone(run: Run) -> str | None:
    cfg = _model_config(run)
    for k in BACKBONE_KEYS:
        if isinstance(cfg.get(k), str):
            return cfg[k]
    return None


def _same_backbone(ours: str, paper: str) -> bool:
    norm = lambda s: "".join(ch for ch in s.lower() if ch.isalnum())  # noqa: E731
    return norm(paper) in norm(ours)


def judge(table: PaperTable, runs: list[Run], *, confidence: float = 0.95, seed: int = 0,
          n_resamples: int = 2000) -> list[Verdict]:
    out = []
    matched: set[int] = set()
    for row in table.rows:
        mine = [r for r in runs if matches(r, row)]
        matched |= {id(r) for r in mine}
        for col, published in zip(table.columns, row.values):
            out.append(_cell(table, row, col, published, mine, confidence, seed, n_resamples))
    if human_study.is_judge_table(table):  # the other explaining models the judge rated
        for label, mine in human_study.extra_models(table, runs, matched).items():
            for col in table.columns:
                v = Verdict(f"{label} (not in the paper's study)", col.header, float("nan"))
                human_study.fill_cell(v, col, mine, label, seed, n_resamples, confidence)
                out.append(v)
    return out


def _cell(table, row, col, published, mine, confidence, seed, n_resamples) -> Verdict:
    v = Verdict(row.name, col.header, published)
    what = row.model + (f" {row.params}" if row.params else "")
    if human_study.is_judge_table(table):
        human_study.fill_cell(v, col, mine, what, seed, n_resamples, confidence)
        return v
    v.readings = col.readings(published) or None
    _judge_cell(v, table, col, published, mine, what, confidence, seed, n_resamples)
    if v.readings:  # whatever else was found: a number of unknown unit is never judged
        v.verdict = SCALE_VERDICT
        v.why = _scale_why(col, v) + (f"; also {v.why}" if v.why else "")
    return v


def _scale_why(col: Column, v: Verdict) -> str:
    """Both readings of a published value of unknown scale, with ours on each."""
    assert v.readings
    said = " or ".join(f"{value:g} if the paper's scale is {scale}"
                       for scale, value in v.readings.items())
    ours = "" if v.ours is None else (
        f"; ours {v.ours:.4f}, Δ " + " / ".join(f"{d:+.4f} ({s})" for s, d in v.deltas.items()))
    return (f"the paper does not state its {col.metric} scale: on ours ({OUR_SCALE}) it reads "
            f"{said}{ours}; never judged across scales")


def _judge_cell(v: Verdict, table, col, published, mine, what, confidence, seed,
                n_resamples) -> None:
    """Our value, CI and verdict for one published number of a comparable scale."""
    if not mine:
        v.why = f"no run of {what} in the given run folders"
        return
    with_metric = [r for r in mine if _key_in(r, col) is not None]
    if not with_metric:
        v.why = (f"no run: our runs of {what} have no {col.track}/{col.protocol}/{col.metric}"
                 f"{'@' + str(col.k) if col.k else ''} rows (track not run?)")
        return
    on_paper_data = [r for r in with_metric if r.dataset in col.datasets]
    chosen = on_paper_data or with_metric
    dataset = sorted({r.dataset for r in chosen})[0]
    seeds = {r.seed: r for r in chosen if r.dataset == dataset}
    key = _key_in(next(iter(seeds.values())), col)
    assert key is not None  # every run in with_metric has it
    values = np.array([r.values[key] for r in seeds.values() if key in r.values]) * col.scale
    v.dataset, v.ours, v.n_seeds = dataset, float(values.mean()), len(values)
    v.ours_std = float(values.std(ddof=1)) if len(values) > 1 else None
    v.ci = _interval(seeds, key, values, col.scale, confidence, seed, n_resamples)
    if not on_paper_data:
        v.why = f"other dataset: ours {dataset}, paper {' / '.join(col.datasets)}"
    elif not table.comparable:
        v.why = table.not_comparable_reason
    elif table.backbone and not _same_backbone(_backbone(seeds[min(seeds)]) or "",
                                               table.backbone):
        ours = _backbone(seeds[min(seeds)])
        v.why = (f"other backbone: ours {ours}, paper {table.backbone}" if ours else
                 f"backbone unknown (the run records none; paper {table.backbone})")
    elif v.readings:
        return  # a published number of unknown scale is judged by no CI (``_cell`` says why)
    elif v.ci is None:
        v.why = "no confidence interval (one seed and no per-user values): run >= 2 seeds"
    else:
        v.verdict = "reproduced" if v.ci[0] <= published <= v.ci[1] else "not reproduced"
        v.why = f"paper value {'inside' if v.verdict == 'reproduced' else 'outside'} our CI"


def _interval(seeds: dict[int, Run], key: MetricKey, values: np.ndarray, scale: float,
              confidence: float, seed: int, n_resamples: int) -> tuple[float, float] | None:
    per_user = per_user_over_seeds(seeds, key, sorted(seeds))
    wk = weight_key(key)
    weights = None if wk is None else per_user_over_seeds(seeds, wk, sorted(seeds))
    if per_user is not None and len(per_user[1]) > 1 and wk is None:
        ci = mean_ci(per_user[1], confidence=confidence, seed=seed, n_resamples=n_resamples)
        return ci.low * scale, ci.high * scale
    if (per_user is not None and weights is not None and len(per_user[1]) > 1
            and np.array_equal(per_user[0], weights[0])):
        # a weighted metric (GAUC): the CI of the weighted mean it reports, users resampled
        ci = weighted_mean_ci(per_user[1], weights[1], confidence=confidence, seed=seed,
                              n_resamples=n_resamples)
        return ci.low * scale, ci.high * scale
    if len(values) >= 2:
        half = sps.t.ppf(0.5 + confidence / 2, len(values) - 1) * values.std(ddof=1) / np.sqrt(
            len(values))
        return float(values.mean() - half), float(values.mean() + half)
    return None


def what_the_table_says(table: PaperTable) -> list[str]:
    """Per column, which row the published numbers put first (costs: lowest)."""
    lower = table.columns[0].track == "efficiency"
    lines = []
    for j, col in enumerate(table.columns):
        vals = [(r.values[j], r.name) for r in table.rows]
        best = min(vals) if lower else max(vals)
        text = f"{col.header}: {best[1]} {best[0]:g}"
        own = [r for r in table.rows if r.model == table.paper]
        if own and own[0].name != best[1]:
            ranked = sorted(vals, reverse=not lower)
            pos = [n for _, n in ranked].index(own[0].name) + 1
            text += (f" ({own[0].name} {own[0].values[j]:g} ranks {pos} of {len(vals)}, "
                     f"{own[0].values[j] - best[0]:+.3g} from the best)")
        lines.append(text)
    return lines


def _fmt(x: float | None, decimals: int = 4) -> str:
    return "-" if x is None else f"{x:.{decimals}f}"


def render(tables: list[PaperTable], verdicts: list[list[Verdict]],
           confidence: float = 0.95) -> str:
    from tabulate import tabulate

    pct = int(round(confidence * 100))
    parts = []
    for table, cells in zip(tables, verdicts):
        rows = []
        for c in cells:
            ours = "-" if c.ours is None else (
                _fmt(c.ours) + (f" ± {_fmt(c.ours_std)}" if c.ours_std is not None else "")
                + f" ({c.dataset}, {c.n_seeds} seed{'s' if c.n_seeds != 1 else ''})")
            ci = "-" if c.ci is None else f"[{_fmt(c.ci[0])}, {_fmt(c.ci[1])}]"
            delta = "-" if c.delta is None else f"{c.delta:+.4f}"
            paper = "-" if np.isnan(c.paper) else str(c.paper)
            if c.readings:  # unknown scale: every reading on ours, and Δ for each
                paper = " / ".join(f"{x:g} (if {s})" for s, x in c.readings.items())
                if c.deltas:
                    delta = " / ".join(f"{d:+.4f} (if {s})" for s, d in c.deltas.items())
            rows.append([c.row, c.column, paper, ours, delta, ci, c.verdict, c.why])
        head = f"### {table.paper} Table {table.table}: {table.title}\n\nSource: {table.source}\n"
        body = tabulate(rows, ["row", "column", "paper", "ours", "Δ (ours − paper)",
                               f"our {pct}% CI", "verdict", "why"], tablefmt="github",
                        disable_numparse=True)
        counts = {v: sum(c.verdict.split(":")[0] == v for c in cells)
                  for v in ("reproduced", "not reproduced", "not comparable")}
        tail = ["", "Verdicts: " + ", ".join(f"{n} {v}" for v, n in counts.items()),
                "What the published table says (best per column): "
                + "; ".join(what_the_table_says(table)) + "."]
        tail += [f"Note: {n}" for n in table.notes]
        parts.append(head + "\n" + body + "\n" + "\n".join(tail) + "\n")
    return "\n".join(parts)
