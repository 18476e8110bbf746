"""Copy the explanation-track samples of a finished suite run into a small, reviewable JSONL file.

Run: .venv/bin/python scripts/suite_explanations.py RUNDIR OUT.jsonl

One line per (model, pair): the model label, the item (id, title, genres from the run's dataset
catalogue), the explanation, its reference, the readability verdict and, for contrastive
explainers, both halves. The first line is provenance (suite, split with its hash, code commit, as
recorded in the run). ``tests/integration/test_suite_explanations.py`` checks the
committed copy from ``suites/explainrec.toml`` (issue 14: at least 90% of ExplainRec's
explanations are readable sentences, none a fragment of a title).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _genres(dataset: str, seed: int) -> list[list[str]]:
    """Genres of every internal item id of the run's split (the catalogue the track used)."""
    from benchmark.explain.silver import attribute_list
    from benchmark.runner.prepare import prepare_split

    split, _ = prepare_split(dataset, seed)
    items = split.catalog.items
    return [attribute_list(g) for g in items["genres"]] if "genres" in items else []


def main(run_dir: str, out: str) -> int:
    rows, meta = [], {}
    genres: dict[tuple[str, int], list[list[str]]] = {}
    for sample_file in sorted(Path(run_dir).glob("*/*/*/seed-*/samples.jsonl")):
        job = sample_file.parent
        config = json.loads((job / "config.json").read_text())
        label = job.parent.name
        key = (config["dataset"]["name"], int(config["seed"]))
        if key not in genres:
            genres[key] = _genres(*key)
        for line in sample_file.read_text().splitlines():
            s = json.loads(line)
            if s.get("track") != "explanation":
                continue
            row = {"model": label, "user": s["user"], "item": s["item"], "title": s["title"],
                   "genres": genres[key][s["item"]],
                   "explanation": s["explanation"], "reference": s["reference"],
                   "readable": s.get("readable")}
            for half in ("for", "against", "reference_for", "reference_against"):
                if half in s:
                    row[half] = s[half]
            rows.append(row)
        meta.setdefault("suite", config.get("suite"))
        meta.setdefault("split", config.get("split"))
        env = json.loads((job / "env.json").read_text()) if (job / "env.json").exists() else {}
        meta.setdefault("git_commit", env.get("git_commit"))
    if not rows:
        print(f"no explanation samples under {run_dir}", file=sys.stderr)
        return 1
    with open(out, "w", encoding="utf-8") as fh:
        fh.write(json.dumps({"provenance": meta, "rows": len(rows)}) + "\n")
        for r in rows:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    print(f"{len(rows)} explanations -> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
