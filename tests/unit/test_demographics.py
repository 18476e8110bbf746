"""One age_band for every model: MovieLens's groups by default, a caller's coarser table for
grouping, "unknown" for what is not an age."""

from __future__ import annotations

import math

import pytest

from baselines.content import COARSE_AGE_BANDS, demographic_keys
from benchmark.data.demographics import age_band


@pytest.mark.parametrize(("age", "band"), [
    (1, "under 18"), (17, "under 18"), (18, "18-24"), (24.9, "18-24"), ("25", "25-34"),
    (45, "45-49"), (49, "45-49"), (50, "50-55"), (56, "56+"), (199, "56+"),
    (None, "unknown age"), ("n/a", "unknown age"), (math.nan, "unknown age"), (-1, "unknown age"),
    (250, "unknown age")])
def test_movielens_bands(age, band):
    assert age_band(age) == band


@pytest.mark.parametrize(("age", "band"), [
    (-5, "<18"), (17, "<18"), (18, "18-24"), (44, "35-44"), (45, "45-55"), (55, "45-55"),
    (56, "56+"), (10**12, "56+"), (None, "?")])
def test_a_coarser_table_for_grouping(age, band):
    assert age_band(age, COARSE_AGE_BANDS, "?") == band


def test_content_groups_users_by_the_coarse_bands():
    import pandas as pd

    users = pd.DataFrame({"gender": ["F", "M"], "age": [47, 52], "occupation": ["a", "a"]})
    keys = demographic_keys(users, 2)
    assert keys[0] == ["F|45-55|a", "F|45-55", "F", ""] and keys[1][1] == "M|45-55"
