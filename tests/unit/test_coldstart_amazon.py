"""The real cross-domain set from two Amazon-format files sharing reviewer ids."""

from __future__ import annotations

import json

import numpy as np
import pytest

from benchmark.data.coldstart import ColdStartSpec
from benchmark.data.coldstart_store import prepare_cross_domain
from benchmark.errors import DataError
from benchmark.runner.prepare import prepare_split, resolve_dataset


def _reviews(path, users, items, seed):
    rng = np.random.default_rng(seed)
    with path.open("w") as fh:
        for u in users:
            for t, i in enumerate(rng.choice(items, size=6, replace=False)):
                fh.write(json.dumps({
                    "reviewerID": u, "asin": i, "overall": float(rng.integers(1, 6)),
                    "unixReviewTime": 1_300_000_000 + 1000 * t, "helpful": [0, 0],
                    "reviewText": f"{u} on {i}", "summary": "s"}) + "\n")


def _spec(path, name, reviews):
    path.write_text(f'name = "{name}"\nloader = "amazon"\n'
                    f'paths = {{ reviews_path = "{reviews}" }}\n'
                    'options = { version = "2014" }\n[split]\nkcore = 0\n')
    return path


@pytest.fixture()
def two_domains(tmp_path):
    movies = [f"M{i:03d}" for i in range(15)]
    books = [f"B{i:03d}" for i in range(12)]
    users = [f"U{u:02d}" for u in range(20)]
    _reviews(tmp_path / "movies.json", users, movies, 1)
    _reviews(tmp_path / "books.json", users[:12] + ["X1", "X2"], books, 2)  # 12 shared
    target = _spec(tmp_path / "movies.toml", "movies", "movies.json")
    source = _spec(tmp_path / "books.toml", "books", "books.json")
    split, folder = prepare_split(str(target), 0, cache_dir=tmp_path / "cache")
    return split, folder, source


def test_amazon_cross_domain_keeps_test_users_off_the_target(two_domains):
    split, folder, source = two_domains
    spec = ColdStartSpec(cross_domain_test_fraction=0.25, min_target_interactions=5)
    cd, where = prepare_cross_domain(split, folder, spec, str(source), resolve_dataset(str(source)))
    assert cd.source == "amazon" and (where / "meta.json").is_file()
    n_t = split.n_items
    assert list(cd.target_items) == list(range(n_t))
    assert len(cd.source_items) == 12 and cd.source_items.min() == n_t
    assert cd.train.n_items == n_t + 12
    assert cd.train.catalog.item_ids[n_t].startswith("source:B")
    assert len(cd.test_users) == 5  # 0.25 * 20 users, all drawn among the 12 shared ones
    shared = {i for i, u in enumerate(split.catalog.user_ids) if u < "U12"}
    assert set(cd.test_users) <= shared
    test = set(cd.test_users)
    for part in (cd.train, cd.valid):
        f = part.frame
        assert not (f["user"].isin(test) & (f["item"] < n_t)).any()
    src = cd.train.frame[cd.train.frame["item"] >= n_t]
    assert set(src["user"]) == shared  # every shared reviewer brings the source rows
    assert len(src) == 12 * 6
    assert set(cd.eval.frame["user"]) == test and (cd.eval.frame["item"] < n_t).all()
    again, _ = prepare_cross_domain(split, folder, spec, str(source), resolve_dataset(str(source)))
    assert again.hash == cd.hash


def test_missing_source_file_is_a_clear_error(two_domains, tmp_path):
    split, folder, _ = two_domains
    missing = _spec(tmp_path / "gone.toml", "gone", "nowhere.json")
    with pytest.raises(DataError, match="nowhere.json"):
        prepare_cross_domain(split, folder, ColdStartSpec(), str(missing),
                             resolve_dataset(str(missing)))
