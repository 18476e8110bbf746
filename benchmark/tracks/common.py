"""What every track checks of a model's output (``check_scores``): shared by the tracks, below
each of them, so that no track imports another's module for it."""

from __future__ import annotations

import numpy as np

from benchmark.errors import ModelOutputError


def check_scores(scores: np.ndarray, model: str, expected_shape: tuple[int, ...]) -> np.ndarray:
    scores = np.asarray(scores, dtype=np.float64)
    if scores.shape != expected_shape:
        raise ModelOutputError(f"model {model!r} returned scores of shape {scores.shape}, "
                               f"expected {expected_shape}", "fix the model's score/score_all")
    bad = int(np.isnan(scores).sum())
    if bad:
        raise ModelOutputError(f"model {model!r} returned {bad} NaN score(s)",
                               "check the model for diverged training (lower the learning rate) "
                               "or missing embeddings")
    return scores
