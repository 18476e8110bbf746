"""Speed of the accuracy metrics under pytest-benchmark (100k judgements; one round by default,
since the project runs pytest with --benchmark-disable). Full-size timings: benchmarks/bench_metrics.py."""

from __future__ import annotations

import numpy as np

from benchmark.metrics.pointwise import auc, gauc
from benchmark.metrics.ranking import ranking_metrics


def _ranking_case(n_users: int = 1000, width: int = 100, n_items: int = 5000, seed: int = 0
                  ) -> tuple[np.ndarray, list[np.ndarray]]:
    rng = np.random.default_rng(seed)
    topk = np.argsort(rng.random((n_users, n_items)), axis=1)[:, :width].astype(np.int64)
    truth = [rng.choice(n_items, size=int(rng.integers(1, 30)), replace=False)
             for _ in range(n_users)]
    for u in range(0, n_users, 2):  # half the users get a hit at rank 3
        truth[u][0] = topk[u, 2]
    return topk, truth


def test_bench_ranking_metrics(benchmark) -> None:
    topk, truth = _ranking_case()
    out = benchmark(ranking_metrics, topk, truth, (5, 10, 20, 100))
    assert len(out) == 20
    assert out["hit@5"].shape == (1000,)
    assert out["hit@5"].mean() >= 0.5  # the planted hits
    assert np.all(out["mrr@5"][::2] >= 1 / 3)  # rank 3 or better (a random earlier hit)
    assert np.mean(out["mrr@5"][::2] == 1 / 3) > 0.9


def test_bench_auc_gauc(benchmark) -> None:
    rng = np.random.default_rng(1)
    n = 100_000
    users = rng.integers(0, 1000, size=n)
    labels = rng.random(n) < 0.3
    scores = np.round(rng.random(n) + 0.3 * labels, 2)

    def both() -> tuple[float, float]:
        return auc(labels, scores), gauc(users, labels, scores)[0]

    a, g = benchmark(both)
    assert 0.6 < a < 0.8  # shifted scores: clearly better than chance
    assert 0.6 < g < 0.8
