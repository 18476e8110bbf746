"""Paired tests, intervals and effect sizes of a *weighted* mean difference over users.

GAUC is not the plain mean of per-user AUCs: each user's AUC counts with a weight (RecBole: the
user's positives). Testing the plain mean of the per-user differences would test another
quantity, whose sign can differ from the reported one. Here the estimate is always

    D = sum_u w_u (a_u - b_u) / sum_u w_u,

the difference of the two reported weighted means on the paired users, and:

- ``weighted_ttest``: D over its linearised (ratio-estimator) standard error,
  SE^2 = n / (n - 1) * sum_u w_u^2 (d_u - D)^2 / (sum_u w_u)^2, t with n - 1 degrees of freedom.
  This is the WLS fit of d on a constant with HC1 robust errors (statsmodels); with equal
  weights it is exactly the paired t-test (scipy's ttest_rel).
- ``weighted_permutation``: the paired sign-flip test with D as its statistic (scipy's
  permutation_test, permutation_type='samples'); exact when 2^n <= n_resamples.
- ``weighted_mean_diff_ci``: user-level bootstrap of D (users resampled with their weights).
- ``weighted_cohens_d``: D over the weighted standard deviation of the differences (equal
  weights: the paired d_z).

Wilcoxon's signed-rank test has no weighted form that tests D; asked for it, the weighted
permutation test answers, and its note says so.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy import stats

from benchmark.errors import BenchError
from benchmark.stats.bootstrap import Interval
from benchmark.stats.paired import ALTERNATIVES, TESTS, TestResult, seeded


def _check(a, b, w) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Float arrays of one shape; weights finite, >= 0 and not all zero."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    if a.ndim != 1 or a.shape != b.shape or a.shape != w.shape:
        raise BenchError(f"weighted paired statistics need three 1-d arrays of equal length, "
                         f"got {a.shape}, {b.shape} and weights {w.shape}",
                         "pair the values and their weights by user first")
    if not np.isfinite(w).all() or (w < 0).any() or not (w > 0).any():
        raise BenchError("weights must be finite, >= 0 and not all zero",
                         "use the per-user weights the track stored (<metric>_weight)")
    return a, b, w


def weighted_mean(values, weights) -> float:
    """sum w v / sum w: what a weighted metric reports over these users."""
    v = np.asarray(values, dtype=np.float64)
    w = np.asarray(weights, dtype=np.float64)
    return float(np.sum(w * v) / np.sum(w))


def weighted_ttest(a, b, w, alternative: str = "two-sided") -> TestResult:
    """t-test of D = weighted mean of (a - b) with the linearised standard error; n >= 2."""
    a, b, w = _check(a, b, w)
    if alternative not in ALTERNATIVES:
        raise BenchError(f"unknown alternative {alternative!r}", f"use one of {ALTERNATIVES}")
    n = len(a)
    if n < 2:
        return TestResult("weighted ttest", float("nan"), float("nan"), n, alternative,
                          "fewer than 2 pairs")
    d = a - b
    est = weighted_mean(d, w)
    se = float(np.sqrt(n / (n - 1) * np.sum((w * (d - est)) ** 2)) / np.sum(w))
    if se == 0:
        if est == 0:
            return TestResult("weighted ttest", 0.0, 1.0, n, alternative,
                              "all differences zero")
        return TestResult("weighted ttest", float("nan"), float("nan"), n, alternative,
                          "differences constant over the weighted users: t undefined")
    t = est / se
    dist = stats.t(n - 1)
    if alternative == "two-sided":
        p = 2 * dist.sf(abs(t))
    elif alternative == "greater":
        p = dist.sf(t)
    else:
        p = dist.cdf(t)
    return TestResult("weighted ttest", float(t), float(min(1.0, p)), n, alternative)


def weighted_permutation(a, b, w, alternative: str = "two-sided", *, seed: int = 0,
                         n_resamples: int = 9999) -> TestResult:
    """Paired sign-flip randomization test with the weighted mean difference as statistic."""
    a, b, w = _check(a, b, w)
    if alternative not in ALTERNATIVES:
        raise BenchError(f"unknown alternative {alternative!r}", f"use one of {ALTERNATIVES}")
    if not np.any((a != b) & (w > 0)):
        return TestResult("weighted permutation", 0.0, 1.0, len(a), alternative,
                          "all differences zero")
    total = float(w.sum())

    def statistic(x, y, axis=-1):
        return np.sum(np.moveaxis(x - y, axis, -1) * w, axis=-1) / total

    r = stats.permutation_test((a, b), statistic, permutation_type="samples", vectorized=True,
                               n_resamples=n_resamples, alternative=alternative,
                               **seeded(seed))
    return TestResult("weighted permutation", float(r.statistic), float(r.pvalue), len(a),
                      alternative, f"{n_resamples} resamples, seed {seed}")


def weighted_paired_test(a, b, w, test: str = "ttest", alternative: str = "two-sided", *,
                         seed: int = 0, n_resamples: int = 9999) -> TestResult:
    """Dispatch by name like ``paired_test``; 'wilcoxon' is answered by the permutation test."""
    if test == "ttest":
        return weighted_ttest(a, b, w, alternative)
    if test in ("permutation", "wilcoxon"):
        r = weighted_permutation(a, b, w, alternative, seed=seed, n_resamples=n_resamples)
        if test == "wilcoxon":
            note = ("Wilcoxon has no weighted form; weighted sign-flip permutation test instead"
                    + (f" ({r.note})" if r.note else ""))
            r = TestResult(r.test, r.statistic, r.pvalue, r.n, r.alternative, note)
        return r
    raise BenchError(f"unknown test {test!r}", f"use one of {', '.join(TESTS)}")


def weighted_mean_diff_ci(a, b, w, *, confidence: float = 0.95, n_resamples: int = 9999,
                          seed: int = 0, method: str = "BCa") -> Interval:
    """CI of D by resampling users (each with its weight) with replacement.

    BCa by default (percentile when BCa fails on skewed data); no spread gives the point itself.
    """
    a, b, w = _check(a, b, w)
    if not 0 < confidence < 1:
        raise BenchError(f"confidence {confidence} is not in (0, 1)", "use e.g. 0.95")
    d = a - b
    est = weighted_mean(d, w)
    live = w > 0
    if live.sum() < 2 or np.all(d[live] == d[live][0]):
        return Interval(est, est, est, confidence, "degenerate (no spread)")

    def statistic(dd, ww, axis=-1):
        return np.sum(dd * ww, axis=axis) / np.sum(ww, axis=axis)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        r = stats.bootstrap((d, w), statistic, paired=True, vectorized=True,
                            confidence_level=confidence, n_resamples=n_resamples,
                            method=method, **seeded(seed, stats.bootstrap))
    low, high = float(r.confidence_interval.low), float(r.confidence_interval.high)
    if np.isnan(low) or np.isnan(high):
        return weighted_mean_diff_ci(a, b, w, confidence=confidence, n_resamples=n_resamples,
                                     seed=seed, method="percentile")
    return Interval(low, high, est, confidence,
                    f"{method}, {n_resamples} user resamples (weighted mean), seed {seed}")


def weighted_mean_ci(values, weights, *, confidence: float = 0.95, n_resamples: int = 9999,
                     seed: int = 0) -> Interval:
    """CI of one system's weighted mean (e.g. its GAUC), users resampled with their weights."""
    v = np.asarray(values, dtype=np.float64)
    return weighted_mean_diff_ci(v, np.zeros_like(v), weights, confidence=confidence,
                                 n_resamples=n_resamples, seed=seed)


def weighted_cohens_d(a, b, w) -> float:
    """D / weighted sd of the differences: d_z with each user counted by its weight."""
    a, b, w = _check(a, b, w)
    if len(a) < 2:
        return float("nan")
    d = a - b
    est = weighted_mean(d, w)
    # reliability-weights variance: with equal weights it is the ddof-1 sd of cohens_d_paired
    denom = np.sum(w) - np.sum(w ** 2) / np.sum(w)
    if denom <= 0:
        return float("nan")
    sd = float(np.sqrt(np.sum(w * (d - est) ** 2) / denom))
    if sd == 0:
        return 0.0 if est == 0 else float(np.sign(est) * np.inf)
    return float(est / sd)
