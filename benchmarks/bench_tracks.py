"""pytest-benchmark timings of the new tracks' hot paths on MovieLens-100K.

Run: .venv/bin/python -m pytest benchmarks/bench_tracks.py --benchmark-enable -p no:cacheprovider
(the project's pytest config disables benchmarks by default; this file is outside ``tests/`` so
the default tier never collects it). Each benchmark also checks its result, so a fast but wrong
kernel fails.

- explanation metric kernels: corpus + sentence BLEU, ROUGE, PETER feature measures, grounding
  on 500 explanation / reference pairs;
- cold-start set building (new users of five support sizes + new items) from the frozen split;
- full-ranking evaluation of one cold-start protocol (all warm items, ~40 new users);
- explanation scoring of 200 pairs end to end (silver references, metrics), template model.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmark.data.coldstart import ColdStartSpec, build_coldstart  # noqa: E402
from benchmark.explain.silver import SilverBuilder  # noqa: E402
from benchmark.metrics import explanation as xm  # noqa: E402
from benchmark.models.base import Capability, Recommender  # noqa: E402


@pytest.fixture(scope="module")
def split(tmp_path_factory):
    from benchmark.runner.prepare import prepare_split

    s, _ = prepare_split("ml-100k", 0, cache_dir=tmp_path_factory.mktemp("cache"))
    return s


@pytest.fixture(scope="module")
def texts(split):
    builder = SilverBuilder(split.catalog, split.train.concat(split.valid))
    rng = np.random.default_rng(0)
    users = rng.integers(0, split.n_users, 500)
    items = rng.integers(0, split.n_items, 500)
    refs = [builder.build(int(u), int(i)) for u, i in zip(users, items)]
    hyps = [r.against for r in refs]  # different wording, shared titles and genres
    return builder, users, items, [r.text for r in refs], hyps


def test_bench_explanation_kernels(benchmark, texts):
    builder, users, items, refs, hyps = texts
    genres = sorted({g for gs in builder.genres for g in gs})
    matcher = xm.TermMatcher(genres + builder.titles)
    allowed = [builder.item_terms(int(i)) | builder.history_terms(int(u))
               for u, i in zip(users, items)]

    def kernels():
        bleu = xm.bleu_scores(hyps, refs)
        rouge = xm.rouge_scores(hyps, refs)
        found = xm.feature_sets(hyps, xm.TermMatcher(genres))
        g = xm.grounding([matcher.find(h) for h in hyps], allowed)
        return bleu, rouge, xm.feature_diversity(found), g

    bleu, rouge, div, g = benchmark(kernels)
    assert 0 < bleu["bleu1"] < 100 and rouge["rouge_l"].shape == (500,)
    assert g[0] == pytest.approx(1.0)  # the silver "against" text cites only the item's terms


def test_bench_coldstart_build(benchmark, split):
    cs = benchmark(build_coldstart, split, ColdStartSpec())
    assert sorted(cs.new_users) == [0, 1, 2, 3, 4]
    assert not set(cs.train.frame["item"]) & set(cs.new_items)


class _Pop(Recommender):
    capabilities = frozenset({Capability.RANK, Capability.SCORE, Capability.EXPLAIN,
                              Capability.COLD_USER})

    def fit(self, train, valid, *, seed):
        self._remember(train, valid)
        self.pop = np.bincount(train.frame["item"], minlength=self.n_items).astype(float)

    def score_all(self, users):
        return np.tile(self.pop, (len(users), 1))

    def explain(self, users, items):
        titles = self.history.catalog.items["title"]
        return [f"You may enjoy {titles[i]}: many people watch it." for i in items]


def test_bench_coldstart_full_ranking(benchmark, split):
    from benchmark.tracks.base import TrackResult
    from benchmark.tracks.cold_start import ColdStartSettings, ColdStartTrack, _rows_of

    cs = build_coldstart(split, ColdStartSpec())
    model = _Pop()
    model.fit(cs.train, cs.valid, seed=0)
    track = ColdStartTrack(ColdStartSettings(), None, progress=False)
    warm = np.ones(split.n_items, dtype=bool)
    warm[cs.new_items] = False
    part = _rows_of(cs.user_eval, cs.new_users[2])
    history = cs.train.concat(cs.valid)

    def evaluate():
        result = TrackResult(track="cold_start")
        track._evaluate(result, model, "new_user", part, history, warm, model.pop,
                        pop_users=False, pop_items=False, max_users=None, seed=0)
        return result

    result = benchmark(evaluate)
    assert {r.metric for r in result.rows} >= {"ndcg", "auc", "gauc"}


def test_bench_explanation_scoring(benchmark, split):
    from benchmark.runner.prepare import resolve_dataset
    from benchmark.tracks.explanation import ExplanationSettings, ExplanationTrack

    model = _Pop()
    model.fit(split.train, split.valid, seed=0)
    track = ExplanationTrack(ExplanationSettings(max_pairs=200), None, progress=False)
    result = benchmark(track.evaluate, model, split, resolve_dataset("ml-100k"), 0)
    rows = {r.metric: r.value for r in result.rows}
    assert len(result.samples) == 200 and rows["fidelity"] > 0
