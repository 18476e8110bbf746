import numpy as np
import pandas as pd
import pytest

from benchmark.data.kcore import kcore_filter
from benchmark.data.split import SplitSpec, make_split, part_sizes
from benchmark.data.split_store import load_split_files, save_split
from benchmark.data.types import RawDataset
from benchmark.errors import DataError


@pytest.mark.parametrize("n, expected", [
    (10, [8, 1, 1]),   # plain 80/10/10
    (5, [3, 1, 1]),    # 0.5 rounds down to 0, then RecBole gives valid and test one each
    (2, [1, 0, 1]),    # train would drop to 1 before valid gets one: only test is bumped
    (1, [1, 0, 0]),    # too few to split
    (19, [17, 1, 1]),  # 1.9 rounds down to 1
    (20, [16, 2, 2]),
])
def test_part_sizes_follow_recbole_rounding(n, expected):
    assert part_sizes(np.array([n]), (0.8, 0.1, 0.1)).tolist() == [expected]


def test_chronological_split_puts_latest_interactions_last(split_synthetic):
    s = split_synthetic
    assert len(s.train) + len(s.valid) + len(s.test) == 60 * 15
    for u in range(s.n_users):
        tr = s.train.frame[s.train.frame.user == u].timestamp
        va = s.valid.frame[s.valid.frame.user == u].timestamp
        te = s.test.frame[s.test.frame.user == u].timestamp
        assert (len(tr), len(va), len(te)) == (13, 1, 1)
        assert tr.max() < va.min() <= te.min()


def test_split_parts_are_disjoint_and_complete(raw_synthetic):
    s = make_split(raw_synthetic, SplitSpec(strategy="random", seed=3))
    key = lambda f: set(zip(f.user, f.item))  # noqa: E731
    tr, va, te = key(s.train.frame), key(s.valid.frame), key(s.test.frame)
    assert not (tr & va) and not (tr & te) and not (va & te)
    assert len(tr | va | te) == len(raw_synthetic.interactions)


def test_random_split_depends_on_seed_only(raw_synthetic):
    a = make_split(raw_synthetic, SplitSpec(strategy="random", seed=1))
    b = make_split(raw_synthetic, SplitSpec(strategy="random", seed=1))
    c = make_split(raw_synthetic, SplitSpec(strategy="random", seed=2))
    pd.testing.assert_frame_equal(a.test.frame, b.test.frame)
    assert not a.test.frame.equals(c.test.frame)


def test_ids_are_contiguous_and_catalog_aligned(split_synthetic):
    s = split_synthetic
    assert s.catalog.item_ids[0] == "i000" and s.catalog.item_ids[-1] == "i039"
    assert s.catalog.items.loc[39, "title"] == "Item 39"
    all_items = pd.concat([s.train.frame, s.valid.frame, s.test.frame]).item
    assert all_items.min() == 0 and all_items.max() == s.n_items - 1


def test_kcore_filter_iterates_until_stable():
    # u3 has one interaction -> dropped; then item c has only one user left -> dropped too,
    # which leaves u2 with 1 interaction -> dropped.
    inter = pd.DataFrame({"user": ["u1", "u1", "u2", "u2", "u3", "u4", "u4"],
                          "item": ["a", "b", "a", "c", "c", "a", "b"]})
    kept = kcore_filter(inter, 2)
    assert sorted(zip(kept.user, kept.item)) == [("u1", "a"), ("u1", "b"), ("u4", "a"),
                                                  ("u4", "b")]


def test_empty_after_kcore_is_a_clear_error(raw_synthetic):
    with pytest.raises(DataError, match="empty after 1000-core filtering"):
        make_split(raw_synthetic, SplitSpec(kcore=1000))


def test_missing_column_is_a_clear_error():
    raw = RawDataset("bad", pd.DataFrame({"user": ["a"], "item": ["b"], "rating": [1.0]}))
    with pytest.raises(DataError, match="timestamp"):
        make_split(raw, SplitSpec())


def test_saved_split_round_trips_with_hash(tmp_path, split_synthetic):
    saved = save_split(split_synthetic, tmp_path / "s")
    assert len(saved.hash) == 64
    again = load_split_files(tmp_path / "s")
    assert again.hash == saved.hash
    pd.testing.assert_frame_equal(again.test.frame, split_synthetic.test.frame)
    assert again.spec == split_synthetic.spec


def test_tampered_split_files_are_rejected(tmp_path, split_synthetic):
    save_split(split_synthetic, tmp_path / "s")
    with (tmp_path / "s" / "test.tsv").open("a") as fh:
        fh.write("0\t0\t5.0\t1\n")
    with pytest.raises(DataError, match="do not match their recorded hash"):
        load_split_files(tmp_path / "s")


def test_different_split_in_same_folder_is_rejected(tmp_path, raw_synthetic):
    save_split(make_split(raw_synthetic, SplitSpec(strategy="random", seed=1)), tmp_path / "s")
    with pytest.raises(DataError, match="holds a different split"):
        save_split(make_split(raw_synthetic, SplitSpec(strategy="random", seed=2)), tmp_path / "s")


def test_ml100k_chrono_split_shape(raw_ml100k):
    s = make_split(raw_ml100k, SplitSpec())
    assert (s.n_users, s.n_items) == (943, 1682)
    assert len(s.train) + len(s.valid) + len(s.test) == 100_000
    # every ml-100k user has >= 20 ratings, so each gets at least 2 valid and 2 test
    assert s.valid.frame.groupby("user").size().min() >= 2
    assert s.test.frame.groupby("user").size().min() >= 2


def test_liked_positives_keep_only_ratings_at_threshold(raw_synthetic):
    s = make_split(raw_synthetic, SplitSpec(positives="liked", like_threshold=4.0))
    f = s.train.frame
    pos = s.train.positive_frame()
    assert len(pos) == int((f.rating >= 4.0).sum()) < len(f)  # the synthetic data has 2.0s
    assert s.train.csr().sum() == len(pos)
    everything = make_split(raw_synthetic, SplitSpec(positives="all"))
    assert everything.train.csr().sum() == len(everything.train)
