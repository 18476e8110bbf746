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
import contextlib
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from baselines.recbole_models import BPR  # noqa: E402
from benchmark.compat import recbole_shims  # noqa: E402
from benchmark.data.loaders import load_raw  # noqa: E402
from benchmark.data.split import SplitSpec, make_split  # noqa: E402


@contextlib.contextmanager
def inside(folder: Path):
    """RecBole alone writes log_tensorboard/ into the cwd, and its Config reads sys.argv."""
    cwd, argv = os.getcwd(), sys.argv
    folder.mkdir(parents=True, exist_ok=True)
    os.chdir(folder)
    sys.argv = argv[:1]
    try:
        yield
    finally:
        os.chdir(cwd)
        sys.argv = argv


def recbole_alone(data_path: Path, run: Path, seed: int, epochs: int):
    import torch
    from recbole.config import Config
    from recbole.data import create_dataset, data_preparation
    from recbole.utils import get_model, get_trainer, init_seed

    with inside(run):
        config = Config(model="BPR", dataset="harness", config_dict={
            "data_path": str(data_path), "checkpoint_dir": str(run / "saved"),
            "benchmark_filename": ["train", "valid", "test"],
            "load_col": {"inter": ["user_id", "item_id"], "user": ["user_id"],
                         "item": ["item_id"]},
            "seed": seed, "reproducibility": True, "epochs": epochs, "gpu_id": "",
            "use_gpu": False, "show_progress": False})
        init_seed(seed, True)
        train_data, valid_data, _ = data_preparation(config, create_dataset(config))
        init_seed(seed, True)
        model = get_model("BPR")(config, train_data._dataset)
        trainer = get_trainer(config["MODEL_TYPE"], "BPR")(config, model)
        trainer.fit(train_data, valid_data, saved=True)
        state = torch.load(trainer.saved_model_file, weights_only=True)
        model.load_state_dict(state["state_dict"])
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
    config = {"epochs": args.epochs, "device": "cpu"}
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
