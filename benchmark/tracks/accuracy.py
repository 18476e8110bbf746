"""The accuracy track: top-k metrics under full and sampled ranking, AUC/GAUC pointwise.

- full: every item is a candidate except the user's train and valid items; truth = the user's
  positive test items (users without any are skipped and counted).
- sampled: the test positives plus ``sampled_negatives`` items the user never interacted with,
  drawn once per seed and frozen to a file whose sha256 is recorded; ties broken by the lower
  item id, as in full ranking (metric version 2; version 1 broke them in favour of positives).
- pointwise: every test pair, labelled like (rating >= threshold) or dislike, scored by the
  model; AUC over all pairs, GAUC over users having both labels (``gauc``: RecBole's, weighted
  by the user's positives; ``gauc_pairs``: weighted by (positive, negative) pairs).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from benchmark.config.suite import AccuracySettings
from benchmark.data.split import Split
from benchmark.data.user_items import per_user_items
from benchmark.metrics.pointwise import auc, group_auc
from benchmark.metrics.ranking import ranking_metrics
from benchmark.metrics.sampled import draw_negatives, load_negatives, save_negatives
from benchmark.metrics.topk import topk_from_scores
from benchmark.models.base import Recommender
from benchmark.results import TrackResult, split_label
from benchmark.track_meta import Headline, TrackMeta, quality_metrics
from benchmark.tracks.base import TrackContext
from benchmark.tracks.common import check_scores
from benchmark.tracks.full_ranking import full_ranking_topk
from benchmark.tracks.next_item import evaluate_next_item

__all__ = ["RANKING_METRICS", "AccuracyTrack", "check_scores", "full_ranking_means", "next_item_means"]

RANKING_METRICS = ("hit", "ndcg", "mrr", "recall", "precision")
#: the pointwise protocol's metrics (``benchmark.metrics.pointwise``)
POINTWISE_METRICS = ("auc", "gauc", "gauc_pairs")


class AccuracyTrack:
    name = "accuracy"
    Settings = AccuracySettings
    meta = TrackMeta(
        metrics=quality_metrics(*RANKING_METRICS, *POINTWISE_METRICS),
        headline=(Headline("full", "ndcg", 10), Headline("full", "recall", 10),
                  Headline("full", "hit", 10), Headline("sampled", "ndcg", 10),
                  Headline("pointwise", "auc"), Headline("pointwise", "gauc"),
                  # gated only: suites running only the sequential protocols need a headline
                  Headline("next_item", "ndcg", 10, console=False),
                  Headline("next_item_masked", "ndcg", 10, console=False)),
        neutral_settings=frozenset({"user_batch", "memory_budget_mb"}),
        console_rank=0,
        caption=("full = all items minus train/valid; sampled = positives + "
                 "{sampled_negatives} frozen negatives; pointwise = labelled test pairs."))

    def __init__(self, settings: AccuracySettings, work_dir: Path | None, progress=None) -> None:
        self.s = settings
        # where frozen negatives live (shared by all models); needed by the sampled protocol only
        self.work_dir = Path(work_dir) if work_dir is not None else None
        self.progress = progress

    def eval_users(self, split: Split, max_users: int | None) -> np.ndarray:
        """Test users with at least one positive test item (a seeded subset if capped)."""
        users = np.unique(split.test.positive_frame()["user"].to_numpy())
        if max_users is not None and len(users) > max_users:
            rng = np.random.default_rng(split.spec.seed)
            users = np.sort(rng.choice(users, size=max_users, replace=False))
        return users

    def run(self, ctx: TrackContext) -> TrackResult:
        self.s.check_catalogue(ctx.split.n_items, ctx.dataset)  # before any training
        return self.evaluate(ctx.fitted_model(), ctx.split, ctx.max_eval_users)

    def evaluate(self, model: Recommender, split: Split, max_users: int | None = None) -> TrackResult:
        result = TrackResult(track=self.name)
        users = self.eval_users(split, max_users)
        all_test_users = split.test.frame["user"].nunique()
        result.info["users_without_positive_test_items"] = int(all_test_users - len(
            np.unique(split.test.positive_frame()["user"].to_numpy())))
        truth = per_user_items(split.test.positive_frame(), users)
        for protocol in self.s.protocols:
            if protocol == "full":
                self._full(model, split, users, truth, result)
            elif protocol == "sampled":
                self._sampled(model, split, users, truth, result)
            elif protocol == "pointwise":
                self._pointwise(model, split, users, result)
            elif protocol == "next_item":
                self._next_item(model, split, users, result)
        return result

    def _timed(self, result: TrackResult, fn, *args):
        with result.timed():
            return fn(*args)

    def _add_ranking(self, result: TrackResult, protocol: str, users, topk, truth) -> None:
        values = ranking_metrics(topk, truth, self.s.ks, RANKING_METRICS)
        result.add_users(protocol, users.astype(np.int64))
        for label, per_user in values.items():
            result.add(protocol, *split_label(label), per_user)

    def _full(self, model, split, users, truth, result) -> None:
        seen = split.train.concat(split.valid).csr(positives_only=False)
        bar = self._bar(len(users), f"{model.name}: full ranking")

        def score_fn(block):
            return self._timed(result, model.score_all, block)

        topk = full_ranking_topk(score_fn, users, split.n_items, seen, max(self.s.ks),
                                 memory_budget_mb=self.s.memory_budget_mb,
                                 user_batch=self.s.user_batch, model_name=model.name,
                                 on_batch=bar.update)
        bar.close()
        self._add_ranking(result, "full", users, topk, truth)

    def _next_item(self, model, split, users, result) -> None:
        bar = self._bar(0, f"{model.name}: next-item queries")
        evaluate_next_item(model, split, users, self.s.ks, mask_seen=self.s.mask_seen,
                           result=result, timed=lambda fn, *a: self._timed(result, fn, *a),
                           memory_budget_mb=self.s.memory_budget_mb,
                           user_batch=self.s.user_batch, bar=bar)
        bar.close()

    def negatives(self, split: Split, users: np.ndarray) -> tuple[np.ndarray, str, Path]:
        """Frozen negatives for these users: drawn once per (split, n) and reused by every model."""
        if self.work_dir is None:
            raise ValueError("the sampled protocol needs a work_dir for its frozen negatives")
        path = self.work_dir / f"negatives_{split.hash[:16]}_n{self.s.sampled_negatives}.tsv"
        if not path.is_file():
            every = split.train.concat(split.valid).concat(split.test).frame
            all_users = np.unique(split.test.positive_frame()["user"].to_numpy())
            seen = per_user_items(every, all_users)
            neg = draw_negatives(split.n_items, all_users, seen, self.s.sampled_negatives,
                                 split.spec.seed)
            path.parent.mkdir(parents=True, exist_ok=True)
            save_negatives(path, all_users, neg)
        stored_users, neg = load_negatives(path)
        digest = _sha256(path)
        index = np.searchsorted(stored_users, users)
        return neg[index], digest, path

    def _sampled(self, model, split, users, truth, result) -> None:
        neg, digest, path = self.negatives(split, users)
        result.info["sampled_negatives_file"] = str(path)
        result.info["sampled_negatives_sha256"] = digest
        kmax = max(self.s.ks)
        topk = np.full((len(users), kmax), -1, dtype=np.int64)
        bar = self._bar(len(users), f"{model.name}: sampled ranking")
        batch = max(1, self.s.user_batch // 4)
        for start in range(0, len(users), batch):
            rows = range(start, min(start + batch, len(users)))
            # candidates in item-id order, so an exact tie is broken by the lower item id as in
            # full ranking; listing positives first would hand every tie to a positive
            cands = [np.sort(np.concatenate([truth[r], neg[r]])) for r in rows]
            pair_u = np.concatenate([np.full(len(c), users[r]) for r, c in zip(rows, cands)])
            pair_i = np.concatenate(cands)
            scores = self._timed(result, model.score, pair_u, pair_i)
            scores = check_scores(scores, model.name, (len(pair_u),))
            offset = 0
            for r, c in zip(rows, cands):
                order = topk_from_scores(scores[None, offset:offset + len(c)], kmax)[0]
                topk[r, : len(order)] = c[order]
                offset += len(c)
            bar.update(len(cands))
        bar.close()
        self._add_ranking(result, "sampled", users, topk, truth)

    def _pointwise(self, model, split, users, result) -> None:
        f = split.test.frame
        f = f[np.isin(f["user"].to_numpy(), users)]
        u = f["user"].to_numpy().astype(np.int64)
        it = f["item"].to_numpy().astype(np.int64)
        labels = split.test.liked()[np.isin(split.test.frame["user"].to_numpy(), users)]
        scores = check_scores(self._timed(result, model.score, u, it), model.name, (len(u),))
        result.add("pointwise", "auc", value=auc(labels, scores), n=len(u))
        g = group_auc(u, labels, scores)
        result.add_users("pointwise", np.asarray(g.users, dtype=np.int64))
        # per-user AUC and its weight: the tests then test the weighted mean the row reports
        for name, value in (("gauc", g.gauc), ("gauc_pairs", g.gauc_pairs)):
            result.add("pointwise", name, None, g.auc, value=value, n=len(g.users),
                       weights=g.weights(name))

    def _bar(self, total: int, desc: str):
        from tqdm.auto import tqdm

        return tqdm(total=total, desc=desc, unit="user", leave=False,
                    disable=self.progress is False, mininterval=0.5)


def _sha256(path: Path) -> str:
    import hashlib

    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def full_ranking_means(model: Recommender, split: Split, ks: list[int] | None = None
                       ) -> dict[str, float]:
    """Mean full-ranking metrics of a fitted model, exactly as the track computes them.

    For scripts and tests that need the harness's numbers without a run folder.
    """
    settings = AccuracySettings(ks=ks or [10], protocols=["full"])
    result = AccuracyTrack(settings, None, progress=False).evaluate(model, split)
    return {f"{r.metric}@{r.k}": r.value for r in result.rows}


def next_item_means(model: Recommender, split: Split, ks: list[int] | None = None,
                    mask_seen: bool = False) -> dict[str, float]:
    """Mean next-item metrics of a fitted model, exactly as the track computes them.

    For scripts and tests that need the harness's numbers without a run folder.
    """
    settings = AccuracySettings(ks=ks or [10], protocols=["next_item"], mask_seen=mask_seen)
    result = AccuracyTrack(settings, None, progress=False).evaluate(model, split)
    return {f"{r.metric}@{r.k}": r.value for r in result.rows}
