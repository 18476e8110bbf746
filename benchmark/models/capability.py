"""What a model can do: the names tracks, suite validation and reports use for its abilities.

Kept apart from ``base`` so that the ability types (``benchmark.models.abilities``,
``benchmark.models.history``) can name a capability without importing the model base class.
"""

from __future__ import annotations

from enum import StrEnum


class Capability(StrEnum):
    RANK = "rank"
    SCORE = "score"
    EXPLAIN = "explain"
    COLD_USER = "cold_user"
    COLD_ITEM = "cold_item"
    #: scores items given an explicit, time-ordered history (``benchmark.models.history``)
    HISTORY = "history"
    #: (for, against) explanation pairs (``abilities.ContrastiveExplainer``)
    CONTRASTIVE = "contrastive"
    #: the prompt behind each explanation, kept with the samples (``abilities.PromptedExplainer``)
    EXPLAIN_PROMPTS = "explain_prompts"
    #: explains another, fitted model and answers the alignment questions about it
    #: (``abilities.ModelExplainer``)
    ALIGNMENT = "alignment"
    #: trains and scores on a protocol's own samples, e.g. TALLRec's (``abilities.SampleScorer``)
    SAMPLES = "samples"
    #: reads the job's dataset side data (raw items, users, ratings), handed to it by the
    #: harness before it trains (``abilities.DatasetReader``)
    DATASET = "dataset"
