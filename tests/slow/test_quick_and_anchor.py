"""The product's real runs, shortened only by seeds: minutes each, so marked slow (not in CI).

    python -m pytest -m slow tests/slow
"""

import pytest

from benchmark.config.suite import load_suite
from benchmark.runner import store
from benchmark.runner.runner import run_suite

pytestmark = [pytest.mark.slow, pytest.mark.recbole,
              pytest.mark.filterwarnings("ignore::FutureWarning"),
              pytest.mark.filterwarnings("ignore::DeprecationWarning")]

#: RecBole's README quick-start log, BPR on ml-100k, random 8:1:1, full ranking (published numbers)
RECBOLE_README = {"recall": 0.2368, "ndcg": 0.2768, "hit": 0.7614}


def _value(folder, protocol, metric, k):
    rows = store.read_metrics(folder)["rows"]
    return next(r["value"] for r in rows
                if (r["protocol"], r["metric"], r["k"]) == (protocol, metric, k))


def test_bpr_lands_near_recboles_published_anchor(tmp_path):
    suite = load_suite("suites/anchor-bpr.toml")
    seeds = [0, 1, 2]
    outcome = run_suite(suite, tmp_path, seeds=seeds, progress=False)
    assert not outcome.failed
    for metric, published in RECBOLE_README.items():
        ours = [_value(tmp_path / f"anchor-bpr/ml-100k/bpr/seed-{s}", "full", metric, 10)
                for s in seeds]
        assert abs(sum(ours) / len(ours) - published) < 0.03, (metric, ours, published)


def test_quick_suite_models_beat_popularity(tmp_path):
    suite = load_suite("suites/quick.toml")
    outcome = run_suite(suite, tmp_path, progress=False)
    assert not outcome.failed
    ndcg = {j.key.model: _value(j.folder, "full", "ndcg", 10) for j in outcome.jobs}
    for model in ("itemknn", "ease", "bpr", "lightgcn", "sasrec", "gru4rec"):
        assert ndcg[model] > ndcg["pop"], (model, ndcg)
