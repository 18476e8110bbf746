"""Lazy registries: names map to "module:Class" strings, imported only when a model is built.

Importing ``benchmark`` stays light (no torch, RecBole or transformers); adding a model is one
class plus one line here.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from benchmark.errors import BenchError, UnknownNameError
from benchmark.offline import go_offline

MODELS: dict[str, str] = {
    "dummy": "benchmark.models.dummy:DummyRecommender",
    "random": "benchmark.models.dummy:RandomRecommender",
    "flaky": "benchmark.models.flaky:FlakyRecommender",  # executor tests: dies on first fit
    "pop": "baselines.pop:Pop",
    "ease": "baselines.ease:EASE",
    "itemknn": "baselines.itemknn:ItemKNN",
    "bpr": "baselines.recbole_models:BPR",
    "lightgcn": "baselines.recbole_models:LightGCN",
    "sasrec": "baselines.recbole_models:SASRec",
    "gru4rec": "baselines.recbole_models:GRU4Rec",
    "vbpr": "baselines.multimodal.vbpr:VBPR",
    "mmgcn": "baselines.multimodal.mmgcn:MMGCN",
    "lattice": "baselines.multimodal.lattice:LATTICE",
    "content": "baselines.content:ContentRecommender",
    "lgbm_ranker": "baselines.lgbm_ranker:LGBMRankerRecommender",
    "chatrec": "baselines.llm.chatrec:ChatRec",
    "p5": "baselines.llm.p5:P5",
    "tallrec": "baselines.llm.tallrec:TALLRec",
    "explainrec": "explainrec.model:ExplainRec",  # config param variant: full / no_* ablations
    "recexplainer": "baselines.explainers.recexplainer:RecExplainer",  # alignment: behaviour/...
    "lrrecsys": "baselines.explainers.lrrecsys:LRRecsys",  # use_explanations true / false
    "prompt_share": "baselines.llm.prompt_info:PromptShare",
    "prompt_prior": "baselines.llm.prompt_info:PromptPrior",
    "prompt_both": "baselines.llm.prompt_info:PromptBoth",
}

TRACKS: dict[str, str] = {
    "accuracy": "benchmark.tracks.accuracy:AccuracyTrack",
    "cold_start": "benchmark.tracks.cold_start:ColdStartTrack",
    "explanation": "benchmark.tracks.explanation:ExplanationTrack",
    "efficiency": "benchmark.tracks.efficiency:EfficiencyTrack",
    "tallrec": "benchmark.tracks.tallrec:TallrecTrack",
    "alignment": "benchmark.tracks.alignment:AlignmentTrack",
}


def _load(spec: str) -> Any:
    module_name, _, attr = spec.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as err:
        raise BenchError(
            f"cannot import {module_name!r} ({err.name} is not installed)",
            "run scripts/setup.sh, which installs every model's dependencies",
        ) from err
    return getattr(module, attr)


def model_class(name: str) -> type:
    """The Recommender class registered under ``name`` (imports its module now)."""
    if name not in MODELS:
        raise UnknownNameError("model", name, MODELS)
    return _load(MODELS[name])


def build_model(name: str, config: dict[str, Any] | None = None, *,
                workdir: Path | None = None, label: str | None = None) -> Any:
    """Build a registered model; ``label`` is its display name (defaults to ``name``). The
    offline switches are set first: nothing a model loads may come from the network."""
    go_offline()
    return model_class(name)(config, workdir=workdir, name=label or name)


def track_class(name: str) -> type:
    if name not in TRACKS:
        raise UnknownNameError("track", name, TRACKS)
    return _load(TRACKS[name])
