"""RecExplainer candidate scoring: full prompt+answer rows vs one prompt pass shared by its
candidates (``recexplainer_lm.answer_scores``), same prompts, one process, one torch thread.

Run: .venv/bin/python benchmarks/recexplainer_scoring.py [--prompts 4] [--candidates 20]

Prompts list 10 seeded MovieLens-100K titles (the behaviour variant's history form); candidates
are seeded titles. Prints both times, their ratio and the max |difference| of the scores; exits 1
if the two disagree by more than 1e-4. A measurement, not a test.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--prompts", type=int, default=4)
    ap.add_argument("--candidates", type=int, default=20)
    args = ap.parse_args()

    import torch

    import baselines.explainers.recexplainer_lm as lm
    from benchmark.data.movielens import load_ml100k
    from benchmark.llm import load_backbone, resolve_backbone
    from benchmark.llm.soft_prompts import SegmentEncoder

    torch.set_num_threads(1)
    bb = load_backbone(resolve_backbone("default", "causal", user="benchmark"), kind="causal",
                       device="cpu")
    enc = SegmentEncoder(bb.tokenizer)
    titles = [str(t) for t in load_ml100k().items["title"]][:400]
    rng = np.random.default_rng(0)
    prompts, answers = [], []
    for _ in range(args.prompts):
        hist = "; ".join(f'"{titles[i]}"' for i in rng.choice(len(titles), 10, replace=False))
        prompts.append([f"The user watched, most recent last: {hist}. Which movie did the user "
                        "watch before these? Answer with its title.\n"])
        answers.append([titles[i] for i in rng.choice(len(titles), args.candidates,
                                                      replace=False)])
    t0 = time.perf_counter()
    shared = lm.answer_scores(bb, None, enc, prompts, answers, 64)
    t_shared = time.perf_counter() - t0
    lm.SHARED_PROMPT_MIN = 10**9  # every candidate as a full prompt+answer row
    t0 = time.perf_counter()
    full = lm.answer_scores(bb, None, enc, prompts, answers, 64)
    t_full = time.perf_counter() - t0
    diff = float(np.abs(shared - full).max())
    print(f"{args.prompts} prompts x {args.candidates} candidates "
          f"({len(enc.encode(prompts[0])[0])}-token prompts): full rows {t_full:.1f} s, "
          f"shared prompt {t_shared:.1f} s, ratio {t_full / t_shared:.1f}x, max diff {diff:.2e}")
    return 0 if diff <= 1e-4 else 1


if __name__ == "__main__":
    sys.exit(main())
