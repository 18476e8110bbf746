"""The judge inside the explanation track and after it (``recbench judge``), with a tiny local
judge model: rows, per-user arrays, per-sample ratings and the judge's label, no network."""

from __future__ import annotations

import json

import numpy as np
import pytest

from benchmark.judge import CRITERIA, JudgeSettings
from benchmark.llm.testing import save_tiny
from benchmark.models.base import Capability, Recommender
from benchmark.results import MetricKey
from benchmark.tracks.explanation import ExplanationSettings, ExplanationTrack
from tests.net_guard import refuse_network


class Explainer(Recommender):
    """Scores by item id; explains with the item's genre (an explaining dummy)."""

    capabilities = frozenset({Capability.RANK, Capability.SCORE, Capability.EXPLAIN})

    def fit(self, train, valid, *, seed):
        self._remember(train, valid)
        self.items = train.catalog.items

    def score_all(self, users):
        return np.tile(np.arange(self.n_items, dtype=float), (len(users), 1))

    def explain(self, users, items):
        return [f"{self.items['title'].iloc[i]} is a {self.items['genres'].iloc[i][0]} film "
                "you may enjoy." for i in items]


@pytest.fixture(scope="module")
def judge_dir(tmp_path_factory):
    return save_tiny("causal", tmp_path_factory.mktemp("judge") / "tiny")


def _evaluate(split, judge: JudgeSettings, work_dir):
    model = Explainer()
    model.fit(split.train, split.valid, seed=0)
    track = ExplanationTrack(ExplanationSettings(max_pairs=16, judge=judge), work_dir)
    with refuse_network():
        return track.evaluate(model, split, None, 0)


def test_track_rows_samples_and_label(split_synthetic, judge_dir, tmp_path):
    s = JudgeSettings(path=str(judge_dir), max_pairs=5, rate_references=True, device="cpu")
    result = _evaluate(split_synthetic, s, tmp_path)
    rows = {r.metric: r for r in result.rows}
    samples = result.samples
    assert len(samples) == 16
    rated = [x for x in samples if x["judge"] is not None]
    assert len(rated) == 5 and samples[:5] == rated  # the first pairs of the seeded draw
    for c in CRITERIA:
        values = [x["judge"][c] for x in rated]
        assert all(1.0 <= v <= 5.0 for v in values)
        assert rows[f"judge_{c}"].value == pytest.approx(np.mean(values))
        assert rows[f"judge_{c}"].n == 5 and rows[f"judge_{c}"].protocol == "silver"
        refs = [x["judge_reference"][c] for x in rated]
        assert rows[f"judge_{c}_reference"].value == pytest.approx(np.mean(refs))
        arr = result.per_user[str(MetricKey("explanation", "silver", f"judge_{c}", None))]
        assert arr.shape == (16,) and np.isnan(arr[5:]).all()
        np.testing.assert_allclose(arr[:5], values)
    assert rows["judge_unrated_rate"].value == 0.0
    assert all(x["judge_context"] for x in rated)  # the user's liked titles were shown
    from benchmark.explain.silver import attribute_list
    from benchmark.judge.track_hook import requests_for

    genres = split_synthetic.catalog.items["genres"]
    for x, req in zip(rated, requests_for(rated)):  # and the item's genres, from the catalog
        assert x["judge_item_genres"] == attribute_list(genres.iloc[x["item"]])
        assert req.item_genres == tuple(x["judge_item_genres"]) and req.item_title == x["title"]
    label = result.info["explanation_judge"]
    assert label["kind"] == "local" and label["path"] == str(judge_dir)
    assert label["prompt_version"] == "judge-v2" and label["prompt_form"] == "plain text"
    assert len(label["weights_sha256"]) == 64 and label["rated_pairs"] == 5
    assert (tmp_path / "judge_cache.sqlite").is_file()
    again = _evaluate(split_synthetic, s, tmp_path)  # from the cache: the same numbers
    assert [(r.metric, r.value) for r in again.rows] == [(r.metric, r.value) for r in result.rows]


