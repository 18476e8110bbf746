"""LightGBM LambdaMART ranker (LGBMRanker, objective "lambdarank") on content and demographics.

Features of a (user, item) pair, all computable for new users and new items:

- content: cosine between the user's MiniLM profile (``baselines.content.UserProfiles``; the
  demographic group's profile for users without history) and the item's text embedding, and the
  largest cosine to any single item of the user's history;
- genre affinity: share of the user's history in the item's genres (or categories);
- item: its genres as multi-hot (the 20 most common), its year, log train popularity (0 for new
  items);
- user: age, gender, occupation (LightGBM categorical codes), log history length.

Training groups, one per user with valid positives: profile and affinities from train only; label
2 for a liked valid item, 1 for another valid item, 0 for ``negatives`` items the user never
interacted with (drawn with the seed). ``score`` computes the features for the asked pairs from
train + valid, so a new user's N support items are its whole profile.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from baselines.content import UserProfiles, text_embeddings
from benchmark.data.types import Interactions
from benchmark.models.base import Capability, Recommender


@dataclasses.dataclass
class LGBMRankerConfig:
    n_estimators: int = 100
    learning_rate: float = 0.1
    num_leaves: int = 15
    min_child_samples: int = 20
    negatives: int = 20  # sampled negatives per training user
    top_genres: int = 20
    cache_dir: str | None = None
    max_items_sim: int = 20000  # precompute item-item cosines up to this catalogue size
    n_jobs: int = 1  # the benchmark machine is shared; more threads only contend


class _Side:
    """Everything the features of a pair need, computed from one history."""

    def __init__(self, emb, history: Interactions, users_frame, n_users, genre_mh, pop) -> None:
        self.profiles = UserProfiles(emb, history, users_frame, n_users)
        f = history.frame
        u, i = f["user"].to_numpy(), f["item"].to_numpy()
        self.length = np.bincount(u, minlength=n_users)
        g = np.zeros((n_users, genre_mh.shape[1]))
        np.add.at(g, u, genre_mh[i])
        self.genre_share = g / np.maximum(self.length, 1)[:, None]
        order = np.argsort(u, kind="stable")
        self.u_sorted, self.i_sorted = u[order], i[order]
        self.emb, self.genre_mh, self.pop = emb, genre_mh, pop

    def items_of(self, user: int) -> np.ndarray:
        lo, hi = np.searchsorted(self.u_sorted, [user, user + 1])
        return self.i_sorted[lo:hi]


class LGBMRankerRecommender(Recommender):
    Config = LGBMRankerConfig
    capabilities = frozenset({Capability.RANK, Capability.SCORE, Capability.COLD_USER,
                              Capability.COLD_ITEM})
    modalities = frozenset({"interactions", "text", "demographics"})

    def _fit(self, train: Interactions, valid: Interactions, *, seed: int) -> None:
        import lightgbm as lgb

        catalog = train.catalog
        self.emb, self.features_info = text_embeddings(catalog, self.config.cache_dir)
        assert catalog is not None  # text_embeddings refuses a missing catalog
        # item-item cosines, when they fit in memory (float32: 4 * n^2 bytes)
        self.item_sim = ((self.emb @ self.emb.T).astype(np.float32)
                         if self.n_items <= self.config.max_items_sim else None)
        self._item_side(catalog, train)
        self._user_side(catalog)
        side = _Side(self.emb, train, catalog.users, self.n_users, self.genre_mh, self.log_pop)
        rng = np.random.default_rng(seed)
        vf = valid.frame
        seen = train.concat(valid).csr(positives_only=False)
        us, its, labels, groups = [], [], [], []
        liked = valid.liked()
        for u in np.unique(vf["user"].to_numpy()):
            rows = np.flatnonzero(vf["user"].to_numpy() == u)
            pos = vf["item"].to_numpy()[rows]
            seen_u = seen.indices[seen.indptr[u]:seen.indptr[u + 1]]
            pool = np.setdiff1d(np.arange(self.n_items), seen_u, assume_unique=False)
            neg = rng.choice(pool, size=min(self.config.negatives, len(pool)), replace=False)
            us.append(np.full(len(pos) + len(neg), u))
            its.append(np.concatenate([pos, neg]))
            labels.append(np.concatenate([np.where(liked[rows], 2, 1), np.zeros(len(neg))]))
            groups.append(len(pos) + len(neg))
        x = self._features(side, np.concatenate(us), np.concatenate(its))
        self.ranker = lgb.LGBMRanker(
            objective="lambdarank", n_estimators=self.config.n_estimators,
            learning_rate=self.config.learning_rate, num_leaves=self.config.num_leaves,
            min_child_samples=self.config.min_child_samples, random_state=seed,
            n_jobs=self.config.n_jobs, verbose=-1)
        self.ranker.fit(x, np.concatenate(labels), group=groups,
                        categorical_feature=self._categorical)
        self.train_rows = int(len(x))
        assert self.history is not None  # remembered by fit before _fit
        self.side = _Side(self.emb, self.history, catalog.users, self.n_users, self.genre_mh,
                          self.log_pop)

    def _item_side(self, catalog, train: Interactions) -> None:
        items = catalog.items
        column = "genres" if items is not None and "genres" in items.columns else "categories"
        from benchmark.explain.silver import attribute_list

        lists = [attribute_list(g) for g in items[column]] if items is not None and \
            column in items.columns else [[] for _ in range(self.n_items)]
        counts: dict[str, int] = {}
        for gs in lists:
            for g in gs:
                counts[g] = counts.get(g, 0) + 1
        top = sorted(counts, key=lambda g: (-counts[g], g))[: self.config.top_genres]
        index = {g: j for j, g in enumerate(top)}
        self.genre_mh = np.zeros((self.n_items, max(len(top), 1)))
        for i, gs in enumerate(lists):
            for g in gs:
                if g in index:
                    self.genre_mh[i, index[g]] = 1.0
        year = items["year"] if items is not None and "year" in items.columns else None
        self.year = (np.asarray(year.astype("Float64").fillna(np.nan), dtype=np.float64)
                     if year is not None else np.full(self.n_items, np.nan))
        pop = np.bincount(train.positive_frame()["item"].to_numpy(), minlength=self.n_items)
        self.log_pop = np.log1p(pop)

    def _user_side(self, catalog) -> None:
        users = catalog.users
        n = self.n_users
        self.age = np.full(n, np.nan)
        self.gender = np.full(n, -1.0)
        self.occupation = np.full(n, -1.0)
        if users is not None:
            if "age" in users.columns:
                self.age = np.asarray(users["age"].astype("Float64").fillna(np.nan), dtype=float)
            for col, attr in (("gender", "gender"), ("occupation", "occupation")):
                if col in users.columns:
                    setattr(self, attr, _codes(users[col].astype(str).to_numpy()))
        self._categorical = [3, 4]  # gender, occupation columns of _features

    def _features(self, side: _Side, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        users = np.asarray(users, dtype=np.int64)
        items = np.asarray(items, dtype=np.int64)
        # per user block: gathering a (pairs x 384) profile matrix would cost far more
        cos = np.zeros(len(users))
        max_cos = np.zeros(len(users))
        order = np.argsort(users, kind="stable")  # one block of rows per user
        su = users[order]
        starts: np.ndarray | list[int] = (np.flatnonzero(np.r_[True, su[1:] != su[:-1]])
                                          if len(su) else [])
        for a, b in zip(starts, np.r_[starts[1:], len(su)] if len(su) else []):
            hist = side.items_of(int(su[a]))
            sel = order[a:b]
            cos[sel] = self.emb[items[sel]] @ side.profiles.profile[su[a]]
            if not len(hist):
                continue
            if self.item_sim is not None and b - a > self.n_items // 8:
                # many pairs of one user (full ranking): the history's rows of the symmetric
                # item-item matrix, reduced once, then read off per item (contiguous rows)
                max_cos[sel] = self.item_sim[hist].max(axis=0)[items[sel]]
            else:
                max_cos[sel] = (self.emb[items[sel]] @ self.emb[hist].T).max(axis=1)
        affinity = np.einsum("ij,ij->i", side.genre_share[users], self.genre_mh[items])
        cols = [cos, max_cos, self.age[users], self.gender[users], self.occupation[users],
                np.log1p(side.length[users]), affinity, self.year[items], self.log_pop[items]]
        return np.column_stack(cols + [self.genre_mh[items]])

    def score(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        x = self._features(self.side, users, items)
        return np.asarray(self.ranker.predict(x), dtype=np.float64)

    def score_all(self, users: np.ndarray) -> np.ndarray:
        users = np.asarray(users, dtype=np.int64)
        u = np.repeat(users, self.n_items)
        i = np.tile(np.arange(self.n_items), len(users))
        return self.score(u, i).reshape(len(users), self.n_items)

    def fit_info(self) -> dict[str, Any]:
        return {"modalities_used": ["demographics", "interactions", "text"],
                "features": self.features_info, "train_rows": self.train_rows}


def _codes(values: np.ndarray) -> np.ndarray:
    _, codes = np.unique(values, return_inverse=True)
    return codes.astype(float)
