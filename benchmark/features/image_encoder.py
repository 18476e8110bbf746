"""CLIP image features from a local CLIP folder, for items with an image file on disk.

Images are found as ``<image_dir>/<raw item id>.<jpg|jpeg|png|webp>``. Items without an image get
a zero row and are counted in the result's info (``missing``); a dataset with no image at all
has no visual modality (the caller reports it absent, nothing is made up).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from benchmark.errors import BenchError
from benchmark.features.verify import sha256_file, weights_file
from benchmark.offline import go_offline
from benchmark.progress import enabled

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp")


def find_images(image_dir: Path, raw_item_ids: np.ndarray) -> list[Path | None]:
    """Per item (in id order), its image file or None."""
    image_dir = Path(image_dir)
    if not image_dir.is_dir():
        raise BenchError(f"image folder {image_dir} does not exist",
                         "pass image_dir = a folder of <item id>.jpg / .png files")
    by_stem = {}
    for path in sorted(image_dir.iterdir()):
        if path.suffix.lower() in IMAGE_SUFFIXES and path.stem not in by_stem:
            by_stem[path.stem] = path
    return [by_stem.get(str(raw)) for raw in raw_item_ids]


def images_hash(paths: list[Path | None]) -> str:
    """sha256 over (item index, image sha256) for every item that has an image."""
    h = hashlib.sha256()
    for i, path in enumerate(paths):
        if path is not None:
            h.update(f"{i}:{sha256_file(path)}\n".encode())
    return h.hexdigest()


@dataclass
class ClipImageEncoder:
    """The image tower of a local CLIP (a CLIPModel or CLIPVisionModelWithProjection folder)."""

    path: Path
    weights_sha256: str
    batch_size: int = 32
    _loaded: Any = field(default=None, repr=False)

    @classmethod
    def from_path(cls, path: str | os.PathLike) -> ClipImageEncoder:
        folder = Path(path).expanduser()
        if not (folder / "config.json").is_file():
            raise BenchError(f"image encoder: {folder} is not a model folder (no config.json)",
                             "pass a local CLIP folder saved with save_pretrained()")
        if not (folder / "preprocessor_config.json").is_file():
            raise BenchError(f"image encoder: {folder} has no preprocessor_config.json",
                             "save the CLIPImageProcessor next to the model (save_pretrained)")
        return cls(folder, sha256_file(weights_file(folder)))

    @property
    def name(self) -> str:
        return f"local-clip:{self.path.resolve()}"

    def describe(self) -> dict[str, Any]:
        return {"encoder": self.name, "weights_sha256": self.weights_sha256}

    def _load(self):
        if self._loaded is None:
            go_offline()
            from transformers import CLIPVisionModelWithProjection

            try:  # transformers 5 without torchvision: the PIL processor, without a warning
                from transformers import CLIPImageProcessorPil as Processor
            except ImportError:  # transformers 4
                from transformers import (  # type: ignore[assignment]  # one name, two eras
                    CLIPImageProcessor as Processor,
                )

            processor = Processor.from_pretrained(self.path, local_files_only=True)
            model = CLIPVisionModelWithProjection.from_pretrained(
                self.path, config=_vision_config(self.path), local_files_only=True).eval()
            self._loaded = (processor, model)
        return self._loaded

    def encode(self, paths: list[Path | None], progress: bool = True) -> np.ndarray:
        """float32 (len(paths), projection_dim), L2-normalised; zero rows where path is None."""
        import torch
        from PIL import Image
        from tqdm.auto import tqdm

        processor, model = self._load()
        dim = int(model.config.projection_dim)
        out = np.zeros((len(paths), dim), dtype=np.float32)
        present = [i for i, p in enumerate(paths) if p is not None]
        with torch.inference_mode():
            for start in tqdm(range(0, len(present), self.batch_size), desc="encode images",
                              unit="batch", disable=not enabled(progress)):
                rows = present[start:start + self.batch_size]
                images = []
                for i in rows:
                    path = paths[i]
                    assert path is not None  # rows are the present ones
                    try:
                        with Image.open(path) as img:
                            images.append(img.convert("RGB"))
                    except OSError as err:
                        raise BenchError(f"cannot read image {paths[i]}: {err}",
                                         "replace or delete the file") from err
                pixels = processor(images=images, return_tensors="pt")["pixel_values"]
                emb = model(pixel_values=pixels).image_embeds
                out[rows] = torch.nn.functional.normalize(emb, dim=1).float().numpy()
        return out


def _vision_config(folder: Path):
    """The image tower's config; from a full CLIPModel folder it takes the top-level
    ``projection_dim`` (the vision sub-config alone would default to 512)."""
    from transformers import AutoConfig, CLIPVisionConfig

    config = AutoConfig.from_pretrained(folder, local_files_only=True)
    if isinstance(config, CLIPVisionConfig):
        return config
    if getattr(config, "model_type", None) != "clip":
        raise BenchError(f"image encoder: {folder} holds a {config.model_type!r} model, not CLIP",
                         "pass a CLIPModel or CLIPVisionModelWithProjection folder")
    vision = config.vision_config.to_dict()
    vision["projection_dim"] = config.projection_dim
    return CLIPVisionConfig(**vision)
