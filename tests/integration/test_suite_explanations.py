"""The explanations of the measured ``suites/explainrec.toml`` run (committed by
``scripts/suite_explanations.py``; provenance on the file's first line) are text a person reads:
at least 90% of ExplainRec full's explanations are sentences of six or more words that name the
item or one of its genres, and none is a fragment of a title. The check is recomputed here from
the texts, not read from the run's own verdicts (which must agree)."""

from __future__ import annotations

import json
from pathlib import Path

from benchmark.metrics.readable import continues_title, readable

SAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "suite_runs" / \
    "explainrec_explanations.jsonl"


def _load() -> tuple[dict, list[dict]]:
    lines = SAMPLES.read_text(encoding="utf-8").splitlines()
    head = json.loads(lines[0])
    rows = [json.loads(x) for x in lines[1:]]
    assert head["rows"] == len(rows)
    return head["provenance"], rows


def test_provenance_names_the_suite_and_split():
    prov, _ = _load()
    assert prov["suite"] == "explainrec"
    assert prov["split"]["dataset"] == "ml-100k" and len(prov["split"]["hash"]) == 64


def test_explainrec_full_explanations_are_readable_sentences():
    _, rows = _load()
    full = [r for r in rows if r["model"] == "explainrec-full"]
    assert len(full) >= 16
    ok = [readable(r["explanation"], r["title"], r["genres"]) for r in full]
    assert ok == [r["readable"] for r in full]  # the track's verdicts, recomputed
    assert sum(ok) / len(ok) >= 0.9, [r["explanation"] for r, good in zip(full, ok) if not good]


def test_no_explanation_of_any_variant_is_a_title_fragment():
    _, rows = _load()
    explainrec = [r for r in rows if r["model"].startswith("explainrec")]
    assert {r["model"] for r in explainrec} >= {"explainrec-full"}
    for r in explainrec:
        text = r["explanation"].strip()
        assert not continues_title(text, r["title"]), (r["model"], text)
