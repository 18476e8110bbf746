"""The one key codec and the one way a track records a metric (benchmark/results.py)."""

from __future__ import annotations

import numpy as np
import pytest

from benchmark.results import MetricKey, TrackResult, metric_label, split_label


@pytest.mark.parametrize("text, key", [
    ("accuracy/full/ndcg@10", MetricKey("accuracy", "full", "ndcg", 10)),
    ("accuracy/pointwise/gauc", MetricKey("accuracy", "pointwise", "gauc", None)),
    ("accuracy/next_item/hit@10_weight", MetricKey("accuracy", "next_item", "hit@10_weight",
                                                   None)),
    ("cold_start/new_user_n2/recall@20", MetricKey("cold_start", "new_user_n2", "recall", 20)),
    ("alignment/target/history_coverage@5",
     MetricKey("alignment", "target", "history_coverage", 5)),
])
def test_key_round_trip(text, key):
    assert str(key) == key.per_user_key() == text
    assert MetricKey.parse(text) == key


def test_labels_weights_and_users():
    assert metric_label("ndcg", 10) == "ndcg@10" and metric_label("auc", None) == "auc"
    assert metric_label("auc", float("nan")) == "auc"  # pandas' missing k
    assert split_label("mrr@5") == ("mrr", 5) and split_label("gauc") == ("gauc", None)
    assert str(MetricKey("accuracy", "pointwise", "gauc", None).weight()) == \
        "accuracy/pointwise/gauc_weight"
    assert str(MetricKey("accuracy", "next_item", "hit", 10).weight()) == \
        "accuracy/next_item/hit@10_weight"
    assert MetricKey.users_key("explanation", "silver") == "explanation/silver/users"
    with pytest.raises(ValueError):
        MetricKey.parse("accuracy/ndcg@10")


def test_add_writes_row_values_weights_and_users_in_order():
    r = TrackResult(track="cold_start")
    users = np.array([3, 5, 9])
    values = np.array([1.0, np.nan, 0.5])
    key = r.add("new_user", "gauc", None, values, users, weights=np.array([2.0, np.nan, 1.0]))
    assert key == MetricKey("cold_start", "new_user", "gauc", None)
    assert list(r.per_user) == ["cold_start/new_user/users", "cold_start/new_user/gauc",
                                "cold_start/new_user/gauc_weight"]
    assert r.per_user["cold_start/new_user/gauc"] is values  # stored as given
    row = r.rows[0]
    assert (row.track, row.protocol, row.metric, row.k) == ("cold_start", "new_user", "gauc",
                                                             None)
    assert row.value == 0.75 and row.n == 2  # the mean over users where it is defined
    assert row.key() == key


def test_add_given_value_and_rows_without_values():
    r = TrackResult(track="accuracy")
    r.add("pointwise", "auc", value=np.float64(0.7), n=120)
    r.add("full", "ndcg", 10, np.array([0.0, 1.0]), value=0.9, n=7)
    assert [(x.metric, x.k, x.value, x.n) for x in r.rows] == [("auc", None, 0.7, 120),
                                                              ("ndcg", 10, 0.9, 7)]
    assert type(r.rows[0].value) is float
    with pytest.raises(ValueError, match="value"):
        r.add("pointwise", "gauc")


def test_users_are_stored_once_and_must_agree():
    r = TrackResult(track="accuracy")
    r.add_users("full", np.array([1, 2]))
    r.add("full", "hit", 5, np.array([1.0, 0.0]), np.array([1, 2]))
    with pytest.raises(ValueError, match="same users"):
        r.add("full", "hit", 10, np.array([1.0, 0.0]), np.array([2, 1]))


def test_keep_and_track_name_required():
    r = TrackResult(track="explanation")
    assert str(r.keep("silver", "readable", np.ones(3))) == "explanation/silver/readable"
    assert r.rows == []
    with pytest.raises(ValueError, match="track"):
        TrackResult().add("full", "ndcg", 10, np.ones(2))


def test_timed_counts_seconds_and_calls():
    r = TrackResult(track="accuracy")
    with r.timed():
        pass
    with r.timed(calls=5):
        pass
    with r.timed(calls=0):
        pass
    assert r.inference_calls == 6 and r.inference_seconds >= 0.0
