"""Strict config models: unknown keys and wrong types are errors that name file, key and fix."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, TypeVar, Union, get_args, get_origin

from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationError, model_validator

from benchmark.config.messages import format_validation_error
from benchmark.errors import ConfigError

M = TypeVar("M", bound=BaseModel)


def _takes_tuple(annotation: Any) -> bool:
    """Whether a field's type is a tuple (or an optional tuple)."""
    if get_origin(annotation) is tuple or annotation is tuple:
        return True
    return any(_takes_tuple(a) for a in get_args(annotation)) if get_origin(annotation) in (
        Union, UnionType) else False


class Strict(BaseModel):
    """Base of every config model: no unknown keys, no silent coercion of strings to numbers.

    pydantic's strict mode: ``sampled_negatives = "50"`` and ``ks = [5.0]`` are errors, a bool is
    not a number, while an integer is still accepted for a float field (``ratios = [1, 0, 0]``).
    TOML has no tuples, so a list given for a tuple field becomes a tuple first (then its items
    are checked strictly)."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _toml_lists_to_tuples(cls, data: Any) -> Any:
        if isinstance(data, dict):
            fields = cls.model_fields
            lists = {k: tuple(v) for k, v in data.items()
                     if isinstance(v, list) and k in fields and _takes_tuple(fields[k].annotation)}
            if lists:
                data = {**data, **lists}
        return data


def _cutoffs(ks: list[int]) -> list[int]:
    """Every track's ranking cut-offs: at least one, all positive; sorted and deduplicated, the
    order their rows are written in."""
    if not ks or any(k <= 0 for k in ks):
        raise ValueError("ks must be a non-empty list of positive integers")
    return sorted(set(ks))


#: the ``ks`` field of a track's settings
Cutoffs = Annotated[list[int], AfterValidator(_cutoffs)]


def parse_model(cls: type[M], data: dict[str, Any], where: str,
                fields: Mapping[str, Any] | None = None) -> M:
    """``cls`` validated from ``data``; its errors name ``where``, the key and the fix
    (``fields``: the valid top-level keys and their types, by default the model's fields)."""
    try:
        return cls.model_validate(data)
    except ValidationError as err:
        if fields is None:
            fields = {name: f.annotation for name, f in cls.model_fields.items()}
        raise format_validation_error(err, where, fields) from None


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
