"""The cold-start track: new users (N support interactions), new items, cross-domain.

Sets come from ``benchmark.data.coldstart`` (frozen, hashed, below the split folder). Per job the
model is trained twice more, on fresh instances (``ctx.fit_extra``): once on the cold-start
training set, which serves every support size and the new items together, and once on the
cross-domain set; both fit times are recorded (``info["cold_start_fit_seconds"]``).

Protocols: "new_user" (the default support size), "new_user_n{N}" (the other
sizes), "new_item", "cross_domain". Metrics per protocol: pointwise "auc", "gauc" and
"gauc_pairs" (``benchmark.metrics.pointwise``) over the evaluated (user, item) pairs labelled
like / dislike (rating >= threshold), and the ranking metrics at each k:

- new users: rank every warm item except the user's support items; truth = held-out positives.
- new items: rank the new items only (the usual item cold-start protocol); truth = the user's
  positives among them.
- cross-domain: rank the target-domain items; truth = the user's target positives.

Fallback: a model without the ``cold_user`` capability is never asked about a
user with no training interaction (support size 0): those users get popularity scores from the
cold-start training set. A model without ``cold_item`` is never asked about new items: they all
get their training popularity, which is 0 for every new item, so every new item ties (AUC 0.5 by
construction; the ranking is the fixed tie order). Both are recorded in
``info["cold_start_fallback"] = {protocol: "pop"}``: never a silent crash or a silent zero.
"""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import Field, field_validator, model_validator

from benchmark.config.base import Cutoffs, Strict
from benchmark.data.coldstart import ColdStartSpec
from benchmark.data.types import Interactions
from benchmark.data.user_items import per_user_items
from benchmark.errors import DataError
from benchmark.metrics.pointwise import auc, group_auc
from benchmark.metrics.ranking import ranking_metrics
from benchmark.metrics.topk import topk_from_scores
from benchmark.models.base import Capability, Recommender
from benchmark.results import TrackResult, split_label
from benchmark.track_meta import Headline, TrackMeta
from benchmark.tracks.accuracy import RANKING_METRICS, AccuracyTrack
from benchmark.tracks.base import TrackContext
from benchmark.tracks.common import check_scores

ColdProtocol = Literal["new_user", "new_item", "cross_domain"]
#: the sets' defaults live in the spec only (the settings add the suite's bounds)
_SETS = ColdStartSpec()


class ColdStartSettings(Strict):
    """``[cold_start]``: the sets' spec (``ColdStartSpec``, flat in the suite file and in
    config.json, defaults from the spec; ``spec`` builds it back) plus the track's own knobs."""

    #: support interactions kept in training per new-user group (0 = zero-shot)
    support_sizes: list[int] = list(_SETS.support_sizes)
    #: the size reported as protocol "new_user"; the others as "new_user_n{N}"
    default_support: int = 2
    protocols: list[ColdProtocol] = ["new_user", "new_item", "cross_domain"]
    ks: Cutoffs = [10, 20]
    new_user_fraction: float = Field(_SETS.new_user_fraction, gt=0, lt=1)
    new_item_fraction: float = Field(_SETS.new_item_fraction, gt=0, lt=1)
    min_item_interactions: int = Field(_SETS.min_item_interactions, ge=1)
    min_eval_interactions: int = Field(_SETS.min_eval_interactions, ge=1)
    cross_domain_test_fraction: float = Field(_SETS.cross_domain_test_fraction, gt=0, lt=1)
    min_target_interactions: int = Field(_SETS.min_target_interactions, ge=1)
    user_batch: int = Field(512, gt=0)
    #: the source domain of a real cross-domain set: a dataset sharing the job dataset's users
    #: (e.g. "amazon-books" for an amazon-movies job). None: the genre-group proxy inside the
    #: split (MovieLens); datasets without genres then report cross-domain as unavailable
    cross_domain_source: str | None = None

    @field_validator("support_sizes")
    @classmethod
    def _sizes(cls, sizes: list[int]) -> list[int]:
        if not sizes or min(sizes) < 0 or max(sizes) > 50 or len(set(sizes)) != len(sizes):
            raise ValueError("support_sizes must be distinct integers in 0..50, e.g. [0, 1, 2]")
        return sorted(sizes)

    @model_validator(mode="after")
    def _default_in_sizes(self) -> ColdStartSettings:
        if self.default_support not in self.support_sizes:
            raise ValueError(f"default_support {self.default_support} is not one of "
                             f"support_sizes {self.support_sizes}")
        return self

    def spec(self, seed: int) -> ColdStartSpec:
        """The sets' spec: every ``ColdStartSpec`` field read from these settings (the spec
        is the one list of what draws the sets; its defaults are these settings')."""
        shared = {f.name: getattr(self, f.name) for f in fields(ColdStartSpec) if f.name != "seed"}
        return ColdStartSpec(**{**shared, "support_sizes": tuple(self.support_sizes)}, seed=seed)


