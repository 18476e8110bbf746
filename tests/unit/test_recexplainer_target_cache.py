"""RecExplainer's fitted-target cache is explicit: two models share a fitted target only when
they are handed the same ``TargetCache``, so a result never depends on which job ran first."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from baselines.explainers.recexplainer import RecExplainer
from baselines.explainers.recexplainer_target import TargetCache


@pytest.fixture
def no_lm(monkeypatch):
    """Fit only the target: the language-model half is not what these tests are about."""
    def fake_fit_lm(self, titles, seed):
        self.view = SimpleNamespace(svd_fit=1.0)

    monkeypatch.setattr(RecExplainer, "_fit_lm", fake_fit_lm)
    monkeypatch.setattr("baselines.llm.tallrec.harness_titles", lambda train: {})


def _fit(model: RecExplainer, split) -> dict:
    model.fit(split.train, split.valid, seed=0)
    return model.fit_info()["target"]


def test_two_models_do_not_share_a_target_by_default(no_lm, split_synthetic):
    a, b = RecExplainer({"target": "pop"}), RecExplainer({"target": "pop"})
    assert a.target_cache is not b.target_cache
    info_a, info_b = _fit(a, split_synthetic), _fit(b, split_synthetic)
    assert a.explained_model is not b.explained_model
    assert info_a["fitted_earlier_in_this_process"] is False
    assert info_b["fitted_earlier_in_this_process"] is False


def test_models_given_one_cache_share_the_fitted_target(no_lm, split_synthetic):
    shared = TargetCache()
    a = RecExplainer({"target": "pop"}, target_cache=shared)
    b = RecExplainer({"target": "pop", "variant": "behaviour"}, target_cache=shared)
    info_a, info_b = _fit(a, split_synthetic), _fit(b, split_synthetic)
    assert a.explained_model is b.explained_model
    assert (info_a["fitted_earlier_in_this_process"], info_b["fitted_earlier_in_this_process"]) \
        == (False, True)


def test_cache_keys_on_seed_and_keeps_at_most_size_targets(split_synthetic):
    cache = TargetCache(size=1)
    train, valid = split_synthetic.train, split_synthetic.valid
    first, hit = cache.fitted("pop", {}, train, valid, 0, None, "pop")
    assert not hit and cache.fitted("pop", {}, train, valid, 0, None, "pop") == (first, True)
    other, hit = cache.fitted("pop", {}, train, valid, 1, None, "pop")
    assert not hit and other is not first and len(cache) == 1
    assert cache.fitted("pop", {}, train, valid, 0, None, "pop")[1] is False  # evicted
    with pytest.raises(ValueError):
        TargetCache(size=0)
