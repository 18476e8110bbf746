"""LR-Recsys deep network: user + item features (+ explanation embedding) -> like probability.

User features: demographics when the catalogue has them (age, gender, occupation), the user's
smoothed like rate, activity, and per-genre like rate and share, all from TRAIN interactions.
Item features: genres, year, popularity and smoothed like rate from TRAIN, plus the user-item
genre affinity. For a train pair the counts leave the pair itself out (leave-one-out), so its
own label is not among its inputs and training sees what test pairs see.
Optional learned id embeddings (``id_dim`` > 0). The explanation embedding, when used, is
concatenated to the same input; without it the network, data, seed and training are identical.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from benchmark.data.types import Interactions
from benchmark.explain.silver import attribute_list

SMOOTH = 5.0  # pseudo-count toward the global like rate
STD_FLOOR = 0.05  # features live on a 0-1 scale


@dataclass
class PairData:
    """One set of pairs as the network sees them (explanations optional)."""

    users: np.ndarray
    items: np.ndarray
    x: np.ndarray  # float32 (n, d) user + item features
    expl: np.ndarray | None  # float32 (n, e) explanation features, or None
    y: np.ndarray | None = None  # float32 like labels (fit / valid pairs)


class FeatureTables:
    """Counts and side information from TRAIN, turned into per-pair feature rows."""

    def __init__(self, train: Interactions) -> None:
        cat, n_u, n_i = train.catalog, train.n_users, train.n_items
        items = cat.items if cat is not None else None
        col = next((c for c in ("genres", "categories") if items is not None
                    and c in items.columns), None)
        lists = ([attribute_list(g) for g in items[col]] if col and items is not None
                 else [[] for _ in range(n_i)])
        names = sorted({g for gs in lists for g in gs})
        self.genres = np.zeros((n_i, len(names)), np.float32)
        for i, gs in enumerate(lists):
            self.genres[i, [names.index(g) for g in gs]] = 1.0
        year = (items["year"].to_numpy(dtype=float) if items is not None and "year" in items
                else np.full(n_i, np.nan))
        self.year = np.stack([np.nan_to_num((year - 1990.0) / 20.0), np.isnan(year)],
                             1).astype(np.float32)
        self.demo = _demographics(cat.users if cat is not None else None, n_u)
        f = train.frame
        u, i, y = f["user"].to_numpy(), f["item"].to_numpy(), train.liked().astype(np.float64)
        self.n_u = np.bincount(u, minlength=n_u).astype(np.float64)
        self.l_u = np.bincount(u, weights=y, minlength=n_u)
        self.n_i = np.bincount(i, minlength=n_i).astype(np.float64)
        self.l_i = np.bincount(i, weights=y, minlength=n_i)
        self.n_ug = np.zeros((n_u, len(names)))
        self.l_ug = np.zeros((n_u, len(names)))
        np.add.at(self.n_ug, u, self.genres[i])
        np.add.at(self.l_ug, u, self.genres[i] * y[:, None])
        self.prior = float(y.mean()) if len(y) else 0.5
        self.genre_names = names

    def rows(self, users: np.ndarray, items: np.ndarray,
             own_liked: np.ndarray | None = None) -> np.ndarray:
        """Feature rows; ``own_liked`` (train pairs) removes each pair's own counts."""
        g = self.genres[items]
        n_u, l_u = self.n_u[users].copy(), self.l_u[users].copy()
        n_i, l_i = self.n_i[items].copy(), self.l_i[items].copy()
        n_ug, l_ug = self.n_ug[users].copy(), self.l_ug[users].copy()
        if own_liked is not None:
            own = own_liked.astype(np.float64)
            n_u -= 1
            l_u -= own
            n_i -= 1
            l_i -= own
            n_ug -= g
            l_ug -= g * own[:, None]
        a, p = SMOOTH, self.prior
        u_rate = (l_u + a * p) / (n_u + a)
        ug_rate = (l_ug + a * u_rate[:, None]) / (n_ug + a)
        ug_share = n_ug / np.maximum(n_u, 1)[:, None]
        i_rate = (l_i + a * p) / (n_i + a)
        affinity = (ug_rate * g).sum(1) / np.maximum(g.sum(1), 1)
        cols = [self.demo[users], u_rate[:, None], np.log1p(n_u)[:, None] / 5, ug_rate, ug_share,
                g, self.year[items], np.log1p(n_i)[:, None] / 5, i_rate[:, None],
                affinity[:, None]]
        return np.concatenate(cols, axis=1).astype(np.float32)


def _demographics(users, n_u: int) -> np.ndarray:
    if users is None or not len(users):
        return np.zeros((n_u, 0), np.float32)
    cols = []
    if "age" in users:
        cols.append((users["age"].to_numpy(dtype=float)[:, None] - 30.0) / 15.0)
    for name in ("gender", "occupation"):
        if name in users:
            values = users[name].astype(str).to_numpy()
            cats = sorted(set(values))
            cols.append((values[:, None] == np.array(cats)[None, :]).astype(float))
    out = np.concatenate(cols, axis=1) if cols else np.zeros((len(users), 0))
    return np.nan_to_num(out).astype(np.float32)


