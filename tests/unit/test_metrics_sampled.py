"""Frozen negatives: never seen, distinct, uniform, seeded; plain-text files with a checked hash."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from benchmark.metrics import ranking, sampled
from benchmark.metrics.sampled import draw_negatives, load_negatives, save_negatives


def _random_seen(seed: int, n_users: int, n_items: int, max_seen: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.choice(n_items, size=int(rng.integers(0, max_seen)), replace=False)
            for _ in range(n_users)]


def test_negatives_are_unseen_distinct_and_in_range() -> None:
    n_items, n_neg = 500, 50
    seen = _random_seen(0, 300, n_items, 400)  # some users saw most items: exercises fallback
    users = np.arange(1000, 1300)
    neg = draw_negatives(n_items, users, seen, n_neg, seed=7)
    assert neg.shape == (300, n_neg)
    assert neg.dtype == np.int64
    assert neg.min() >= 0 and neg.max() < n_items
    for row, seen_row in zip(neg, seen):
        assert np.unique(row).size == n_neg
        assert not np.isin(row, seen_row).any()
        assert np.all(np.diff(row) > 0)  # rows come sorted


def test_same_seed_same_draw_other_seed_other_draw() -> None:
    seen = _random_seen(1, 100, 1000, 300)
    users = np.arange(100)
    a = draw_negatives(1000, users, seen, 99, seed=3)
    b = draw_negatives(1000, users, seen, 99, seed=3)
    c = draw_negatives(1000, users, seen, 99, seed=4)
    np.testing.assert_array_equal(a, b)
    assert (a != c).any(axis=1).all()  # every user's set changes


def test_user_with_exactly_n_neg_unseen_items_gets_all_of_them() -> None:
    # user 1 saw items 0..14 of 20: exactly 5 unseen, all of which must be drawn
    seen = [np.array([0, 1]), np.arange(15)]
    neg = draw_negatives(20, np.array([0, 1]), seen, 5, seed=0)
    np.testing.assert_array_equal(neg[1], [15, 16, 17, 18, 19])
    assert not np.isin(neg[0], [0, 1]).any()


def test_draw_is_uniform_over_unseen_items() -> None:
    # 3000 copies of one user who saw items 0..4 of 20; each of the 15 unseen items should be
    # drawn in 5/15 of the rows: 1000 times, binomial sd ~ 26. Seen items: never.
    n_rows = 3000
    seen = [np.arange(5)] * n_rows
    neg = draw_negatives(20, np.arange(n_rows), seen, 5, seed=123)
    counts = np.bincount(neg.ravel(), minlength=20)
    assert counts[:5].sum() == 0
    assert np.all(np.abs(counts[5:] - 1000) < 120), counts[5:]


def test_too_few_unseen_items_is_an_error_naming_the_user() -> None:
    seen = [np.array([0]), np.array([1]), np.arange(8)]
    with pytest.raises(ValueError, match=r"user 42 \(row 2\) has only 2 unseen items, fewer than"):
        draw_negatives(10, np.array([40, 41, 42]), seen, 3, seed=0)


def test_bad_inputs() -> None:
    with pytest.raises(ValueError, match="outside 0..9"):
        draw_negatives(10, np.array([0]), [np.array([10])], 2, seed=0)
    with pytest.raises(ValueError, match="seen has 1 rows but there are 2 users"):
        draw_negatives(10, np.array([0, 1]), [np.array([1])], 2, seed=0)
    with pytest.raises(ValueError, match="n_neg must be an integer >= 0"):
        draw_negatives(10, np.array([0]), [np.array([1])], -1, seed=0)


def test_save_load_round_trip_and_hash(tmp_path: Path) -> None:
    users = np.array([3, 0, 17])
    seen = [np.array([1, 2]), np.array([], dtype=np.int64), np.array([5])]
    neg = draw_negatives(40, users, seen, 4, seed=9)
    path = tmp_path / "sub" / "negatives.tsv"
    digest = save_negatives(path, users, neg)
    raw = path.read_bytes()
    assert digest == hashlib.sha256(raw).hexdigest()
    first = raw.decode("ascii").splitlines()[0]
    assert first == "3\t" + " ".join(str(i) for i in neg[0])
    assert not raw.startswith(b"\x80")  # not a pickle

    got_users, got_neg = load_negatives(path, expected_sha256=digest)
    np.testing.assert_array_equal(got_users, users)
    np.testing.assert_array_equal(got_neg, neg)
    assert got_neg.dtype == np.int64
    assert save_negatives(tmp_path / "again.tsv", got_users, got_neg) == digest


def test_changed_file_fails_the_hash_check(tmp_path: Path) -> None:
    path = tmp_path / "negatives.tsv"
    digest = save_negatives(path, np.array([0, 1]), np.array([[4, 5], [6, 7]]))
    path.write_text("0\t4 5\n1\t6 8\n", encoding="ascii")
    with pytest.raises(ValueError, match=r"negatives\.tsv has sha256 .* but .* was recorded"):
        load_negatives(path, expected_sha256=digest)
    users, neg = load_negatives(path)  # without a recorded hash it still loads
    np.testing.assert_array_equal(neg, [[4, 5], [6, 8]])


def test_malformed_files(tmp_path: Path) -> None:
    path = tmp_path / "bad.tsv"
    path.write_text("0\t1 2\n1\t3\n", encoding="ascii")
    with pytest.raises(ValueError, match=r"bad\.tsv:2: 1 negatives, but line 1 has 2"):
        load_negatives(path)
    path.write_text("0 1 2\n", encoding="ascii")
    with pytest.raises(ValueError, match=r"bad\.tsv:1: expected 'user<TAB>item item \.\.\.'"):
        load_negatives(path)
    with pytest.raises(FileNotFoundError, match="missing.tsv"):
        load_negatives(tmp_path / "missing.tsv")
    with pytest.raises(ValueError, match=r"\(2, n\)"):
        save_negatives(tmp_path / "x.tsv", np.array([0, 1]), np.array([[1, 2]]))


def test_many_blocks_of_users_still_respect_each_users_history(monkeypatch) -> None:
    # tiny blocks of users, each checked with the bitmap path of member_of_rows: later blocks
    # must match each user to its own seen items
    monkeypatch.setattr(sampled, "_BLOCK_DRAWS", 200)
    monkeypatch.setattr(ranking, "_MIN_QUERIES_PER_BLOCK", 1)
    n_items = 60
    seen = _random_seen(4, 120, n_items, 40)
    neg = sampled.draw_negatives(n_items, np.arange(120), seen, 10, seed=2)
    for row, seen_row in zip(neg, seen):
        assert np.unique(row).size == 10
        assert not np.isin(row, seen_row).any()
