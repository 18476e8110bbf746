"""Overhead of the RecBole adapter: the same BPR training through the adapter and through RecBole.

Both train BPR with the same pre-split files (full MovieLens-100K, random 80/10/10 per user),
config and seed: the adapter via ``fit`` (which also writes the files and builds its id maps),
RecBole alone via Config -> create_dataset -> data_preparation -> Trainer.fit -> reload of the
best checkpoint (what ``evaluate(load_best_model=True)`` does first) on files written beforehand.
One untimed 1-epoch warm-up of each first (first-call costs inside torch and RecBole are paid
once per process, by whichever runs first); then the timed runs alternate between the two and
medians are reported. Target: adapter / RecBole <= 1.05.

On a shared 2-core machine ``Trainer.fit`` itself (identical work in both) varies by +-10% from
run to run, more than the adapter adds. So the time inside ``Trainer.fit`` is also measured, and
the rest (files, Config, dataset, dataloaders, model, checkpoint reload, id maps) is compared on
its own: "adjusted" = (RecBole's total + adapter's rest - RecBole's rest) / RecBole's total.

    .venv/bin/python benchmarks/bench_recbole_overhead.py --epochs 20 --repeats 5
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from baselines.recbole_models import BPR  # noqa: E402
from baselines.recbole_reference import prepared_files_settings, run_recbole  # noqa: E402
from benchmark.compat import recbole_shims  # noqa: E402
from benchmark.data.loaders import load_raw  # noqa: E402
from benchmark.data.split import SplitSpec, make_split  # noqa: E402


def recbole_alone(data_path: Path, run: Path, seed: int, epochs: int):
    model, _, _ = run_recbole("BPR", "harness", {**prepared_files_settings(data_path, run / "saved"),
                                                 "epochs": epochs}, run, seed, evaluate=False)
    return model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=2020)
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()

    import torch

    recbole_shims.apply()  # imports recbole: kept out of both timings
    split = make_split(load_raw("ml-100k"), SplitSpec(strategy="random", seed=0))
    root = args.workdir or Path(tempfile.mkdtemp(prefix="bench-recbole-"))
    config = {"epochs": args.epochs, "device": "cpu", "show_progress": False}  # as RecBole alone
    shared = root / "files"
    BPR(config).write_files(shared / "harness", split.train, split.valid)
    print(f"ml-100k random 80/10/10: {len(split.train)} train rows; BPR, {args.epochs} epochs, "
          f"seed {args.seed}, torch threads {torch.get_num_threads()}; run folder {root}",
          flush=True)
    import recbole.trainer.trainer as trainer_module

    fit_seconds: list[float] = []
    original_fit = trainer_module.Trainer.fit

    def timed_fit(self, *a, **kw):  # a timer around RecBole's Trainer.fit, for both runs
        start = time.perf_counter()
        try:
            return original_fit(self, *a, **kw)
        finally:
            fit_seconds.append(time.perf_counter() - start)

    trainer_module.Trainer.fit = timed_fit
    BPR({**config, "epochs": 1}, workdir=root / "warm-up").fit(split.train, split.valid, seed=0)
    recbole_alone(shared, root / "warm-up-alone", 0, 1)
    times: dict[str, list[float]] = {"adapter": [], "recbole": []}
    rest: dict[str, list[float]] = {"adapter": [], "recbole": []}
    for rep in range(args.repeats):
        order = ["adapter", "recbole"] if rep % 2 == 0 else ["recbole", "adapter"]
        for who in order:
            start = time.perf_counter()
            if who == "adapter":
                ours = BPR(config, workdir=root / f"adapter-{rep}")
                ours.fit(split.train, split.valid, seed=args.seed)
            else:
                theirs = recbole_alone(shared, root / f"recbole-{rep}", args.seed, args.epochs)
            times[who].append(time.perf_counter() - start)
            rest[who].append(times[who][-1] - fit_seconds[-1])
            print(f"repeat {rep}: {who:<8} wall {times[who][-1]:6.2f} s = Trainer.fit "
                  f"{fit_seconds[-1]:6.2f} s + rest {rest[who][-1]:5.2f} s", flush=True)
        same = all(torch.equal(t, ours.model.state_dict()[k])
                   for k, t in theirs.state_dict().items())
        print(f"repeat {rep}: identical trained weights: {same}", flush=True)
    ours, alone = statistics.median(times["adapter"]), statistics.median(times["recbole"])
    ours_rest, alone_rest = statistics.median(rest["adapter"]), statistics.median(rest["recbole"])
    print(f"\nmedian wall time: adapter {ours:.2f} s, RecBole alone {alone:.2f} s, "
          f"ratio {ours / alone:.3f}x (target <= 1.05x)")
    paired = statistics.median(a / r for a, r in zip(times["adapter"], times["recbole"]))
    print(f"median of the {args.repeats} paired ratios (adapter / RecBole, same repeat): "
          f"{paired:.3f}x")
    print(f"median time outside Trainer.fit: adapter {ours_rest:.2f} s, RecBole alone "
          f"{alone_rest:.2f} s; adjusted ratio {(alone + ours_rest - alone_rest) / alone:.3f}x")


if __name__ == "__main__":
    main()
