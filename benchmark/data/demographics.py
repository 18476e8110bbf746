"""Age bands for user profiles, shared by every model that groups or describes users by age.

MovieLens-100K stores exact ages and MovieLens-1M stores the first age of its group (1, 18, 25,
35, 45, 50, 56); either maps onto the same bands. A band table is (low, high, name) triples,
``low <= age < high``; an age that is missing, not a number or outside every band is ``unknown``.
"""

from __future__ import annotations

from typing import Any

AgeBands = tuple[tuple[float, float, str], ...]

#: MovieLens's seven age groups, named as prompts show them
MOVIELENS_AGE_BANDS: AgeBands = (
    (0, 18, "under 18"), (18, 25, "18-24"), (25, 35, "25-34"), (35, 45, "35-44"),
    (45, 50, "45-49"), (50, 56, "50-55"), (56, 200, "56+"))


def age_band(age: Any, bands: AgeBands = MOVIELENS_AGE_BANDS, unknown: str = "unknown age"
             ) -> str:
    """The name of the band ``int(age)`` falls in."""
    try:
        a = int(age)
    except (TypeError, ValueError):
        return unknown
    return next((name for lo, hi, name in bands if lo <= a < hi), unknown)