def test_endpoint_judge_in_the_track_counts_unreadable_answers(split_synthetic, monkeypatch):
    """A fake transport answers well for every second text: the others stay None, counted."""
    import benchmark.judge.endpoint as endpoint

    monkeypatch.setenv("JUDGE_TRACK_KEY", "sk-track-secret")
    seen = []

    def fake(request):
        seen.append(request)
        good = len(seen) % 2 == 1
        text = '{"usefulness": 4, "accuracy": 2, "clarity": 5}' if good else "Looks fine."
        return {"choices": [{"message": {"content": text}}]}

    monkeypatch.setattr(endpoint, "urllib_transport", fake)
    monkeypatch.setenv("RECBENCH_ALLOW_ENDPOINTS", "https://judge.example")  # named by the user
    s = JudgeSettings(kind="endpoint", base_url="https://judge.example/v1", model="j-1",
                      api_key_env="JUDGE_TRACK_KEY", max_pairs=6)
    result = _evaluate(split_synthetic, s, None)
    rows = {r.metric: (r.value, r.n) for r in result.rows}
    assert len(seen) == 6 and all(r["body"]["temperature"] == 0 for r in seen)
    assert rows["judge_usefulness"] == (4.0, 3) and rows["judge_accuracy"] == (2.0, 3)
    assert rows["judge_clarity"] == (5.0, 3) and rows["judge_unrated_rate"] == (0.5, 6)
    bad = result.samples[1]["judge"]
    assert bad["usefulness"] is None and "not a JSON object" in bad["unrated_reasons"]["clarity"]
    info = result.info["explanation_judge"]
    assert info["kind"] == "endpoint" and info["model"] == "j-1"
    assert "sk-track-secret" not in json.dumps(info)
    assert "sk-track-secret" not in json.dumps(result.samples)


def test_without_judge_settings_nothing_is_judged(split_synthetic):
    result = _evaluate(split_synthetic, None, None)
    assert not any(r.metric.startswith("judge_") for r in result.rows)
    assert "explanation_judge" not in result.info and "judge" not in result.samples[0]


def test_recbench_judge_rates_a_stored_run_without_touching_metrics(split_synthetic, judge_dir,
                                                                     tmp_path):
    from benchmark.cli import main
    from benchmark.runner import store

    result = _evaluate(split_synthetic, None, None)
    folder = tmp_path / "run"
    samples = [{"track": "explanation", **x} for x in result.samples]
    metrics = {"model": "explainer", "dataset": "synthetic", "seed": 0, "rows": [],
               "info": {}}
    store.write_run(folder, config={}, metrics=metrics, per_user={}, efficiency={},
                    samples=samples, env={})
    before = (folder / "metrics.json").read_bytes()
    with refuse_network():
        code = main(["judge", str(tmp_path), "--path", str(judge_dir), "--max-pairs", "5",
                     "--device", "cpu"])
    assert code == 0
    assert (folder / "metrics.json").read_bytes() == before
    out = json.loads((folder / "judge.json").read_text())
    lines = [json.loads(x) for x in (folder / "judge.jsonl").read_text().splitlines()]
    assert len(lines) == 5 == out["rated_pairs"]
    assert out["judge"]["kind"] == "local" and out["run"]["model"] == "explainer"
    for c in CRITERIA:
        mean = np.mean([x["judge"][c] for x in lines])
        assert out["protocols"]["silver"][f"judge_{c}"]["value"] == pytest.approx(mean)
    assert main(["judge", str(tmp_path), "--path", str(judge_dir), "--model", "m"]) == 2


SUITE = """
name = "j"
seeds = [0]
tracks = ["explanation"]
[[datasets]]
name = "ml-100k"
[[models]]
name = "pop"
[explanation]
max_pairs = 50
[explanation.judge]
{judge}
"""


def test_suite_toml_configures_the_judge(tmp_path):
    from benchmark.config.suite import load_suite
    from benchmark.errors import ConfigError

    path = tmp_path / "s.toml"
    path.write_text(SUITE.format(judge='kind = "endpoint"\nbase_url = "https://j.example/v1"\n'
                                       'model = "judge-1"\napi_key_env = "JUDGE_KEY"\n'
                                       'max_pairs = 20\nrate_references = true'))
    s = load_suite(path).settings_for("explanation").judge
    assert (s.kind, s.base_url, s.model, s.api_key_env, s.max_pairs, s.rate_references) == (
        "endpoint", "https://j.example/v1", "judge-1", "JUDGE_KEY", 20, True)
    for bad, word in (('kind = "endpoint"', "base_url"), ('api_key = "sk-1"', "api_key"),
                      ('kind = "local"\nmax_pairs = 0', "max_pairs")):
        path.write_text(SUITE.format(judge=bad))
        with pytest.raises(ConfigError, match=word):
            load_suite(path).settings_for("explanation")
