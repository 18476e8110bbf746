"""The base model contract has no holes: class-creation checks, the fit template, rank's one
semantics, abilities as types, and the suite-validation check of the abilities tracks need."""

from __future__ import annotations

from abc import abstractmethod

import numpy as np
import pytest

from benchmark.config.suite import load_suite
from benchmark.data.types import Interactions
from benchmark.errors import ConfigError
from benchmark.models.abilities import (
    ContrastiveExplainer,
    SampleScorer,
    abilities_of,
    declaration_problems,
)
from benchmark.models.base import Capability, Recommender

SCORES = np.array([[0.1, 0.9, 0.5, 0.7, -np.inf, 0.3],
                   [0.6, 0.2, 0.8, 0.4, 0.0, 0.1]])


class Dense(Recommender):
    def _fit(self, train: Interactions, valid: Interactions, *, seed: int) -> None:
        self.fitted_with = (self.n_users, self.n_items, len(self.history))

    def score_all(self, users: np.ndarray) -> np.ndarray:
        return SCORES[np.asarray(users)]


def test_a_model_without_score_or_score_all_is_a_type_error():
    with pytest.raises(TypeError, match="score_all .* or score"):
        class Neither(Recommender):  # noqa: F841
            def _fit(self, train, valid, *, seed):
                pass


def test_an_abstract_intermediate_base_is_checked_in_its_subclasses():
    class Base(Recommender):
        @abstractmethod
        def backbone(self) -> str: ...

    with pytest.raises(TypeError, match="score"):
        class Concrete(Base):  # noqa: F841
            def _fit(self, train, valid, *, seed):
                pass

            def backbone(self) -> str:
                return "x"

    class Pairs(Base):
        def _fit(self, train, valid, *, seed):
            pass

        def backbone(self) -> str:
            return "x"

        def score(self, users, items):
            return np.zeros(len(users))

    assert Pairs().backbone() == "x"


def test_a_model_without_fit_cannot_be_built():
    class NoFit(Recommender):
        def score_all(self, users):
            return SCORES[users]

    with pytest.raises(TypeError, match="_fit"):
        NoFit()


def test_fit_remembers_the_history_before_fit(split_synthetic):
    m = Dense()
    m.fit(split_synthetic.train, split_synthetic.valid, seed=0)
    n = len(split_synthetic.train) + len(split_synthetic.valid)
    assert m.fitted_with == (split_synthetic.n_users, split_synthetic.n_items, n)


def test_an_override_of_fit_cannot_forget_remember(split_synthetic, monkeypatch):
    class Forgetful(Dense):
        def fit(self, train, valid, *, seed):  # the older form, without _remember
            self.trained = True

    class Careful(Dense):
        def fit(self, train, valid, *, seed):  # the older form, remembering itself
            self._remember(train, valid)
            super().fit(train, valid, seed=seed)  # the template: remembers nothing again

    m = Forgetful()
    m.fit(split_synthetic.train, split_synthetic.valid, seed=0)
    assert m.trained and m.history is not None and m.n_items == split_synthetic.n_items
    calls = []
    concat = Interactions.concat
    monkeypatch.setattr(Interactions, "concat", lambda a, b: calls.append(1) or concat(a, b))
    c = Careful()
    c.fit(split_synthetic.train, split_synthetic.valid, seed=0)
    assert len(calls) == 1 and c.fitted_with[2] == len(c.history)


def test_fit_under_a_parent_that_overrides_fit_is_a_type_error():
    class Old(Dense):
        def fit(self, train, valid, *, seed):
            pass

    with pytest.raises(TypeError, match="overrides fit"):
        class New(Old):  # noqa: F841
            def _fit(self, train, valid, *, seed):
                pass


def _fitted(split) -> Dense:
    m = Dense()
    m.fit(split.train, split.valid, seed=0)
    return m


def test_rank_honours_exclude_with_and_without_candidates(split_synthetic):
    m = _fitted(split_synthetic)
    m.n_items = 6
    users = np.array([0, 1])
    top = m.rank(users, 3, exclude=[np.array([1]), np.array([2, 0])])
    np.testing.assert_array_equal(top, [[3, 2, 5], [3, 1, 5]])
    cands = np.array([[1, 3, 4, 5], [2, 0, 3, 4]])
    top = m.rank(users, 3, candidates=cands, exclude=[np.array([1]), np.array([2, 0])])
    # user 0: 4 scores -inf and 1 is excluded, so only 3 and 5 remain; user 1: 3 and 4 remain
    np.testing.assert_array_equal(top, [[3, 5, -1], [3, 4, -1]])
    top = m.rank(users, 6, candidates=cands)  # always k columns
    np.testing.assert_array_equal(top, [[1, 3, 5, -1, -1, -1], [2, 0, 3, 4, -1, -1]])


def test_an_ability_method_without_its_type_is_a_type_error():
    with pytest.raises(TypeError, match="explain_contrastive.*ContrastiveExplainer"):
        class Undeclared(Dense):  # noqa: F841
            capabilities = Dense.capabilities | {Capability.EXPLAIN}

            def explain_contrastive(self, users, items):
                return []


def test_an_ability_needs_what_it_requires_and_types_are_the_declaration():
    with pytest.raises(TypeError, match="Capability.EXPLAIN"):
        class NoExplain(Dense, ContrastiveExplainer):  # noqa: F841
            def explain_contrastive(self, users, items):
                return []

    class Samples(Dense, SampleScorer):
        def fit_samples(self, train, valid, titles, *, seed):
            pass

        def score_samples(self, samples):
            return np.zeros(len(samples))

    assert Capability.SAMPLES in abilities_of(Samples) and declaration_problems(Samples) == []

    class Claims(Dense):  # lists an ability it does not implement
        capabilities = Dense.capabilities | {Capability.SAMPLES}

    assert Capability.SAMPLES not in abilities_of(Claims())
    assert "is not a benchmark.models.abilities.SampleScorer" in declaration_problems(Claims)[0]


SUITE = """
name = "abilities"
tracks = ["accuracy", "explanation", "tallrec"]
[[datasets]]
name = "ml-100k"
[[models]]
name = "pop"
{pop_tracks}
[[models]]
name = "tallrec"
tracks = ["tallrec"]
"""


@pytest.mark.parametrize("pop_tracks, error", [
    ("", None),  # the suite-wide list: pop is skipped by tracks it cannot serve
    ('tracks = ["accuracy"]', None),
    ('tracks = ["accuracy", "tallrec"]', "'pop'.*track 'tallrec'.*'samples' ability"),
    ('tracks = ["explanation"]', "'pop'.*track 'explanation'.*'explain' ability"),
])
def test_suite_validation_checks_the_abilities_named_tracks_need(tmp_path, pop_tracks, error):
    from benchmark.runner.runner import run_suite

    path = tmp_path / "s.toml"
    path.write_text(SUITE.format(pop_tracks=pop_tracks))
    suite = load_suite(path)
    from benchmark.runner.abilities import ability_problems, check_abilities

    if error is None:
        assert ability_problems(suite) == []
        check_abilities(suite)
        return
    with pytest.raises(ConfigError, match=error):
        run_suite(suite, tmp_path / "runs", progress=False, cache_dir=tmp_path / "cache")
    assert not (tmp_path / "runs").exists()  # before any split or training
