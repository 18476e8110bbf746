"""One sha256 of a file's bytes, read in chunks, for every place that pins or verifies a file
(result files in COMPLETE, frozen negatives, the packaged language model)."""

from __future__ import annotations

import hashlib
from pathlib import Path


def update_with_file(digest, path: Path | str, chunk: int = 1 << 22) -> None:
    """Feed ``path``'s bytes into ``digest`` without reading the whole file at once."""
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(chunk), b""):
            digest.update(block)


def file_sha256(path: Path | str) -> str:
    """Hex sha256 of the file's bytes."""
    digest = hashlib.sha256()
    update_with_file(digest, path)
    return digest.hexdigest()
