"""The explanation track: explanations for test pairs, scored against references and the model.

Runs for models with the ``explain`` capability; for others it records why it did nothing
(``info["explanation_skipped"]``) and emits no rows. Per job:

1. Pairs: up to ``max_pairs`` test users (seeded); for each, one of its liked test items (any
   test item if none is liked), drawn with the seed.
2. ``model.explain(users, items)``; a ``ContrastiveExplainer`` (``benchmark.models.abilities``)
   also gives ``explain_contrastive(users, items) -> list[(for, against) | ContrastivePair]``
   (LR-Recsys style), and a ``PromptedExplainer`` the prompts behind its texts (kept in the
   samples). Both halves are scored on their own (metrics suffixed ``_for`` / ``_against``)
   against the silver "for" / "against" references. A malformed pair (``benchmark.explain.contrastive``) is kept: its halves score as
   empty text, the sample says ``malformed`` with the raw text, and ``malformed_rate`` is reported.
3. References: protocol "silver" (MovieLens: ``benchmark.explain.silver``, versioned) or "review"
   (Amazon: the user's review of the item; pairs without a review are dropped and counted).
4. Metrics (``benchmark.metrics.explanation``): bleu1, bleu4 (corpus), *_sentence (mean
   sentence BLEU), rouge1, rouge2, rouge_l (F1), all 0-100; usr, fmr, fcr, div; grounding;
   fidelity and stance_rate; alignment (when the model explains another model, below).
5. Fidelity: the model's own prediction for the pair is "like" when the item scores in the upper
   half of the items the user has not interacted with (``score_all``; or, with
   ``fidelity_candidates`` = c > 0, of c such items drawn with the seed, for models that pay per
   scored pair, such as LLMs that write an explanation before they score); the explanation's stance
   is read by a cue lexicon (``stance``).
6. Alignment (RecExplainer): a ``ModelExplainer`` explains another model, ``explained_model``
   (a fitted Recommender), and answers ``choose(users, candidates) -> item per user``; for each
   user, the candidates are ``alignment_candidates`` items drawn with the seed, and alignment is
   the share of users whose choice equals the explained model's top-1 among them.
7. Judge (optional, ``[explanation.judge]``): an LLM rates the first pairs' texts on usefulness,
   accuracy and clarity (``benchmark.judge.track_hook``; rows judge_*, sample["judge"]).

Every sample (user, item, title, prompt, explanation, reference(s), prediction, for/against) goes
to samples.jsonl, so the scores can be recomputed from the stored text.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import Field

from benchmark.config.base import Strict
from benchmark.data.dataset import DatasetData
from benchmark.data.user_items import per_user_items
from benchmark.errors import DataError, ModelOutputError
from benchmark.explain.contrastive import ContrastivePair
from benchmark.explain.references import review_lookup
from benchmark.judge.settings import JudgeSettings
from benchmark.metrics import explanation as xm
from benchmark.metrics.readable import readable
from benchmark.models.abilities import ContrastiveExplainer, ModelExplainer, PromptedExplainer
from benchmark.models.base import Capability, Recommender
from benchmark.results import TrackResult
from benchmark.track_meta import Headline, MetricMeta, TrackMeta, quality_metrics
from benchmark.tracks.base import TrackContext
from benchmark.tracks.common import check_scores


class ExplanationSettings(Strict):
    max_pairs: int = Field(200, gt=1)
    reference: Literal["auto", "silver", "review"] = "auto"
    batch: int = Field(64, gt=0)
    alignment_candidates: int = Field(20, gt=1)
    #: 0 = the prediction's percentile is among all unseen items; c > 0 = among c drawn ones
    fidelity_candidates: int = Field(0, ge=0)
    #: [explanation.judge]: LLM ratings of usefulness/accuracy/clarity (benchmark/judge)
    judge: JudgeSettings | None = None


def _check_texts(texts, n: int, model: str, what: str) -> list[str]:
    texts = list(texts)
    if len(texts) != n or not all(isinstance(t, str) for t in texts):
        raise ModelOutputError(f"model {model!r} returned {len(texts)} {what} for {n} pairs "
                               "(or a non-string)", f"{what} must return one str per pair")
    return texts


class ExplanationTrack:
    name = "explanation"
    Settings = ExplanationSettings
    #: what a model must have when a suite entry asks for this track by name (suite validation);
    #: a model given the track only by the suite-wide list is skipped, with the reason in info
    requires = frozenset({Capability.EXPLAIN})
    meta = TrackMeta(
        metrics=(
            # shares of failed outputs: lower is better, gated as costs
            MetricMeta("malformed_rate", "lower", "share", "rate"),
            MetricMeta("judge_unrated_rate*", "lower", "share", "rate"),
            *(MetricMeta(p, unit="0-100") for p in ("bleu*", "rouge*")),
            *quality_metrics("usr", "fmr", "fcr", "div", "grounding*", "readable_rate",
                             "fidelity", "stance_rate", "alignment", "judge_*")),
        headline=(Headline("*", "bleu4"), Headline("*", "rouge_l")))

    def __init__(self, settings: ExplanationSettings, work_dir: Path | None, progress=None) -> None:
        self.s = settings
        self.progress = progress
        self.work_dir = work_dir

    def run(self, ctx: TrackContext) -> TrackResult:
        result = TrackResult(track=self.name)
        probe = ctx.fitted_model() if ctx.has_fitted_model else ctx.build_model("explain_probe")
        if Capability.EXPLAIN not in probe.capabilities:
            result.info["explanation_skipped"] = f"{probe.name} has no explain() capability"
            return result
        model = ctx.fitted_model()
        return self.evaluate(model, ctx.split, ctx.data, ctx.seed, result)

    # --- pairs and references -----------------------------------------------------------------
    def pairs(self, split, seed: int) -> tuple[np.ndarray, np.ndarray]:
        test = split.test.frame
        liked = split.test.liked()
        rng = np.random.default_rng(seed)
        users = np.unique(test["user"].to_numpy())
        if len(users) > self.s.max_pairs:
            users = np.sort(rng.choice(users, self.s.max_pairs, replace=False))
        order = np.argsort(test["user"].to_numpy(), kind="stable")
        u_sorted = test["user"].to_numpy()[order]
        items = np.empty(len(users), dtype=np.int64)
        for r, u in enumerate(users):
            lo, hi = np.searchsorted(u_sorted, [u, u + 1])
            rows = order[lo:hi]
            pool = rows[liked[rows]] if liked[rows].any() else rows
            items[r] = test["item"].to_numpy()[rng.choice(pool)]
        return users.astype(np.int64), items

    def evaluate(self, model: Recommender, split, data: DatasetData | None, seed: int,
                 result: TrackResult | None = None) -> TrackResult:
        """``data``: the split's dataset as the runner resolved it (review references read its
        raw files); None for a split without one (synthetic), which gets silver references."""
        from benchmark.explain.silver import SILVER_VERSION, SilverBuilder

        result = result or TrackResult(track=self.name)
        history = split.train.concat(split.valid)
        users, items = self.pairs(split, seed)
        mode = self.s.reference
        if mode == "auto":
            mode = "review" if data is not None and data.has_reviews else "silver"
        builder = SilverBuilder(split.catalog, history, strict=mode == "silver")
        silver = [builder.build(int(u), int(i)) for u, i in zip(users, items)]
        if mode == "review":
            if data is None:
                raise DataError("reference = 'review' needs the dataset's review text, and this "
                                "split came without its dataset",
                                "run the track through the runner, or use reference = 'silver'")
            reviews = review_lookup(data, split.catalog)
            keep = np.array([(int(u), int(i)) in reviews for u, i in zip(users, items)])
            result.info["explanation_pairs_without_review"] = int((~keep).sum())
            users, items = users[keep], items[keep]
            silver = [s for s, k in zip(silver, keep) if k]
            refs = [reviews[(int(u), int(i))] for u, i in zip(users, items)]
            result.info["explanation_reference"] = "review: the user's review of the item"
        else:
            refs = [s.text for s in silver]
            result.info["explanation_reference"] = f"{SILVER_VERSION} (benchmark/explain/silver.py)"
        if len(users) < 2:
            result.info["explanation_skipped"] = "fewer than two pairs with a reference"
            return result
        protocol = mode

        texts, halves, prompts = self._explain(model, users, items, result)
        predicted, scores, pct = self._predictions(model, split, history, users, items, result,
                                                   seed)
        vocab_terms, allowed = self._vocabulary(builder, users, items)
        feature_matcher = xm.TermMatcher(vocab_terms["features"])
        cite_matcher = xm.TermMatcher(vocab_terms["features"] + vocab_terms["titles"]
                                      + vocab_terms["decades"])

        rows: dict[str, tuple[float, int]] = {}
        arrays: dict[str, np.ndarray] = {}  # per-pair values, by metric name
        self._score_texts(texts, refs, "", rows, arrays)
        found = xm.feature_sets(texts, feature_matcher)
        truth_features = ([s.feature for s in silver] if mode == "silver" else
                          [next(iter(feature_matcher.find(r)), None) for r in refs])
        n = len(texts)
        rows["usr"] = (xm.unique_sentence_ratio(texts), n)
        fmr, n_fmr = xm.feature_matching_ratio(found, truth_features)
        if n_fmr:
            rows["fmr"] = (fmr, n_fmr)
        if len(feature_matcher):
            rows["fcr"] = (xm.feature_coverage_ratio(found, len(feature_matcher)), n)
        rows["div"] = (xm.feature_diversity(found), n)
        cited = [cite_matcher.find(t) for t in texts]
        g, n_cited, _ = xm.grounding(cited, allowed)
        if n_cited:
            rows["grounding"] = (g, n_cited)
        ok = [readable(t, builder.titles[i], builder.genres[i]) for t, i in zip(texts, items)]
        rows["readable_rate"] = (float(np.mean(ok)), n)
        arrays["readable"] = np.asarray(ok, dtype=float)
        stances = [xm.stance(t) for t in texts]
        fid, stance_rate = xm.fidelity(stances, predicted)
        rows["fidelity"], rows["stance_rate"] = (fid, n), (stance_rate, n)
        arrays["fidelity"] = (np.asarray(stances) == np.where(predicted, 1, -1)).astype(float)
        if halves is not None:
            rows["malformed_rate"] = (float(np.mean([h.malformed for h in halves])), n)
            arrays["malformed"] = np.array([h.malformed for h in halves], dtype=float)
            for side, idx, ref in (("for", 0, [s.text for s in silver]),
                                   ("against", 1, [s.against for s in silver])):
                part = [h.halves()[idx] for h in halves]
                self._score_texts(part, ref, f"_{side}", rows, arrays)
                gs, ns, _ = xm.grounding([cite_matcher.find(t) for t in part], allowed)
                if ns:
                    rows[f"grounding_{side}"] = (gs, ns)
        if isinstance(model, ModelExplainer):
            rows["alignment"] = (self._alignment(model, split, users, seed, result), n)

        for metric, (value, count) in rows.items():
            result.add(protocol, metric, value=value, n=count)
        result.add_users(protocol, users)
        for name, values in arrays.items():
            result.keep(protocol, name, np.asarray(values, dtype=float))
        titles = builder.titles
        for r in range(n):
            sample = {"user": int(users[r]), "item": int(items[r]), "title": titles[items[r]],
                      "prompt": prompts[r] if prompts is not None else None,
                      "explanation": texts[r], "reference": refs[r], "references": [refs[r]],
                      "protocol": protocol, "prediction": float(scores[r]),
                      "score_percentile": float(pct[r]), "predicted_like": bool(predicted[r]),
                      "stance": int(stances[r]), "cited": cited[r], "readable": ok[r],
                      "feature": truth_features[r]}
            if halves is not None:
                sample["for"], sample["against"] = halves[r].halves()
                sample["malformed"] = halves[r].malformed
                if halves[r].malformed:
                    sample["raw"], sample["problem"] = halves[r].raw, halves[r].problem
                sample["reference_for"] = silver[r].text
                sample["reference_against"] = silver[r].against
            result.samples.append(sample)
        if self.s.judge is not None:  # rows judge_*, sample["judge"], info["explanation_judge"]
            from benchmark.judge.track_hook import judge_explanations

            judge_explanations(self.s.judge, result, protocol, result.samples[-n:], builder,
                               self.work_dir, self.progress)
        result.info["explanation_scale"] = ("bleu*/rouge* 0-100 (sacrebleu; rouge-score F1 x 100); "
                                            "usr/fmr/fcr/grounding/fidelity 0-1; div = mean "
                                            "shared features per pair")
        return result

    # --- pieces -------------------------------------------------------------------------------
    def _explain(self, model, users, items, result):
        texts: list[str] = []
        halves: list[ContrastivePair] | None = [] if isinstance(model, ContrastiveExplainer) \
            else None
        prompts: list | None = [] if isinstance(model, PromptedExplainer) else None
        batches = range(0, len(users), self.s.batch)
        with result.timed(calls=len(batches)):
            for start in batches:
                u, it = users[start:start + self.s.batch], items[start:start + self.s.batch]
                texts += _check_texts(model.explain(u, it), len(u), model.name, "explain()")
                if halves is not None:
                    halves += _contrastive(model, u, it)
                if prompts is not None:
                    prompts += list(model.explain_prompts(u, it))
        return texts, halves, prompts

    def _predictions(self, model, split, history, users, items, result, seed):
        seen = per_user_items(history.frame, users)
        c = self.s.fidelity_candidates
        pools = []  # per pair: the pair's item first, then the unseen items it is ranked among
        rng = np.random.default_rng(seed + 3)
        for r in range(len(users)):
            mask = np.ones(split.n_items, dtype=bool)
            mask[seen[r]] = False
            mask[items[r]] = False
            others = np.flatnonzero(mask)
            if c and len(others) > c:
                others = np.sort(rng.choice(others, c, replace=False))
            pools.append(np.concatenate([[items[r]], others]).astype(np.int64))
        with result.timed():
            if c:
                flat_u = np.concatenate([np.full(len(p), u) for u, p in zip(users, pools)])
                flat = check_scores(model.score(flat_u, np.concatenate(pools)), model.name,
                                    (len(flat_u),))
                bounds = np.cumsum([0] + [len(p) for p in pools])
                pooled = [flat[bounds[r]:bounds[r + 1]] for r in range(len(users))]
            else:
                all_scores = check_scores(model.score_all(users), model.name,
                                          (len(users), split.n_items))
                pooled = [all_scores[r, p] for r, p in enumerate(pools)]
        scores = np.array([p[0] for p in pooled])
        pct = np.array([((p[1:] < p[0]).sum() + 0.5 * (p[1:] == p[0]).sum()) / max(len(p) - 1, 1)
                        for p in pooled])
        result.info["fidelity_pool"] = (f"{c} unseen items drawn per pair (seed + 3)" if c
                                        else "all unseen items")
        return pct >= 0.5, scores, pct

    def _vocabulary(self, builder, users, items):
        features = sorted({g for gs in builder.genres for g in gs})
        from benchmark.explain.silver import decade

        decades = sorted({d for y in builder.years if (d := decade(y))})
        allowed = [builder.item_terms(int(i)) | builder.history_terms(int(u))
                   for u, i in zip(users, items)]
        return {"features": features, "titles": builder.titles, "decades": decades}, allowed

    def _score_texts(self, hyps, refs, suffix, rows, arrays) -> None:
        n = len(hyps)
        bleu = xm.bleu_scores(hyps, refs)
        rouge = xm.rouge_scores(hyps, refs)
        for order in (1, 4):
            rows[f"bleu{order}{suffix}"] = (bleu[f"bleu{order}"], n)
            sent = bleu[f"bleu{order}_sentence"]
            rows[f"bleu{order}_sentence{suffix}"] = (float(np.mean(sent)), n)
            arrays[f"bleu{order}_sentence{suffix}"] = sent
        for name, values in rouge.items():
            rows[f"{name}{suffix}"] = (float(np.mean(values)), n)
            arrays[f"{name}{suffix}"] = values

    def _alignment(self, model: ModelExplainer, split, users, seed, result) -> float:
        target = model.explained_model
        assert target is not None  # set by the explainer's fit
        rng = np.random.default_rng(seed + 2)
        cands = np.stack([rng.choice(split.n_items, self.s.alignment_candidates, replace=False)
                          for _ in users])
        top1 = target.rank(users, 1, candidates=cands)[:, 0]
        with result.timed(calls=0):  # counted as time only, as before
            chosen = np.asarray(model.choose(users, cands))
        return xm.alignment_accuracy(chosen, top1)


def _contrastive(model: ContrastiveExplainer, users, items) -> list[ContrastivePair]:
    """The model's (for, against) pairs as ``ContrastivePair``; a wrong count is an error."""
    got = list(model.explain_contrastive(users, items))
    if len(got) != len(users):
        raise ModelOutputError(f"model {model.name!r}: explain_contrastive returned {len(got)} "
                               f"pairs for {len(users)} requests",
                               "return one (for, against) pair or ContrastivePair per request")
    out = []
    for h in got:
        if isinstance(h, ContrastivePair):
            out.append(h)
        elif isinstance(h, tuple | list) and len(h) == 2:
            out.append(ContrastivePair(str(h[0]), str(h[1])))
        else:
            raise ModelOutputError(f"model {model.name!r}: explain_contrastive returned {h!r}",
                                   "return a (for, against) tuple or a ContrastivePair "
                                   "(malformed=True when the text could not be parsed)")
    return out
