"""User-facing errors: each names the thing that is wrong and how to fix it.

The CLI prints these as one short message (no traceback unless --debug); anything else that
escapes is a bug and is shown with its traceback.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class BenchError(Exception):
    """An error caused by the user's input (files, configs, names), with a fix."""

    def __init__(self, what: str, fix: str | None = None) -> None:
        self.what = what
        self.fix = fix
        super().__init__(what if not fix else f"{what}\n  fix: {fix}")


class ConfigError(BenchError):
    """A suite, dataset or model config is malformed."""


class DataError(BenchError):
    """Data files are missing, malformed, or filtering left nothing."""


class UnknownNameError(BenchError):
    """A model, dataset, track or metric name that the registry does not know."""

    def __init__(self, kind: str, name: str, known: Iterable[str]) -> None:
        known = sorted(known)
        close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
        hint = f"did you mean {', '.join(repr(c) for c in close)}? " if close else ""
        super().__init__(
            f"unknown {kind} {name!r}",
            f"{hint}known {kind}s: {', '.join(known)}",
        )


class ModelOutputError(BenchError):
    """A model returned something the harness cannot evaluate (NaN scores, wrong shape)."""
