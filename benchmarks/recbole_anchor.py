"""Anchor: BPR on MovieLens-100K through the adapter, beside RecBole's published quick-start run.

Split: random 80/10/10 per user (the harness's ``SplitSpec(strategy="random")``, RecBole's
``RS [0.8,0.1,0.1]`` grouped by user), every interaction positive. Model: RecBole's defaults
(embedding 64, Adam lr 0.001, batch 2048, early stopping after 10 evaluations without a better
valid MRR@10, at most 300 epochs). Evaluation: the harness's full ranking of the test part, each
user's train + valid items excluded. The split and the seeds are ours, so the numbers should be
close to RecBole's, not equal.

Reference: RecBole README, "Quick-Start" (``python run_recbole.py``: BPR on ml-100k), test result
recall@10 0.2368, mrr@10 0.4519, ndcg@10 0.2768, hit@10 0.7614, precision@10 0.1901
(https://github.com/RUCAIBox/RecBole#quick-start).

``--recbole-alone`` also runs RecBole 1.2.1's own quick-start pipeline (its own RS split of its
ml-100k files, its evaluator) in a scratch folder: the same-version reference, which separates
"adapter vs RecBole" from "RecBole 1.2.1 today vs the README's older run".

    .venv/bin/python benchmarks/recbole_anchor.py [--recbole-alone]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from baselines.recbole_reference import run_recbole  # noqa: E402
from benchmark.data.loaders import load_raw  # noqa: E402
from benchmark.data.split import SplitSpec, make_split  # noqa: E402
from benchmark.registry import build_model  # noqa: E402
from benchmark.tracks.accuracy import full_ranking_means  # noqa: E402

README = {"recall": 0.2368, "mrr": 0.4519, "ndcg": 0.2768, "hit": 0.7614, "precision": 0.1901}


def recbole_alone(seed: int, folder: Path) -> dict:
    """RecBole's quick start (run_recbole's steps) on its own ml-100k, inside ``folder``."""
    _, trainer, result = run_recbole("BPR", "ml-100k", {}, folder, seed)
    print(f"RecBole alone trained {len(trainer.train_loss_dict)} epochs")
    return {k.split("@")[0]: float(v) for k, v in result.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split-seed", type=int, default=0)
    parser.add_argument("--seed", type=int, default=2020, help="training seed (RecBole's default)")
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--recbole-alone", action="store_true")
    args = parser.parse_args()

    spec = SplitSpec(strategy="random", ratios=(0.8, 0.1, 0.1), seed=args.split_seed,
                     positives="all")
    split = make_split(load_raw("ml-100k"), spec)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="recbole-anchor-"))
    model = build_model("bpr", {"device": "cpu"}, workdir=workdir)  # RecBole's defaults
    start = time.perf_counter()
    model.fit(split.train, split.valid, seed=args.seed)
    seconds = time.perf_counter() - start

    ours = {k.split("@")[0]: v for k, v in full_ranking_means(model, split).items()}
    n_users = split.test.positive_frame()["user"].nunique()

    alone = recbole_alone(args.seed, workdir / "recbole-alone") if args.recbole_alone else {}
    summary = model.fit_summary
    print(f"split {spec.key()}: {len(split.train)}/{len(split.valid)}/{len(split.test)} rows, "
          f"{split.n_users} users, {split.n_items} items; {n_users} test users")
    print(f"BPR trained {summary['epochs']} epochs in {seconds:.0f} s (best valid "
          f"{summary['valid_metric']} {summary['best_valid']:.4f}); run folder {workdir}")
    extra = f"{'RecBole 1.2.1 alone':>21}" if alone else ""
    print(f"\n{'metric':<14}{'ours':>8}{'RecBole README':>16}{'delta':>9}{extra}")
    for name in ("recall", "ndcg", "hit", "mrr", "precision"):
        extra = f"{alone[name]:>21.4f}" if alone else ""
        print(f"{name + '@10':<14}{ours[name]:>8.4f}{README[name]:>16.4f}"
              f"{ours[name] - README[name]:>+9.4f}{extra}")


if __name__ == "__main__":
    main()
