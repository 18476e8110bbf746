"""The RecBole models the suite registers: BPR, LightGCN, SASRec, GRU4Rec.

Each is a few lines over :class:`baselines.recbole_adapter.RecBoleRecommender`: the RecBole model
name and a ``Config`` whose fields and defaults are RecBole 1.2.1's (properties/overall.yaml and
properties/model/<Model>.yaml). Field names are RecBole's, except ``max_seq_length`` (RecBole's
``MAX_ITEM_LIST_LENGTH``) and the adapter's own ``device`` and ``show_progress``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from baselines.recbole_adapter import RecBoleConfig, RecBoleRecommender
from benchmark.data.types import Interactions
from benchmark.models.base import Capability
from benchmark.models.history import HistoryScorer


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
    loss_type: Literal["CE", "BPR"] = "CE"  # softmax over all items, or one sampled negative

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.max_seq_length < 1:
            raise ValueError("max_seq_length must be >= 1")


def history_rows(seqs: dict[int, np.ndarray], targets: pd.DataFrame | None, max_len: int):
    """(users, item_id_list strings, target items): rows of RecBole's sequential benchmark files.

    targets None: every item of ``seqs`` after the user's first, with the items before it;
    otherwise each target row in time order per user (ties: row order), with the user's items
    in ``seqs`` followed by the user's earlier target items: the history grows with the targets,
    as in RecBole's own augmentation of a time-sorted sequence. A row without any history is
    left out. At most ``max_len`` previous items (a longer list breaks SASRec's positions).
    """
    users, lists, items = [], [], []
    tokens = {u: [str(i) for i in seq] for u, seq in seqs.items()}  # each id converted once
    if targets is None:
        for u, seq in seqs.items():
            for t in range(1, len(seq)):
                users.append(u)
                items.append(seq[t])
                lists.append(" ".join(tokens[u][max(0, t - max_len):t]))
        return users, lists, items
    t_users, t_items = targets["user"].to_numpy(), targets["item"].to_numpy()
    order = np.lexsort((np.arange(len(targets)), targets["timestamp"].to_numpy(), t_users))
    grown: dict[int, list[str]] = {}
    for u, item in zip(t_users[order].tolist(), t_items[order].tolist()):
        if u not in grown:
            grown[u] = list(tokens.get(u, ()))
        history = grown[u]
        if history:
            users.append(u)
            items.append(item)
            lists.append(" ".join(history[-max_len:]))
        history.append(str(item))
    return users, lists, items


class SequentialRecBoleRecommender(HistoryScorer, RecBoleRecommender):
    """Next-item models: RecBole's pre-split files must carry each row's history themselves.

    Train rows: each train interaction after the user's first, with the train items before it.
    Valid rows: each valid interaction, with the user's train items and earlier valid items.
    Test rows (written only when a test part is given, e.g. to run RecBole alone): each test
    interaction with train + valid + earlier test items, the next-item protocol's queries. The
    user's history for ``score_all`` (full ranking) is train + valid (``self.history``);
    ``score_history`` takes an explicit one. Both keep the last ``max_seq_length`` items.
    """

    capabilities = RecBoleRecommender.capabilities | {Capability.HISTORY}
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

    def _pack(self, histories: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """RecBole's item_seq (left-aligned, 0 = [PAD]) and item_seq_len of harness histories:
        the last ``max_seq_length`` items of each; an empty history is a lone [PAD]."""
        width = self.config.max_seq_length
        seq = np.zeros((len(histories), width), dtype=np.int64)
        seq_len = np.ones(len(histories), dtype=np.int64)
        for row, items in enumerate(histories):
            last = self._item_index[np.asarray(items, dtype=np.int64)[-width:]]
            seq[row, :len(last)], seq_len[row] = last, max(len(last), 1)
        return seq, seq_len

    def _index_ids(self, dataset) -> None:
        super()._index_ids(dataset)
        assert self.history is not None  # remembered by fit before RecBole's dataset is built
        seqs = self.history.sequences()
        empty = np.empty(0, dtype=np.int64)
        self._seq, self._seq_len = self._pack([seqs.get(u, empty) for u in range(self.n_users)])

    def _query(self, users: np.ndarray) -> dict:
        return self._seq_query(self._seq[users], self._seq_len[users])

    def _seq_query(self, seq: np.ndarray, seq_len: np.ndarray) -> dict:
        import torch

        return {self.model.ITEM_SEQ: torch.from_numpy(seq),
                self.model.ITEM_SEQ_LEN: torch.from_numpy(seq_len)}

    def score_history(self, users: np.ndarray, histories: Sequence[np.ndarray]) -> np.ndarray:
        """Scores of every item after each history (``users`` unused: RecBole's sequential
        models read only the item sequence)."""
        if len(users) != len(histories):
            raise ValueError(f"{self.name}: {len(users)} users for {len(histories)} histories")
        return self._full_sort(len(histories),
                               lambda a, b: self._seq_query(*self._pack(histories[a:b])))


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
