"""Each RecBole shim: (a) the original failure, reproduced in a fresh interpreter without it, and
(b) the real RecBole code path working after ``recbole_shims.apply()``.

The "before" checks run once, in one subprocess (``_before_checks``), because ``apply()`` changes
process-wide state (numpy attributes, scipy classes, torch's allowlist) that cannot be undone here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("recbole")

pytestmark = [
    pytest.mark.recbole,
    # deprecations RecBole 1.2.1 itself triggers here (the adapters silence the same ones)
    pytest.mark.filterwarnings("ignore:A value is trying to be set on a copy:FutureWarning"),
    pytest.mark.filterwarnings("ignore:`torch.cuda.amp.GradScaler:FutureWarning"),
    pytest.mark.filterwarnings("ignore:torch.sparse.SparseTensor:UserWarning"),
    pytest.mark.filterwarnings("ignore:__array_wrap__ must accept context:DeprecationWarning"),
]

# a tiny interaction set: 6 users, 8 items; every user has train, valid and test rows
TRAIN = [(u, i) for u in range(6) for i in range(8) if (u * 3 + i) % 4 == 0 or i == u]
VALID = [(u, (u + 1) % 8) for u in range(6)]
TEST = [(u, (u + 3) % 8) for u in range(6)]


def tiny_config(root: Path, model: str = "BPR", **extra):
    """Writes the tiny pre-split files under ``root`` and returns a RecBole Config for them."""
    from recbole.config import Config

    folder = root / "tiny"
    folder.mkdir(parents=True, exist_ok=True)
    for part, rows in (("train", TRAIN), ("valid", VALID), ("test", TEST)):
        lines = ["user_id:token\titem_id:token"] + [f"{u}\t{i}" for u, i in rows]
        (folder / f"tiny.{part}.inter").write_text("\n".join(lines) + "\n")
    settings = {"data_path": str(root), "benchmark_filename": ["train", "valid", "test"],
                "checkpoint_dir": str(root / "saved"), "epochs": 1, "show_progress": False,
                "gpu_id": "", "use_gpu": False, "train_batch_size": 16, "topk": [3],
                "valid_metric": "MRR@3", **extra}
    return Config(model=model, dataset="tiny", config_dict=settings)


def tiny_run(root: Path, model: str = "BPR", **extra):
    """(config, model, trainer, train_data, valid_data, test_data) for the tiny set."""
    from recbole.data import create_dataset, data_preparation
    from recbole.utils import get_model, get_trainer, init_seed

    config = tiny_config(root, model, **extra)
    init_seed(config["seed"], True)
    train_data, valid_data, test_data = data_preparation(config, create_dataset(config))
    net = get_model(model)(config, train_data._dataset)
    trainer = get_trainer(config["MODEL_TYPE"], model)(config, net)
    return config, net, trainer, train_data, valid_data, test_data


def _error(fn) -> str:
    try:
        fn()
    except Exception as err:  # the failure is the result
        return f"{type(err).__name__}: {err}"
    return "ok"


class _NoRay:
    """A meta-path finder that makes ``import ray`` fail as on a machine without ray (the
    [distributed] extra installs a modern ray, which RecBole's own pin would refuse)."""

    def find_spec(self, name, path=None, target=None):
        if name == "ray" or name.startswith("ray."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


def hide_ray() -> None:
    sys.meta_path.insert(0, _NoRay())
    for name in [m for m in sys.modules if m == "ray" or m.startswith("ray.")]:
        del sys.modules[name]


def _stand_in_checks() -> dict:
    """Runs in a fresh interpreter without ray: the stand-in lets quick_start import, and any
    use of it raises."""
    hide_ray()
    from benchmark.compat import recbole_shims

    recbole_shims.apply()
    import recbole.quick_start
    import recbole.quick_start.quick_start as qs

    return {"run_recbole": callable(recbole.quick_start.run_recbole),
            "ray_left_behind": "ray" in sys.modules or "ray.tune" in sys.modules,
            "use": _error(lambda: qs.tune.report(recall=0.1)),
            "offers_run": hasattr(qs.tune, "run")}


def _before_checks(root: Path) -> dict:
    """Runs in a fresh interpreter: each failure, with only the shims it depends on applied."""
    from benchmark.compat import recbole_shims

    out: dict = {}
    import numpy as numpy_module
    import scipy.sparse as sp

    out["np_has_float_"] = hasattr(numpy_module, "float_")
    out["config"] = _error(lambda: tiny_config(root))
    recbole_shims.patch_numpy_aliases()  # everything below needs a Config
    out["ray_installed"] = _error(lambda: __import__("ray")) == "ok"
    out["quick_start"] = _error(lambda: __import__("recbole.quick_start"))
    out["dok_has_update"] = hasattr(sp.dok_matrix, "_update")
    out["lightgcn"] = _error(lambda: tiny_run(root / "lgcn", "LightGCN"))
    _, _, trainer, train_data, valid_data, test_data = tiny_run(root / "bpr")
    trainer.fit(train_data, valid_data, saved=True)
    out["reload"] = _error(lambda: trainer.evaluate(test_data, load_best_model=True))
    import torch

    torch.serialization.add_safe_globals(recbole_shims.checkpoint_globals())
    out["reload_allowlist_only"] = _error(lambda: trainer.evaluate(test_data, load_best_model=True))
    return out


@pytest.fixture(scope="module")
def before(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("before")
    # paths travel in the environment: RecBole's Config reads sys.argv
    code = ("import json, os, sys; from pathlib import Path; "
            "sys.path[:0] = os.environ['SHIM_TEST_PATHS'].split(os.pathsep); "
            "import test_recbole_shims as t; t.hide_ray(); "
            "print(json.dumps(t._before_checks(Path(os.environ['SHIM_TEST_ROOT']))))")
    paths = os.pathsep.join([str(Path(__file__).parent), str(Path(__file__).resolve().parents[2])])
    env = {**os.environ, "PYTHONWARNINGS": "ignore", "SHIM_TEST_PATHS": paths,
           "SHIM_TEST_ROOT": str(root)}
    done = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True,
                          timeout=300, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def shims():
    from benchmark.compat import recbole_shims

    recbole_shims.apply()
    recbole_shims.apply()  # idempotent
    return recbole_shims


def test_apply_is_idempotent(shims):
    import recbole.trainer.trainer as trainer_module
    import scipy.sparse as sp
    import torch

    shims.apply()
    for patch in (shims.patch_numpy_aliases, shims.patch_scipy_dok_update,
                  shims.patch_torch_checkpoints, shims.patch_ray_stub,
                  shims.patch_tensorboard_dir):
        patch()  # each one again, directly
    assert trainer_module.torch._real is torch  # wrapped once, not twice
    assert sp.dok_matrix._update is shims._dok_update


# --- numpy 2: np.float_ & co. ----------------------------------------------------------------
def test_numpy_aliases_needed(before):
    assert before["np_has_float_"] is False
    assert before["config"].startswith("AttributeError") and "float_" in before["config"]


def test_numpy_aliases_after_apply(shims, tmp_path):
    assert np.float_ is np.float64 and np.complex_ is np.complex128 and np.unicode_ is np.str_
    config = tiny_config(tmp_path)  # runs Config.compatibility_settings
    assert config["model"] == "BPR"
    assert np.float is np.float64 and np.long is np.int_ and np.bool is np.bool_


# --- ray: `from ray import tune` in recbole.quick_start --------------------------------------
def test_ray_stand_in_needed(before):
    assert before["ray_installed"] is False  # hidden in that interpreter
    assert before["quick_start"].startswith("ModuleNotFoundError")
    assert "'ray'" in before["quick_start"]


def test_quick_start_imports_without_ray_and_tuning_fails_clearly():
    code = ("import json, os, sys; sys.path[:0] = os.environ['SHIM_TEST_PATHS'].split(os.pathsep);"
            " import test_recbole_shims as t; print(json.dumps(t._stand_in_checks()))")
    paths = os.pathsep.join([str(Path(__file__).parent), str(Path(__file__).resolve().parents[2])])
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300, env={**os.environ, "PYTHONWARNINGS": "ignore",
                                            "SHIM_TEST_PATHS": paths})
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["run_recbole"] and not out["ray_left_behind"]  # nobody else sees the stand-in
    assert out["use"].startswith("RayUnavailableError") and "ray is not installed" in out["use"]
    assert out["offers_run"] is False  # it offers nothing


def test_quick_start_uses_a_real_ray_when_one_is_installed(shims):
    import importlib.util

    if importlib.util.find_spec("ray") is None:
        pytest.skip("ray is not installed: the stand-in test above covers this machine")
    import recbole.quick_start.quick_start as qs

    assert qs.tune.__name__ == "ray.tune" and callable(qs.tune.report)


# --- scipy >= 1.13: dok_matrix._update (LightGCN's adjacency) --------------------------------
def test_dok_update_needed(before):
    assert before["dok_has_update"] is False
    assert before["lightgcn"].startswith("AttributeError") and "_update" in before["lightgcn"]


def test_lightgcn_adjacency_after_apply(shims, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # RecBole's own trainer writes log_tensorboard/ into the cwd
    _, net, _, train_data, _, _ = tiny_run(tmp_path, "LightGCN")
    inter = train_data._dataset.inter_matrix(form="coo").astype(np.float64).toarray()
    n_users, n_items = inter.shape
    adj = np.zeros((n_users + n_items, n_users + n_items))
    adj[:n_users, n_users:], adj[n_users:, :n_users] = inter, inter.T
    d = (adj.sum(axis=1) + 1e-7) ** -0.5
    expected = d[:, None] * adj * d[None, :]
    np.testing.assert_allclose(net.norm_adj_matrix.to_dense().numpy(), expected, rtol=1e-6)
    assert len(TRAIN) * 2 == int((net.norm_adj_matrix.to_dense() > 0).sum())


# --- torch >= 2.6: weights-only loading of RecBole checkpoints -------------------------------
def test_checkpoint_reload_needed(before):
    assert before["reload"].startswith("UnpicklingError")
    # an allowlist alone is not enough: the file is pickle protocol 4 (pytorch#118092)
    assert "Unsupported operand 149" in before["reload_allowlist_only"]


def test_checkpoint_save_and_reload_after_apply(shims, tmp_path, monkeypatch):
    import torch

    monkeypatch.chdir(tmp_path)
    _, net, trainer, train_data, valid_data, test_data = tiny_run(tmp_path)
    trainer.fit(train_data, valid_data, saved=True)
    with zipfile.ZipFile(trainer.saved_model_file) as zf:
        pickle_name = next(n for n in zf.namelist() if n.endswith("data.pkl"))
        assert zf.read(pickle_name)[:2] == b"\x80\x02"  # protocol 2, readable weights-only
    result = trainer.evaluate(test_data, load_best_model=True)  # RecBole's own torch.load
    assert set(result) >= {"recall@3", "ndcg@3"}
    state = torch.load(trainer.saved_model_file, weights_only=True)
    assert type(state["config"]).__name__ == "Config" and state["config"]["model"] == "BPR"
    for name, tensor in net.state_dict().items():
        assert torch.equal(tensor, state["state_dict"][name])
    _, _, fresh, *_ = tiny_run(tmp_path / "again")
    fresh.resume_checkpoint(trainer.saved_model_file)  # the other torch.load in trainer.py
    assert fresh.start_epoch == 1


class NotAllowed:
    """Stands for any class a checkpoint might smuggle in."""


def test_weights_only_still_refuses_other_objects(shims, tmp_path):
    import pickle

    import torch

    path = tmp_path / "other.pth"
    torch.save({"state": NotAllowed()}, path)
    with pytest.raises(pickle.UnpicklingError, match="NotAllowed"):
        torch.load(path)


# --- RecBole's tensorboard writer: into the run folder, not ./log_tensorboard ----------------
def test_tensorboard_writer_goes_to_the_given_folder(shims, tmp_path, monkeypatch):
    import logging

    import recbole.trainer.trainer as trainer_module

    monkeypatch.chdir(tmp_path)
    assert trainer_module.get_tensorboard.redirects_to_run_dir
    with shims.tensorboard_dir(tmp_path / "run" / "tb"):
        writer = trainer_module.get_tensorboard(logging.getLogger("tb-test"))
    writer.close()
    assert any((tmp_path / "run" / "tb").iterdir())
    assert not (tmp_path / "log_tensorboard").exists()
    assert shims._TB_DIR.get() is None  # the folder is only in force inside the block


def test_import_recbole_applies_every_shim_first():
    code = ("from benchmark.compat import recbole_shims as s; "
            "m = s.import_recbole('recbole.model.abstract_recommender'); "
            "print(sorted(s._APPLIED), hasattr(m, 'GeneralRecommender'))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300, cwd=Path(__file__).resolve().parents[2],
                          env={**os.environ, "PYTHONWARNINGS": "ignore"})
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().splitlines()[-1] == (
        "['numpy', 'ray', 'scipy', 'tensorboard', 'torch'] True")
    from benchmark.compat.recbole_shims import import_recbole

    with pytest.raises(ValueError, match="not a RecBole module"):
        import_recbole("numpy")
