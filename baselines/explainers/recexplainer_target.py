"""The target recommender RecExplainer explains: its outputs and its user/item embeddings.

Any registry model can be the target. Its embeddings are read off its own scores: the truncated
SVD of the (users x items) score matrix, S ~ (U sqrt(s)) (V sqrt(s))^T. For a dot-product model
of dimension d (BPR, LightGCN, SASRec, GRU4Rec: score = user/sequence vector . item vector) the
rank-d SVD reproduces S exactly and equals the model's own vectors up to an invertible linear
map, which the trained projection absorbs; for other models it is the best rank-d summary of
what the model does. So one code path serves every target without reaching inside it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from benchmark.data.user_items import per_user_items
from benchmark.errors import ModelOutputError
from benchmark.models.base import Recommender


@dataclass
class TargetView:
    scores: np.ndarray  # (n_users, n_items) target scores, seen items set to -inf
    ranked: dict[int, np.ndarray]  # user -> unseen items, best first (top ``keep``)
    user_emb: np.ndarray
    item_emb: np.ndarray
    svd_fit: float  # share of the (centred) score matrix's energy the embeddings keep


def target_view(target, history, users: np.ndarray, dim: int, keep: int = 200,
                chunk: int = 256) -> TargetView:
    """Scores of every user in ``users`` (all users of the split), their unseen rankings and
    rank-``dim`` embeddings."""
    users = np.asarray(users, dtype=np.int64)
    blocks = [np.asarray(target.score_all(users[s:s + chunk]), dtype=np.float64)
              for s in range(0, len(users), chunk)]
    scores = np.concatenate(blocks) if blocks else np.zeros((0, target.n_items))
    if not np.isfinite(scores).all():
        raise ModelOutputError(f"target model {target.name!r} returned NaN or infinite scores",
                               "fix or retrain the target model")
    centred = scores - scores.mean(1, keepdims=True)  # per-user offsets carry no ranking
    u, s, vt = np.linalg.svd(centred, full_matrices=False)
    d = min(dim, len(s))
    root = np.sqrt(s[:d])
    fit = float((s[:d] ** 2).sum() / max((s ** 2).sum(), 1e-12))
    seen = per_user_items(history.frame, users)
    masked = scores.copy()
    ranked = {}
    for r, user in enumerate(users):
        masked[r, seen[r]] = -np.inf
        top = np.argsort(-masked[r], kind="stable")[:keep]
        ranked[int(user)] = top[np.isfinite(masked[r, top])]
    return TargetView(masked, ranked, u[:, :d] * root, vt[:d].T * root, fit)


def _fingerprint(train, valid) -> str:
    import hashlib

    h = hashlib.sha256()
    for part in (train, valid):
        f = part.frame
        for col in ("user", "item", "rating", "timestamp"):
            if col in f:
                h.update(np.ascontiguousarray(f[col].to_numpy()).tobytes())
    return h.hexdigest()


class TargetCache:
    """Fitted targets keyed by (name, params, data fingerprint, seed), owned by whoever holds it.

    Not process-global on purpose: a RecExplainer gets a cache of its own, so its result and fit
    time never depend on which job ran earlier in the same process. Models that should explain
    one fitted target (the three alignment variants run side by side) are handed the same cache
    explicitly. Deterministic fits make a cached target the one a refit would give."""

    def __init__(self, size: int = 2) -> None:
        if size < 1:
            raise ValueError(f"a target cache holds at least one target, not {size}")
        self.size = size
        self._fitted: dict[str, Recommender] = {}

    def __len__(self) -> int:
        return len(self._fitted)

    def fitted(self, name: str, params: dict, train, valid, seed: int, workdir, label: str
               ) -> tuple[Recommender, bool]:
        """The target fitted on (train, valid) with ``seed``; (model, True) when it came from
        this cache."""
        import json

        from benchmark.registry import build_model

        key = json.dumps([name, params, _fingerprint(train, valid), seed], sort_keys=True,
                         default=str)
        if key in self._fitted:
            return self._fitted[key], True
        model = build_model(name, dict(params), workdir=workdir, label=label)
        model.fit(train, valid, seed=seed)
        while len(self._fitted) >= self.size:
            self._fitted.pop(next(iter(self._fitted)))
        self._fitted[key] = model
        return model, False
