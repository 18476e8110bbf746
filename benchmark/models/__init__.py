"""The model interface shared by every recommender in the suite, and its optional abilities."""

from benchmark.models.abilities import (
    ContrastiveExplainer,
    HistoryScorer,
    ModelExplainer,
    PromptedExplainer,
    SampleScorer,
    abilities_of,
)
from benchmark.models.base import Capability, Recommender

__all__ = ["Capability", "ContrastiveExplainer", "HistoryScorer", "ModelExplainer",
           "PromptedExplainer", "Recommender", "SampleScorer", "abilities_of"]
