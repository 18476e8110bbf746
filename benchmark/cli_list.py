"""`recbench list`: what exists, with enough said about each model to write a suite entry.

A model's line is its one-line description (the class docstring, else its module's) and its
parameters with their defaults, read from the model's typed ``Config`` dataclass, the same one
that checks a suite's ``params``. Models that exist only for the test-suite are left out.
"""

from __future__ import annotations

import dataclasses
import shutil
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

#: registered for tests (deterministic scores, a model that dies on purpose), not for users
TEST_ONLY = frozenset({"dummy", "flaky"})


def describe_model(name: str) -> tuple[str, list[str]]:
    """(one-line description, ``param=default`` strings) of a registered model."""
    from benchmark.registry import model_class

    cls = model_class(name)
    doc = cls.__doc__ if "__doc__" in vars(cls) else None
    doc = doc or sys.modules[cls.__module__].__doc__ or ""
    first = doc.strip().split("\n\n")[0].replace("\n", " ")
    first = first.split(". ")[0].rstrip(".") if first else "(no description)"
    params = []
    config = getattr(cls, "Config", None)
    if config is not None and dataclasses.is_dataclass(config):
        for f in dataclasses.fields(config):
            if f.default is not dataclasses.MISSING:
                default = f.default
            elif f.default_factory is not dataclasses.MISSING:
                default = f.default_factory()
            else:
                default = "required"
            params.append(f"{f.name}={default!r}")
    return first, params


def model_lines(width: int | None = None) -> list[str]:
    """Lines of `recbench list models`: name and description, then wrapped parameters."""
    from benchmark.registry import MODELS

    width = width or shutil.get_terminal_size((100, 24)).columns
    lines = []
    for name in MODELS:
        if name in TEST_ONLY:
            continue
        text, params = describe_model(name)
        lines += textwrap.wrap(f"{name:13s} {text}", width - 2, subsequent_indent=" " * 14)
        if params:
            lines += textwrap.wrap("params: " + ", ".join(params), width - 2,
                                   initial_indent=" " * 14, subsequent_indent=" " * 22,
                                   break_on_hyphens=False)
    return lines


def list_sections(what: str | None) -> dict[str, list[str]]:
    """The sections `recbench list` prints (only the one asked for is computed)."""
    from benchmark.config.dataset_spec import known_datasets
    from benchmark.registry import TRACKS

    root = Path(__file__).resolve().parents[1]
    makers: dict[str, Callable[[], list[str]]] = {
        "models": model_lines,
        "datasets": known_datasets,
        "tracks": lambda: list(TRACKS),
        "suites": lambda: sorted(str(p.relative_to(root))
                                 for p in (root / "suites").glob("*.toml")),
    }
    return {title: make() for title, make in makers.items() if what in (None, title)}
