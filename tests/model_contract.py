"""Tests every Recommender must pass (LensKit-style shared mixin).

Subclass ``RecommenderContract`` in a test module, set ``model_name`` and ``params``; the split is
the planted two-group synthetic data from conftest, on which a learning model must beat
``must_beat`` in NDCG@10 under full ranking.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pytest

from benchmark.metrics.ranking import ranking_metrics
from benchmark.registry import build_model


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
