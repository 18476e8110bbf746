"""The model interface shared by every recommender in the suite."""

from benchmark.models.base import Capability, Recommender

__all__ = ["Capability", "Recommender"]
