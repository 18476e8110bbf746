"""What a run page shows: provenance (config, fingerprint, split, environment, efficiency), the
run's numbers, and the samples its tracks stored in samples.jsonl.

Explanation samples are shown beside their reference, the item, the user's recent history (the
judge's context when the run was judged, else read from the split folder the run recorded), the
judge's ratings and the per-sample fidelity and cited terms; TALLRec samples show the prompt,
P(Yes) and the label. Whatever a run folder does not hold is said, never invented.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from benchmark.report.runs import Run
from benchmark.report.site.common import number
from benchmark.report.site.history_lookup import recent_history

#: at most this many samples of each kind per run page
MAX_SAMPLES = 25


@dataclass
class RunPage:
    run: Run
    path: str
    siblings: list[tuple[int, str]]  # (seed, page path) of the same model and dataset
    facts: list[tuple[str, str]]
    metric_groups: list[tuple[str, list[tuple[str, str, int | None]]]]
    sections: dict[str, Any]
    explanations: list[dict] = field(default_factory=list)
    explanation_note: str = ""
    explanation_summary: list[tuple[str, str]] = field(default_factory=list)
    prompts: list[dict] = field(default_factory=list)
    other_samples: list[dict] = field(default_factory=list)
    n_samples: int = 0


def read_samples(run: Run, name: str = "samples.jsonl") -> list[dict]:
    """The JSON objects of one JSON-lines file of the run folder (none if it is missing)."""
    path = run.folder / name
    if not path.is_file():
        return []
    out = []
    for line in path.read_text().splitlines():
        try:
            obj = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(obj, dict):
            out.append(obj)
    return out


def build_run_page(run: Run, path: str, siblings: list[tuple[int, str]]) -> RunPage:
    m = run.config.get("model", {})
    split = run.metrics.get("split", {})
    fp = run.config.get("fingerprint", {}) or {}
    facts = [("model", f"{run.model} ({m.get('class', m.get('name', '?'))})"),
             ("dataset", run.dataset), ("seed", str(run.seed)),
             ("suite", str(run.metrics.get("suite", "-"))),
             ("split", f"{split.get('strategy', '?')} {split.get('ratios', '')} hash "
                       f"{run.split_hash[:12]}"),
             ("fingerprint", str(fp.get("sha256", "-"))[:16]),
             ("commit", run.commit), ("folder", str(run.folder))]
    groups: dict[str, list[tuple[str, str, int | None]]] = {}
    for r in run.metrics.get("rows", []):
        label = r["metric"] + (f"@{r['k']}" if r.get("k") is not None else "")
        groups.setdefault(f"{r['track']} / {r['protocol']}", []).append(
            (label, number(float(r["value"])), r.get("n")))
    sections = {"model config": {k: v for k, v in m.items()},
                "dataset": run.config.get("dataset", {}), "split": split,
                "track settings": run.config.get("track_settings", {}),
                "fingerprint": fp, "environment": run.env, "efficiency": run.efficiency}
    page = RunPage(run, path, siblings, facts, sorted(groups.items()), sections)
    samples = read_samples(run)
    page.n_samples = len(samples)
    _fill_samples(page, samples)
    return page


def _fill_samples(page: RunPage, samples: list[dict]) -> None:
    run = page.run
    expl = [s for s in samples if s.get("track") == "explanation"]
    tall = [s for s in samples if s.get("track") == "tallrec" or s.get("protocol") == "tallrec"]
    rest = [s for s in samples if s not in expl and s not in tall]
    if expl:
        shown = expl[:MAX_SAMPLES]
        history: dict[int, list[str]] = {}
        why = ""
        if any("judge_context" not in s for s in shown):
            history, why = recent_history(run, [int(s["user"]) for s in shown if "user" in s])
        posthoc = _posthoc_ratings(run)
        page.explanations = [_explanation_row(s, history, posthoc) for s in shown]
        page.explanation_note = (f"{len(shown)} of {len(expl)} stored pairs"
                                 + (f"; recent history: {why}" if why else ""))
        wanted = ("fidelity", "stance_rate", "grounding", "rouge_l", "bleu4", "judge_usefulness",
                  "judge_accuracy", "judge_clarity")
        page.explanation_summary = [
            (f"{k.protocol}/{k.label}", number(v)) for k, v in run.values.items()
            if k.track == "explanation" and k.metric in wanted]
    page.prompts = [{"title": s.get("title"), "prompt": s.get("prompt") or "",
                     "p_yes": s.get("prediction"), "label": s.get("reference"),
                     "user": s.get("user_raw", s.get("user"))} for s in tall[:MAX_SAMPLES]]
    page.other_samples = [{k: _short(v) for k, v in s.items()} for s in rest[:MAX_SAMPLES]]


def _stance(v: Any) -> str:
    return {1: "for", -1: "against", 0: "none"}.get(v, "-") if isinstance(v, int) else "-"


def _posthoc_ratings(run: Run) -> dict[tuple, dict]:
    """Ratings `recbench judge RUNDIR` wrote to judge.jsonl, by (user, item, protocol)."""
    out: dict[tuple, dict] = {}
    for line in read_samples(run, "judge.jsonl"):
        out[(line.get("user"), line.get("item"), line.get("protocol"))] = line
    return out


def _ratings(judge: Any) -> dict[str, str]:
    """criterion -> rating text ("unrated" when the judge gave none)."""
    if not isinstance(judge, dict):
        return {}
    return {k: "unrated" if v is None else f"{v:g}" for k, v in judge.items()
            if v is None or isinstance(v, (int, float))}


def _explanation_row(s: dict, history: dict[int, list[str]],
                     posthoc: dict[tuple, dict]) -> dict:
    user = s.get("user")
    recent = s.get("judge_context") or history.get(int(user) if user is not None else -1, [])
    liked = s.get("predicted_like")
    stance = s.get("stance")
    faithful = None
    if isinstance(stance, int) and liked is not None and stance != 0:
        faithful = stance == (1 if liked else -1)
    later = posthoc.get((user, s.get("item"), s.get("protocol")), {})
    ratings = _ratings(s.get("judge") or later.get("judge"))
    ref_ratings = _ratings(s.get("judge_reference") or later.get("judge_reference"))
    return {"user": user, "item": s.get("item"), "title": s.get("title") or "",
            "history": list(recent)[-5:], "explanation": s.get("explanation") or "",
            "reference": s.get("reference") or "", "protocol": s.get("protocol", ""),
            "for": s.get("for"), "against": s.get("against"),
            "prediction": "like" if liked else ("dislike" if liked is not None else "-"),
            "percentile": s.get("score_percentile"), "stance": _stance(stance),
            "faithful": faithful, "cited": list(s.get("cited") or []),
            "readable": s.get("readable"), "judge": ratings, "judge_reference": ref_ratings,
            "judge_later": bool(later) and not s.get("judge")}


def _short(v: Any, n: int = 300) -> str:
    text = v if isinstance(v, str) else json.dumps(v, default=str)
    return text if len(text) <= n else text[:n] + " …"
