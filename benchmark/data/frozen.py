"""Frozen folders: byte-exact TSV files plus a meta.json, written last, that records their sha256.

The split store and the cold-start store both freeze data this way, so that two runs recording
the same hash used the same bytes: a folder is reused only when a rebuild hashes the same (a
changed builder is an error, not a silent reuse), and reading verifies the hash.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from benchmark import atomic
from benchmark.errors import DataError


def tsv_bytes(frame: pd.DataFrame) -> bytes:
    """The frame as tab-separated text with a header and no index: the bytes that get hashed."""
    buf = io.StringIO()
    frame.to_csv(buf, sep="\t", index=False, lineterminator="\n")
    return buf.getvalue().encode()


def blobs_hash(blobs: dict[str, bytes], order: Iterable[str] | None = None) -> str:
    """sha256 over (name, bytes) of each file, in ``order`` (default: sorted names)."""
    h = hashlib.sha256()
    for name in (sorted(blobs) if order is None else order):
        h.update(name.encode() + b"\0" + blobs[name] + b"\0")
    return h.hexdigest()


def write_frozen(folder: Path, blobs: dict[str, bytes], meta: dict, *, name: str, holds: str,
                 fix: str) -> None:
    """Write ``blobs`` and then ``meta`` (which carries their ``hash``) as meta.json.

    A folder that already has meta.json must record the same hash, or a ``DataError`` says that
    "<name> <folder> holds <holds>" and ``fix``. Files are written under unique temporary names
    and renamed: runners sharing a cache may write the same folder at once, with the same bytes.
    """
    meta_path = folder / "meta.json"
    if meta_path.is_file():
        old = json.loads(meta_path.read_text()).get("hash")
        if old != meta["hash"]:
            raise DataError(f"{name} {folder} holds {holds} (hash {str(old or '?')[:12]} != "
                            f"{meta['hash'][:12]}) for the same settings", fix)
        return
    folder.mkdir(parents=True, exist_ok=True)
    for file, data in blobs.items():
        atomic.write_bytes(folder / file, data)
    atomic.write_text(meta_path, json.dumps(meta, indent=2))  # last: the folder is complete


def read_frozen(folder: Path, files: Iterable[str], order: Iterable[str] | None = None, *,
                what: str, build: str) -> tuple[dict[str, bytes], dict]:
    """(file -> bytes, meta) of a frozen folder, its hash verified; ``what`` names the folder's
    contents in errors ("split"), ``build`` says how to make a missing one."""
    meta_path = folder / "meta.json"
    if not meta_path.is_file():
        raise DataError(f"no {what} at {folder} (meta.json missing)", build)
    meta = json.loads(meta_path.read_text())
    missing = [f for f in files if not (folder / f).is_file()]
    if missing:
        raise DataError(f"{what} folder {folder} lacks {missing}", "delete it to rebuild")
    blobs = {f: (folder / f).read_bytes() for f in files}
    if blobs_hash(blobs, order) != meta.get("hash"):
        raise DataError(f"{what} files in {folder} do not match their recorded hash",
                        "they were edited or truncated; delete the folder to rebuild it")
    return blobs, meta
