"""The one formatter of config errors: pydantic's errors as one line naming where, key and fix.

Suites, dataset files, track sections, judge options and model parameters all report through
``format_validation_error``; only the words differ (``SETTING`` or ``PARAMETER``).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from benchmark.errors import ConfigError

_NUMBER_TYPES = frozenset({"int_type", "float_type", "int_parsing", "float_parsing",
                           "int_from_float"})
_BOOL_TYPES = frozenset({"bool_type", "bool_parsing"})
_TRUE = frozenset({"true", "yes", "y", "on", "1", "t"})
_FALSE = frozenset({"false", "no", "n", "off", "0", "f"})


@dataclass(frozen=True)
class Wording:
    """How one kind of config names its entries, and where the user reads the valid ones."""

    #: one entry: "key" (files) or "parameter" (a model's hyper-parameters)
    item: str
    #: the clause that lists unknown entries
    unknown: str
    #: the fix when nothing more specific applies
    docs: str


SETTING = Wording("key", "unknown key", "see the documented keys in README.md (Suites and datasets)")
PARAMETER = Wording("parameter", "unknown parameter(s)",
                    "`recbench list models` shows each model's parameters and defaults")


def _type_name(annotation: Any) -> str:
    if isinstance(annotation, type):
        return annotation.__name__
    return str(annotation).replace("typing.", "")


def _is_type_error(kind: str) -> bool:
    return kind in _NUMBER_TYPES or kind in _BOOL_TYPES or kind.endswith("_type")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _bool_spelling(given: str) -> str:
    word = given.strip().lower()
    return "true" if word in _TRUE else "false" if word in _FALSE else "true (or false)"


def _unknown(e: ErrorDetails, fields: Mapping[str, Any] | None) -> str:
    loc = ".".join(str(x) for x in e["loc"])
    if fields is None or len(e["loc"]) != 1:
        return repr(loc)
    close = difflib.get_close_matches(loc, list(fields), n=1, cutoff=0.5)
    return repr(loc) + (f" (did you mean {close[0]!r}?)" if close else "")


def format_validation_error(err: ValidationError, where: str,
                            fields: Mapping[str, Any] | None = None,
                            wording: Wording = SETTING) -> ConfigError:
    """``err`` as a ConfigError: ``where: clause; clause`` and a fix. ``fields`` (top-level
    name -> annotation) adds did-you-mean hints, the valid names and the expected types."""
    clauses: list[str] = []
    unknown: list[str] = []
    numbers: list[str] = []
    bools: list[str] = []
    for e in err.errors():
        loc = ".".join(str(x) for x in e["loc"]) or "(top level)"
        name = loc.rsplit(".", 1)[-1]
        given = e.get("input")
        if e["type"] == "extra_forbidden":
            unknown.append(_unknown(e, fields))
            continue
        if e["type"] == "missing":
            clauses.append(f"missing required {wording.item} {loc!r}")
            continue
        expected = ""
        if fields is not None and len(e["loc"]) == 1 and loc in fields and _is_type_error(
                e["type"]):
            expected = f"; expected {_type_name(fields[loc])}"
        clauses.append(f"{wording.item} {loc!r}: {e['msg']} (got {given!r}{expected})")
        if isinstance(given, str) and e["type"] in _NUMBER_TYPES:
            numbers.append(f"{name} = {given if _is_number(given) else '<a number>'}")
        elif isinstance(given, str) and e["type"] in _BOOL_TYPES:
            bools.append(f"{name} = {_bool_spelling(given)}")
    if unknown:
        clauses.insert(0, f"{wording.unknown} {', '.join(unknown)}")
    fixes = []
    if numbers:
        fixes.append(f"write numbers without quotes ({', '.join(numbers)}); strings are never "
                     "converted to numbers")
    if bools:
        fixes.append(f"write true or false without quotes ({', '.join(bools)}); strings are "
                     "never converted to booleans")
    if unknown and fields is not None:
        fixes.append(f"valid {wording.item}s: {', '.join(sorted(fields)) or '(none)'}")
    fixes.append(wording.docs)
    return ConfigError(f"{where}: " + "; ".join(clauses), ". ".join(fixes))
