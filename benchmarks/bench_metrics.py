"""Timings of the accuracy metrics at the size of a real evaluation (1M judgements).

Run: .venv/bin/python benchmarks/bench_metrics.py [--repeats 7]
Prints the median wall time of several repeats and the throughput, so a slow change shows up
before it makes a leaderboard run slow.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmark.metrics.pointwise import auc, gauc  # noqa: E402
from benchmark.metrics.ranking import ranking_metrics  # noqa: E402
from benchmark.metrics.sampled import draw_negatives  # noqa: E402


def _median_ms(fn: Callable[[], object], repeats: int) -> float:
    fn()  # warm-up (page faults, caches)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000.0


def _report(label: str, ms: float, n: int, unit: str) -> None:
    print(f"{label:<44} {ms:9.1f} ms   {n / (ms / 1000.0):>14,.0f} {unit}/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--width", type=int, default=100)
    parser.add_argument("--items", type=int, default=20_000)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    n_users, width, n_items = args.users, args.width, args.items

    # full-ranking style top-100 lists (distinct items per row) and 1..50 relevant items per user
    topk = np.empty((n_users, width), dtype=np.int64)
    for u in range(n_users):
        topk[u] = rng.choice(n_items, size=width, replace=False)
    truth = [rng.choice(n_items, size=int(rng.integers(1, 51)), replace=False)
             for _ in range(n_users)]
    for u in range(0, n_users, 3):
        truth[u][0] = topk[u, int(rng.integers(0, width))]  # some hits at every depth
    n_judge = n_users * width
    ms = _median_ms(lambda: ranking_metrics(topk, truth, (5, 10, 20, 100)), args.repeats)
    _report(f"ranking_metrics {n_users}x{width}, ks 5/10/20/100", ms, n_judge, "judgements")

    n_pairs = 1_000_000
    users = rng.integers(0, n_users, size=n_pairs)
    labels = rng.random(n_pairs) < 0.2
    scores = np.round(rng.random(n_pairs) + 0.3 * labels, 3)  # ties, as real scores have
    ms = _median_ms(lambda: auc(labels, scores), args.repeats)
    _report(f"auc over {n_pairs:,} pairs", ms, n_pairs, "pairs")
    ms = _median_ms(lambda: gauc(users, labels, scores), args.repeats)
    _report(f"gauc over {n_pairs:,} pairs, {n_users:,} users", ms, n_pairs, "pairs")

    seen = [rng.choice(n_items, size=int(rng.integers(1, 200)), replace=False)
            for _ in range(n_users)]
    ms = _median_ms(lambda: draw_negatives(n_items, np.arange(n_users), seen, 100, seed=0),
                    max(1, args.repeats // 2))
    _report(f"draw_negatives {n_users}x100 of {n_items:,} items", ms, n_users * 100, "negatives")


if __name__ == "__main__":
    main()
