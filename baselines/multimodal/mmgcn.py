"""MMGCN (Wei et al., "MMGCN: Multi-modal Graph Convolution Network for Personalized
Recommendation of Micro-video", ACM MM 2019): one graph convolution per modality over the
user-item graph, combined by summing the modality-specific representations.
"""

from __future__ import annotations

import dataclasses
from typing import Literal, cast

from baselines.multimodal.common import (
    MultimodalConfig,
    MultimodalRecommender,
    bipartite,
    bpr_loss,
)
from baselines.multimodal.torch_base import DotProductRecommender, F, InputType, nn, torch


@dataclasses.dataclass
class MMGCNConfig(MultimodalConfig):
    embedding_size: int = 64  # d_id: ID embeddings and every layer's output
    latent_size: int = 64  # raw features are first projected to this size (0 = use raw)
    n_layers: int = 2  # L
    combine: Literal["concat", "add"] = "concat"  # g_co ("concat") or g_ele ("add")
    leaky_slope: float = 0.01

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.n_layers < 1:
            raise ValueError("n_layers must be >= 1")


class ModalityGCN(nn.Module):
    """The graph convolution of one modality m (paper, Sec. "Multi-modal Graph Convolution").

    Input per node: user preference u_m (learnt) or item feature i_m (projected to
    ``latent_size``), L2-normalised. Each layer l:

    * aggregation, f_avg: h_m = LeakyReLU( 1/|N(v)| sum_{j in N(v)} W1_m^(l) x_j )
    * combination: x_hat = LeakyReLU(W2_m^(l) x^(l-1)) + x_id, then
      g_co:  x^(l) = LeakyReLU( W3_m^(l) [h_m || x_hat] )   or
      g_ele: x^(l) = LeakyReLU( W3_m^(l) h_m + x_hat )
    """

    def __init__(self, n_users: int, feat_dim: int, config) -> None:
        super().__init__()
        latent, d = config["latent_size"], config["embedding_size"]
        self.project = nn.Linear(feat_dim, latent) if latent else None
        width = latent or feat_dim
        self.preference = nn.Parameter(nn.init.xavier_normal_(torch.empty(n_users, width)))
        self.concat, self.slope = config["combine"] == "concat", config["leaky_slope"]
        sizes = [width] + [d] * config["n_layers"]
        self.w1 = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes, sizes[1:]))
        self.w2 = nn.ModuleList(nn.Linear(a, d) for a in sizes[:-1])
        self.w3 = nn.ModuleList(nn.Linear(2 * d if self.concat else d, d)
                                for _ in sizes[:-1])

    def forward(self, features, graph, id_embedding):
        items = self.project(features) if self.project is not None else features
        x = F.normalize(torch.cat([self.preference, items]), dim=1)
        for w1, w2, w3 in zip(self.w1, self.w2, self.w3):
            h = F.leaky_relu(torch.sparse.mm(graph, w1(x)), self.slope)  # f_avg
            x_hat = F.leaky_relu(w2(x), self.slope) + id_embedding
            x = F.leaky_relu(w3(torch.cat([h, x_hat], 1)) if self.concat else w3(h) + x_hat,
                             self.slope)
        return x


class MMGCNModel(DotProductRecommender):
    """Prediction (paper, Sec. "Model Prediction"): u* = sum_m u_m^(L), i* = sum_m i_m^(L),
    y_ui = u*^T i*; trained with the BPR loss plus L2 on the ID embeddings and user
    preferences of the batch (reg_weight)."""

    input_type = InputType.PAIRWISE

    def __init__(self, config, dataset, features: dict):
        super().__init__(config, dataset)
        self.modal_names = sorted(features)
        for m in self.modal_names:
            self.register_buffer(f"feat_{m}", features[m], persistent=False)
        self.register_buffer("graph", bipartite(dataset, "mean"), persistent=False)  # D^-1 A
        self.id_embedding = nn.Parameter(nn.init.xavier_normal_(
            torch.empty(self.n_users + self.n_items, config["embedding_size"])))
        self.gcns = nn.ModuleDict({m: ModalityGCN(self.n_users, features[m].shape[1], config)
                                   for m in self.modal_names})
        self.reg_weight = config["reg_weight"]
        self._cache = None

    def train(self, mode: bool = True):
        self._cache = None  # parameters may change: recompute representations at eval
        return super().train(mode)

    def forward(self):
        rep = sum(self.gcns[m](getattr(self, f"feat_{m}"), self.graph, self.id_embedding)
                  for m in self.modal_names)
        return rep[:self.n_users], rep[self.n_users:]

    def _representations(self):
        if self.training:
            return self.forward()
        if self._cache is None:
            self._cache = self.forward()
        return self._cache

    def calculate_loss(self, interaction):
        user = interaction[self.USER_ID]
        pos, neg = interaction[self.ITEM_ID], interaction[self.NEG_ITEM_ID]
        users, items = self.forward()
        u = users[user]
        loss = bpr_loss((u * items[pos]).sum(1), (u * items[neg]).sum(1))
        ids = self.id_embedding
        reg = (ids[user].pow(2).sum() + ids[self.n_users + pos].pow(2).sum()
               + ids[self.n_users + neg].pow(2).sum()
               + sum(cast(ModalityGCN, g).preference[user].pow(2).sum()
                     for g in self.gcns.values()))
        return loss + self.reg_weight * reg / len(user)


class MMGCN(MultimodalRecommender):
    """MMGCN behind the Recommender interface (features: ``benchmark.features``)."""

    Config = MMGCNConfig
    recbole_model = "MMGCN"
    recbole_class = MMGCNModel
    modalities = frozenset({"interactions", "text", "visual"})
