"""EASE (Steck, WWW 2019): a closed-form item-item linear autoencoder.

B = I - P diag(1/diag(P)) with P = (X^T X + lambda I)^-1 and diag(B) = 0. One dense
n_items x n_items solve: fine for MovieLens-scale catalogues (tens of thousands of items).
lambda is chosen on the validation split from ``l2_grid`` (validation only, never test).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from benchmark.data.types import Interactions
from benchmark.models.base import Recommender


@dataclasses.dataclass
class EASEConfig:
    #: L2 regularisation; if l2_grid is non-empty, the best of the grid on valid NDCG@10 wins
    l2: float = 500.0
    l2_grid: list = dataclasses.field(default_factory=lambda: [50.0, 200.0, 500.0, 1000.0])
    max_items: int = 30000  # refuse larger catalogues (memory: 8 * n^2 bytes)


def ease_weights(gram: np.ndarray, l2: float) -> np.ndarray:
    g = gram.astype(np.float64, copy=True)
    g[np.diag_indices_from(g)] += l2
    p = np.linalg.inv(g)
    b = -p / np.diag(p)[None, :]
    b[np.diag_indices_from(b)] = 0.0
    return b


class EASE(Recommender):
    Config = EASEConfig

    def _fit(self, train: Interactions, valid: Interactions, *, seed: int) -> None:
        from benchmark.errors import ConfigError

        if self.n_items > self.config.max_items:
            raise ConfigError(f"EASE needs a dense {self.n_items}^2 matrix",
                              f"raise max_items (now {self.config.max_items}) if memory allows, "
                              "or use itemknn")
        self.x = train.csr()
        gram = (self.x.T @ self.x).toarray()
        grid = list(self.config.l2_grid) or [self.config.l2]
        if len(grid) == 1:
            self.chosen_l2 = float(grid[0])
        else:
            self.chosen_l2 = max(grid, key=lambda l2: self._valid_ndcg(gram, l2, valid))
        self.b = ease_weights(gram, self.chosen_l2)

    def _valid_ndcg(self, gram: np.ndarray, l2: float, valid: Interactions) -> float:
        """Mean NDCG@10 on the validation split (train items masked), to pick lambda."""
        from benchmark.metrics.ranking import ranking_metrics
        from benchmark.metrics.topk import topk_from_scores

        b = ease_weights(gram, l2)
        vf = valid.positive_frame()
        users = np.unique(vf["user"].to_numpy())
        if len(users) == 0:
            return 0.0
        scores = np.asarray(self.x[users] @ b)
        scores[self.x[users].nonzero()] = -np.inf
        topk = topk_from_scores(scores, 10, invalid=-np.inf)
        vcsr = valid.csr()
        truth = [vcsr.indices[vcsr.indptr[u]:vcsr.indptr[u + 1]] for u in users]
        return float(ranking_metrics(topk, truth, [10], ["ndcg"])["ndcg@10"].mean())

    def score_all(self, users: np.ndarray) -> np.ndarray:
        return np.asarray(self.x[np.asarray(users, dtype=np.int64)] @ self.b)

    def fit_info(self) -> dict:
        return {"chosen_l2": self.chosen_l2}
