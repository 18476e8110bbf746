"""The shared runtime helpers: one torch-thread limiter (``benchmark.threads``) and the offline
switches, set when a model is built or loaded and never by importing a module."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from benchmark.offline import OFFLINE_ENV
from benchmark.threads import torch_threads, with_torch_threads

torch = pytest.importorskip("torch")
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def two_threads():
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(before)


def test_torch_threads_sets_and_restores(two_threads):
    with torch_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == 2
    with torch_threads(0):  # 0 = leave torch's setting
        assert torch.get_num_threads() == 2


def test_torch_threads_restores_a_count_set_inside_the_block(two_threads):
    with torch_threads(0):
        torch.set_num_threads(1)  # e.g. a model that picks its count by a timed probe
    assert torch.get_num_threads() == 2
    with pytest.raises(RuntimeError), torch_threads(1):
        raise RuntimeError("the count comes back on errors too")
    assert torch.get_num_threads() == 2


def test_with_torch_threads_reads_the_models_config(two_threads):
    class Model:
        config = SimpleNamespace(num_threads=1)

        @with_torch_threads
        def work(self) -> int:
            return torch.get_num_threads()

    assert Model().work() == 1 and torch.get_num_threads() == 2


def _env_after(code: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in OFFLINE_ENV}
    out = subprocess.run([sys.executable, "-c", code + "\nimport json, os\nprint(json.dumps("
                          "{k: os.environ.get(k) for k in " + repr(list(OFFLINE_ENV)) + "}))"],
                         cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_importing_the_harness_sets_no_offline_variable():
    imports = ("benchmark", "benchmark.llm", "benchmark.llm.loading", "benchmark.registry",
               "benchmark.features.text_encoder", "benchmark.features.image_encoder")
    env = _env_after("import importlib\nfor m in " + repr(imports) + ": importlib.import_module(m)")
    assert env == dict.fromkeys(OFFLINE_ENV)


def test_building_a_model_goes_offline_and_keeps_a_users_value():
    assert _env_after("from benchmark.registry import build_model\nbuild_model('pop')") \
        == OFFLINE_ENV
    kept = _env_after("import os\nos.environ['HF_HUB_OFFLINE'] = '0'\n"
                      "from benchmark.registry import build_model\nbuild_model('pop')")
    assert kept == {**OFFLINE_ENV, "HF_HUB_OFFLINE": "0"}
