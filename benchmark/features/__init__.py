"""Item features for multimodal and content-based models (DESIGN.md, "Layout").

    from benchmark.features import load_item_features, item_texts

Light to import: torch and transformers load only when something is encoded.
"""

from benchmark.features.pipeline import MODALITIES, ItemFeatures, load_item_features
from benchmark.features.texts import content_hash, item_texts

__all__ = ["MODALITIES", "ItemFeatures", "content_hash", "item_texts", "load_item_features"]
