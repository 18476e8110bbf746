"""Every compatibility shim RecBole 1.2.1 needs on numpy 2 / scipy >= 1.13 / torch >= 2.6.

RecBole 1.2.1 (the last release) predates these versions. Rather than patching its files, the
adapters call :func:`apply` before they import anything from ``recbole``; it is idempotent and
each shim is also callable on its own (the tests reproduce every original failure first):

* :func:`patch_numpy_aliases`: ``Config.compatibility_settings`` (run by every ``Config()``) reads
  ``np.float_``, ``np.complex_`` and ``np.unicode_``, which numpy 2 removed, and RecBole's data
  and metric code uses the legacy names ``np.float``, ``np.bool``, ``np.long`` ... that this very
  function sets. We restore the three removed aliases and set the legacy names to exactly what
  RecBole itself sets, so code paths that never build a ``Config`` (a config unpickled from a
  checkpoint) behave the same.
* :func:`patch_scipy_dok_update`: LightGCN (also NGCF, NCL, GCMC, SpectralCF, KGIN, MCCLK) fills
  its adjacency matrix with ``dok_matrix._update(dict)``, a private raw ``dict.update`` that scipy
  1.13 removed when dok stopped subclassing ``dict``. We restore it as a raw update of the new
  backing ``_dict`` (the same semantics: no per-key validation, values stored as given).
* :func:`patch_torch_checkpoints`: torch >= 2.6 loads with ``weights_only=True`` by default, and
  ``Trainer.evaluate(load_best_model=True)`` / ``resume_checkpoint`` cannot read RecBole's
  checkpoints, for two reasons: they pickle the whole ``Config`` (enums, the model class, a yaml
  loader class) and numpy scalars, and they are written with pickle protocol 4, which the
  weights-only unpickler does not parse at all ("Unsupported operand 149", pytorch#118092).
  Rather than turning ``weights_only`` off, the shim makes RecBole's trainer write its checkpoint
  with torch's default protocol and allowlists exactly the classes such a checkpoint holds
  (:func:`checkpoint_globals`): any other pickled object is still refused.
* :func:`patch_ray_stub`: ``recbole/quick_start/quick_start.py`` does ``from ray import tune`` at
  import time (only ``objective_function``, RecBole's hyper-parameter tuning hook, uses it).
  RecBole pins ray<=2.6.3, which cannot import on numpy 2, so ray is not installed. When ray is not
  importable, a stand-in is put in ``sys.modules`` just long enough to import
  ``recbole.quick_start`` and removed again, so nothing else can mistake it for ray; any use of
  the stand-in's ``tune`` raises :class:`RayUnavailableError`.
* :func:`patch_tensorboard_dir`: RecBole's ``get_tensorboard`` writes its event files under
  ``./log_tensorboard`` of the current directory. The patched one writes where the adapter says,
  inside :func:`tensorboard_dir` (a run's own folder), and behaves as RecBole's outside it.

Code that needs RecBole's classes at its own import (a module subclassing
``GeneralRecommender``) imports them through :func:`import_recbole`, which applies the shims first.
"""

from __future__ import annotations

import contextlib
import contextvars
import importlib
import sys
import types
from collections.abc import Iterator
from pathlib import Path

_APPLIED: set[str] = set()
#: where RecBole's tensorboard writer goes while :func:`tensorboard_dir` is active
_TB_DIR: contextvars.ContextVar[Path | None] = contextvars.ContextVar("recbole_tb", default=None)

#: removed in numpy 2, read by recbole.config.configurator.Config.compatibility_settings
NUMPY_REMOVED = {"float_": "float64", "complex_": "complex128", "unicode_": "str_"}
#: the legacy names RecBole's compatibility_settings sets (same values)
NUMPY_LEGACY = {"bool": "bool_", "int": "int_", "float": "float64", "complex": "complex128",
                "object": "object_", "str": "str_", "long": "int_", "unicode": "str_"}


def patch_numpy_aliases() -> None:
    import numpy as np

    for name, target in {**NUMPY_REMOVED, **NUMPY_LEGACY}.items():
        if name not in vars(np):  # never override a real attribute
            setattr(np, name, getattr(np, target))
    _APPLIED.add("numpy")


def _dok_update(self, data) -> None:
    """``dok_matrix._update`` as in scipy < 1.13: a raw dict update, no per-key checks."""
    self._dict.update(data)


def patch_scipy_dok_update() -> None:
    import scipy.sparse as sp

    for cls in (sp.dok_matrix, getattr(sp, "dok_array", None)):
        if cls is not None and not hasattr(cls, "_update"):
            cls._update = _dok_update
    _APPLIED.add("scipy")


class RayUnavailableError(AttributeError):
    """Raised on any use of the ray stand-in: RecBole's ray-based tuning is not available."""


class _RayTuneStandIn(types.ModuleType):
    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        raise RayUnavailableError(
            f"ray.tune.{name} is unavailable: ray is not installed (RecBole 1.2.1 pins "
            "ray<=2.6.3, which cannot import on numpy 2). RecBole's ray hyper-parameter tuning "
            "(recbole.quick_start.objective_function) cannot be used; install a numpy-2 "
            "compatible ray to use it."
        )


def _ray_importable() -> bool:
    try:
        importlib.import_module("ray.tune")
        return True
    except Exception:  # not installed, or installed but broken (old ray on numpy 2)
        for name in [m for m in sys.modules if m == "ray" or m.startswith("ray.")]:
            del sys.modules[name]
        return False


