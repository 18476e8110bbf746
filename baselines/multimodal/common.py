"""What the three multimodal models share: config, feature loading, graph helpers, BPR loss.

``MultimodalRecommender.fit`` loads the item features of the split's catalog (text by default;
visual when a feature file or images + a local CLIP are given), refuses to train without any,
and records in ``fit_info()`` the modalities used and each feature's provenance (encoder, weights
sha256, content hash).
"""

from __future__ import annotations

import dataclasses
import sys
import time
from typing import Any

import numpy as np

from baselines.recbole_adapter import RecBoleConfig, RecBoleRecommender
from benchmark.data.types import Interactions
from benchmark.errors import DataError

_FEATURE_FIELDS = ("modalities", "text_encoder", "image_encoder", "image_dir", "feature_dir",
                   "feature_cache_dir")


@dataclasses.dataclass
class MultimodalConfig(RecBoleConfig):
    """Where item features come from ("" = the default of ``load_item_features``)."""

    modalities: list = dataclasses.field(default_factory=lambda: ["text", "visual"])
    text_encoder: str = ""  # local encoder folder; "" = the verified all-MiniLM-L6-v2
    image_encoder: str = ""  # local CLIP folder; "" = no image encoding
    image_dir: str = ""  # folder of <raw item id>.jpg/.png
    feature_dir: str = ""  # folder with precomputed text_feat.npy / image_feat.npy
    feature_cache_dir: str = ""  # "" = datasets/cache/features/
    reg_weight: float = 1e-4  # L2 weight on the embeddings a batch touches
    # RecBole's full-ranking validation scores eval_batch_size // n_items users per batch: 4096
    # gives 2 users on MovieLens-100K; the graph models compute all representations once per
    # validation anyway, so bigger batches only cut RecBole's per-batch overhead
    eval_batch_size: int = 262144

    def __post_init__(self) -> None:
        super().__post_init__()
        from benchmark.features import MODALITIES

        bad = [m for m in self.modalities if m not in MODALITIES]
        if not self.modalities or bad:
            raise ValueError(f"modalities must be a non-empty list drawn from {MODALITIES}, "
                             f"not {self.modalities!r}")


class MultimodalRecommender(RecBoleRecommender):
    """A RecBole model of this package (``recbole_class``) trained with item features."""

    Config = MultimodalConfig
    recbole_class: Any = None  # the GeneralRecommender subclass (set by every model)

    def _fit(self, train: Interactions, valid: Interactions, *, seed: int) -> None:
        from benchmark.features import load_item_features

        if train.catalog is None:
            raise DataError(f"{self.name}: the split has no catalog, so items have no features",
                            "build the split with benchmark.data.split.make_split")
        c = self.config
        self.feats = load_item_features(
            train.catalog, tuple(c.modalities), text_encoder=c.text_encoder or None,
            image_encoder=c.image_encoder or None, feature_dir=c.feature_dir or None,
            cache_dir=c.feature_cache_dir or None, progress=c.show_progress,
            image_dir=c.image_dir or None)
        if not self.feats.features:
            why = "; ".join(f"{m}: {r}" for m, r in self.feats.absent.items())
            raise DataError(f"{self.name}: no item features available ({why})",
                            "give feature_dir with text_feat.npy / image_feat.npy, or use a "
                            "dataset with item titles")
        for modality, reason in self.feats.absent.items():
            print(f"{self.name}: modality {modality!r} absent: {reason}", file=sys.stderr)
        from benchmark.compat import recbole_shims

        assert self.recbole_class is not None  # set by every concrete model
        recbole_shims.allow_models(self.recbole_class)  # its checkpoints name the class
        self._epoch_times = [time.perf_counter()]
        super()._fit(train, valid, seed=seed)

    def _recbole_model_ref(self):
        return self.recbole_class

    def _build_recbole_model(self, config, dataset):
        """Hands the model its features as float32 tensors aligned to RecBole's item ids (row 0,
        RecBole's [PAD] item, is zero)."""
        import torch

        order = self.recbole_item_order(dataset, self.n_items)
        aligned = {}
        for modality in sorted(self.feats.features):
            array = self.feats.features[modality]
            rows = np.zeros((len(order), array.shape[1]), dtype=np.float32)
            rows[order >= 0] = array[order[order >= 0]]
            aligned[modality] = torch.from_numpy(rows)
        return self.recbole_class(config, dataset, aligned)

    def _model_settings(self) -> dict[str, Any]:
        settings = super()._model_settings()
        for key in _FEATURE_FIELDS:
            settings.pop(key, None)
        return settings

    def _epoch_line(self, trainer, epoch: int, score: float) -> None:
        self._epoch_times.append(time.perf_counter())
        super()._epoch_line(trainer, epoch, score)

    def fit_info(self) -> dict[str, Any]:
        info = super().fit_info()
        feats = getattr(self, "feats", None)
        if feats is not None:
            info["modalities_used"] = sorted({"interactions", *feats.features})
            info["features"] = feats.info
            info["modalities_absent"] = dict(feats.absent)
        times = np.diff(getattr(self, "_epoch_times", []))
        if len(times):  # median over epochs of one epoch's training plus its validation
            info["seconds_per_epoch"] = float(np.median(times))
        return info


# --- torch helpers used by the models -------------------------------------------------------
def bpr_loss(pos, neg):
    """Bayesian personalised ranking: mean of -ln sigma(x_ui - x_uj) (Rendle et al., 2009)."""
    import torch.nn.functional as F

    return -F.logsigmoid(pos - neg).mean()


def sparse_tensor(matrix):
    """scipy sparse -> torch sparse COO float32."""
    import torch

    coo = matrix.tocoo()
    index = torch.from_numpy(np.vstack([coo.row, coo.col]).astype(np.int64))
    return torch.sparse_coo_tensor(index, torch.from_numpy(coo.data.astype(np.float32)),
                                   coo.shape, check_invariants=True).coalesce()


def bipartite(dataset, normalize: str):
    """The (n_users + n_items)^2 user-item graph of the RecBole train dataset, normalised:
    "sym" = D^-1/2 A D^-1/2 (LightGCN), "mean" = D^-1 A (the mean aggregator of MMGCN)."""
    import scipy.sparse as sp

    r = dataset.inter_matrix(form="csr").astype(np.float32)
    r.data[:] = 1.0
    n_users, n_items = r.shape
    a = sp.bmat([[None, r], [r.T, None]], format="csr")
    deg = np.asarray(a.sum(axis=1)).ravel()
    with np.errstate(divide="ignore"):
        if normalize == "sym":
            d = np.where(deg > 0, deg ** -0.5, 0.0)
            a = sp.diags(d) @ a @ sp.diags(d)
        else:
            a = sp.diags(np.where(deg > 0, 1.0 / deg, 0.0)) @ a
    return sparse_tensor(a.astype(np.float32))
