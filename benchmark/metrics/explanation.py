"""Explanation metrics: text overlap, feature-level measures, grounding, fidelity, alignment.

- BLEU-1 / BLEU-4: sacrebleu (corpus level, and the mean of sentence-level scores with
  ``effective_order``), 0-100 as sacrebleu reports them.
- ROUGE-1 / ROUGE-2 / ROUGE-L: rouge-score F1 (its default tokenizer, no stemming), mean over
  samples, scaled to 0-100 like BLEU.
- USR, FMR, FCR, DIV: the reference-free measures of Li et al. (NETE, PETER): USR = distinct
  explanations / explanations; FMR = share of samples whose explanation mentions the sample's
  ground-truth feature; FCR = distinct features mentioned over all explanations / size of the
  feature vocabulary; DIV = mean size of the feature-set intersection over all pairs of samples
  (lower = more diverse). Features are vocabulary terms (genres, categories) found in the text.
- grounding: cited attributes / titles that belong to the item or the user's history, over all
  cited ones (micro average).
- fidelity: share of samples whose explanation's stance (for / against) agrees with the model's
  own prediction; a text with no detectable stance counts as disagreeing.
- alignment accuracy (RecExplainer): share of users for whom the explainer's pick equals the
  explained model's top-1.

Light imports: sacrebleu and rouge-score load inside the functions that need them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import numpy as np


# --- overlap metrics ------------------------------------------------------------------------
def _check_pairs(hyps: Sequence[str], refs: Sequence[str]) -> None:
    if len(hyps) != len(refs):
        raise ValueError(f"{len(hyps)} explanations but {len(refs)} references; they must align")
    if not hyps:
        raise ValueError("no explanations to score")
    bad = [i for i, h in enumerate(hyps) if not isinstance(h, str)]
    if bad:
        raise ValueError(f"explanation {bad[0]} is not a string ({type(hyps[bad[0]]).__name__})")


def bleu_scores(hyps: Sequence[str], refs: Sequence[str]) -> dict[str, float | np.ndarray]:
    """Corpus BLEU-1/4 and per-sample sentence BLEU-1/4 (sacrebleu, 0-100)."""
    from sacrebleu.metrics import BLEU

    _check_pairs(hyps, refs)
    out: dict[str, float | np.ndarray] = {}
    for order in (1, 4):
        out[f"bleu{order}"] = float(BLEU(max_ngram_order=order).corpus_score(
            list(hyps), [list(refs)]).score)
        sentence = BLEU(max_ngram_order=order, effective_order=True)
        out[f"bleu{order}_sentence"] = np.array(
            [sentence.sentence_score(h, [r]).score for h, r in zip(hyps, refs)])
    return out


def rouge_scores(hyps: Sequence[str], refs: Sequence[str]) -> dict[str, np.ndarray]:
    """Per-sample ROUGE-1/2/L F1 (rouge-score, 0-100)."""
    from rouge_score import rouge_scorer

    _check_pairs(hyps, refs)
    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=False)
    rows = [scorer.score(r, h) for h, r in zip(hyps, refs)]  # score(target, prediction)
    return {name: np.array([100.0 * row[key].fmeasure for row in rows])
            for name, key in (("rouge1", "rouge1"), ("rouge2", "rouge2"), ("rouge_l", "rougeL"))}


# --- vocabulary matching ----------------------------------------------------------------------
class TermMatcher:
    """Finds vocabulary terms in text: case-insensitive, whole words, longest match first.

    Terms shorter than ``min_chars`` are ignored (a title like "M" would match everywhere).
    """

    def __init__(self, terms: Iterable[str], min_chars: int = 3) -> None:
        self.canon: dict[str, str] = {}
        for t in terms:
            t = str(t).strip()
            if len(t) >= min_chars:
                self.canon.setdefault(t.lower(), t)
        alts = sorted(self.canon, key=len, reverse=True)
        self.pattern = (re.compile(r"(?<!\w)(" + "|".join(re.escape(a) for a in alts) + r")(?!\w)",
                                   re.IGNORECASE) if alts else None)

    def find(self, text: str) -> list[str]:
        """Terms in ``text`` in order of appearance (canonical spelling, repeats kept)."""
        if self.pattern is None or not text:
            return []
        return [self.canon[m.group(1).lower()] for m in self.pattern.finditer(text)]

    def __len__(self) -> int:
        return len(self.canon)


# --- PETER / NETE feature measures ------------------------------------------------------------
def unique_sentence_ratio(texts: Sequence[str]) -> float:
    if not texts:
        raise ValueError("no explanations")
    return len(set(texts)) / len(texts)


def feature_sets(texts: Sequence[str], matcher: TermMatcher) -> list[set[str]]:
    return [set(matcher.find(t)) for t in texts]


def feature_matching_ratio(found: Sequence[set[str]], truth: Sequence[str | None]) -> tuple[
        float, int]:
    """Share of samples (with a ground-truth feature) whose explanation mentions it; and n."""
    pairs = [(f, t) for f, t in zip(found, truth) if t]
    if not pairs:
        return float("nan"), 0
    return sum(t in f for f, t in pairs) / len(pairs), len(pairs)


def feature_coverage_ratio(found: Sequence[set[str]], vocabulary_size: int) -> float:
    if vocabulary_size <= 0:
        raise ValueError("feature vocabulary is empty")
    return len(set().union(*found)) / vocabulary_size if found else 0.0


def feature_diversity(found: Sequence[set[str]]) -> float:
    """Mean |F_a & F_b| over all pairs a < b (lower = more diverse), in O(n * features).

    Sum over pairs of |F_a & F_b| = sum over features f of C(count_f, 2).
    """
    n = len(found)
    if n < 2:
        return float("nan")
    counts: dict[str, int] = {}
    for f in found:
        for term in f:
            counts[term] = counts.get(term, 0) + 1
    total = sum(c * (c - 1) // 2 for c in counts.values())
    return total / (n * (n - 1) / 2)


# --- grounding --------------------------------------------------------------------------------
def grounding(cited: Sequence[Sequence[str]], allowed: Sequence[set[str]]) -> tuple[
        float, int, np.ndarray]:
    """Micro grounding rate: cited terms (case-insensitive) found in the sample's allowed set.

    Returns (rate over all citations, number of citations, per-sample rate with NaN where a
    sample cites nothing).
    """
    if len(cited) != len(allowed):
        raise ValueError("cited and allowed must align")
    good = total = 0
    per = np.full(len(cited), np.nan)
    for i, (c, a) in enumerate(zip(cited, allowed)):
        low = {x.lower() for x in a}
        hits = sum(x.lower() in low for x in c)
        if c:
            per[i] = hits / len(c)
        good += hits
        total += len(c)
    return (good / total if total else float("nan")), total, per


# --- fidelity ---------------------------------------------------------------------------------
_AGAINST = re.compile(
    r"\b(not (?:for you|your|a good|likely|recommended|suited|match)|may not|might not|"
    r"unlikely|won't|will not|doesn't (?:match|suit|fit)|does not (?:match|suit|fit)|"
    r"differs? from (?:your|what you)|far from (?:your|what you)|avoid|skip|"
    r"probably not|outside your)\b", re.IGNORECASE)
_FOR = re.compile(
    r"\b(recommend(?:ed)?|you(?:'ll| will| may| might| would)? (?:enjoy|like|love)|matches your|"
    r"suits? your|fits? your|because you (?:liked|enjoyed|watched|rated)|similar to|close to|"
    r"like (?:the )?(?:ones|films|movies|items) you|in line with your|a good (?:pick|match|fit))\b",
    re.IGNORECASE)


def stance(text: str) -> int:
    """+1 (for the item), -1 (against), 0 (no stance found). Against-cues win over for-cues:
    "you may not enjoy" contains "enjoy"."""
    if _AGAINST.search(text or ""):
        return -1
    if _FOR.search(text or ""):
        return 1
    return 0


def fidelity(stances: Sequence[int], predicted_like: Sequence[bool]) -> tuple[float, float]:
    """(share agreeing with the model's prediction, share with a detectable stance)."""
    s = np.asarray(stances)
    p = np.where(np.asarray(predicted_like, dtype=bool), 1, -1)
    if s.size == 0:
        raise ValueError("no explanations")
    return float((s == p).mean()), float((s != 0).mean())


def alignment_accuracy(chosen: Sequence[int] | np.ndarray,
                       target_top1: Sequence[int] | np.ndarray) -> float:
    """RecExplainer's alignment: share of users whose pick equals the target model's top-1."""
    a, b = np.asarray(chosen), np.asarray(target_top1)
    if a.shape != b.shape or a.size == 0:
        raise ValueError("chosen and target_top1 must be non-empty and aligned")
    return float((a == b).mean())
