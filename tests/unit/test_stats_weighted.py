"""benchmark.stats.weighted: equal weights give the unweighted statistics exactly; unequal weights
against statsmodels (WLS with HC1 errors), an exact sign-flip enumeration and a plain bootstrap."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import statsmodels.api as sm
from scipy import stats as sps

from benchmark.errors import BenchError
from benchmark.stats.bootstrap import mean_diff_ci
from benchmark.stats.effect import cohens_d_paired
from benchmark.stats.paired import permutation
from benchmark.stats.weighted import (
    weighted_cohens_d,
    weighted_mean,
    weighted_mean_ci,
    weighted_mean_diff_ci,
    weighted_paired_test,
    weighted_permutation,
    weighted_ttest,
)


def _data(n: int = 60, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    b = rng.random(n)
    a = np.clip(b + 0.03 + rng.normal(0, 0.15, n), 0, 1)
    w = rng.integers(1, 12, n).astype(np.float64)  # e.g. each user's positives
    return a, b, w


@pytest.mark.parametrize("alternative", ["two-sided", "greater", "less"])
def test_equal_weights_are_the_paired_ttest(alternative: str) -> None:
    a, b, _ = _data()
    got = weighted_ttest(a, b, np.full(len(a), 7.0), alternative)
    want = sps.ttest_rel(a, b, alternative=alternative)
    assert got.statistic == pytest.approx(want.statistic, rel=1e-12)
    assert got.pvalue == pytest.approx(want.pvalue, rel=1e-10)


@pytest.mark.parametrize("seed", range(3))
def test_weighted_ttest_equals_statsmodels_wls_hc1(seed: int) -> None:
    # the weighted mean difference is the WLS fit of d on a constant; the linearised standard
    # error is its HC1 (heteroscedasticity-robust) error, t with n - 1 degrees of freedom
    a, b, w = _data(seed=seed)
    fit = sm.WLS(a - b, np.ones(len(a)), weights=w).fit(cov_type="HC1", use_t=True)
    got = weighted_ttest(a, b, w)
    assert got.statistic == pytest.approx(fit.tvalues[0], rel=1e-10)
    assert got.pvalue == pytest.approx(fit.pvalues[0], rel=1e-9)
    assert weighted_mean(a - b, w) == pytest.approx(fit.params[0], rel=1e-12)


def test_weighted_permutation_equals_exact_sign_flips() -> None:
    a, b, w = _data(n=12, seed=4)
    d = a - b
    observed = np.sum(w * d) / w.sum()
    flips = np.array(list(itertools.product((1.0, -1.0), repeat=len(d))))
    null = (flips * d * w).sum(axis=1) / w.sum()
    exact = np.mean(np.abs(null) >= abs(observed) - 1e-12)
    got = weighted_permutation(a, b, w, n_resamples=9999)  # 2^12 <= 9999: scipy is exact
    assert got.statistic == pytest.approx(observed, rel=1e-12)
    assert got.pvalue == pytest.approx(exact, rel=1e-9)
    # equal weights: the unweighted randomization test
    ones = np.ones(len(a))
    assert weighted_permutation(a, b, ones).pvalue == pytest.approx(permutation(a, b).pvalue)


def test_wilcoxon_is_answered_by_the_weighted_permutation_test_with_a_note() -> None:
    a, b, w = _data(n=10, seed=5)
    got = weighted_paired_test(a, b, w, "wilcoxon")
    assert got.pvalue == pytest.approx(weighted_permutation(a, b, w).pvalue)
    assert got.note.startswith("Wilcoxon has no weighted form")
    assert weighted_paired_test(a, b, w, "ttest") == weighted_ttest(a, b, w)
    with pytest.raises(BenchError, match="unknown test"):
        weighted_paired_test(a, b, w, "sign")


def test_weighted_ci_and_effect_with_equal_weights_are_the_unweighted_ones() -> None:
    a, b, _ = _data()
    ones = np.ones(len(a))
    got = weighted_mean_diff_ci(a, b, ones * 3, n_resamples=1000, seed=2)
    want = mean_diff_ci(a, b, n_resamples=1000, seed=2)
    assert (got.low, got.high) == pytest.approx((want.low, want.high), rel=1e-9)
    assert weighted_cohens_d(a, b, ones * 5) == pytest.approx(cohens_d_paired(a, b), rel=1e-12)


def test_weighted_ci_is_a_user_bootstrap_of_the_weighted_difference() -> None:
    a, b, w = _data(n=150, seed=6)
    got = weighted_mean_diff_ci(a, b, w, n_resamples=4000, seed=1, method="percentile")
    # a plain loop: resample users with their weights, take the weighted mean difference
    rng = np.random.default_rng(99)
    idx = rng.integers(0, len(a), size=(4000, len(a)))
    boot = np.sum(w[idx] * (a - b)[idx], axis=1) / np.sum(w[idx], axis=1)
    low, high = np.percentile(boot, [2.5, 97.5])
    assert got.estimate == pytest.approx(weighted_mean(a - b, w), rel=1e-12)
    se = boot.std()
    assert abs(got.low - low) < 0.1 * se and abs(got.high - high) < 0.1 * se
    one = weighted_mean_ci(a, w, n_resamples=500)
    assert one.low < weighted_mean(a, w) < one.high


def test_weighted_degenerate_and_bad_inputs() -> None:
    a = np.array([0.5, 0.6, 0.7])
    w = np.array([1.0, 2.0, 3.0])
    r = weighted_ttest(a, a, w)
    assert r.pvalue == 1.0 and r.note == "all differences zero"
    r = weighted_ttest(a + 0.1, a, w)
    assert np.isnan(r.pvalue) and "t undefined" in r.note
    assert np.isnan(weighted_ttest(a[:1], a[:1] - 1, w[:1]).pvalue)
    assert weighted_permutation(a, a, w).pvalue == 1.0
    ci = weighted_mean_diff_ci(a + 0.1, a, w)
    assert ci.low == ci.high == pytest.approx(0.1) and ci.method.startswith("degenerate")
    for bad in (np.array([1.0, -1.0, 2.0]), np.zeros(3), np.array([1.0, np.nan, 1.0])):
        with pytest.raises(BenchError, match="weights must be finite"):
            weighted_ttest(a, a + 0.1, bad)
    with pytest.raises(BenchError, match="equal length"):
        weighted_ttest(a, a, w[:2])
