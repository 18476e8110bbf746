"""Issue 15, item 3: a job that kills its process, is killed, or runs past its time limit
becomes that job's error.json (exit code or signal, peak memory, log tail) and the suite goes on;
isolated results equal in-process ones."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import psutil
import pytest

from benchmark import registry
from benchmark.cli import main
from benchmark.config.suite import load_suite
from benchmark.errors import ConfigError
from benchmark.runner import store

HEAD = """
name = "crash"
seeds = [0]
{top}
[[datasets]]
name = "ml-100k"
max_eval_users = 60
[accuracy]
ks = [10]
protocols = ["full", "pointwise"]
"""
POP = '[[models]]\nname = "pop"\n'


def crash(label: str, **params) -> str:
    items = ", ".join(f"{k} = {json.dumps(v)}" for k, v in params.items())
    return f'[[models]]\nname = "crash"\nlabel = "{label}"\nparams = {{ {items} }}\n'


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(autouse=True)
def crash_model(monkeypatch, cache):
    """Register the test model (the child sees the parent's registry) and a private cache."""
    import benchmark.runner.prepare as prepare

    monkeypatch.setitem(registry.MODELS, "crash", "tests.robustness.crash_models:CrashModel")
    monkeypatch.setattr(prepare, "CACHE_DIR", cache)


def write_suite(tmp_path: Path, models: str, top: str = "") -> Path:
    path = tmp_path / "suite.toml"
    path.write_text(HEAD.format(top=top) + models)
    return path


def folder(out: Path, label: str) -> Path:
    return out / "crash" / "ml-100k" / label / "seed-0"


def error_of(out: Path, label: str) -> dict:
    return json.loads((folder(out, label) / "error.json").read_text())


def test_os_exit_is_recorded_and_the_suite_goes_on(tmp_path, capsys):
    pid_file = tmp_path / "orphan.pid"
    suite = write_suite(tmp_path, crash("dies", how="exit", orphan_pid_file=str(pid_file))
                        + '[[models]]\nname = "dummy"\nlabel = "raises"\n'
                        'params = { fail_fit = true }\n' + POP)
    out = tmp_path / "runs"
    assert main(["run", str(suite), "--out", str(out), "--no-progress"]) == 1
    printed = capsys.readouterr().out
    assert "failed ml-100k/dies" in printed and "failed ml-100k/raises" in printed
    err = error_of(out, "dies")
    assert err["type"] == "JobProcessDied" and err["exit_code"] == 3 and err["signal"] is None
    assert "exited with code 3" in err["message"] and err["peak_rss_mb"] > 0
    tail = "\n".join(err["log_tail"])
    assert "about to exit" in tail and "on stderr too" in tail  # stdout and stderr, unbuffered
    assert (folder(out, "dies") / "job.log").is_file()
    assert not store.is_complete(folder(out, "dies"))
    raised = error_of(out, "raises")  # a model that raises still records its own error
    assert raised["type"] == "RuntimeError" and "fail_fit" in raised["traceback"]
    assert store.is_complete(folder(out, "pop"))
    orphan = int(pid_file.read_text())  # the job's leftover process was ended with it
    deadline = time.monotonic() + 5
    while psutil.pid_exists(orphan) and psutil.Process(orphan).status() != "zombie":
        assert time.monotonic() < deadline, "a process the job started outlived it"
        time.sleep(0.05)


def test_sigkill_is_recorded_with_the_signal_name(tmp_path):
    from benchmark.runner.runner import run_suite

    suite = load_suite(write_suite(tmp_path, crash("killed", how="kill") + POP))
    outcome = run_suite(suite, tmp_path / "runs", progress=False)
    assert {j.key.model: j.status for j in outcome.jobs} == {"killed": "failed", "pop": "done"}
    err = error_of(tmp_path / "runs", "killed")
    assert err["signal"] == "SIGKILL" and err["exit_code"] is None and not err["timed_out"]
    assert "killed by SIGKILL" in err["message"] and "out-of-memory" in err["message"]


def test_a_job_past_the_time_limit_is_killed_and_recorded(tmp_path):
    from benchmark.runner.runner import run_suite

    suite = load_suite(write_suite(tmp_path, crash("sleeps", how="sleep", seconds=60),
                                   top="job_timeout_s = 1.5"))
    start = time.monotonic()
    outcome = run_suite(suite, tmp_path / "runs", progress=False)
    assert time.monotonic() - start < 20
    assert [j.status for j in outcome.jobs] == ["failed"]
    err = error_of(tmp_path / "runs", "sleeps")
    assert err["type"] == "JobTimeout" and err["timed_out"] and err["timeout_s"] == 1.5
    assert err["signal"] == "SIGTERM" and "time limit of 1.5 s" in err["message"]
    assert "crash_models.py" in "\n".join(err["log_tail"])  # the stack it was stuck in


def test_the_command_line_limit_overrides_the_suite(tmp_path):
    suite = write_suite(tmp_path, crash("sleeps", how="sleep", seconds=60),
                        top="job_timeout_s = 600")
    out = tmp_path / "runs"
    assert main(["run", str(suite), "--out", str(out), "--no-progress",
                 "--job-timeout", "1"]) == 1
    assert error_of(out, "sleeps")["timeout_s"] == 1.0


@pytest.mark.parametrize("value", ["0", "-1", "abc", "inf"])
def test_bad_command_line_limits_are_refused(value, capsys):
    with pytest.raises(SystemExit) as stop:
        main(["run", "suite.toml", "--job-timeout", value])
    err = capsys.readouterr().err
    assert stop.value.code == 2 and "--job-timeout" in err and "number of seconds" in err


@pytest.mark.parametrize("value", ["0", "-5", '"60"', "true"])
def test_bad_suite_limits_are_refused(tmp_path, value):
    with pytest.raises(ConfigError, match="key 'job_timeout_s': Input should be") as err:
        load_suite(write_suite(tmp_path, POP, top=f"job_timeout_s = {value}"))
    assert "greater than 0" in str(err.value) or "valid number" in str(err.value)


def test_isolated_results_equal_in_process_results(tmp_path, cache):
    from benchmark.runner.env import collect_env
    from benchmark.runner.executors import ExecutorSettings, Job, run_local
    from benchmark.runner.prepare import prepare_split
    from benchmark.runner.runner import run_suite

    models = '[[models]]\nname = "itemknn"\nparams = { neighbours = 20 }\n'
    suite = load_suite(write_suite(tmp_path, models))
    run_suite(suite, tmp_path / "isolated", progress=False, cache_dir=cache)
    split, split_dir = prepare_split("ml-100k", 0, None, cache)
    jobs = [Job(store.RunKey("crash", "ml-100k", m.key, 0), m, suite.datasets[0], split_dir)
            for m in suite.models]
    pid = os.getpid()
    run_local(suite, jobs, {split_dir: split}, tmp_path / "inproc", collect_env(), False,
              ExecutorSettings(isolate=False))
    assert os.getpid() == pid
    for label in ("itemknn",):
        a, b = folder(tmp_path / "isolated", label), folder(tmp_path / "inproc", label)
        assert (a / "job.log").is_file() and not (b / "job.log").exists()
        assert (a / "metrics.json").read_bytes() == (b / "metrics.json").read_bytes()
        pa, pb = store.read_per_user(a), store.read_per_user(b)
        assert pa.keys() == pb.keys()
        assert all(np.array_equal(pa[k], pb[k]) for k in pa)


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.parametrize("sig, code", [(signal.SIGINT, 130), (signal.SIGKILL, -signal.SIGKILL)])
def test_a_job_does_not_outlive_its_runner(tmp_path, cache, sig, code):
    """Ctrl-C (the runner kills the job) or the runner itself killed (the job gets SIGKILL
    from the kernel): the job process ends too, although it runs in its own session."""
    pid_file = tmp_path / "job.pid"
    suite = write_suite(tmp_path, crash("sleeps", how="sleep", seconds=60,
                                        pid_file=str(pid_file)))
    script = ("import sys; from benchmark import registry; import benchmark.runner.prepare as p; "
              "registry.MODELS['crash'] = 'tests.robustness.crash_models:CrashModel'; "
              f"p.CACHE_DIR = p.Path({str(cache)!r}); from benchmark.cli import main; "
              f"sys.exit(main(['run', {str(suite)!r}, '--out', {str(tmp_path / 'runs')!r}, "
              "'--no-progress']))")
    repo = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(repo)}
    # stderr goes to a file (a pipe read only at the end could fill and block the runner).
    # SIGINT is reset to its default in the runner: a test run started in the background of a
    # non-interactive shell (`pytest &`) ignores SIGINT, children inherit that, and Python then
    # installs no KeyboardInterrupt handler, so Ctrl-C could not be tested at all
    err_file = tmp_path / "runner.stderr"
    with open(err_file, "wb") as err:
        runner = subprocess.Popen([sys.executable, "-c", script], cwd=repo, env=env,
                                  stdout=subprocess.DEVNULL, stderr=err,
                                  preexec_fn=_default_sigint)
    deadline = time.monotonic() + 30
    while not pid_file.is_file() or not pid_file.read_text():
        assert runner.poll() is None and time.monotonic() < deadline, err_file.read_text()
        time.sleep(0.05)
    job = int(pid_file.read_text())
    assert job != runner.pid  # the job runs in a process of its own
    runner.send_signal(sig)
    try:
        assert runner.wait(timeout=20) == code, err_file.read_text()[-3000:]
    finally:
        if runner.poll() is None:
            runner.kill()
    if sig == signal.SIGINT:
        assert b"interrupted" in err_file.read_bytes()
    while psutil.pid_exists(job) and psutil.Process(job).status() != "zombie":
        assert time.monotonic() < deadline + 10, "the job process outlived its runner"
        time.sleep(0.05)
