"""Content-based recommender for cold start: MiniLM item texts matched against user profiles.

Items are the L2-normalised all-MiniLM-L6-v2 embeddings of their texts (``benchmark.features``).
A user's profile is the mean embedding of the items they liked in their
history (train + valid; all their items when none is liked): for a new user with N support
interactions, exactly those N items. A user with no history at all (zero-shot) gets the mean
profile of training users with the same demographics (gender, age band, occupation), else of all
users. score(u, i) = cos(profile_u, e_i) + w * log1p(train popularity_i) / log1p(max popularity);
w is chosen on the validation part from ``popularity_weights`` (new items have popularity 0, so
they are ranked by content alone).

It also explains (a non-learned, content-derived explanation, faithful to how it scored): the
liked history items whose embeddings are closest to the item are named, with the stance taken from
the model's own score (upper half of the user's unseen items = for).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
import pandas as pd

from benchmark.data.demographics import age_band
from benchmark.data.types import Interactions
from benchmark.models.base import Capability, Recommender


@dataclasses.dataclass
class ContentConfig:
    #: candidates for the popularity weight w; the best on valid NDCG@10 wins (one = fixed)
    popularity_weights: list = dataclasses.field(default_factory=lambda: [0.0, 0.1, 0.3, 1.0])
    #: feature cache folder (None = the pipeline's default under datasets/cache)
    cache_dir: str | None = None
    #: how many close liked titles an explanation names
    explain_titles: int = 2


#: coarser than MovieLens's groups (45-49 and 50-55 are one): fallback groups need users
COARSE_AGE_BANDS = ((-math.inf, 18, "<18"), (18, 25, "18-24"), (25, 35, "25-34"),
                    (35, 45, "35-44"), (45, 56, "45-55"), (56, math.inf, "56+"))


def demographic_keys(users_frame: pd.DataFrame | None, n_users: int) -> list[list[str]]:
    """Per user, group keys from the most to the least specific ("" = everybody)."""
    if users_frame is None or not len(users_frame):
        return [[""] for _ in range(n_users)]
    cols = users_frame.columns
    out = []
    for u in range(n_users):
        row = users_frame.iloc[u]
        g = str(row["gender"]) if "gender" in cols else "?"
        a = age_band(row["age"], COARSE_AGE_BANDS, "?") if "age" in cols else "?"
        o = str(row["occupation"]) if "occupation" in cols else "?"
        out.append([f"{g}|{a}|{o}", f"{g}|{a}", g, ""])
    return out


class UserProfiles:
    """Mean liked-item embeddings per user, with demographic fallbacks for empty histories."""

    def __init__(self, emb: np.ndarray, history: Interactions, users_frame, n_users: int) -> None:
        f = history.frame
        liked = history.liked()
        self.emb = emb
        users = f["user"].to_numpy()
        items = f["item"].to_numpy()
        has_like = np.bincount(users[liked], minlength=n_users) > 0
        use = liked | ~has_like[users]  # liked rows, or every row of users with no like
        sums = np.zeros((n_users, emb.shape[1]))
        np.add.at(sums, users[use], emb[items[use]])
        self.count = np.bincount(users[use], minlength=n_users)
        self.profile = sums / np.maximum(self.count, 1)[:, None]
        keys = demographic_keys(users_frame, n_users)
        group_sum: dict[str, np.ndarray] = {}
        group_n: dict[str, int] = {}
        for u in np.flatnonzero(self.count > 0):
            for k in keys[u]:
                group_sum[k] = group_sum.get(k, 0) + self.profile[u]
                group_n[k] = group_n.get(k, 0) + 1
        self.fallback = np.zeros(n_users, dtype=bool)
        for u in np.flatnonzero(self.count == 0):
            k = next((k for k in keys[u] if group_n.get(k, 0) >= 5), "")
            if group_n.get(k, 0):
                self.profile[u] = group_sum[k] / group_n[k]
                self.fallback[u] = True
        norms = np.linalg.norm(self.profile, axis=1, keepdims=True)
        self.profile = self.profile / np.maximum(norms, 1e-12)


def text_embeddings(catalog, cache_dir: str | None, dataset: str | None = None
                    ) -> tuple[np.ndarray, dict[str, Any]]:
    """L2-normalised MiniLM item-text embeddings (n_items, dim) and their provenance."""
    from benchmark.errors import DataError
    from benchmark.features import load_item_features

    feats = load_item_features(catalog, modalities=("text",), cache_dir=cache_dir,
                               progress=False, dataset=dataset)
    if "text" not in feats.features:
        raise DataError(f"no text features: {feats.absent.get('text', 'unknown reason')}",
                        "the content model needs item texts (titles) in the catalog")
    emb = feats.features["text"].astype(np.float64)
    emb /= np.maximum(np.linalg.norm(emb, axis=1, keepdims=True), 1e-12)
    return emb, feats.info


def _join(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


class ContentRecommender(Recommender):
    Config = ContentConfig
    capabilities = frozenset({Capability.RANK, Capability.SCORE, Capability.COLD_USER,
                              Capability.COLD_ITEM, Capability.EXPLAIN})
    modalities = frozenset({"interactions", "text"})

    def _fit(self, train: Interactions, valid: Interactions, *, seed: int) -> None:
        catalog = train.catalog
        if catalog is None:
            from benchmark.errors import DataError

            raise DataError("the content model needs the catalog (item texts)",
                            "build Interactions through the harness split")
        self.emb, self.features_info = text_embeddings(catalog, self.config.cache_dir)
        pop = np.bincount(train.positive_frame()["item"].to_numpy(), minlength=self.n_items)
        self.log_pop = np.log1p(pop) / max(np.log1p(pop.max()), 1e-12)
        weights = list(self.config.popularity_weights) or [0.0]
        if len(weights) > 1 and len(valid.positive_frame()):
            profiles = UserProfiles(self.emb, train, catalog.users, self.n_users)
            self.weight = max(weights, key=lambda w: self._valid_ndcg(profiles, w, train, valid))
        else:
            self.weight = float(weights[0])
        assert self.history is not None  # remembered by fit before _fit
        self.profiles = UserProfiles(self.emb, self.history, catalog.users, self.n_users)

    def _valid_ndcg(self, profiles: UserProfiles, w: float, train, valid) -> float:
        from benchmark.metrics.ranking import ranking_metrics
        from benchmark.metrics.topk import topk_from_scores

        vf = valid.positive_frame()
        users = np.unique(vf["user"].to_numpy())
        scores = profiles.profile[users] @ self.emb.T + w * self.log_pop[None, :]
        x = train.csr()
        rows, cols = x[users].nonzero()
        scores[rows, cols] = -np.inf
        topk = topk_from_scores(scores, 10, invalid=-np.inf)
        v = valid.csr()
        truth = [v.indices[v.indptr[u]:v.indptr[u + 1]] for u in users]
        return float(ranking_metrics(topk, truth, [10], ["ndcg"])["ndcg@10"].mean())

    def score_all(self, users: np.ndarray) -> np.ndarray:
        users = np.asarray(users, dtype=np.int64)
        return self.profiles.profile[users] @ self.emb.T + self.weight * self.log_pop[None, :]

    # --- explanations -------------------------------------------------------------------------
    def explain(self, users: np.ndarray, items: np.ndarray) -> list[str]:
        users = np.asarray(users, dtype=np.int64)
        items = np.asarray(items, dtype=np.int64)
        from benchmark.explain.silver import attribute_list

        history = self.history
        assert history is not None and history.catalog is not None, "fit first"
        catalog_items = history.catalog.items
        assert catalog_items is not None  # fit needed the item texts
        titles = catalog_items["title"].astype(str).to_numpy()
        column = "genres" if "genres" in catalog_items.columns else "categories"
        genres = ([attribute_list(g)[:3] for g in catalog_items[column]]
                  if column in catalog_items.columns else [[] for _ in titles])
        f = history.frame
        scores = self.score_all(np.unique(users))
        row_of = {int(u): r for r, u in enumerate(np.unique(users))}
        out = []
        for u, i in zip(users, items):
            mine = f[(f["user"].to_numpy() == u)]
            liked = mine[mine["rating"].to_numpy() >= history.like_threshold]["item"]
            hist = np.unique((liked if len(liked) else mine["item"]).to_numpy())
            hist = hist[hist != i]
            row = scores[row_of[int(u)]]
            mask = np.ones(self.n_items, dtype=bool)
            mask[mine["item"].to_numpy()] = False
            mask[i] = True
            upper = (row[mask] < row[i]).mean() >= 0.5
            title = titles[i]
            if not len(hist):
                out.append(f"{title} is recommended as popular with people like you."
                           if upper else f"{title} is probably not for you.")
                continue
            sims = self.emb[hist] @ self.emb[i]
            near = [titles[h] for h in hist[np.argsort(-sims, kind="stable")]
                    [: self.config.explain_titles]]
            names = _join(near)
            kinds = _join(genres[i]) if genres[i] else ""
            if upper:
                kind = f", a {kinds} film" if kinds else ""
                out.append(f"You may enjoy {title}{kind}: its text is close to {names}, "
                           "which you liked.")
            else:
                kind = f" ({kinds})" if kinds else ""
                out.append(f"{title}{kind} is probably not for you: even the closest films you "
                           f"liked, {names}, are far from it.")
        return out

    def fit_info(self) -> dict[str, Any]:
        return {"popularity_weight": self.weight, "modalities_used": ["interactions", "text"],
                "features": self.features_info,
                "zero_shot_users_on_demographic_profile": int(self.profiles.fallback.sum())}
