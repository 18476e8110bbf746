"""Atomic file writes that many processes (and threads) may do at once on the same path.

Every writer of the result store and of the caches under ``datasets/cache/`` goes through here.
A write goes to a temporary file with a name no other writer can pick (``<name>.<pid>.<random>
.tmp``, created with ``O_EXCL``) in the target's own folder (so ``os.replace`` is a rename on one
filesystem, atomic), and is renamed over the target when complete. Readers therefore see either
the old file or the new one, never half of one. On failure a writer removes only its own
temporary file, never the target or anyone else's file.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

#: suffix of every temporary file made here (``find`` them with ``*.tmp``)
TMP_SUFFIX = ".tmp"


def temp_name(path: Path) -> Path:
    """A sibling of ``path`` that no other process or thread will choose."""
    return path.with_name(f"{path.name}.{os.getpid()}.{uuid.uuid4().hex[:12]}{TMP_SUFFIX}")


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike[str], mode: str = "wb",
                encoding: str | None = None, newline: str | None = None) -> Iterator[IO[Any]]:
    """Open a unique temporary file next to ``path``; on a clean exit rename it over ``path``.

    The file is created with mode 0o666 minus the umask, like ``open(path, "w")`` would.
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_open writes whole files: mode 'w' or 'wb', not {mode!r}")
    path = Path(path)
    tmp = temp_name(path)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, mode, encoding=encoding, newline=newline) as fh:
            yield fh
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)  # our own temporary file only
        raise


def write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    with atomic_open(path, "wb") as fh:
        fh.write(data)


def write_text(path: str | os.PathLike[str], text: str, encoding: str = "utf-8") -> None:
    with atomic_open(path, "w", encoding=encoding, newline="") as fh:
        fh.write(text)
