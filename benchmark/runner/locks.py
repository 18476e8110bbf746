"""An advisory lock per run folder, so two runners on one ``--out`` never run the same job.

The lock is a ``filelock.FileLock`` on ``.<folder name>.lock`` beside the run folder (not inside
it: resume may rename the folder while holding its lock). On Linux it is ``flock``, which the
kernel drops when the holder dies, so a crashed runner never leaves a stale lock. The runner holds
a job's lock from its resume check until its files (or error.json) are written; see
``runner.py`` for what a runner does with a job another runner holds.

On a network filesystem ``flock`` may not be shared between machines; run one runner per
``--out`` there (the Ray executor's driver takes the locks; its workers do not).
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from filelock import FileLock, Timeout


def lock_path(folder: Path) -> Path:
    folder = Path(folder)
    return folder.with_name(f".{folder.name}.lock")


def try_lock(folder: Path) -> FileLock | None:
    """The folder's lock, acquired, or None when another runner holds it (never waits)."""
    path = lock_path(folder)
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(path))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        return None
    return lock


def wait_unlocked(folder: Path, timeout: float = -1) -> bool:
    """Block until no one holds the folder's lock (then let it go); False on timeout."""
    path = lock_path(folder)
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(path))
    try:
        lock.acquire(timeout=timeout)
    except Timeout:
        return False
    lock.release()
    return True


def release_all(locks: list[FileLock]) -> None:
    for lock in locks:
        with contextlib.suppress(OSError):
            lock.release()
    locks.clear()