def _popularity(train: Interactions) -> np.ndarray:
    return np.bincount(train.positive_frame()["item"].to_numpy(),
                       minlength=train.n_items).astype(np.float64)


#: the run's console caption, shared with the efficiency track (its "fit s" column)
FIT_CAPTION = ("cold_start auc: pointwise on each cold set (see info for fallbacks and the "
               "cross-domain source); fit s (+extra fits on cold-start sets).")


class ColdStartTrack:
    name = "cold_start"
    Settings = ColdStartSettings
    meta = TrackMeta(
        metrics=AccuracyTrack.meta.metrics,  # the accuracy metrics on each cold set
        headline=(Headline("new_user", "auc"), Headline("new_item", "auc"),
                  Headline("cross_domain", "auc")),
        neutral_settings=frozenset({"user_batch"}),
        caption=FIT_CAPTION)

    def __init__(self, settings: ColdStartSettings, work_dir: Path | None, progress=None) -> None:
        self.s = settings
        self.work_dir = Path(work_dir) if work_dir is not None else None
        self.progress = progress

    # --- driver -----------------------------------------------------------------------------
    def run(self, ctx: TrackContext) -> TrackResult:
        from benchmark.data.coldstart_store import prepare_coldstart, prepare_cross_domain

        if self.work_dir is None:
            raise DataError("the cold_start track needs the split folder to freeze its sets in",
                            "run it through `recbench run` (the runner passes the folder)")
        result = TrackResult(track=self.name)
        spec = self.s.spec(ctx.seed)
        fallback: dict[str, str] = {}
        fit_seconds: dict[str, float] = {}
        if {"new_user", "new_item"} & set(self.s.protocols):
            cs, folder = prepare_coldstart(ctx.split, self.work_dir, spec)
            result.info["cold_start_set"] = {
                "folder": str(folder), "sha256": cs.hash, "spec": spec.__dict__ | {
                    "support_sizes": list(spec.support_sizes)},
                "new_users": {str(n): len(u) for n, u in cs.new_users.items()},
                "new_items": len(cs.new_items), **cs.info}
            model = ctx.fit_extra("cold_start", cs.train, cs.valid)
            fit_seconds["cold_start"] = ctx.extra_fit_seconds["cold_start"]
            pop = _popularity(cs.train)
            history = cs.train.concat(cs.valid)
            if "new_user" in self.s.protocols:
                warm_items = np.ones(ctx.split.n_items, dtype=bool)
                warm_items[cs.new_items] = False
                for n, users in cs.new_users.items():
                    protocol = "new_user" if n == self.s.default_support else f"new_user_n{n}"
                    use_pop = n == 0 and Capability.COLD_USER not in model.capabilities
                    if use_pop:
                        fallback[protocol] = "pop"
                    eval_part = _rows_of(cs.user_eval, users)
                    self._evaluate(result, model, protocol, eval_part, history, warm_items, pop,
                                   pop_users=use_pop, pop_items=False,
                                   max_users=ctx.max_eval_users, seed=ctx.seed)
            if "new_item" in self.s.protocols:
                cand = np.zeros(ctx.split.n_items, dtype=bool)
                cand[cs.new_items] = True
                use_pop = Capability.COLD_ITEM not in model.capabilities
                if use_pop:
                    fallback["new_item"] = "pop"
                self._evaluate(result, model, "new_item", cs.item_eval, history, cand, pop,
                               pop_users=False, pop_items=use_pop,
                               max_users=ctx.max_eval_users, seed=ctx.seed)
            del model
        if "cross_domain" in self.s.protocols:
            try:
                source = self.s.cross_domain_source
                cd, folder = prepare_cross_domain(ctx.split, self.work_dir, spec, source,
                                                  ctx.other_dataset(source) if source else None)
            except DataError as err:
                if self.s.cross_domain_source is not None:
                    raise  # asked for real data that is missing: the user must hear it
                # no genres for the proxy: say so instead of inventing domains
                result.info["cross_domain_source"] = f"unavailable: {err.what}"
            else:
                result.info["cross_domain_source"] = cd.source
                result.info["cross_domain_set"] = {
                    "folder": str(folder), "sha256": cd.hash, "test_users": len(cd.test_users),
                    "source_items": len(cd.source_items), "target_items": len(cd.target_items),
                    **cd.info}
                model = ctx.fit_extra("cross_domain", cd.train, cd.valid)
                fit_seconds["cross_domain"] = ctx.extra_fit_seconds["cross_domain"]
                cand = np.zeros(cd.train.n_items, dtype=bool)
                cand[cd.target_items] = True
                self._evaluate(result, model, "cross_domain", cd.eval, cd.train.concat(cd.valid),
                               cand, _popularity(cd.train), pop_users=False, pop_items=False,
                               max_users=ctx.max_eval_users, seed=ctx.seed)
        result.info["cold_start_fallback"] = fallback
        result.info["cold_start_fit_seconds"] = fit_seconds
        return result

    # --- one protocol -----------------------------------------------------------------------
    def _evaluate(self, result: TrackResult, model: Recommender, protocol: str,
                  eval_part: Interactions, history: Interactions, candidates: np.ndarray,
                  pop: np.ndarray, *, pop_users: bool, pop_items: bool,
                  max_users: int | None, seed: int) -> None:
        """Pointwise AUC/GAUC and ranking metrics of ``eval_part`` under ``model``.

        pop_users / pop_items: the popularity fallback replaces the model for every evaluated
        user / every candidate item (the model is then not asked at all).
        """
        f = eval_part.frame
        if len(f) == 0:
            result.info.setdefault("cold_start_empty", []).append(protocol)
            return
        pos = eval_part.positive_frame()
        users = np.unique(pos["user"].to_numpy())
        if max_users is not None and len(users) > max_users:
            users = np.sort(np.random.default_rng(seed).choice(users, max_users, replace=False))
        truth = per_user_items(pos, users)
        seen = per_user_items(history.frame, users)
        kmax = max(self.s.ks)
        topk = np.full((len(users), kmax), -1, dtype=np.int64)
        blocked = ~candidates
        for start in range(0, len(users), self.s.user_batch):
            block = users[start:start + self.s.user_batch]
            scores = self._score_all(result, model, block, pop, pop_users, pop_items)
            scores[:, blocked] = -np.inf
            for row in range(len(block)):
                scores[row, seen[start + row]] = -np.inf
            topk[start:start + len(block)] = topk_from_scores(scores, kmax, invalid=-np.inf)
        values = ranking_metrics(topk, truth, self.s.ks, RANKING_METRICS)
        result.add_users(protocol, users.astype(np.int64))
        for label, per_user in values.items():
            result.add(protocol, *split_label(label), per_user)

        # pointwise: every evaluated pair of the kept users, like / dislike
        keep = np.isin(f["user"].to_numpy(), users)
        u = f["user"].to_numpy()[keep].astype(np.int64)
        it = f["item"].to_numpy()[keep].astype(np.int64)
        labels = eval_part.liked()[keep]
        if labels.all() or not labels.any():
            result.info.setdefault("cold_start_auc_undefined", []).append(protocol)
            return
        s = self._score_pairs(result, model, u, it, pop, pop_users, pop_items)
        result.add(protocol, "auc", value=auc(labels, s), n=len(u))
        g = group_auc(u, labels, s)
        at = np.searchsorted(users, g.users)

        def aligned(per_user: np.ndarray) -> np.ndarray:
            out = np.full(len(users), np.nan)
            out[at] = per_user
            return out

        for name, value in (("gauc", g.gauc), ("gauc_pairs", g.gauc_pairs)):
            # aligned with the ranking users; NaN where a user lacks one of the two labels; the
            # weights beside, so that tests test the weighted mean the row reports
            result.add(protocol, name, None, aligned(g.auc), value=value, n=len(g.users),
                       weights=aligned(g.weights(name)))

    def _score_all(self, result, model, block, pop, pop_users, pop_items):
        # with a fallback every candidate is a fallback user's or a new item: the model is not
        # asked at all (new-item candidates are the new items only)
        if pop_users or pop_items:
            return np.tile(pop, (len(block), 1))
        with result.timed():
            scores = model.score_all(block)
        return check_scores(scores, model.name, (len(block), len(pop))).copy()

    def _score_pairs(self, result, model, u, it, pop, pop_users, pop_items) -> np.ndarray:
        if pop_users or pop_items:
            return pop[it].astype(np.float64)
        with result.timed():
            s = model.score(u, it)
        return check_scores(s, model.name, (len(u),))


def _rows_of(part: Interactions, users: np.ndarray) -> Interactions:
    keep = np.isin(part.frame["user"].to_numpy(), users)
    return Interactions(part.frame[keep].reset_index(drop=True), part.n_users, part.n_items,
                        part.like_threshold, part.positives, part.catalog)
