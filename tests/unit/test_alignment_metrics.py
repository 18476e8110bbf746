"""Alignment measures on hand-made cases, and against ranx where the measure is a standard one."""

from __future__ import annotations

import numpy as np
import pytest

from benchmark.errors import ModelOutputError
from benchmark.metrics import alignment as am


def test_choice_accuracy_and_pessimistic_ties():
    scores = np.array([[0.1, 0.9, 0.3], [0.5, 0.5, 0.1], [0.2, 0.1, 0.0]])
    truth = np.array([1, 0, 2])
    # row 1: the truth ties with another candidate -> not a unique best -> 0
    np.testing.assert_array_equal(am.choice_accuracy(scores, truth), [1.0, 0.0, 0.0])


def test_hit_and_ndcg_single_by_hand():
    scores = np.array([[4.0, 3.0, 2.0, 1.0], [4.0, 3.0, 2.0, 1.0], [1.0, 1.0, 1.0, 1.0]])
    truth = np.array([0, 2, 0])  # ranks 0, 2 and (constant scores, pessimistic) 3
    np.testing.assert_array_equal(am.hit_at_k(scores, truth, 2), [1.0, 0.0, 0.0])
    np.testing.assert_allclose(am.ndcg_single_at_k(scores, truth, 3),
                               [1.0, 1.0 / np.log2(4.0), 0.0])


def test_coverage_by_hand():
    scores = np.array([[0.9, 0.8, 0.1, 0.7, 0.2], [0.1, 0.2, 0.3, 0.4, 0.5]])
    rel = np.array([[True, False, True, False, False], [True, True, False, False, False]])
    # row 0: top-2 = {0, 1}: one of the two relevant; row 1: top-2 = {4, 3}: none
    np.testing.assert_allclose(am.coverage_at_k(scores, rel), [0.5, 0.0])
    # top-4: row 0 {0, 1, 3, 4} holds item 0 only; row 1 {4, 3, 2, 1} holds item 1 only
    np.testing.assert_allclose(am.coverage_at_k(scores, rel, k=4), [0.5, 0.5])
    with pytest.raises(ModelOutputError, match="no relevant"):
        am.coverage_at_k(scores, np.zeros_like(rel))


def test_graded_ndcg_by_hand():
    gains = np.array([[3.0, 2.0, 1.0, 0.0]])
    perfect = am.graded_ndcg_at_k(np.array([[4.0, 3.0, 2.0, 1.0]]), gains, 3)
    reversed_ = am.graded_ndcg_at_k(np.array([[1.0, 2.0, 3.0, 4.0]]), gains, 3)
    idcg = 3 + 2 / np.log2(3) + 1 / np.log2(4)
    dcg = 0 + 1 / np.log2(3) + 2 / np.log2(4)
    np.testing.assert_allclose(perfect, [1.0])
    np.testing.assert_allclose(reversed_, [dcg / idcg])


def test_against_ranx():
    from ranx import Qrels, Run, evaluate

    rng = np.random.default_rng(0)
    scores = rng.random((30, 10))  # continuous: no ties, so ranx's tie order does not matter
    truth = rng.integers(0, 10, 30)
    gains = rng.integers(0, 4, (30, 10)).astype(float)
    gains[:, 0] = 3.0  # every query has a relevant candidate
    q = {f"q{n}": {f"d{truth[n]}": 1} for n in range(30)}
    g = {f"q{n}": {f"d{c}": int(gains[n, c]) for c in range(10) if gains[n, c] > 0}
         for n in range(30)}
    run = Run({f"q{n}": {f"d{c}": float(scores[n, c]) for c in range(10)} for n in range(30)})
    ours = am.ndcg_single_at_k(scores, truth, 5).mean()
    np.testing.assert_allclose(ours, evaluate(Qrels(q), run, "ndcg@5"), rtol=1e-9)
    np.testing.assert_allclose(am.hit_at_k(scores, truth, 5).mean(),
                               evaluate(Qrels(q), run, "hit_rate@5"), rtol=1e-9)
    np.testing.assert_allclose(am.graded_ndcg_at_k(scores, gains, 5).mean(),
                               evaluate(Qrels(g), run, "ndcg@5"), rtol=1e-9)


def test_bad_scores_are_named():
    with pytest.raises(ModelOutputError, match="NaN"):
        am.choice_accuracy(np.array([[np.nan, 1.0]]), np.array([0]))
    with pytest.raises(ModelOutputError, match="shape"):
        am.hit_at_k(np.array([1.0, 2.0]), np.array([0]), 1)
    np.testing.assert_array_equal(am.binary_accuracy(np.array([0.7, 0.2, 0.5]),
                                                     np.array([1, 1, 0])), [1.0, 0.0, 1.0])
