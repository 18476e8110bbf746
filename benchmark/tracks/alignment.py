"""The alignment track: does an explainer model reproduce the recommender it explains?

For models that explain another model (``benchmark.models.abilities.ModelExplainer``, e.g.
RecExplainer: ``explained_model``, ``align_scores``, ``align_yes``, ``alignment_train_users``);
others are skipped with the reason in info (a suite entry that names this track for a model
without the ability is an error at suite validation). The track,
not the explainer, builds every instance from the *target's* outputs, for test users the explainer
did not train on (seeded draw of at most ``max_users``), so an explainer cannot grade itself:

- item_title_acc   item -> title: the true title among ``title_candidates`` (protocol
                   "target_items": one instance per drawn item, ids in the "users" array);
- history_coverage@H  user -> history: H of the user's older history items (before the
                   ``exclude_recent`` most recent, which a text prompt shows) among H + negatives;
                   the share of them in the explainer's top H;
- next_hit@k, next_ndcg@k   user -> the target's top-1 unseen item among ``next_candidates``;
- rank_ndcg@k      user + candidates (half from the target's top ``interest_top`` unseen, half
                   random unseen) -> graded NDCG@k against the target's order (gain k - rank
                   for the target's top k among them);
- interest_acc     user + item -> will the target recommend it: one item from its top
                   ``interest_top`` unseen (yes) and one from beyond its top ``interest_far``
                   (no) per user, accuracy of P(yes) > 0.5; interest_auc: the share of users
                   whose yes-item gets the higher P(yes) (a threshold-free reading).
Candidates are shuffled with the seed. info["alignment_chance"] holds each measure for uniformly
random scores on the same instances (mean of 20 seeded draws): the level an unaligned model gets.
info["alignment_popularity"] holds the measures of an explainer that only knows how often each
item occurs in train+valid (interest: yes when above the median count): a target that mostly
recommends popular items is easy to "align" with, and this says how easy.
"""

from __future__ import annotations

from pathlib import Path
from typing import cast

import numpy as np
from pydantic import Field

from benchmark.config.base import Strict
from benchmark.data.sequences import items_in_time_order, last_items
from benchmark.data.user_items import per_user_items
from benchmark.metrics import alignment as am
from benchmark.models.abilities import ModelExplainer
from benchmark.models.capability import Capability
from benchmark.results import TrackResult
from benchmark.track_meta import Headline, TrackMeta, quality_metrics
from benchmark.tracks.base import TrackContext

PROTOCOL = "target"


class AlignmentSettings(Strict):
    max_users: int = Field(100, gt=1)
    title_items: int = Field(100, gt=1)
    title_candidates: int = Field(10, gt=1)
    history_items: int = Field(5, gt=0)
    history_negatives: int = Field(15, gt=0)
    exclude_recent: int = Field(10, ge=0)
    next_candidates: int = Field(20, gt=1)
    rank_candidates: int = Field(10, gt=1)
    k: int = Field(5, gt=0)
    interest_top: int = Field(20, gt=0)
    interest_far: int = Field(100, gt=0)
    keep_samples: int = Field(5, ge=0)


