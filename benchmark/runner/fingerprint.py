"""A run's fingerprint: a sha256 of everything that determines its numbers.

Resume reuses a run folder only when the fingerprint stored in its COMPLETE marker equals the
one the current suite gives the job (DESIGN.md, "Results"). The fields:

- ``model_class``: the registry's "module:Class" for the entry's model name;
- ``model_config``: the model's Config dataclass after defaults, as JSON (so spelling a default
  out in the suite does not change it; changing a default in code does);
- ``dataset``, ``max_eval_users``;
- ``split``: the split's description (strategy, ratios, seed, kcore, like threshold, positives,
  sizes) and its content hash, which covers the raw data and the splitting code;
- ``tracks``: the tracks this model runs, in order, each with its settings minus the knobs that
  only trade memory for speed (each track's ``meta.neutral_settings``);
- ``metric_version``, ``schema_version`` (``store.py``), ``seed``.

Not included, on purpose: package versions and the git commit (env.json records them; a code
change that changes numbers must bump ``METRIC_VERSION``), labels and the suite name (they are
the folder's path), and resources.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from typing import Any

from benchmark.models.base import build_config
from benchmark.registry import MODELS, TRACKS, model_class, track_meta
from benchmark.runner import store

FINGERPRINT_FORMAT = 1


@dataclasses.dataclass(frozen=True)
class Fingerprint:
    sha256: str
    fields: dict[str, Any]

    @property
    def short(self) -> str:
        return self.sha256[:12]

    def to_dict(self) -> dict[str, Any]:
        return {"sha256": self.sha256, "fields": self.fields}


def canonical_json(obj: Any) -> str:
    """One spelling per value: sorted keys, no spaces, tuples as lists, numpy as Python."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True,
                      allow_nan=True, default=store.json_default)


def make_fingerprint(fields: dict[str, Any]) -> Fingerprint:
    # round-trip so that the stored fields compare equal to freshly made ones (tuples -> lists)
    text = canonical_json({"fingerprint_format": FINGERPRINT_FORMAT, **fields})
    parsed = json.loads(text)
    return Fingerprint(hashlib.sha256(text.encode("ascii")).hexdigest(), parsed)


def result_settings(track: str, settings: Any) -> dict[str, Any]:
    """A track's settings that can change its numbers: the model dump (or a stored dict) minus
    the knobs the track declares neutral (``TrackMeta.neutral_settings``)."""
    raw = settings.model_dump() if hasattr(settings, "model_dump") else dict(settings)
    neutral = track_meta(track).neutral_settings if track in TRACKS else frozenset()
    return {k: v for k, v in raw.items() if k not in neutral}


def job_fingerprint(suite: Any, entry: Any, dataset_entry: Any, split: Any,
                    seed: int) -> Fingerprint:
    """The fingerprint of one (model entry, dataset, seed) job of ``suite`` on ``split``."""
    config = build_config(model_class(entry.name).Config, dict(entry.params),
                          f"suite model {entry.key!r}")
    model_config = (dataclasses.asdict(config)
                    if dataclasses.is_dataclass(config) and not isinstance(config, type)
                    else dict(vars(config)))
    return make_fingerprint({
        "model_class": MODELS[entry.name],
        "model_config": model_config,
        "dataset": dataset_entry.name,
        "max_eval_users": dataset_entry.max_eval_users,
        "split": split.describe(),
        "tracks": [[t, result_settings(t, suite.settings_for(t))]
                   for t in suite.tracks_for(entry)],
        "metric_version": store.METRIC_VERSION,
        "schema_version": store.SCHEMA_VERSION,
        "seed": seed,
    })
