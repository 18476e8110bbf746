"""RecBole 1.2.1 models, trained by RecBole's own Trainer on the harness split, scored by us.

``fit`` writes the train/valid frames as RecBole pre-split atomic files (``benchmark_filename``:
RecBole never filters or re-splits them), runs Config -> create_dataset -> data_preparation ->
Trainer.fit (early stopping on valid only) and reloads the best checkpoint. Everything RecBole
writes goes into the run folder (``self.workdir``, a temporary folder if None), never the cwd:

    data/harness/harness.{train,valid,test}.inter, harness.user, harness.item   the atomic files
    saved/<Model>-<time>.pth       checkpoints (RecBole's ``checkpoint_dir``, default ./saved)
    log/<Model>/<...>.log          RecBole's INFO log (its ``init_logger`` would use ./log/)
    log_tensorboard/<...>/         tensorboard events (``get_tensorboard`` uses ./log_tensorboard)

``score_all`` calls the model's ``full_sort_predict`` and maps RecBole's internal ids (numbered by
first appearance, 0 = [PAD]) back to harness order through the dataset's ``field2token_id``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from benchmark.compat import recbole_shims
from benchmark.data.types import Interactions
from benchmark.errors import BenchError, DataError
from benchmark.models.base import Recommender
from benchmark.progress import enabled

DATASET = "harness"  # never "ml-100k": RecBole would then load its own ml-100k presets
PARTS = ("train", "valid", "test")
#: deprecations RecBole 1.2.1 triggers on every run (harmless on pandas < 3, numpy 2, torch 2)
_KNOWN_WARNINGS = ((FutureWarning, "A value is trying to be set on a copy"),  # fillna(inplace)
                   (FutureWarning, "using <built-in function len> in Series.agg"),  # item_length
                   (FutureWarning, r"`torch\.cuda\.amp\.GradScaler"),
                   (UserWarning, r"torch\.sparse\.SparseTensor"),  # LightGCN's adjacency
                   (DeprecationWarning, "__array_wrap__ must accept context"))  # argsort(tensor)


@dataclasses.dataclass
class RecBoleConfig:
    """Settings shared by every RecBole model; defaults are RecBole's (properties/overall.yaml)."""

    epochs: int = 300  # 0 = no training: the initial weights (a baseline for tests)
    learning_rate: float = 0.001
    train_batch_size: int = 2048
    eval_batch_size: int = 4096
    stopping_step: int = 10
    eval_step: int = 1
    valid_metric: str = "MRR@10"
    weight_decay: float = 0.0
    device: str = "auto"  # "auto" | "cpu" | "cuda"
    show_progress: bool = True  # RecBole's tqdm bars (one per epoch)

    def __post_init__(self) -> None:
        if self.device not in ("auto", "cpu", "cuda"):
            raise ValueError(f"device must be 'auto', 'cpu' or 'cuda', not {self.device!r}")
        if self.epochs < 0 or self.eval_step < 1 or self.stopping_step < 1:
            raise ValueError("need epochs >= 0, eval_step >= 1 and stopping_step >= 1")
        if "@" not in self.valid_metric:
            raise ValueError(f"valid_metric must look like 'MRR@10', not {self.valid_metric!r}")


_NOT_RECBOLE = {"device", "show_progress", "max_seq_length"}  # ours, or renamed


def write_atomic(path: Path, columns: dict[str, tuple[str, Any]]) -> None:
    """One RecBole atomic file: {name: (type, values)}, header ``name:type``, tab-separated."""
    frame = pd.DataFrame({name: values for name, (_, values) in columns.items()})
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write("\t".join(f"{name}:{kind}" for name, (kind, _) in columns.items()) + "\n")
        frame.to_csv(f, sep="\t", header=False, index=False)


@contextlib.contextmanager
def _config_isolation():
    """RecBole's Config parses ``sys.argv`` (a harness flag like --epochs=5 would become a RecBole
    setting) and sets CUDA_VISIBLE_DEVICES; neither may leak in or out of the adapter."""
    argv, cuda = sys.argv, os.environ.get("CUDA_VISIBLE_DEVICES")
    sys.argv = argv[:1]
    try:
        yield
    finally:
        sys.argv = argv
        if cuda is None:
            os.environ.pop("CUDA_VISIBLE_DEVICES", None)
        else:
            os.environ["CUDA_VISIBLE_DEVICES"] = cuda