def patch_ray_stub() -> None:
    """Make ``import recbole.quick_start`` work without ray (see the module docstring)."""
    if "recbole.quick_start.quick_start" in sys.modules or _ray_importable():
        _APPLIED.add("ray")
        return
    tune = _RayTuneStandIn("ray.tune", "stand-in: ray is not installed; any use raises")
    ray = types.ModuleType("ray", "stand-in: ray is not installed; any use raises")
    setattr(ray, "tune", tune)  # noqa: B010 (a plain module: no typed attribute to assign)
    sys.modules["ray"], sys.modules["ray.tune"] = ray, tune
    try:
        importlib.import_module("recbole.quick_start")
    finally:  # only recbole.quick_start keeps a reference; nobody else sees a fake ray
        del sys.modules["ray"], sys.modules["ray.tune"]
    _APPLIED.add("ray")


#: RecBole models whose class a checkpoint names (``config.model_class``); others: allow_models()
CHECKPOINT_MODELS = {
    "BPR": "recbole.model.general_recommender.bpr",
    "LightGCN": "recbole.model.general_recommender.lightgcn",
    "SASRec": "recbole.model.sequential_recommender.sasrec",
    "GRU4Rec": "recbole.model.sequential_recommender.gru4rec",
}


def checkpoint_globals() -> list:
    """The classes pickled inside a RecBole 1.2.1 checkpoint (``Trainer._save_checkpoint``).

    Besides tensors, numbers and the optimizer state (accepted by weights-only loading anyway) it
    holds ``config``, a ``recbole.config.Config`` whose ``model_class`` is the model's class,
    whose ``yaml_loader`` is the ``yaml.FullLoader`` class and whose dicts hold RecBole enums
    (``ModelType``, ``InputType``, ``EvaluatorType``; all of ``enum_type``'s plain enums are
    allowed), and ``best_valid_score``, a numpy float64 (scalar + dtype + ``Float64DType``).
    """
    import enum

    import numpy as np
    import yaml
    from recbole.config.configurator import Config
    from recbole.utils import enum_type

    enums = [v for v in vars(enum_type).values() if isinstance(v, type)
             and issubclass(v, enum.Enum) and v.__module__ == enum_type.__name__]
    numpy_core = getattr(np, "_core", None) or np.core
    models = [getattr(importlib.import_module(m), n) for n, m in CHECKPOINT_MODELS.items()]
    return [Config, yaml.FullLoader, *enums, *models, numpy_core.multiarray.scalar, np.dtype,
            type(np.dtype(np.float64))]


class _TrainerTorch(types.ModuleType):
    """``torch`` as ``recbole.trainer.trainer`` sees it: the real module, except that ``save``
    ignores ``pickle_protocol``. ``Trainer._save_checkpoint`` asks for protocol 4, whose opcodes
    torch's weights-only unpickler cannot read (pytorch/pytorch#118092, still open), so no
    allowlist could make those files loadable; torch's default protocol (2) is."""

    def __init__(self, real: types.ModuleType) -> None:
        super().__init__(real.__name__, real.__doc__)
        self._real = real

    def __getattr__(self, name: str):
        return getattr(self._real, name)

    def save(self, obj, f, *args, pickle_protocol=None, **kwargs):
        return self._real.save(obj, f, *args, **kwargs)


def allow_models(*classes: type) -> None:
    """Allow checkpoints of further RecBole models (their class is named in the checkpoint)."""
    import torch

    torch.serialization.add_safe_globals(list(classes))


def patch_torch_checkpoints() -> None:
    import recbole.trainer.trainer as trainer_module
    import torch

    if not isinstance(trainer_module.torch, _TrainerTorch):
        trainer_module.torch = _TrainerTorch(torch)
    torch.serialization.add_safe_globals(checkpoint_globals())
    _APPLIED.add("torch")


def _tensorboard_in_run_dir(original):
    """Wraps recbole's ``get_tensorboard``: inside :func:`tensorboard_dir`, write there."""
    def get_tensorboard(logger):
        target = _TB_DIR.get()
        if target is None:
            return original(logger)
        from torch.utils.tensorboard import SummaryWriter

        return SummaryWriter(str(target))

    get_tensorboard.redirects_to_run_dir = True  # type: ignore[attr-defined]  # a marker
    return get_tensorboard


def patch_tensorboard_dir() -> None:
    import recbole.trainer.trainer as trainer_module

    if not getattr(trainer_module.get_tensorboard, "redirects_to_run_dir", False):
        trainer_module.get_tensorboard = _tensorboard_in_run_dir(trainer_module.get_tensorboard)
    _APPLIED.add("tensorboard")


@contextlib.contextmanager
def tensorboard_dir(folder: Path) -> Iterator[None]:
    """RecBole trainers created inside the block write their tensorboard events to ``folder``."""
    token = _TB_DIR.set(folder)
    try:
        yield
    finally:
        _TB_DIR.reset(token)


def apply() -> None:
    """Apply every shim (idempotent); call before importing from ``recbole``."""
    if _APPLIED >= {"numpy", "scipy", "torch", "ray", "tensorboard"}:
        return
    patch_numpy_aliases()
    patch_scipy_dok_update()
    patch_torch_checkpoints()
    patch_ray_stub()
    patch_tensorboard_dir()


def import_recbole(module: str) -> types.ModuleType:
    """``importlib.import_module(module)`` for a ``recbole`` module, with every shim applied
    first: the way code that needs RecBole at its own import reaches it."""
    if module != "recbole" and not module.startswith("recbole."):
        raise ValueError(f"not a RecBole module: {module!r}")
    apply()
    return importlib.import_module(module)
