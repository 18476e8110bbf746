"""Review references (Amazon): the reference of a pair is the user's own review of the item."""

from __future__ import annotations

import json

import numpy as np
from sacrebleu.metrics import BLEU

from benchmark.models.base import Capability, Recommender
from benchmark.runner.prepare import prepare_split, resolve_dataset
from benchmark.tracks.explanation import ExplanationSettings, ExplanationTrack


class Echo(Recommender):
    """Explains with a fixed sentence; scores by item id (higher id = better)."""

    capabilities = frozenset({Capability.RANK, Capability.SCORE, Capability.EXPLAIN})

    def fit(self, train, valid, *, seed):
        self._remember(train, valid)

    def score_all(self, users):
        return np.tile(np.arange(self.n_items, dtype=float), (len(users), 1))

    def explain(self, users, items):
        return [f"You may enjoy this: reviewer on item {self.history.catalog.item_ids[i]}"
                for i in items]


def test_review_references_come_from_the_raw_file(tmp_path):
    rng = np.random.default_rng(0)
    texts = {}
    with (tmp_path / "r.json").open("w") as fh:
        for u in range(12):
            for t, i in enumerate(rng.choice(10, size=6, replace=False)):
                text = f"user U{u} liked item I{i} a lot" if t % 2 else ""
                texts[(f"U{u}", f"I{i}")] = text
                fh.write(json.dumps({"reviewerID": f"U{u}", "asin": f"I{i}", "overall": 5.0,
                                     "unixReviewTime": 1000 + t, "reviewText": text,
                                     "summary": "", "helpful": [0, 0]}) + "\n")
    (tmp_path / "d.toml").write_text('name = "d"\nloader = "amazon"\npaths = { reviews_path = '
                                     '"r.json" }\noptions = { version = "2014" }\n')
    dataset = str(tmp_path / "d.toml")
    split, _ = prepare_split(dataset, 0, cache_dir=tmp_path / "cache")
    model = Echo()
    model.fit(split.train, split.valid, seed=0)
    result = ExplanationTrack(ExplanationSettings(max_pairs=50), None).evaluate(
        model, split, resolve_dataset(dataset), 0)
    cat = split.catalog
    assert result.samples and all(s["protocol"] == "review" for s in result.samples)
    for s in result.samples:
        assert s["reference"] == texts[(cat.user_ids[s["user"]], cat.item_ids[s["item"]])]
        assert s["reference"]  # pairs without review text are dropped, and counted
    dropped = result.info["explanation_pairs_without_review"]
    assert dropped + len(result.samples) == split.test.frame["user"].nunique()
    rows = {r.metric: r.value for r in result.rows}
    hyps = [s["explanation"] for s in result.samples]
    refs = [s["reference"] for s in result.samples]
    assert rows["bleu4"] == BLEU().corpus_score(hyps, [refs]).score
    assert rows["fidelity"] == np.mean([s["predicted_like"] for s in result.samples])
