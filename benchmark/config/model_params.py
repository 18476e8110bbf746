"""A model's hyper-parameters, checked by the same strict rules and formatter as suite files.

Each model's ``Config`` stays a plain dataclass; ``build_config`` checks the given values with a
pydantic model made from its fields (strict: no string becomes a number or a boolean, a bool is
not a number, an int is accepted for a float and becomes a float; ``Literal`` fields list their
values), then builds the dataclass from them. Only the given keys are checked and passed, so the
dataclass fills its own defaults and its ``__post_init__`` still runs.
"""

from __future__ import annotations

import dataclasses
import functools
import typing
from typing import Any

from pydantic import Field, ValidationError, create_model

from benchmark.config.base import Strict
from benchmark.config.messages import PARAMETER, format_validation_error
from benchmark.errors import ConfigError


@functools.cache
def params_model(cls: type) -> type[Strict]:
    """The strict pydantic model of dataclass ``cls``'s init fields (made once per class)."""
    hints = typing.get_type_hints(cls)
    fields: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        if not f.init:
            continue
        required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        fields[f.name] = (hints[f.name], Field(...) if required else Field(None))
    model: type[Strict] = create_model(
        f"{cls.__name__}Params", __base__=Strict, __module__=cls.__module__, **fields)
    return model


def build_config(cls: type, values: dict[str, Any], where: str) -> Any:
    """Instantiate config dataclass ``cls`` from ``values``; unknown keys, wrong types and the
    dataclass's own checks are ConfigErrors naming ``where``, the parameter and the fix."""
    model = params_model(cls)
    fields = {name: f.annotation for name, f in model.model_fields.items()}
    try:
        checked = model.model_validate(values)
    except ValidationError as err:
        raise format_validation_error(err, where, fields, PARAMETER) from None
    try:
        return cls(**{key: getattr(checked, key) for key in values})
    except ConfigError as err:
        raise ConfigError(f"{where}: {err.what}", err.fix) from None
    except (TypeError, ValueError) as err:
        raise ConfigError(f"{where}: {err}", PARAMETER.docs) from None
