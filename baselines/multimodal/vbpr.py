"""VBPR (He & McAuley, "VBPR: Visual Bayesian Personalized Ranking from Implicit Feedback",
AAAI 2016): BPR-MF plus a content factor from projected item features.

Here the content is whatever modalities exist (text for MovieLens, image and text for Amazon),
concatenated into one feature vector ``f_i``, the paper's visual feature.
"""

from __future__ import annotations

import dataclasses

from baselines.multimodal.common import MultimodalConfig, MultimodalRecommender, bpr_loss
from baselines.multimodal.torch_base import GeneralRecommender, InputType, nn, torch


@dataclasses.dataclass
class VBPRConfig(MultimodalConfig):
    embedding_size: int = 32  # K, the latent (ID) factor size
    content_size: int = 32  # K', the size of the projected content factor (E f_i)
    reg_e: float = 1e-4  # the paper's lambda_E: L2 on E and beta'


class VBPRModel(GeneralRecommender):
    """Predictor (paper, Sec. "Visual Bayesian Personalized Ranking"):

        x_ui = alpha + beta_u + beta_i + gamma_u . gamma_i + theta_u . (E f_i) + beta' . f_i

    alpha and beta_u are the same for every item of a user, so they cancel in the BPR
    difference x_uij = x_ui - x_uj and in any ranking; they are left out.
    Loss: the BPR criterion -ln sigma(x_uij) with L2 on the parameters of the batch
    (lambda_Theta) and on E and beta' (lambda_E), learnt with Adam (the paper uses SGD).
    """

    input_type = InputType.PAIRWISE

    def __init__(self, config, dataset, features: dict):
        super().__init__(config, dataset)
        feats = torch.cat([features[m] for m in sorted(features)], dim=1)
        self.register_buffer("item_features", feats, persistent=False)  # f_i
        k, k2 = config["embedding_size"], config["content_size"]
        self.gamma_user = nn.Embedding(self.n_users, k)
        self.gamma_item = nn.Embedding(self.n_items, k)
        self.theta_user = nn.Embedding(self.n_users, k2)
        self.beta_item = nn.Embedding(self.n_items, 1)
        self.E = nn.Linear(feats.shape[1], k2, bias=False)
        self.beta_prime = nn.Linear(feats.shape[1], 1, bias=False)
        self.reg_weight, self.reg_e = config["reg_weight"], config["reg_e"]
        # item parts at eval (see full_sort_predict)
        self._cache: tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None = None
        for emb in (self.gamma_user, self.gamma_item, self.theta_user):
            nn.init.normal_(emb.weight, std=0.1)
        nn.init.zeros_(self.beta_item.weight)
        nn.init.xavier_uniform_(self.E.weight)
        nn.init.zeros_(self.beta_prime.weight)

    def train(self, mode: bool = True):
        self._cache = None  # parameters may change: recompute the item parts at eval
        return super().train(mode)

    def item_parts(self, items=None):
        """(gamma_i, E f_i, beta_i + beta' . f_i) for the given items (None = all)."""
        f = self.item_features if items is None else self.item_features[items]
        gamma = self.gamma_item.weight if items is None else self.gamma_item(items)
        beta = self.beta_item.weight if items is None else self.beta_item(items)
        return gamma, self.E(f), (beta + self.beta_prime(f)).squeeze(-1)

    def forward(self, user, item):
        gamma_i, content_i, bias_i = self.item_parts(item)
        return ((self.gamma_user(user) * gamma_i).sum(-1)
                + (self.theta_user(user) * content_i).sum(-1) + bias_i)

    def calculate_loss(self, interaction):
        user = interaction[self.USER_ID]
        pos, neg = interaction[self.ITEM_ID], interaction[self.NEG_ITEM_ID]
        loss = bpr_loss(self.forward(user, pos), self.forward(user, neg))
        batch = (self.gamma_user(user).pow(2).sum() + self.theta_user(user).pow(2).sum()
                 + self.gamma_item(pos).pow(2).sum() + self.gamma_item(neg).pow(2).sum()
                 + self.beta_item(pos).pow(2).sum() + self.beta_item(neg).pow(2).sum())
        content = self.E.weight.pow(2).sum() + self.beta_prime.weight.pow(2).sum()
        return loss + self.reg_weight * batch / len(user) + self.reg_e * content

    def predict(self, interaction):
        return self.forward(interaction[self.USER_ID], interaction[self.ITEM_ID])

    def full_sort_predict(self, interaction):
        user = interaction[self.USER_ID]
        if self.training or self._cache is None:
            self._cache = self.item_parts()
        gamma_i, content_i, bias_i = self._cache
        return (self.gamma_user(user) @ gamma_i.T + self.theta_user(user) @ content_i.T
                + bias_i).view(-1)


class VBPR(MultimodalRecommender):
    """VBPR behind the Recommender interface (features: ``benchmark.features``)."""

    Config = VBPRConfig
    recbole_model = "VBPR"
    modalities = frozenset({"interactions", "text", "visual"})

    recbole_class = VBPRModel