class AlignmentTrack:
    name = "alignment"
    Settings = AlignmentSettings
    requires = frozenset({Capability.ALIGNMENT})
    meta = TrackMeta(
        metrics=quality_metrics("item_title_acc", "history_coverage", "next_hit", "next_ndcg",
                                "rank_ndcg", "interest_acc", "interest_auc"),
        headline=(Headline(PROTOCOL, "next_hit", 5), Headline(PROTOCOL, "interest_acc")))

    def __init__(self, settings: AlignmentSettings, work_dir: Path | None, progress=None) -> None:
        self.s = settings

    def run(self, ctx: TrackContext) -> TrackResult:
        result = TrackResult(track=self.name)
        probe = ctx.fitted_model() if ctx.has_fitted_model else ctx.build_model("align_probe")
        if not isinstance(probe, ModelExplainer):
            result.info["alignment_skipped"] = f"{probe.name} does not explain another model"
            return result
        # the fitted model is of the probe's class
        return self.evaluate(cast(ModelExplainer, ctx.fitted_model()), ctx.split, ctx.seed,
                             result)

    def evaluate(self, model: ModelExplainer, split, seed: int,
                 result: TrackResult | None = None) -> TrackResult:
        result = result or TrackResult(track=self.name)
        s, target = self.s, model.explained_model
        assert target is not None  # set by the explainer's fit
        history = split.train.concat(split.valid)
        rng = np.random.default_rng(seed + 11)
        trained = set(np.asarray(model.alignment_train_users).tolist())
        users = np.array([u for u in np.unique(split.test.frame["user"].to_numpy())
                          if int(u) not in trained], dtype=np.int64)
        if len(users) > s.max_users:
            users = np.sort(rng.choice(users, s.max_users, replace=False))
        seen = per_user_items(history.frame, users)
        ordered = items_in_time_order(history)
        recent = [last_items(ordered.get(int(u), np.zeros(0, dtype=np.int64)), s.exclude_recent)
                  for u in users]
        scores = np.array(target.score_all(users), dtype=np.float64, copy=True)
        for r in range(len(users)):
            scores[r, seen[r]] = -np.inf
        ranked = [np.argsort(-scores[r], kind="stable") for r in range(len(users))]
        n_items = split.n_items
        pop = np.bincount(history.frame["item"].to_numpy(), minlength=n_items).astype(float)
        popular: dict[str, float] = {}
        rows: list[tuple[str, int | None, np.ndarray, str]] = []
        chance: dict[str, float] = {}
        # every model call of the five tasks (and the cheap bookkeeping between them)
        with result.timed(calls=5):

            def shuffled(*groups):
                c = np.concatenate(groups).astype(np.int64)
                return c[rng.permutation(len(c))]

            def unseen(r, n, avoid=()):
                pool = np.setdiff1d(np.arange(n_items), np.concatenate([seen[r], np.asarray(
                    avoid, dtype=np.int64)]))
                return rng.choice(pool, n, replace=False)

            # item -> title
            items = np.sort(rng.choice(n_items, min(s.title_items, n_items), replace=False))
            cands = np.stack([shuffled([i], rng.choice(np.setdiff1d(np.arange(n_items), [i]),
                                                       s.title_candidates - 1, replace=False))
                              for i in items])
            truth = np.argmax(cands == items[:, None], 1)
            sc = model.align_scores("item_title", None, items, cands)
            rows.append(("item_title_acc", None, am.choice_accuracy(sc, truth), "target_items"))
            chance["item_title_acc"] = _chance(lambda x: am.choice_accuracy(x, truth), sc.shape, seed)
            self._keep(result, "item_title", items, None, cands, sc)

            # user -> history (older items only)
            rel_items = []
            for r in range(len(users)):
                older = np.setdiff1d(seen[r], recent[r])
                pick = rng.choice(older, min(s.history_items, len(older)), replace=False) \
                    if len(older) else np.zeros(0, dtype=np.int64)
                rel_items.append(pick)
            keep = np.array([len(p) == s.history_items for p in rel_items])
            hu = users[keep]
            hc = np.stack([shuffled(p, unseen(r, s.history_negatives)) for r, p
                           in enumerate(rel_items) if len(p) == s.history_items]) if keep.any() \
                else np.zeros((0, s.history_items + s.history_negatives), dtype=np.int64)
            if len(hu):
                rel = np.stack([np.isin(hc[n], rel_items[r]) for n, r in
                                enumerate(np.flatnonzero(keep))])
                sc = model.align_scores("history", hu, None, hc)
                cov = np.full(len(users), np.nan)
                cov[keep] = am.coverage_at_k(sc, rel)
                rows.append(("history_coverage", s.history_items, cov, PROTOCOL))
                chance["history_coverage"] = _chance(lambda x: am.coverage_at_k(x, rel), sc.shape,
                                                     seed)
                popular["history_coverage"] = float(am.coverage_at_k(pop[hc], rel).mean())
                result.info["alignment_history_users"] = int(keep.sum())

            # user -> next item the target recommends
            top1 = np.array([ranked[r][0] for r in range(len(users))])
            nc = np.stack([shuffled([top1[r]], unseen(r, s.next_candidates - 1, [top1[r]]))
                           for r in range(len(users))])
            truth = np.argmax(nc == top1[:, None], 1)
            sc = model.align_scores("next_item", users, None, nc)
            rows.append(("next_hit", s.k, am.hit_at_k(sc, truth, s.k), PROTOCOL))
            rows.append(("next_ndcg", s.k, am.ndcg_single_at_k(sc, truth, s.k), PROTOCOL))
            chance["next_hit"] = _chance(lambda x: am.hit_at_k(x, truth, s.k), sc.shape, seed)
            chance["next_ndcg"] = _chance(lambda x: am.ndcg_single_at_k(x, truth, s.k), sc.shape,
                                          seed)
            popular["next_hit"] = float(am.hit_at_k(pop[nc], truth, s.k).mean())
            popular["next_ndcg"] = float(am.ndcg_single_at_k(pop[nc], truth, s.k).mean())
            self._keep(result, "next_item", None, users, nc, sc)

            # user + candidates -> rank
            half = s.rank_candidates // 2
            rc = np.stack([shuffled(rng.choice(ranked[r][:s.interest_top], half, replace=False),
                                    unseen(r, s.rank_candidates - half, ranked[r][:s.interest_top]))
                           for r in range(len(users))])
            tr = np.argsort(np.argsort(-np.take_along_axis(scores, rc, 1), 1, kind="stable"), 1)
            gains = np.maximum(s.k - tr, 0).astype(float)
            sc = model.align_scores("ranking", users, None, rc)
            rows.append(("rank_ndcg", s.k, am.graded_ndcg_at_k(sc, gains, s.k), PROTOCOL))
            chance["rank_ndcg"] = _chance(lambda x: am.graded_ndcg_at_k(x, gains, s.k), sc.shape,
                                          seed)
            popular["rank_ndcg"] = float(am.graded_ndcg_at_k(pop[rc], gains, s.k).mean())
            self._keep(result, "ranking", None, users, rc, sc)

            # user + item -> will the target recommend it
            pos = np.array([rng.choice(ranked[r][:s.interest_top]) for r in range(len(users))])
            neg = np.array([rng.choice(ranked[r][s.interest_far:][np.isfinite(
                scores[r, ranked[r][s.interest_far:]])]) for r in range(len(users))])
            p = model.align_yes(np.concatenate([users, users]), np.concatenate([pos, neg]))
            acc = am.binary_accuracy(p, np.r_[np.ones(len(users)), np.zeros(len(users))])
            rows.append(("interest_acc", None, (acc[:len(users)] + acc[len(users):]) / 2, PROTOCOL))
            p_pos, p_neg = p[:len(users)], p[len(users):]
            rows.append(("interest_auc", None, (p_pos > p_neg) + 0.5 * (p_pos == p_neg), PROTOCOL))
            chance["interest_acc"] = chance["interest_auc"] = 0.5
            asked = np.concatenate([pos, neg])
            popular["interest_acc"] = float(am.binary_accuracy(
                (pop[asked] > np.median(pop)).astype(float),
                np.r_[np.ones(len(users)), np.zeros(len(users))]).mean())
            popular["interest_auc"] = float(np.mean((pop[pos] > pop[neg]) + 0.5 * (pop[pos] == pop[neg])))

        for metric, k, values, protocol in rows:
            result.add(protocol, metric, k, values)  # the mean over users where it is defined
        result.add_users(PROTOCOL, users)
        result.add_users("target_items", items)
        result.info["alignment_chance"] = chance
        result.info["alignment_popularity"] = popular
        result.info["alignment_target"] = {"name": target.name, **target.describe()}
        result.info["alignment_eval_users"] = (
            f"{len(users)} test users not among the explainer's {len(trained)} training users "
            f"(seed {seed} + 11)")
        return result

    def _keep(self, result, task, items, users, cands, scores) -> None:
        for n in range(min(self.s.keep_samples, len(cands))):
            result.samples.append({"task": task, "protocol": PROTOCOL,
                                   "user": None if users is None else int(users[n]),
                                   "item": None if items is None else int(items[n]),
                                   "candidates": [int(x) for x in cands[n]],
                                   "scores": [float(x) for x in scores[n]]})


def _chance(measure, shape: tuple[int, int], seed: int, draws: int = 20) -> float:
    rng = np.random.default_rng(seed + 12)
    return float(np.mean([np.nanmean(measure(rng.random(shape))) for _ in range(draws)]))
