"""What a track returns: labelled metric rows plus the per-user values behind each mean."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np


@dataclass(frozen=True)
class MetricRow:
    """One reported number, with the protocol that produced it."""

    track: str
    protocol: str
    metric: str
    k: int | None
    value: float
    n: int  # users (ranking, GAUC) or pairs (AUC) the mean is over

    def key(self) -> str:
        k = f"@{self.k}" if self.k is not None else ""
        return f"{self.track}/{self.protocol}/{self.metric}{k}"

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class TrackResult:
    rows: list[MetricRow] = field(default_factory=list)
    #: per-user values: key -> array; "<track>/<protocol>/users" holds the user ids they belong to
    per_user: dict[str, np.ndarray] = field(default_factory=dict)
    #: extra facts worth recording (e.g. hash of the frozen negatives file)
    info: dict = field(default_factory=dict)
    #: seconds spent in model inference (scoring) inside this track
    inference_seconds: float = 0.0
    inference_calls: int = 0
