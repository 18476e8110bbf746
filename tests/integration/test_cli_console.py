"""The console and command line as a new user meets them: options in any order, one output
option name, case-insensitive metric names, --version, --no-progress, a table that fits the
terminal and names the real results folder (issue 18)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from benchmark.cli import build_parser, main
from tests.integration.test_cli_report import two_commits  # noqa: F401  (fixture)

REPO = Path(__file__).resolve().parents[2]
SUITE = """
name = "console"
seeds = [0]
[[datasets]]
name = "ml-100k"
max_eval_users = 50
[[models]]
name = "pop"
[[models]]
name = "dummy"
label = "a-rather-long-model-label-that-must-wrap-not-vanish"
[accuracy]
ks = [10]
protocols = ["full", "sampled", "pointwise"]
sampled_negatives = 20
"""
#: what a progress bar leaves in a log: tqdm's "42%|####" and carriage-return redraws
BAR = re.compile(r"\d+%\||\r|it/s]|s/it]")


def test_options_in_any_order_after_the_subcommand():
    parse = build_parser().parse_args
    a = parse(["reproduce", "explainrec", "--table", "all", "runs/quick"])
    b = parse(["reproduce", "--table", "all", "explainrec", "runs/quick", "--debug"])
    assert a.rundirs == b.rundirs == ["runs/quick"] and a.table == b.table == "all"
    assert not a.debug and b.debug
    c = parse(["--debug", "compare", "runs/a", "--baseline", "pop", "runs/b", "--metrics",
               "NDCG@10"])
    assert c.debug and c.rundirs == ["runs/a", "runs/b"] and c.metrics == ["ndcg@10"]
    d = parse(["run", "--no-progress", "suites/smoke.toml", "--out", "x"])
    assert d.no_progress and d.suite == "suites/smoke.toml" and d.out == "x"


def test_one_output_name_with_the_old_spellings_kept():
    parse = build_parser().parse_args
    for command in (["compare", "r", "--baseline", "pop"], ["check", "--baseline", "a",
                                                            "--current", "b"],
                    ["reproduce", "explainrec"]):
        for flag in ("--out", "-o", "--output"):
            assert parse([*command, flag, "f.md"]).out == "f.md", (command, flag)
    rep = parse(["report", "r", "--out", "d"])
    assert rep.out == "d" and parse(["report", "r", "-o", "f"]).output == "f"
    assert parse(["report", "r", "--out-dir", "d"]).out_dir == "d"
    assert "--out-dir" not in build_parser()._subparsers._group_actions[0].choices[
        "report"].format_help()


def test_version_prints_the_package_version(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert re.match(r"recbench \d+\.\d+\.\d+", out), out
    if (REPO / ".git").exists():
        assert "commit " in out


def test_report_folder_and_file_through_out(two_commits, tmp_path, capsys):  # noqa: F811
    folder = tmp_path / "all"
    assert main(["report", str(two_commits[1]), "--out", str(folder), "--no-plots"]) == 0
    assert {"leaderboard.md", "long.csv", "long.json"} <= {p.name for p in folder.iterdir()}
    one = tmp_path / "one.csv"
    assert main(["report", "--out", str(one), str(two_commits[1]), "--metrics",
                 "NDCG@10"]) == 0
    assert one.read_text().startswith("model,dataset,track,protocol,metric,k,value,seed")


def test_metric_names_are_case_insensitive(two_commits, capsys):  # noqa: F811
    assert main(["compare", str(two_commits[1]), "--baseline", "pop", "--metrics", "NDCG@10",
                 "--resamples", "50"]) == 0
    lower = capsys.readouterr().out
    assert main(["compare", str(two_commits[1]), "--baseline", "pop", "--metrics", "ndcg@10",
                 "--resamples", "50"]) == 0
    assert capsys.readouterr().out == lower and "ndcg@10" in lower
    assert main(["report", str(two_commits[1]), "--metrics", "Full/NDCG@10"]) == 0
    assert "ndcg@10" in capsys.readouterr().out


def _recbench(*argv: str, columns: int = 80) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": str(columns)}
    for k in ("RECBENCH_NO_PROGRESS", "TQDM_DISABLE", "HF_HUB_DISABLE_PROGRESS_BARS"):
        env.pop(k, None)
    return subprocess.run([sys.executable, "-m", "benchmark.cli", *argv], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def suite_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("console") / "suite.toml"
    path.write_text(SUITE)
    return path


def test_no_progress_leaves_stderr_and_job_logs_free_of_bars(suite_file, tmp_path):
    out = tmp_path / "runs"
    # in-process: the accuracy track's bars would go straight to this stderr
    done = _recbench("run", str(suite_file), "--in-process", "--out", str(out), "--no-progress")
    assert done.returncode == 0, done.stderr
    assert not BAR.search(done.stderr), done.stderr
    # isolated jobs (the default), --no-progress before the subcommand: job logs stay clean
    again = _recbench("--no-progress", "run", str(suite_file), "--out", str(tmp_path / "iso"))
    assert again.returncode == 0, again.stderr
    assert not BAR.search(again.stderr), again.stderr
    for log in (tmp_path / "iso").rglob("job.log"):
        assert not BAR.search(log.read_text()), log
    # the table fits 80 columns, wraps the long label, and names the suite's folder
    lines = again.stdout.rstrip("\n").splitlines()
    assert max(len(ln) for ln in lines[:-1]) <= 80, again.stdout  # the last: a long tmp path
    assert "(2/" in again.stdout  # the columns were split over tables, none cut
    assert "ndcg@10" in again.stdout and "job s" in again.stdout
    assert lines[-1] == f"Results: {tmp_path / 'iso' / 'console'}"


def test_list_models_describes_each_model_and_hides_test_models(capsys):
    assert main(["list", "models"]) == 0
    out = capsys.readouterr().out
    names = [ln.split()[0] for ln in out.splitlines()[1:] if ln.startswith("  ")
             and not ln.startswith("   ")]
    assert "dummy" not in names and "flaky" not in names
    assert {"pop", "bpr", "tallrec", "explainrec"} <= set(names)
    bpr = out[out.index("  bpr "):].split("\n  lightgcn")[0]
    assert "Bayesian personalised ranking" in bpr and "embedding_size=64" in bpr
    assert "epochs=300" in bpr


def test_the_progress_switch_reaches_library_bars(monkeypatch):
    """RecBole's bars are tqdm bars made without ``disable``: TQDM_DISABLE (read when tqdm is
    imported, as in every job process) silences them; ours ask ``enabled``. ``silenced``
    restores the environment after a library run_suite call."""
    from benchmark import progress

    for k in progress.SILENCING:
        monkeypatch.delenv(k, raising=False)
    assert progress.enabled(True) and not progress.enabled(False)
    with progress.silenced():
        assert not progress.enabled(True)
        code = ("from tqdm import tqdm\nfor _ in tqdm(range(3)): pass\n"
                "from benchmark.progress import enabled\nprint(enabled(True))")
        child = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                               text=True, timeout=60)
        assert child.stdout.strip() == "False" and child.stderr == "", child.stderr
    assert progress.enabled(True) and "TQDM_DISABLE" not in os.environ
