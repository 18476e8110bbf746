"""RecBole's own pipeline, run as RecBole's quick start runs it: the reference the adapter is
checked against (fidelity test, overhead benchmark, outside anchor).

Config -> create_dataset -> data_preparation -> Trainer.fit -> Trainer.evaluate, inside ``folder``
because RecBole alone writes ``log_tensorboard/`` into the current directory, and with a bare
``sys.argv`` because RecBole's Config reads settings from the command line.
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path
from typing import Any


@contextlib.contextmanager
def inside(folder: Path):
    cwd, argv = os.getcwd(), sys.argv
    folder.mkdir(parents=True, exist_ok=True)
    os.chdir(folder)
    sys.argv = argv[:1]
    try:
        yield
    finally:
        os.chdir(cwd)
        sys.argv = argv


def prepared_files_settings(data_path: Path, checkpoint_dir: Path,
                            inter_fields: tuple[str, ...] = ("user_id", "item_id")
                            ) -> dict[str, Any]:
    """Settings that make RecBole read the adapter's pre-split files (dataset "harness");
    sequential models' files add ``item_id_list`` (their adapter's ``inter_fields``)."""
    return {"data_path": str(data_path), "checkpoint_dir": str(checkpoint_dir),
            "benchmark_filename": ["train", "valid", "test"],
            "load_col": {"inter": list(inter_fields), "user": ["user_id"],
                         "item": ["item_id"]}}


def run_recbole(model_name: str, dataset: str, settings: dict[str, Any], folder: Path, seed: int,
                evaluate: bool = True):
    """Train ``model_name`` with RecBole alone; returns (model, trainer, test metrics or None).

    The model holds the best-on-valid weights afterwards (RecBole reloads its checkpoint).
    """
    from benchmark.compat import recbole_shims

    recbole_shims.apply()
    import torch
    from recbole.config import Config
    from recbole.data import create_dataset, data_preparation
    from recbole.utils import get_model, get_trainer, init_seed

    with inside(folder):
        config = Config(model=model_name, dataset=dataset, config_dict={
            "seed": seed, "reproducibility": True, "gpu_id": "", "use_gpu": False,
            "show_progress": False, **settings})
        init_seed(seed, True)
        train_data, valid_data, test_data = data_preparation(config, create_dataset(config))
        init_seed(seed, True)
        model = get_model(model_name)(config, train_data._dataset)
        trainer = get_trainer(config["MODEL_TYPE"], model_name)(config, model)
        trainer.fit(train_data, valid_data, saved=True)
        if evaluate:
            return model, trainer, trainer.evaluate(test_data, load_best_model=True)
        state = torch.load(trainer.saved_model_file, weights_only=True)
        model.load_state_dict(state["state_dict"])
        return model, trainer, None
