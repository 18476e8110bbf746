import numpy as np
import pytest

from benchmark.errors import ConfigError
from benchmark.registry import build_model
from tests.model_contract import RecommenderContract


class TestPop(RecommenderContract):
    model_name = "pop"
    must_beat = "random"


class TestItemKNN(RecommenderContract):
    model_name = "itemknn"
    must_beat = "pop"


class TestEASE(RecommenderContract):
    model_name = "ease"
    must_beat = "pop"


class TestRandom(RecommenderContract):
    model_name = "random"
    must_beat = None


def test_pop_counts_positive_train_interactions(split_synthetic):
    m = build_model("pop")
    m.fit(split_synthetic.train, split_synthetic.valid, seed=0)
    counts = split_synthetic.train.frame.item.value_counts()
    assert m.score(np.array([0]), np.array([counts.index[0]]))[0] == counts.iloc[0]


def test_ease_closed_form_on_a_tiny_matrix():
    # X = [[1,1,0],[0,1,1]] -> G = X^T X = [[1,1,0],[1,2,1],[0,1,1]]; lambda = 1
    # P = (G + I)^-1 with G + I = [[2,1,0],[1,3,1],[0,1,2]], det = 8
    # P = 1/8 [[5,-2,1],[-2,4,-2],[1,-2,5]]; B_ij = -P_ij / P_jj, diag 0
    from baselines.ease import ease_weights

    g = np.array([[1.0, 1, 0], [1, 2, 1], [0, 1, 1]])
    b = ease_weights(g, 1.0)
    expected = np.array([[0, 2 / 4, -1 / 5], [2 / 5, 0, 2 / 5], [-1 / 5, 2 / 4, 0]])
    np.testing.assert_allclose(b, expected, atol=1e-12)


def test_ease_picks_l2_on_validation(split_synthetic):
    m = build_model("ease", {"l2_grid": [1.0, 100.0]})
    m.fit(split_synthetic.train, split_synthetic.valid, seed=0)
    assert m.chosen_l2 in (1.0, 100.0)
    assert m.fit_info()["chosen_l2"] == m.chosen_l2


def test_ease_refuses_huge_catalogue(split_synthetic):
    m = build_model("ease", {"max_items": 10})
    with pytest.raises(ConfigError, match="max_items"):
        m.fit(split_synthetic.train, split_synthetic.valid, seed=0)


def test_dummy_scores_are_known(split_synthetic):
    m = build_model("dummy")
    m.fit(split_synthetic.train, split_synthetic.valid, seed=0)
    n = split_synthetic.n_items
    assert m.score_all(np.array([3]))[0, 5] == (3 + 5) % n
    # user 3's best item is n-1-3 (score n-1)
    assert m.rank(np.array([3]), 1)[0, 0] == n - 1 - 3


def test_default_score_reads_score_all_across_user_blocks():
    # more than one 256-user block, users unsorted and repeated: every pair must get its own score
    m = build_model("dummy")
    m.n_users, m.n_items = 1000, 50
    rng = np.random.default_rng(0)
    users, items = rng.integers(0, 1000, 5000), rng.integers(0, 50, 5000)
    np.testing.assert_array_equal(m.score(users, items), ((users + items) % 50).astype(float))
