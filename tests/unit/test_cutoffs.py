"""One ``ks`` rule (``benchmark.config.base.Cutoffs``) for every track's ranking cut-offs."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from benchmark.config.base import Cutoffs, Strict
from benchmark.config.suite import AccuracySettings


class Toy(Strict):
    ks: Cutoffs = [10]


@pytest.mark.parametrize("model", [AccuracySettings, Toy])
def test_cutoffs_are_sorted_unique_and_positive(model):
    assert model(ks=[20, 5, 20]).ks == [5, 20]
    for bad in ([], [0], [5, -1]):
        with pytest.raises(ValidationError, match="ks must be a non-empty list of positive"):
            model(ks=bad)
    with pytest.raises(ValidationError):
        model(ks=["5"])  # strict: no string coercion
