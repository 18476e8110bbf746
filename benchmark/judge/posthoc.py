"""Rate a finished run's explanation samples after the fact (``recbench judge``).

Reads the run's samples.jsonl and writes judge.jsonl (one line per rated sample) and judge.json
(the judge's label and the mean ratings per protocol) beside it. The stored metrics are never
touched: a judge chosen later must not rewrite a run's results.
"""

from __future__ import annotations

import json
from pathlib import Path

from benchmark import atomic
from benchmark.errors import DataError
from benchmark.judge.base import CRITERIA
from benchmark.judge.track_hook import requests_for, summarise


def _samples(folder: Path) -> list[dict]:
    path = folder / "samples.jsonl"
    if not path.is_file():
        raise DataError(f"{path} not found", "pass a complete run folder (recbench run writes "
                        "samples.jsonl next to metrics.json)")
    out = []
    with path.open() as fh:
        for n, line in enumerate(fh, 1):
            if line.strip():
                try:
                    out.append(json.loads(line))
                except json.JSONDecodeError as err:
                    raise DataError(f"{path}:{n}: not JSON ({err})",
                                    "the run folder is damaged; re-run it") from None
    return [s for s in out if s.get("track") == "explanation" and "explanation" in s]


def judge_run(folder: Path | str, judge, max_pairs: int | None = None,
              rate_references: bool = False) -> dict | None:
    """Rate the first ``max_pairs`` explanation samples per protocol; None if the run has none."""
    folder = Path(folder)
    samples = _samples(folder)
    if not samples:
        return None
    by_protocol: dict[str, list[dict]] = {}
    for s in samples:
        by_protocol.setdefault(str(s.get("protocol", "")), []).append(s)
    lines: list[dict] = []
    summary: dict[str, dict] = {}
    for protocol, group in sorted(by_protocol.items()):
        chosen = group[:max_pairs] if max_pairs else group
        rated = {"judge": judge.rate(requests_for(chosen, "explanation"))}
        if rate_references:
            rated["judge_reference"] = judge.rate(requests_for(chosen, "reference"))
        rows: dict = {}
        for key, ratings in rated.items():
            suffix = "_reference" if key == "judge_reference" else ""
            rows.update({m: {"value": v, "n": n}
                         for m, (v, n) in summarise(ratings, suffix).items()})
        summary[protocol] = rows
        for r, s in enumerate(chosen):
            lines.append({"user": s["user"], "item": s["item"], "protocol": protocol,
                          "title": s.get("title"),
                          **{k: ratings[r].to_json() for k, ratings in rated.items()}})
    with_context = sum(bool(s.get("judge_context")) for s in samples)
    result = {"judge": judge.label(), "criteria": list(CRITERIA), "protocols": summary,
              "rated_pairs": len(lines), "max_pairs": max_pairs,
              "user_context": f"liked titles known for {with_context} of {len(samples)} samples "
                              "(stored by a run with [explanation.judge]; else not shown)"}
    metrics = folder / "metrics.json"
    if metrics.is_file():
        m = json.loads(metrics.read_text())
        result["run"] = {k: m.get(k) for k in ("model", "dataset", "seed", "suite")}
    atomic.write_text(folder / "judge.jsonl", "".join(json.dumps(line) + "\n" for line in lines))
    atomic.write_text(folder / "judge.json", json.dumps(result, indent=2) + "\n")
    return result
