"""Tests every Recommender must pass (LensKit-style shared mixin).

Subclass ``RecommenderContract`` in a test module, set ``model_name`` and ``params``; the split is
the planted two-group synthetic data from conftest, on which a learning model must beat
``must_beat`` in NDCG@10 under full ranking. Each optional ability the model has
(``benchmark.models.abilities``) is exercised too; the others' tests skip.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pytest

from benchmark.explain.contrastive import ContrastivePair
from benchmark.metrics.ranking import ranking_metrics
from benchmark.models.abilities import (
    ContrastiveExplainer,
    DatasetReader,
    ModelExplainer,
    PromptedExplainer,
    SampleScorer,
    abilities_of,
    ability_types,
    declaration_problems,
)
from benchmark.models.base import Recommender
from benchmark.registry import build_model, model_class


def full_ranking_ndcg(model, split, k: int = 10) -> float:
    test = split.test.positive_frame()
    users = np.unique(test.user.to_numpy())
    seen = split.train.concat(split.valid).frame
    exclude = [seen.item[seen.user == u].to_numpy() for u in users]
    top = model.rank(users, k, exclude=exclude)
    truth = [test.item[test.user == u].to_numpy() for u in users]
    return float(ranking_metrics(top, truth, [k], ["ndcg"])[f"ndcg@{k}"].mean())


class RecommenderContract:
    model_name: ClassVar[str]
    params: ClassVar[dict[str, Any]] = {}
    #: params of the 'samples' ability check (None = ``params``), e.g. features sized for the
    #: protocol's catalogue rather than the synthetic one
    samples_params: ClassVar[dict[str, Any] | None] = None
    must_beat: ClassVar[str | None] = "random"
    margin: ClassVar[float] = 0.02

    @pytest.fixture(scope="class")
    @classmethod
    def fitted(cls, split_synthetic, tmp_path_factory):
        model = build_model(cls.model_name, cls.params,
                            workdir=tmp_path_factory.mktemp(cls.model_name))
        model.fit(split_synthetic.train, split_synthetic.valid, seed=0)
        return model

    def test_score_all_shape_and_finite(self, fitted, split_synthetic):
        users = np.array([0, 3, 5])
        s = np.asarray(fitted.score_all(users))
        assert s.shape == (3, split_synthetic.n_items)
        assert np.isfinite(s).all()

    def test_score_matches_score_all(self, fitted):
        users = np.array([0, 0, 4, 7, 7])
        items = np.array([1, 30, 2, 3, 39])
        dense = np.asarray(fitted.score_all(np.array([0, 4, 7])))
        expected = dense[[0, 0, 1, 2, 2], items]
        np.testing.assert_allclose(fitted.score(users, items), expected, rtol=1e-5, atol=1e-6)

    def test_rank_is_sorted_and_respects_exclusions(self, fitted):
        users = np.array([1, 2])
        exclude = [np.array([0, 1, 2]), np.array([], dtype=np.int64)]
        top = fitted.rank(users, 5, exclude=exclude)
        assert top.shape == (2, 5)
        assert not set(top[0]) & {0, 1, 2}
        for row, u in enumerate(users):
            assert len(set(top[row])) == 5
            scores = fitted.score(np.full(5, u), top[row])
            assert np.all(np.diff(scores) <= 1e-9)

    def test_rank_over_candidates(self, fitted):
        cands = np.array([[5, 6, 7, 8], [9, 10, 11, 12]])
        top = fitted.rank(np.array([0, 1]), 2, candidates=cands)
        assert top.shape == (2, 2)
        assert set(top[0]) <= {5, 6, 7, 8} and set(top[1]) <= {9, 10, 11, 12}

    def test_rank_over_candidates_honours_exclude(self, fitted):
        cands = np.array([[5, 6, 7, 8], [9, 10, 11, 12]])
        exclude = [np.array([5, 6, 30]), np.array([], dtype=np.int64)]
        top = fitted.rank(np.array([0, 1]), 3, candidates=cands, exclude=exclude)
        assert top.shape == (2, 3)
        assert sorted(top[0, :2]) == [7, 8] and top[0, 2] == -1  # two eligible, one slot empty
        assert len(set(top[1])) == 3 and set(top[1]) <= {9, 10, 11, 12}

    # --- optional abilities -------------------------------------------------------------------
    def test_abilities_are_declared_types(self, fitted):
        cls = type(fitted)
        assert declaration_problems(cls) == []
        for kind in ability_types(cls):
            assert kind.capability in abilities_of(fitted)
            assert kind.requires <= cls.capabilities

    def test_contrastive_explanations(self, fitted):
        if not isinstance(fitted, ContrastiveExplainer):
            pytest.skip("no 'contrastive' ability")
        pairs = list(fitted.explain_contrastive(np.array([0, 1]), np.array([2, 3])))
        assert len(pairs) == 2
        for p in pairs:
            halves = p.halves() if isinstance(p, ContrastivePair) else p
            assert len(halves) == 2 and all(isinstance(h, str) for h in halves)

    def test_explain_prompts(self, fitted):
        if not isinstance(fitted, PromptedExplainer):
            pytest.skip("no 'explain_prompts' ability")
        prompts = fitted.explain_prompts(np.array([0, 1]), np.array([2, 3]))
        assert len(prompts) == 2 and all(isinstance(p, str) and p for p in prompts)

    def test_alignment_hooks(self, fitted):
        if not isinstance(fitted, ModelExplainer):
            pytest.skip("no 'alignment' ability")
        assert isinstance(fitted.explained_model, Recommender)
        assert np.asarray(fitted.alignment_train_users).ndim == 1
        users, cands = np.array([0, 1]), np.array([[5, 6, 7, 8], [9, 10, 11, 12]])
        s = np.asarray(fitted.align_scores("next_item", users, None, cands))
        assert s.shape == (2, 4) and np.isfinite(s).all()
        p = np.asarray(fitted.align_yes(users, np.array([2, 3])))
        assert p.shape == (2,) and ((p >= 0) & (p <= 1)).all()
        chosen = np.asarray(fitted.choose(users, cands))
        assert all(c in row for c, row in zip(chosen, cands))

    def test_protocol_samples(self, tmp_path):
        if not issubclass(model_class(self.model_name), SampleScorer):
            pytest.skip("no 'samples' ability")
        from benchmark.protocols.tallrec import load_protocol
        from benchmark.runner.prepare import resolve_dataset

        dataset = resolve_dataset("ml-100k")
        data = load_protocol(dataset)
        params = self.params if self.samples_params is None else self.samples_params
        model = build_model(self.model_name, params, workdir=tmp_path / "samples")
        if isinstance(model, DatasetReader):  # as the track does: the job's dataset first
            model.use_dataset(dataset)
        model.fit_samples(data.train[:16], data.valid[:8], data.titles, seed=0)
        s = np.asarray(model.score_samples(data.test[:6]))
        assert s.shape == (6,) and np.isfinite(s).all()

    def test_dataset_reader_takes_the_run_dataset(self):
        cls = model_class(self.model_name)
        if not issubclass(cls, DatasetReader):
            pytest.skip("no 'dataset' ability")
        from benchmark.errors import BenchError, ConfigError
        from benchmark.runner.prepare import resolve_dataset

        model = build_model(self.model_name, self.params)
        with pytest.raises(BenchError, match="needs the dataset being run"):
            model.require_dataset()
        data = resolve_dataset("ml-100k")
        model.use_dataset(data)
        assert model.require_dataset() is data
        if cls.dataset_field is not None:  # an older config naming another dataset: an error
            other = build_model(self.model_name, {**self.params, cls.dataset_field: "ml-1m"})
            with pytest.raises(ConfigError, match="'ml-1m'.*'ml-100k'"):
                other.use_dataset(data)

    def test_same_seed_same_scores(self, fitted, split_synthetic, tmp_path):
        again = build_model(self.model_name, self.params, workdir=tmp_path)
        again.fit(split_synthetic.train, split_synthetic.valid, seed=0)
        users = np.arange(6)
        np.testing.assert_array_equal(np.asarray(fitted.score_all(users)),
                                      np.asarray(again.score_all(users)))

    def test_learns_the_planted_structure(self, fitted, split_synthetic, tmp_path):
        if self.must_beat is None:
            pytest.skip("reference model: nothing to beat")
        floor = build_model(self.must_beat, {}, workdir=tmp_path)
        floor.fit(split_synthetic.train, split_synthetic.valid, seed=0)
        ours = full_ranking_ndcg(fitted, split_synthetic)
        theirs = full_ranking_ndcg(floor, split_synthetic)
        assert ours > theirs + self.margin, (ours, theirs)
