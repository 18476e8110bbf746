"""Lazy registries: names map to "module:Class" strings, imported only when a model is built.

Importing ``benchmark`` stays light (no torch, RecBole or transformers); adding a model is one
class plus one line here. Models outside this list (the tests' ``dummy`` and ``flaky``, a
plugin) are added by ``RECBENCH_EXTRA_MODELS="name=module:Class,..."``, read at import, so job
processes and Ray workers that inherit the environment see them too.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from benchmark.errors import BenchError, UnknownNameError
from benchmark.offline import go_offline
from benchmark.track_meta import JOB_METRICS, MetricMeta, TrackMeta

if TYPE_CHECKING:
    from benchmark.models.base import Recommender

MODELS: dict[str, str] = {
    "random": "benchmark.models.dummy:RandomRecommender",
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

#: the models shipped with the suite (MODELS may hold extra ones besides)
BUILTIN_MODELS = frozenset(MODELS)
#: environment variable naming extra models: "name=module:Class" entries, comma-separated
EXTRA_MODELS_ENV = "RECBENCH_EXTRA_MODELS"


def extra_models(value: str) -> dict[str, str]:
    """The models ``RECBENCH_EXTRA_MODELS`` adds; an entry that is not ``name=module:Class`` or
    that names a built-in model is an error."""
    out: dict[str, str] = {}
    for part in (p.strip() for p in value.split(",")):
        if not part:
            continue
        name, sep, spec = (s.strip() for s in part.partition("="))
        module, colon, attr = spec.partition(":")
        if not (sep and name and module and colon and attr):
            raise BenchError(f"{EXTRA_MODELS_ENV} entry {part!r} is not name=module:Class",
                             f"e.g. {EXTRA_MODELS_ENV}=mine=mypackage.models:MyModel")
        if name in BUILTIN_MODELS:
            raise BenchError(f"{EXTRA_MODELS_ENV} names the built-in model {name!r}",
                             "give the extra model another name")
        out[name] = spec
    return out


MODELS.update(extra_models(os.environ.get(EXTRA_MODELS_ENV, "")))

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


def model_class(name: str) -> type[Recommender]:
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


def track_class(name: str) -> Any:  # a track class (tracks share no base class yet)
    if name not in TRACKS:
        raise UnknownNameError("track", name, TRACKS)
    return _load(TRACKS[name])


def track_meta(name: str) -> TrackMeta:
    """What track ``name`` declares about its numbers (``benchmark.track_meta``); a track that
    declares nothing gets the defaults."""
    meta = getattr(track_class(name), "meta", None)
    return meta if isinstance(meta, TrackMeta) else TrackMeta()


def metric_meta(metric: str, track: str | None = None) -> MetricMeta:
    """The declaration of ``metric``: its track's when the track is named and declares it,
    else the first registered track's (or efficiency.json's, ``JOB_METRICS``) that does; an
    undeclared metric reads as a higher-is-better quality number."""
    tracks = ([track] if track in TRACKS else []) + list(TRACKS)
    for meta in (track_meta(t).metric(metric) for t in tracks):
        if meta is not None:
            return meta
    return next((m for m in JOB_METRICS if m.matches(metric)), MetricMeta(metric))
