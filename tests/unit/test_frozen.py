"""The one frozen-folder writer and reader that the split and cold-start stores share."""

from __future__ import annotations

import pytest

from benchmark.data.frozen import blobs_hash, read_frozen, write_frozen
from benchmark.errors import DataError

BLOBS = {"b.tsv": b"x\n1\n", "a.tsv": b"y\n2\n"}
WORDS = {"name": "test folder", "holds": "other data", "fix": "delete it"}


def test_write_then_read_back_and_reuse(tmp_path):
    digest = blobs_hash(BLOBS)
    write_frozen(tmp_path / "f", BLOBS, {"hash": digest, "kind": "t"}, **WORDS)
    blobs, meta = read_frozen(tmp_path / "f", list(BLOBS), what="test set", build="build it")
    assert blobs == BLOBS and meta == {"hash": digest, "kind": "t"}
    write_frozen(tmp_path / "f", BLOBS, {"hash": digest}, **WORDS)  # same bytes: reused as is
    assert read_frozen(tmp_path / "f", list(BLOBS), what="t", build="b")[1]["kind"] == "t"


def test_a_different_rebuild_or_an_edited_file_is_an_error(tmp_path):
    write_frozen(tmp_path, BLOBS, {"hash": blobs_hash(BLOBS)}, **WORDS)
    other = {**BLOBS, "a.tsv": b"y\n3\n"}
    with pytest.raises(DataError, match="test folder .* holds other data"):
        write_frozen(tmp_path, other, {"hash": blobs_hash(other)}, **WORDS)
    (tmp_path / "a.tsv").write_bytes(b"y\n3\n")
    with pytest.raises(DataError, match="do not match their recorded hash"):
        read_frozen(tmp_path, list(BLOBS), what="test set", build="b")
    (tmp_path / "a.tsv").unlink()
    with pytest.raises(DataError, match="lacks"):
        read_frozen(tmp_path, list(BLOBS), what="test set", build="b")
    with pytest.raises(DataError, match="no test set at"):
        read_frozen(tmp_path / "none", list(BLOBS), what="test set", build="b")


def test_hash_order_is_part_of_the_hash():
    assert blobs_hash(BLOBS) == blobs_hash(BLOBS, ["a.tsv", "b.tsv"])
    assert blobs_hash(BLOBS, ["b.tsv", "a.tsv"]) != blobs_hash(BLOBS)
