"""Strict config models: unknown keys and wrong types are errors that name file, key and fix."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from benchmark.errors import ConfigError

M = TypeVar("M", bound=BaseModel)


class Strict(BaseModel):
    """Base of every config model: no unknown keys, no silent coercion of strings to numbers."""

    model_config = ConfigDict(extra="forbid", strict=False, frozen=True)


def format_validation_error(err: ValidationError, where: str) -> ConfigError:
    lines = []
    for e in err.errors():
        loc = ".".join(str(x) for x in e["loc"]) or "(top level)"
        if e["type"] == "extra_forbidden":
            lines.append(f"unknown key {loc!r}")
        elif e["type"] == "missing":
            lines.append(f"missing required key {loc!r}")
        else:
            given = e.get("input")
            lines.append(f"key {loc!r}: {e['msg']} (got {given!r})")
    return ConfigError(f"{where}: " + "; ".join(lines),
                       "see the documented keys in README.md (Suites and datasets)")


def parse_model(cls: type[M], data: dict[str, Any], where: str) -> M:
    try:
        return cls.model_validate(data)
    except ValidationError as err:
        raise format_validation_error(err, where) from None


def read_toml(path: Path) -> dict[str, Any]:
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file not found: {path}", "check the path (relative to the "
                          "current directory)")
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path}: not valid TOML ({err})", "fix the syntax at that line") from None