@contextlib.contextmanager
def _run_logger(log_file: Path):
    """A private logger (outside logging's registry, so nothing propagates to the root logger):
    RecBole's INFO lines go to the run's log file, its warnings to stderr as well."""
    from recbole.utils.logger import RemoveColorFilter  # RecBole's own: strips its ANSI colours

    log_file.parent.mkdir(parents=True, exist_ok=True)
    logger = logging.Logger(f"recbole:{log_file.stem}", logging.INFO)
    handler = logging.FileHandler(log_file, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s  %(message)s"))
    handler.addFilter(RemoveColorFilter())
    stderr = logging.StreamHandler(sys.stderr)
    stderr.setLevel(logging.WARNING)
    logger.addHandler(handler)
    logger.addHandler(stderr)
    try:
        yield logger
    finally:
        handler.close()


class RecBoleRecommender(Recommender):
    """Base of the RecBole adapters; a subclass names the RecBole model and its ``Config``."""

    Config: ClassVar[type] = RecBoleConfig
    recbole_model: ClassVar[str] = ""
    inter_fields: ClassVar[tuple[str, ...]] = ("user_id", "item_id")  # columns of the .inter files

    def _fit(self, train: Interactions, valid: Interactions, *, seed: int) -> None:
        recbole_shims.apply()  # every RecBole patch, the run-folder tensorboard writer included
        run_dir = self._run_dir()
        self.write_files(run_dir / "data" / DATASET, train, valid)
        config = self._recbole_config(run_dir, seed)
        stamp = f"{self.recbole_model}-{DATASET}-{time.strftime('%Y%m%d-%H%M%S')}"
        with _run_logger(run_dir / "log" / self.recbole_model / f"{stamp}.log") as logger:
            with warnings.catch_warnings():
                for category, message in _KNOWN_WARNINGS:
                    warnings.filterwarnings("ignore", message, category)
                self._train(config, seed, logger, run_dir / "log_tensorboard" / stamp)

    def _train(self, config, seed: int, logger: logging.Logger, tensorboard_dir: Path) -> None:
        import torch
        from recbole.data import create_dataset, data_preparation
        from recbole.utils import get_trainer, init_seed

        logger.info(str(config))
        init_seed(seed, True)
        dataset = create_dataset(config)
        logger.info(str(dataset))
        train_data, valid_data, _ = data_preparation(config, dataset)
        init_seed(seed, True)
        model = self._build_recbole_model(config, train_data._dataset).to(config["device"])
        with recbole_shims.tensorboard_dir(tensorboard_dir):
            trainer = get_trainer(config["MODEL_TYPE"], self.recbole_model)(config, model)
        trainer.logger = logger
        try:
            trainer.fit(train_data, valid_data, saved=True,
                        show_progress=enabled(self.config.show_progress),
                        callback_fn=lambda epoch, score: self._epoch_line(trainer, epoch, score))
        finally:
            trainer.tensorboard.close()
        if os.path.isfile(trainer.saved_model_file):  # the best epoch on valid
            state = torch.load(trainer.saved_model_file, map_location=config["device"],
                               weights_only=True)  # loadable thanks to recbole_shims
            model.load_state_dict(state["state_dict"])
            model.load_other_parameter(state.get("other_parameter"))
        self.model, self.device = model.eval(), config["device"]
        self.checkpoint = trainer.saved_model_file
        self.fit_summary = {"epochs": len(trainer.train_loss_dict),
                            "valid_metric": trainer.valid_metric,
                            "best_valid": trainer.best_valid_score,
                            "valid": trainer.best_valid_result}
        self._index_ids(dataset)

    def _recbole_model_ref(self):
        """What RecBole's ``Config`` gets as ``model``: a model name from ``recbole.model``, or
        (models written in this project) the ``GeneralRecommender`` subclass itself."""
        return self.recbole_model

    def _build_recbole_model(self, config, dataset):
        """The RecBole model on the train dataset; subclasses hand it extra inputs here (e.g.
        item features in RecBole's internal id order, see ``recbole_item_order``)."""
        from recbole.utils import get_model

        return get_model(self.recbole_model)(config, dataset)

    @staticmethod
    def recbole_item_order(dataset, n_items: int) -> np.ndarray:
        """For each RecBole item id 1..dataset.item_num-1, its harness item id (index 0 is
        RecBole's [PAD] and maps to -1): row ``r`` of a RecBole-aligned feature matrix is
        ``features[order[r]]``."""
        order = np.full(dataset.item_num, -1, dtype=np.int64)
        i2id = dataset.field2token_id["item_id"]
        for harness_id in range(n_items):
            order[i2id[str(harness_id)]] = harness_id
        return order

    def _epoch_line(self, trainer, epoch: int, score: float) -> None:
        loss = trainer.train_loss_dict.get(epoch, float("nan"))
        print(f"{self.name} epoch {epoch + 1}/{trainer.epochs} loss {loss:.4f} "
              f"valid {trainer.valid_metric} {score:.4f} best {trainer.best_valid_score:.4f}",
              file=sys.stderr, flush=True)

    def _run_dir(self) -> Path:
        if self.workdir is None:  # removed when this object is garbage-collected
            self._tmp = tempfile.TemporaryDirectory(prefix=f"recbole-{self.name}-")
            self.workdir = Path(self._tmp.name)
        self.workdir.mkdir(parents=True, exist_ok=True)
        return self.workdir

    def write_files(self, folder: Path, train: Interactions, valid: Interactions,
                    test: Interactions | None = None) -> None:
        """RecBole pre-split atomic files from the harness frames; ids are written as tokens.

        RecBole insists on three files. The adapter has no test part (the harness evaluates test
        itself and must not let the model see it), so the valid rows serve again as the third
        file: it adds no token to RecBole's vocabulary, and the adapter never evaluates it.
        ``.user`` / ``.item`` list every harness id, so every user and item has a RecBole id.
        """
        if len(valid.positive_frame()) == 0:
            raise DataError(f"{self.name}: the valid part has no positive interactions",
                            "RecBole models stop early on valid; use a split with a valid part")
        folder.mkdir(parents=True, exist_ok=True)
        for part in PARTS:
            columns = self._inter_columns(part, train, valid, test)
            write_atomic(folder / f"{DATASET}.{part}.inter", columns)
        write_atomic(folder / f"{DATASET}.user", {"user_id": ("token", np.arange(train.n_users))})
        write_atomic(folder / f"{DATASET}.item", {"item_id": ("token", np.arange(train.n_items))})

    def _inter_columns(self, part: str, train: Interactions, valid: Interactions,
                       test: Interactions | None) -> dict[str, tuple[str, Any]]:
        chosen = {"train": train, "valid": valid, "test": valid if test is None else test}[part]
        frame = chosen.positive_frame()
        return {"user_id": ("token", frame["user"].to_numpy()),
                "item_id": ("token", frame["item"].to_numpy())}

    def _model_settings(self) -> dict[str, Any]:
        """RecBole settings from ``self.config`` (sequential models add theirs)."""
        return {k: v for k, v in dataclasses.asdict(self.config).items() if k not in _NOT_RECBOLE}

    def _recbole_config(self, run_dir: Path, seed: int):
        import torch
        from recbole.config import Config

        device = self.config.device
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        elif device == "cuda" and not torch.cuda.is_available():
            raise BenchError(f"{self.name}: device 'cuda' asked for but CUDA is not available",
                             "set device = 'auto' or 'cpu' in the model config")
        settings = self._model_settings()
        metric, _, k = self.config.valid_metric.partition("@")  # RecBole must compute it
        metrics = ["Recall", "MRR", "NDCG", "Hit", "Precision"]
        settings.update(
            seed=seed, reproducibility=True, data_path=str(run_dir / "data"),
            checkpoint_dir=str(run_dir / "saved"), benchmark_filename=list(PARTS),
            load_col={"inter": list(self.inter_fields), "user": ["user_id"], "item": ["item_id"]},
            topk=sorted({10, int(k)}), show_progress=enabled(self.config.show_progress),
            metrics=metrics + [m for m in [metric] if m.lower() not in map(str.lower, metrics)],
            gpu_id="0" if device == "cuda" else "", use_gpu=device == "cuda",
            log_wandb=False, save_dataset=False, save_dataloaders=False, state="INFO",
        )
        with _config_isolation():
            config = Config(model=self._recbole_model_ref(), dataset=DATASET,
                            config_dict=settings)
        config["device"] = torch.device(device)
        return config

    def _index_ids(self, dataset) -> None:
        """Harness id -> RecBole id, for every user and item (all are in .user / .item)."""
        u2id, i2id = dataset.field2token_id["user_id"], dataset.field2token_id["item_id"]
        self._user_index = np.array([u2id[str(u)] for u in range(self.n_users)], dtype=np.int64)
        self._item_index = np.array([i2id[str(i)] for i in range(self.n_items)], dtype=np.int64)

    def score_all(self, users: np.ndarray) -> np.ndarray:
        users = np.asarray(users, dtype=np.int64)
        if len(users) and (users.min() < 0 or users.max() >= self.n_users):
            raise ValueError(f"{self.name}: user ids must lie in [0, {self.n_users})")
        return self._full_sort(len(users), lambda a, b: self._query(users[a:b]))

    def _full_sort(self, n: int, query: Callable[[int, int], dict]) -> np.ndarray:
        """(n, n_items) scores in harness item order from ``full_sort_predict``, in batches;
        ``query(a, b)`` gives the ``Interaction`` fields of rows a..b-1."""
        import torch
        from recbole.data.interaction import Interaction

        out = np.empty((n, self.n_items), dtype=np.float64)
        batch = max(1, min(1024, self.config.eval_batch_size // 8))
        columns = torch.from_numpy(self._item_index).to(self.device)  # harness item order
        self.model.eval()
        with torch.no_grad():
            for start in range(0, n, batch):
                stop = min(n, start + batch)
                fields = Interaction(query(start, stop)).to(self.device)
                scores = self.model.full_sort_predict(fields).view(stop - start, -1)[:, columns]
                out[start:stop] = scores.double().cpu().numpy()
        return out

    def _query(self, users: np.ndarray) -> dict:
        """The ``Interaction`` fields ``full_sort_predict`` reads for these harness users."""
        import torch

        return {self.model.USER_ID: torch.from_numpy(self._user_index[users])}

    def fit_info(self) -> dict[str, Any]:
        return {k: (float(v) if isinstance(v, np.floating) else v)
                for k, v in getattr(self, "fit_summary", {}).items()}

    def num_parameters(self) -> int:
        model = getattr(self, "model", None)
        return 0 if model is None else sum(p.numel() for p in model.parameters() if p.requires_grad)
