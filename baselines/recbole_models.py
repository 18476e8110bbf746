"""The RecBole models the suite registers: BPR, LightGCN, SASRec, GRU4Rec.

Each is a few lines over :class:`baselines.recbole_adapter.RecBoleRecommender`: the RecBole model
name and a ``Config`` whose fields and defaults are RecBole 1.2.1's (properties/overall.yaml and
properties/model/<Model>.yaml). Field names are RecBole's, except ``max_seq_length`` (RecBole's
``MAX_ITEM_LIST_LENGTH``) and the adapter's own ``device`` and ``show_progress``.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pandas as pd

from baselines.recbole_adapter import RecBoleConfig, RecBoleRecommender
from benchmark.data.types import Interactions


@dataclasses.dataclass
class BPRConfig(RecBoleConfig):
    embedding_size: int = 64


class BPR(RecBoleRecommender):
    """Bayesian personalised ranking over user and item embeddings (Rendle et al., 2009)."""

    Config = BPRConfig
    recbole_model = "BPR"


@dataclasses.dataclass
class LightGCNConfig(RecBoleConfig):
    embedding_size: int = 64
    n_layers: int = 2
    reg_weight: float = 1e-05


class LightGCN(RecBoleRecommender):
    """Light graph convolution over the user-item graph (He et al., 2020)."""

    Config = LightGCNConfig
    recbole_model = "LightGCN"


@dataclasses.dataclass
class SequentialConfig(RecBoleConfig):
    max_seq_length: int = 50  # RecBole's MAX_ITEM_LIST_LENGTH
    loss_type: str = "CE"  # "CE" (softmax over all items) or "BPR" (one sampled negative)

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.max_seq_length < 1:
            raise ValueError("max_seq_length must be >= 1")
        if self.loss_type not in ("CE", "BPR"):
            raise ValueError(f"loss_type must be 'CE' or 'BPR', not {self.loss_type!r}")


def history_rows(seqs: dict[int, np.ndarray], targets: pd.DataFrame | None, max_len: int):
    """(users, item_id_list strings, target items): rows of RecBole's sequential benchmark files.

    targets None: every item of ``seqs`` after the user's first, with the items before it;
    otherwise each target row of a user with a history in ``seqs``, with that history. In time
    order, at most ``max_len`` previous items (a longer list breaks SASRec's position embedding).
    """
    users, lists, items = [], [], []
    tokens = {u: [str(i) for i in seq] for u, seq in seqs.items()}  # each id converted once
    if targets is None:
        for u, seq in seqs.items():
            for t in range(1, len(seq)):
                users.append(u), items.append(seq[t])
                lists.append(" ".join(tokens[u][max(0, t - max_len):t]))
    else:
        for u, item in zip(targets["user"].to_numpy(), targets["item"].to_numpy()):
            if len(tokens.get(int(u), ())):
                users.append(u), items.append(item)
                lists.append(" ".join(tokens[int(u)][-max_len:]))
    return users, lists, items


class SequentialRecBoleRecommender(RecBoleRecommender):
    """Next-item models: RecBole's pre-split files must carry each row's history themselves.

    Train rows: each train interaction after the user's first, with the train items before it.
    Valid rows: each valid interaction, with all the user's train items. Test rows (written only
    when a test part is given, e.g. to run RecBole alone): all train + valid items. At test time
    a user's history is train + valid (``self.history``): the last ``max_seq_length`` items.
    """

    inter_fields = ("user_id", "item_id_list", "item_id")

    def _inter_columns(self, part: str, train: Interactions, valid: Interactions,
                       test: Interactions | None) -> dict[str, tuple[str, Any]]:
        width = self.config.max_seq_length
        if part == "train":
            users, lists, items = history_rows(train.sequences(), None, width)
        elif part == "valid" or test is None:
            users, lists, items = history_rows(train.sequences(), valid.positive_frame(), width)
        else:
            history = train.concat(valid).sequences()
            users, lists, items = history_rows(history, test.positive_frame(), width)
        return {"user_id": ("token", users), "item_id_list": ("token_seq", lists),
                "item_id": ("token", items)}

    def _model_settings(self) -> dict[str, Any]:
        settings = super()._model_settings()
        settings["MAX_ITEM_LIST_LENGTH"] = self.config.max_seq_length
        settings["alias_of_item_id"] = ["item_id_list"]  # one vocabulary with item_id
        if self.config.loss_type == "CE":  # RecBole requires no negative sampling with CE
            settings["train_neg_sample_args"] = None
        return settings

    def _index_ids(self, dataset) -> None:
        super()._index_ids(dataset)
        width = self.config.max_seq_length
        self._seq = np.zeros((self.n_users, width), dtype=np.int64)  # 0 = [PAD], left-aligned
        self._seq_len = np.ones(self.n_users, dtype=np.int64)  # no history: a lone [PAD]
        for user, items in self.history.sequences().items():
            last = self._item_index[items[-width:]]
            self._seq[user, :len(last)], self._seq_len[user] = last, max(len(last), 1)

    def _query(self, users: np.ndarray) -> dict:
        import torch

        return {self.model.ITEM_SEQ: torch.from_numpy(self._seq[users]),
                self.model.ITEM_SEQ_LEN: torch.from_numpy(self._seq_len[users])}


@dataclasses.dataclass
class SASRecConfig(SequentialConfig):
    n_layers: int = 2
    n_heads: int = 2
    hidden_size: int = 64  # also the item embedding size
    inner_size: int = 256
    hidden_dropout_prob: float = 0.5
    attn_dropout_prob: float = 0.5
    hidden_act: str = "gelu"
    layer_norm_eps: float = 1e-12
    initializer_range: float = 0.02


class SASRec(SequentialRecBoleRecommender):
    """Self-attentive sequential recommendation (Kang & McAuley, 2018)."""

    Config = SASRecConfig
    recbole_model = "SASRec"


@dataclasses.dataclass
class GRU4RecConfig(SequentialConfig):
    embedding_size: int = 64
    hidden_size: int = 128
    num_layers: int = 1
    dropout_prob: float = 0.3


class GRU4Rec(SequentialRecBoleRecommender):
    """Session-based recommendation with a GRU over the item sequence (Hidasi et al., 2016)."""

    Config = GRU4RecConfig
    recbole_model = "GRU4Rec"
