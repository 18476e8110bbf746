"""Preference attribution tuning: instructions I_attr = {I_task, I_input^attr, O_pred, O_reason}.

I_input^attr lists the liked and disliked history items each with a reason r_j, and the target
item with its attributes. How the texts are built (MovieLens; Amazon uses categories instead of
genres):

- r_j (history reason): item j's genres that recur most among the history items with the same
  label (liked or disliked) shown in the prompt, at most two: the attribute that explains the
  (dis)like. It does not depend on the target, so one user's prompt prefix is shared by all
  targets (and cached when scoring).
- O_reason (target explanation): the silver reference of ``benchmark.explain.silver`` (version
  silver-v1) built from the user's *training* history: shared genres with the liked history,
  the most similar liked titles (genre Jaccard, then year), and the era; its "for" text when
  O_pred is Yes and its "against" text when O_pred is No. So the model learns to cite only
  attributes and titles of the item and the user's history.

Losses, L_attr = alpha L_pred + beta L_reason + gamma L_consistency:
- L_pred: binary cross-entropy of the Yes/No answer (logit = logit(Yes) - logit(No) at the first
  response position, plus the knowledge-base prior when zero-shot transfer is on);
- L_reason: token-level cross-entropy on O_reason, teacher forced. The paper "measures
  explanation quality using BLEU", which has no gradient; ``reason_loss = "token_ce+mrt"`` adds a
  sequence-level term: REINFORCE with sentence BLEU of sampled explanations as the reward
  (baseline = the batch mean), ``bleu_rewards`` below;
- L_consistency: a linear head on the mean hidden state of the explanation tokens reads the
  explanation's stance (like / dislike); its binary cross-entropy against the prediction's
  probability (detached) is low when explanation and prediction agree (``consistency_loss``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np

from benchmark.llm.chat import ChatFrame
from benchmark.llm.segments import merge_segments
from explainrec.data import Example, ItemTable

INSTRUCTION = ("Given the movies the user liked and disliked, each with its reason, answer "
               "whether the user will like the target movie (\"Yes.\" or \"No.\") and explain "
               "why.")
INSTRUCTION_PLAIN = ("Given the movies the user liked and disliked, answer whether the user will "
                     "like the target movie (\"Yes.\" or \"No.\").")
RESPONSE = "### Response:\n"
ANSWERS = ("Yes.", "No.")
REASON_CUE = "\nReason: "

#: a prompt is a list of segments: text, or an int = the soft token of that item id
Segments = list


def history_reason(items: ItemTable, hist_item: int, counts: Counter) -> str:
    """r_j: the item's genres most frequent among same-label history items (at most two)."""
    ranked = sorted(items.genres[hist_item], key=lambda g: (-counts[g], g))[:2]
    return ", ".join(ranked)


def _mention(items: ItemTable, i: int, soft: bool, reason: str) -> Segments:
    seg: Segments = [i] if soft else []
    seg.append(f'"{items.display[i]}"' + (f" ({reason})" if reason else ""))
    return seg


def prompt_segments(ex: Example, items: ItemTable, *, attribution: bool, soft: bool,
                    evidence: str | None = None, frame: ChatFrame | None = None
                    ) -> tuple[Segments, Segments]:
    """(prefix, suffix): the user part (shared by every target of a user) and the target part,
    ending where the answer starts: "### Response:\\n", or, with an instruction model's chat
    ``frame``, the user's turn wrapped in its template up to the assistant's first token."""
    head = frame.head if frame is not None else ""
    prefix: Segments = [head + (INSTRUCTION if attribution else INSTRUCTION_PLAIN)
                        + "\n### Input:\n"]
    if evidence:
        prefix.append(evidence + "\n")
    for label, want in (("Liked: ", True), ("Disliked: ", False)):
        prefix.append(label)
        counts = Counter(g for i, ok in zip(ex.history, ex.history_liked) if ok == want
                         for g in items.genres[i])
        first = True
        for i, ok in zip(ex.history, ex.history_liked):
            if ok != want:
                continue
            if not first:
                prefix.append("; ")
            reason = history_reason(items, i, counts) if attribution else ""
            prefix += _mention(items, i, soft, reason)
            first = False
        prefix.append("\n")
    genres = ", ".join(items.genres[ex.item]) if attribution else ""
    end = "?" + frame.tail if frame is not None else "?\n" + RESPONSE
    suffix: Segments = ["Target: ", *_mention(items, ex.item, soft, genres), end]
    return merge_segments(prefix), merge_segments(suffix)


def answer(liked: bool) -> str:
    return ANSWERS[0] if liked else ANSWERS[1]


def reason_targets(builder, examples: Sequence[Example]) -> list[str]:
    """O_reason per example: the silver "for" text when liked, "against" when not."""
    out = []
    for e in examples:
        ref = builder.build(e.user, e.item)
        out.append(ref.text if e.liked else ref.against)
    return out


def consistency_loss(stance_logit, pred_logit):
    """BCE(sigmoid(stance), sigmoid(pred)) per example, the prediction detached: low when the
    explanation's stance agrees with the Yes/No prediction, high when it contradicts it."""
    import torch

    target = torch.sigmoid(pred_logit.detach())
    return torch.nn.functional.binary_cross_entropy_with_logits(stance_logit, target,
                                                                reduction="none")


def bleu_rewards(samples: Sequence[str], reference: str) -> np.ndarray:
    """Sentence BLEU-4 (sacrebleu, effective order) of each sampled explanation, 0-1."""
    from sacrebleu.metrics import BLEU

    bleu = BLEU(max_ngram_order=4, effective_order=True)
    return np.array([bleu.sentence_score(s, [reference]).score / 100.0 for s in samples])
