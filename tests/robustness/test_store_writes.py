"""Issue 15, item 4: the store's and the caches' writers under concurrency. Many threads and
processes writing one file never fail, never leave a temporary file, and a failing writer never
deletes another's file; the per-folder lock keeps a second holder out."""

from __future__ import annotations

import json
import multiprocessing
import threading
from pathlib import Path

import numpy as np
import pytest

from benchmark.metrics.sampled import load_negatives, save_negatives
from benchmark.runner import store

N_WRITES = 150


def _hammer_json(path: str, writer: int) -> None:
    for i in range(N_WRITES):
        store._write_json(Path(path), {"writer": writer, "i": i, "pad": "x" * (i * 37 % 5000)})


def _hammer_negatives(path: str, writer: int) -> None:
    users = np.arange(300)
    negatives = (users[:, None] * 7 + np.arange(40)[None, :]) % 997
    for _ in range(N_WRITES // 5):
        save_negatives(path, users, negatives)


def _run_together(target, path: Path, n_procs: int = 3, n_threads: int = 3) -> list:
    """Run ``target(path, writer)`` in processes and threads at once; return their errors."""
    errors: list = []

    def guarded(writer: int) -> None:
        try:
            target(str(path), writer)
        except Exception as err:  # collected, asserted empty below
            errors.append(err)

    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=target, args=(str(path), 100 + w)) for w in range(n_procs)]
    threads = [threading.Thread(target=guarded, args=(w,)) for w in range(n_threads)]
    for p in procs:
        p.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for p in procs:
        p.join()
        if p.exitcode != 0:
            errors.append(f"process exited with {p.exitcode}")
    return errors


def test_concurrent_json_writes_never_fail_and_leave_no_temp_file(tmp_path):
    path = tmp_path / "metrics.json"
    errors = _run_together(_hammer_json, path)
    assert errors == []
    final = json.loads(path.read_text())  # whole: one writer's last write
    assert final["i"] == N_WRITES - 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["metrics.json"]


def test_concurrent_negatives_cache_writes_never_fail(tmp_path):
    path = tmp_path / "cache" / "negatives_x_n40.tsv"
    path.parent.mkdir()
    errors = _run_together(_hammer_negatives, path)
    assert errors == []
    users, negatives = load_negatives(path)
    assert users.shape == (300,) and negatives.shape == (300, 40)
    assert [p.name for p in path.parent.iterdir()] == [path.name]


def test_writers_never_touch_another_writers_files(tmp_path):
    from benchmark import atomic

    path = tmp_path / "metrics.json"
    theirs = [tmp_path / "metrics.json.tmp", tmp_path / "metrics.json.999.abc.tmp"]
    for other in theirs:  # other writers, mid-write (the old fixed name, and the new form)
        other.write_text("theirs")
    store._write_json(path, {"ours": 1})
    assert json.loads(path.read_text()) == {"ours": 1}
    assert [p.read_text() for p in theirs] == ["theirs", "theirs"]
    with pytest.raises(RuntimeError), atomic.atomic_open(path, "w") as fh:
        fh.write("half")
        raise RuntimeError("disk full")  # the failure path removes its own file only
    assert json.loads(path.read_text()) == {"ours": 1}
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["metrics.json"] + [p.name for p in theirs])


def test_recording_an_error_never_deletes_a_complete_run(tmp_path):
    folder = tmp_path / "seed-0"
    store.write_run(folder, config={}, metrics={"rows": []}, per_user={}, efficiency={},
                    samples=[], env={})
    marker = (folder / store.MARKER).read_bytes()
    store.write_error(folder, config={"late": True}, error={"message": "worker died"})
    assert (folder / store.MARKER).read_bytes() == marker
    assert not (folder / "error.json").exists()


def _try_lock(folder: str, queue) -> None:
    from benchmark.runner import locks

    queue.put(locks.try_lock(Path(folder)) is None)


def test_lock_keeps_a_second_runner_out_until_released(tmp_path):
    from benchmark.runner import locks

    folder = tmp_path / "runs" / "s" / "d" / "m" / "seed-0"
    held = locks.try_lock(folder)
    assert held is not None
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    p = ctx.Process(target=_try_lock, args=(str(folder), queue))
    p.start()
    p.join()
    assert queue.get() is True  # the other process found it held
    held.release()
    assert locks.wait_unlocked(folder, timeout=5)
    p = ctx.Process(target=_try_lock, args=(str(folder), queue))
    p.start()
    p.join()
    assert queue.get() is False
    assert not folder.exists()  # the lock lives beside the folder, not in it
