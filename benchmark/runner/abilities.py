"""Suite validation of model abilities, before anything trains.

A track declares what it needs of a model (``requires``: capabilities, e.g. ``samples`` for the
TALLRec track). A model entry that names a track in its own ``tracks`` list must have what that
track needs, or the suite is an error naming the model, the track and the missing ability. A
track that reaches a model only through the suite-wide ``tracks`` list skips a model without the
ability and records why (e.g. the explanation track and Pop in suites/quick.toml). Independently
of tracks, a model class that lists an ability's capability without implementing its type is an
error.
"""

from __future__ import annotations

from typing import Any

from benchmark.errors import ConfigError
from benchmark.models.abilities import abilities_of, ability_type, declaration_problems
from benchmark.models.capability import Capability
from benchmark.registry import model_class, track_class


def track_requirements(track_cls: type) -> frozenset[Capability]:
    """What ``track_cls`` needs of a model (nothing unless it sets ``requires``)."""
    return frozenset(getattr(track_cls, "requires", frozenset()))


def ability_problems(suite: Any) -> list[str]:
    """One line per (model entry, track) whose model lacks what the track needs."""
    out: list[str] = []
    for entry in suite.models:
        cls = model_class(entry.name)
        out += [f"model {entry.key!r}: {line}" for line in declaration_problems(cls)]
        have = abilities_of(cls)
        for track in entry.tracks or []:
            for cap in sorted(track_requirements(track_class(track)) - have):
                kind = ability_type(cap)
                how = (f"subclass {kind.__module__}.{kind.__name__}" if kind is not None
                       else f"list Capability.{cap.name} in its capabilities and implement it")
                out.append(f"model {entry.key!r} ({entry.name}: {cls.__module__}."
                           f"{cls.__qualname__}) is asked for track {track!r}, which needs the "
                           f"{cap.value!r} ability it lacks (to have it, {how})")
    return out


def check_abilities(suite: Any) -> None:
    """Raise ConfigError listing every ability problem of ``suite`` (see the module doc)."""
    problems = ability_problems(suite)
    if problems:
        raise ConfigError(f"suite {suite.name!r}: " + "; ".join(problems),
                          "remove the track from that model entry's `tracks`, or use a model "
                          "that has the ability")
