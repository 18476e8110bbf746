"""Load any local Hugging Face causal or seq2seq model with its tokenizer, ready for inference.

Device and dtype follow the machine: CUDA in bfloat16 when present, CPU in float32 otherwise.
The weights' sha256 identifies the backbone in caches and result files.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmark.errors import BenchError, ConfigError
from benchmark.hashing import update_with_file
from benchmark.offline import go_offline

WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth")


@dataclass
class Backbone:
    """A loaded language model and everything needed to use and cite it."""

    model: Any
    tokenizer: Any
    kind: str  # "causal" or "seq2seq"
    device: str
    dtype: Any
    path: str
    weights_sha256: str
    n_params: int
    info: dict = field(default_factory=dict)  # backbone.json of a model trained here, if any


def choose_device(device: str = "auto") -> str:
    """"cuda" when a GPU is visible (for "auto"), else "cpu"; explicit values are checked."""
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(f"device {device!r} requested but CUDA is not available",
                          "use device = \"auto\" or \"cpu\"")
    if device != "cpu" and not device.startswith("cuda"):
        raise ConfigError(f"unknown device {device!r}", "use \"auto\", \"cpu\" or \"cuda\"")
    return device


def choose_dtype(device: str, dtype: str = "auto"):
    """bfloat16 on CUDA, float32 on CPU (for "auto"); or the named torch dtype."""
    import torch

    names = {"float32": torch.float32, "fp32": torch.float32, "bfloat16": torch.bfloat16,
             "bf16": torch.bfloat16, "float16": torch.float16, "fp16": torch.float16}
    if dtype == "auto":
        return torch.bfloat16 if device.startswith("cuda") else torch.float32
    if dtype not in names:
        raise ConfigError(f"unknown dtype {dtype!r}", f"use one of auto, {', '.join(names)}")
    return names[dtype]


def weights_sha256(path: Path) -> str:
    """sha256 over the weight files of a model folder (names and bytes, sorted by name)."""
    info = path / "backbone.json"
    if info.is_file():  # written by pretrain.py next to the weights it hashed
        recorded = json.loads(info.read_text()).get("weights_sha256")
        if recorded:
            return recorded
    h = hashlib.sha256()
    files = sorted(p for p in path.iterdir() if p.suffix in WEIGHT_SUFFIXES and p.is_file())
    if not files:
        raise BenchError(f"no weight files (*.safetensors, *.bin) in {path}",
                         "point the model at a folder saved with save_pretrained()")
    for p in files:
        h.update(p.name.encode())
        update_with_file(h, p)
    return h.hexdigest()


def folder_kind(path: Path) -> str:
    """"seq2seq" for an encoder-decoder config.json, else "causal"."""
    try:
        cfg = json.loads((path / "config.json").read_text())
    except (OSError, ValueError) as exc:
        raise BenchError(f"language model folder {path} has no readable config.json ({exc})",
                         "pass a folder saved with save_pretrained(); nothing is downloaded"
                         ) from None
    return "seq2seq" if cfg.get("is_encoder_decoder") else "causal"


def load_backbone(path: Path | str, kind: str = "auto", device: str = "auto",
                  dtype: str = "auto") -> Backbone:
    """Model + tokenizer from a local folder, in eval mode on the chosen device and dtype."""
    go_offline()  # before transformers (and huggingface_hub) first load
    from transformers import AutoModelForCausalLM, AutoModelForSeq2SeqLM

    from benchmark.llm.tokenizer import load_tokenizer

    path = Path(path).expanduser()
    if not (path / "config.json").is_file():
        raise BenchError(f"language model not found: {path} (no config.json)",
                         "pass a local folder saved with save_pretrained() (e.g. a downloaded "
                         "Hugging Face checkpoint); nothing is downloaded at run time")
    if kind not in ("auto", "causal", "seq2seq"):
        raise ConfigError(f"unknown backbone kind {kind!r}", "use \"causal\" or \"seq2seq\"")
    found = folder_kind(path)
    if kind != "auto" and kind != found:
        raise ConfigError(f"a {kind} language model was asked for, but {path} holds a {found} "
                          "one", f"point backbone at a {kind} checkpoint folder")
    kind = found
    dev = choose_device(device)
    dt = choose_dtype(dev, dtype)
    cls: Any = AutoModelForCausalLM if kind == "causal" else AutoModelForSeq2SeqLM
    model = cls.from_pretrained(str(path), local_files_only=True, dtype=dt).to(dev)
    model.eval()
    model.requires_grad_(False)  # frozen as loaded; LoRA or full fine-tuning unfreeze on purpose
    tok = load_tokenizer(path, padding_side="left")
    info_file = path / "backbone.json"
    info = json.loads(info_file.read_text()) if info_file.is_file() else {}
    return Backbone(model=model, tokenizer=tok, kind=kind, device=dev, dtype=dt, path=str(path),
                    weights_sha256=weights_sha256(path),
                    n_params=sum(p.numel() for p in model.parameters()), info=info)


def describe_backbone(bb: Backbone) -> dict:
    """JSON-ready provenance: where the weights came from, their hash, size, device and dtype."""
    origin = bb.info.get("origin", "local checkpoint folder")
    name = bb.info.get("name") or Path(bb.path).name
    return {"name": name, "path": bb.path, "kind": bb.kind, "origin": origin,
            "pretrained": bool(bb.info.get("pretrained", "origin" not in bb.info)),
            "weights_sha256": bb.weights_sha256, "n_params": bb.n_params, "device": bb.device,
            "dtype": str(bb.dtype).replace("torch.", ""),
            **{k: bb.info[k] for k in ("size", "vocab_size", "corpus_sha256", "pretrain",
                                       "gguf_sha256", "packaged")
               if k in bb.info}}