class LRNet:
    """MLP over [standardised features, explanation embedding, id embeddings]."""

    def __init__(self, d_x: int, d_expl: int, n_users: int, n_items: int, id_dim: int,
                 hidden: list[int], dropout: float) -> None:
        import torch

        nn = torch.nn
        self.d_expl = d_expl
        self.user_emb = nn.Embedding(n_users, id_dim) if id_dim else None
        self.item_emb = nn.Embedding(n_items, id_dim) if id_dim else None
        layers, width = [], d_x + d_expl + 2 * id_dim
        for h in hidden:
            layers += [nn.Linear(width, h), nn.ReLU(), nn.Dropout(dropout)]
            width = h
        layers.append(nn.Linear(width, 1))
        self.mlp = nn.Sequential(*layers)
        self.mean = np.zeros(d_x + d_expl, np.float32)
        self.std = np.ones(d_x + d_expl, np.float32)

    def modules(self):
        return [m for m in (self.mlp, self.user_emb, self.item_emb) if m is not None]

    def parameters(self):
        return [p for m in self.modules() for p in m.parameters()]

    def train(self, mode: bool = True) -> None:
        for m in self.modules():
            m.train(mode)

    def inputs(self, data: PairData) -> np.ndarray:
        x = data.x if not self.d_expl else np.concatenate([data.x, data.expl], axis=1)
        return x

    def standardise_on(self, data: PairData) -> None:
        x = self.inputs(data)
        self.mean = x.mean(0)
        # floored: a near-constant column (e.g. every synthetic user with the same count) must not
        # blow a tiny train-valid difference up into a saturating input
        self.std = np.maximum(x.std(0), STD_FLOOR).astype(np.float32)

    def logits(self, data: PairData, idx: np.ndarray | None = None):
        import torch

        sel = slice(None) if idx is None else idx
        x = torch.from_numpy((self.inputs(data)[sel] - self.mean) / self.std)
        parts = [x]
        if self.user_emb is not None and self.item_emb is not None:  # both or neither
            parts += [self.user_emb(torch.from_numpy(data.users[sel].astype(np.int64))),
                      self.item_emb(torch.from_numpy(data.items[sel].astype(np.int64)))]
        return self.mlp(torch.cat(parts, dim=1)).squeeze(1)

    def predict(self, data: PairData, batch: int = 4096) -> np.ndarray:
        import torch

        self.train(False)
        out = []
        with torch.no_grad():
            for start in range(0, len(data.users), batch):
                idx = np.arange(start, min(start + batch, len(data.users)))
                out.append(torch.sigmoid(self.logits(data, idx)).numpy())
        return np.concatenate(out).astype(np.float64) if out else np.zeros(0)


def train_net(net: LRNet, train: PairData, valid: PairData, *, epochs: int, lr: float,
              batch_size: int, weight_decay: float, patience: int, seed: int) -> dict[str, Any]:
    """BCE on like labels; keeps the epoch with the best VALID AUC (early stopping)."""
    import copy

    import torch

    from benchmark.metrics.pointwise import auc

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    assert train.y is not None and valid.y is not None, "fit and valid pairs carry labels"
    net.standardise_on(train)
    opt = torch.optim.Adam(net.parameters(), lr=lr, weight_decay=weight_decay)
    y = torch.from_numpy(train.y.astype(np.float32))
    t0 = time.perf_counter()
    best, best_epoch, history, waited = -1.0, 0, [], 0
    best_state: list[dict[str, Any]] | None = None
    for epoch in range(1, epochs + 1):
        net.train(True)
        total = 0.0
        for idx in np.array_split(rng.permutation(len(y)), max(1, len(y) // batch_size)):
            loss = torch.nn.functional.binary_cross_entropy_with_logits(net.logits(train, idx),
                                                                        y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        score = auc(valid.y, net.predict(valid))
        history.append({"epoch": epoch, "train_bce": total / len(y), "valid_auc": score})
        if score > best:
            best, best_epoch, waited = score, epoch, 0
            best_state = [copy.deepcopy(m.state_dict()) for m in net.modules()]
        else:
            waited += 1
            if waited >= patience:
                break
    assert best_state is not None, "no epoch had a valid AUC above -1"
    for m, state in zip(net.modules(), best_state):
        m.load_state_dict(state)
    net.train(False)
    return {"best_valid_auc": best, "best_epoch": best_epoch, "epochs_run": len(history),
            "history": history, "seconds": time.perf_counter() - t0,
            "n_train_pairs": len(y), "n_valid_pairs": len(valid.y)}
