"""LATTICE (Zhang et al., "Mining Latent Structures for Multimedia Recommendation", ACM MM 2021):
item-item graphs learnt from each modality's kNN structure, fused, convolved over item ID
embeddings, and added to a collaborative (LightGCN) backbone.

The item graphs are dense n_items x n_items matrices (fine for MovieLens-100K's 1,682 items; at
tens of thousands of items they need a sparse kNN build instead).
"""

from __future__ import annotations

import dataclasses

from baselines.multimodal.common import (
    MultimodalConfig,
    MultimodalRecommender,
    bipartite,
    bpr_loss,
)
from baselines.multimodal.torch_base import DotProductRecommender, F, InputType, nn, torch


@dataclasses.dataclass
class LATTICEConfig(MultimodalConfig):
    embedding_size: int = 64  # ID embeddings of users and items
    feat_embed_size: int = 64  # size of the projected features e~_i^m
    knn_k: int = 10  # k of the kNN sparsification
    skip_lambda: float = 0.9  # lambda: weight of the initial (raw-feature) graph
    n_item_layers: int = 1  # item-item graph convolutions
    n_ui_layers: int = 2  # LightGCN layers of the collaborative backbone

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.knn_k < 1 or not 0.0 <= self.skip_lambda <= 1.0 or self.n_item_layers < 1:
            raise ValueError("need knn_k >= 1, 0 <= skip_lambda <= 1 and n_item_layers >= 1")


def knn_graph(features, k: int):
    """Modality-aware item graph (paper, Sec. "Latent Structure Learning"):

    * cosine similarity S_ij = e_i^T e_j / (||e_i|| ||e_j||),
    * kNN sparsification: keep each row's k largest S_ij, zero the rest,
    * symmetric normalisation S^ = D^-1/2 S D^-1/2 (D: row sums).

    Differentiable in the kept values, so the projection W_m learns through the learnt graph.
    """
    x = F.normalize(features, dim=1)
    sim = x @ x.T
    values, index = torch.topk(sim, min(k, sim.shape[0]), dim=1)
    graph = torch.zeros_like(sim).scatter_(1, index, values)
    deg = graph.sum(1)
    inv = torch.where(deg > 0, deg.clamp(min=1e-12).pow(-0.5), torch.zeros_like(deg))
    return inv[:, None] * graph * inv[None, :]


class LATTICEModel(DotProductRecommender):
    """Pieces, in the paper's order:

    * initial graphs S~^m = knn_graph(raw features of m), fixed;
    * learnt graphs A^m = knn_graph(W_m e_i^m + b_m) from projected features, rebuilt at the first
      batch of every epoch (with gradients) and reused, detached, by the epoch's other batches;
    * skip connection A^m = (1 - lambda) A^m_learnt + lambda S~^m;
    * fusion A = sum_m alpha_m A^m, alpha = softmax of learnt modality weights;
    * item graph convolution h^(l) = A h^(l-1), h^(0) = the item ID embeddings;
    * combination with CF: e_u, e_i from LightGCN over the user-item graph, item representation
      e_i + h_i / ||h_i||, score y_ui = e_u^T (e_i + h_i / ||h_i||);
    * BPR loss plus L2 on the batch's ID embeddings (reg_weight).
    """

    input_type = InputType.PAIRWISE

    def __init__(self, config, dataset, features: dict):
        super().__init__(config, dataset)
        self.modal_names = sorted(features)
        self.k, self.lam = config["knn_k"], config["skip_lambda"]
        self.n_item_layers, self.n_ui_layers = config["n_item_layers"], config["n_ui_layers"]
        d = config["embedding_size"]
        self.user_embedding = nn.Embedding(self.n_users, d)
        self.item_embedding = nn.Embedding(self.n_items, d)
        nn.init.xavier_uniform_(self.user_embedding.weight)
        nn.init.xavier_uniform_(self.item_embedding.weight)
        for m in self.modal_names:
            self.register_buffer(f"feat_{m}", features[m], persistent=False)
            with torch.no_grad():
                self.register_buffer(f"initial_{m}", knn_graph(features[m], self.k),
                                     persistent=False)
        self.project = nn.ModuleDict({m: nn.Linear(features[m].shape[1],
                                                   config["feat_embed_size"])
                                      for m in self.modal_names})
        self.modal_weight = nn.Parameter(torch.full((len(self.modal_names),),
                                                    1.0 / len(self.modal_names)))
        self.register_buffer("ui_graph", bipartite(dataset, "sym"), persistent=False)
        self.reg_weight = config["reg_weight"]
        self._item_graph: torch.Tensor | None = None
        self._rebuild, self._cache = True, None

    def train(self, mode: bool = True):
        if mode:  # RecBole calls train() at the start of every epoch
            self._rebuild = True
        self._cache = None
        return super().train(mode)

    def item_graph(self):
        """The fused item-item graph A; rebuilt with gradients once per epoch (or at eval)."""
        if self._rebuild or self._item_graph is None:
            alpha = torch.softmax(self.modal_weight, dim=0)
            graph: torch.Tensor | float = 0
            for w, m in zip(alpha, self.modal_names):
                learnt = knn_graph(self.project[m](getattr(self, f"feat_{m}")), self.k)
                graph = graph + w * ((1 - self.lam) * learnt + self.lam
                                     * getattr(self, f"initial_{m}"))
            assert isinstance(graph, torch.Tensor)  # at least one modality
            self._item_graph, self._rebuild = graph, False
            return graph
        return self._item_graph.detach()

    def forward(self):
        h = self.item_embedding.weight
        graph = self.item_graph()
        for _ in range(self.n_item_layers):
            h = graph @ h
        ego = torch.cat([self.user_embedding.weight, self.item_embedding.weight])
        layers = [ego]
        for _ in range(self.n_ui_layers):  # LightGCN: mean of the propagated layers
            layers.append(torch.sparse.mm(self.ui_graph, layers[-1]))
        out = torch.stack(layers).mean(0)
        users, items = out[:self.n_users], out[self.n_users:]
        return users, items + F.normalize(h, dim=1)

    def _representations(self):
        if self.training:
            return self.forward()
        if self._cache is None:
            with torch.no_grad():
                self._rebuild = True  # the graph of the current (e.g. best) weights
                self._cache = self.forward()
        return self._cache

    def calculate_loss(self, interaction):
        user = interaction[self.USER_ID]
        pos, neg = interaction[self.ITEM_ID], interaction[self.NEG_ITEM_ID]
        users, items = self.forward()
        u = users[user]
        loss = bpr_loss((u * items[pos]).sum(1), (u * items[neg]).sum(1))
        reg = (self.user_embedding(user).pow(2).sum() + self.item_embedding(pos).pow(2).sum()
               + self.item_embedding(neg).pow(2).sum())
        return loss + self.reg_weight * reg / len(user)


class LATTICE(MultimodalRecommender):
    """LATTICE behind the Recommender interface (features: ``benchmark.features``)."""

    Config = LATTICEConfig
    recbole_model = "LATTICE"
    recbole_class = LATTICEModel
    modalities = frozenset({"interactions", "text", "visual"})
