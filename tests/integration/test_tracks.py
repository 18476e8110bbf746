"""The cold-start, explanation and efficiency tracks end to end through `recbench run`.

A tiny explaining model is defined here (no model of the registry explains yet): it scores by
popularity plus the user's genre affinity, names a shared genre and a liked title, and gives
contrastive halves. The stored samples.jsonl is then re-scored with sacrebleu and rouge-score
called directly, and the numbers must equal the track's.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import sys
import types

import numpy as np
import pytest

from benchmark.cli import main
from benchmark.config.suite import load_suite
from benchmark.data.types import Interactions
from benchmark.models.abilities import ContrastiveExplainer
from benchmark.models.base import Capability, Recommender
from benchmark.runner import store
from benchmark.runner.executors import ExecutorSettings
from benchmark.runner.runner import run_suite


@dataclasses.dataclass
class TinyConfig:
    pass


class TinyExplainer(Recommender, ContrastiveExplainer):
    """popularity + 0.5 * share of the user's history in the item's genres; explains itself."""

    Config = TinyConfig
    capabilities = frozenset({Capability.RANK, Capability.SCORE, Capability.EXPLAIN,
                              Capability.COLD_ITEM})
    fits = 0

    def fit(self, train: Interactions, valid: Interactions, *, seed: int) -> None:
        type(self).fits += 1
        self._remember(train, valid)
        items = train.catalog.items
        self.genres = [list(g) for g in items["genres"]]
        self.titles = list(items["title"])
        names = sorted({g for gs in self.genres for g in gs})
        self.mh = np.array([[g in gs for g in names] for gs in self.genres], dtype=float)
        self.names = names
        x = self.history.csr()
        pop = np.asarray(x.sum(axis=0)).ravel()
        self.pop = pop / max(pop.max(), 1)
        self.taste = np.asarray(x @ self.mh) / np.maximum(np.asarray(x.sum(axis=1)), 1)
        self.x = x

    def score_all(self, users: np.ndarray) -> np.ndarray:
        users = np.asarray(users, dtype=np.int64)
        return self.pop[None, :] + 0.5 * (self.taste[users] @ self.mh.T)

    def _parts(self, u: int, i: int) -> tuple[str, str, str]:
        liked = self.x.indices[self.x.indptr[u]:self.x.indptr[u + 1]]
        genre = max(self.genres[i], key=lambda g: self.taste[u, self.names.index(g)],
                    default="film")
        title = self.titles[liked[0]] if len(liked) else "nothing yet"
        return self.titles[i], genre, title

    def explain(self, users, items) -> list[str]:
        return [f"{t} matches your taste for {g} films, like {h} that you enjoyed."
                for t, g, h in (self._parts(int(u), int(i)) for u, i in zip(users, items))]

    def explain_contrastive(self, users, items) -> list[tuple[str, str]]:
        out = []
        for u, i in zip(users, items):
            t, g, h = self._parts(int(u), int(i))
            out.append((f"{t} is a {g} film like {h}.",
                        f"{t} may not suit you: it differs from {h}."))
        return out


SUITE = """
name = "tr"
seeds = [0]
tracks = {tracks}
[[datasets]]
name = "ml-100k"
max_eval_users = 150
[[models]]
name = "pop"
[[models]]
name = "tiny_explainer"
[cold_start]
support_sizes = [0, 2]
default_support = 2
ks = [10]
[explanation]
max_pairs = 120
[efficiency]
requests = 20
warmup = 3
throughput_users = 200
"""


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    module = types.ModuleType("_tiny_track_models")
    module.TinyExplainer = TinyExplainer
    mp.setitem(sys.modules, "_tiny_track_models", module)
    from benchmark import registry

    mp.setitem(registry.MODELS, "tiny_explainer", "_tiny_track_models:TinyExplainer")
    root = tmp_path_factory.mktemp("tracks")
    path = root / "suite.toml"
    path.write_text(SUITE.format(tracks='["cold_start", "explanation", "efficiency"]'))
    out = root / "runs"
    TinyExplainer.fits = 0
    # in this process: the test model lives only in this process's sys.modules, and the test
    # counts its fits here (job isolation has its own tests in tests/robustness/test_crash.py)
    outcome = run_suite(load_suite(path), out, progress=False, cache_dir=root / "cache",
                        executor=ExecutorSettings(isolate=False))
    yield out, outcome, root
    mp.undo()


def _rows(folder) -> dict:
    return {(r["track"], r["protocol"], r["metric"], r["k"]): r
            for r in store.read_metrics(folder)["rows"]}


def test_every_track_writes_its_rows(finished):
    out, outcome, _ = finished
    assert {j.key.model: j.status for j in outcome.jobs} == {"pop": "done",
                                                             "tiny_explainer": "done"}
    # one main fit (efficiency) + one cold-start fit + one cross-domain fit
    assert TinyExplainer.fits == 3
    for model in ("pop", "tiny_explainer"):
        folder = out / "tr" / "ml-100k" / model / "seed-0"
        rows = _rows(folder)
        for protocol in ("new_user", "new_user_n0", "new_item", "cross_domain"):
            assert ("cold_start", protocol, "auc", None) in rows, (model, protocol)
            assert ("cold_start", protocol, "ndcg", 10) in rows
        for metric in ("train_seconds", "latency_ms_p50", "latency_ms_p95", "latency_ms_p99",
                       "throughput_users_per_s", "peak_memory_mb", "params", "params_trainable"):
            assert ("efficiency", "cpu", metric, None) in rows
        eff = json.loads((folder / "efficiency.json").read_text())
        assert set(eff["extra_fit_seconds"]) == {"cold_start", "cross_domain"}
        info = store.read_metrics(folder)["info"]
        assert info["cross_domain_source"].startswith("proxy:")
        assert "process peak RSS" in info["efficiency"]["memory_measured"]
        latency = [rows[("efficiency", "cpu", f"latency_ms_p{p}", None)]["value"]
                   for p in (50, 95, 99)]
        assert 0 < latency[0] <= latency[1] <= latency[2]
    pop_info = store.read_metrics(out / "tr/ml-100k/pop/seed-0")["info"]
    tiny_info = store.read_metrics(out / "tr/ml-100k/tiny_explainer/seed-0")["info"]
    # pop declares cold_user but not cold_item; tiny declares cold_item but not cold_user
    assert pop_info["cold_start_fallback"] == {"new_item": "pop"}
    assert tiny_info["cold_start_fallback"] == {"new_user_n0": "pop"}
    assert "explanation_skipped" in pop_info


def test_fallbacks_are_popularity_and_real_models_differ(finished):
    out, _, _ = finished
    pop = _rows(out / "tr/ml-100k/pop/seed-0")
    tiny = _rows(out / "tr/ml-100k/tiny_explainer/seed-0")
    # zero-shot users of tiny get exactly Pop's scores: identical numbers
    for key in [k for k in pop if k[1] == "new_user_n0"]:
        assert tiny[key]["value"] == pytest.approx(pop[key]["value"]), key
    # Pop on new items is the labelled fallback: every new item ties
    assert pop[("cold_start", "new_item", "auc", None)]["value"] == 0.5
    assert tiny[("cold_start", "new_item", "auc", None)]["value"] != 0.5
    assert tiny[("cold_start", "new_user", "ndcg", 10)]["value"] != pytest.approx(
        pop[("cold_start", "new_user", "ndcg", 10)]["value"])


def test_bleu_and_rouge_equal_direct_calls_on_stored_samples(finished):
    from rouge_score import rouge_scorer
    from sacrebleu.metrics import BLEU

    out, _, _ = finished
    folder = out / "tr/ml-100k/tiny_explainer/seed-0"
    samples = [json.loads(line) for line in (folder / "samples.jsonl").read_text().splitlines()]
    samples = [s for s in samples if s["track"] == "explanation"]
    assert len(samples) == 120
    assert all(s["protocol"] == "silver" and s["for"] and s["against"] for s in samples)
    hyps = [s["explanation"] for s in samples]
    refs = [s["reference"] for s in samples]
    rows = _rows(folder)

    def row(metric):
        return rows[("explanation", "silver", metric, None)]["value"]

    assert row("bleu1") == pytest.approx(BLEU(max_ngram_order=1).corpus_score(hyps, [refs]).score)
    assert row("bleu4") == pytest.approx(BLEU().corpus_score(hyps, [refs]).score)
    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"])
    scores = [scorer.score(r, h) for h, r in zip(hyps, refs)]
    for metric, key in (("rouge1", "rouge1"), ("rouge2", "rouge2"), ("rouge_l", "rougeL")):
        assert row(metric) == pytest.approx(100 * np.mean([s[key].fmeasure for s in scores]))
    against = [s["against"] for s in samples]
    ref_against = [s["reference_against"] for s in samples]
    assert row("bleu4_against") == pytest.approx(
        BLEU().corpus_score(against, [ref_against]).score)
    # the template shares wording with the silver reference: BLEU-4 well above zero
    assert row("bleu4") > 10
    # every citation of the tiny model is a genre of the item or a title of the history
    assert row("grounding") == pytest.approx(1.0)
    assert row("usr") == pytest.approx(len(set(hyps)) / len(hyps))
    per_user = store.read_per_user(folder)
    assert per_user["explanation/silver/rouge_l"].mean() == pytest.approx(row("rouge_l"))


def test_report_csv_has_the_new_tracks(finished, capsys):
    out, _, _ = finished
    assert main(["report", str(out), "--format", "csv"]) == 0
    records = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    seen = {(r["model"], r["track"], r["protocol"], r["metric"]) for r in records}
    assert ("tiny_explainer", "explanation", "silver", "bleu4") in seen
    assert ("tiny_explainer", "explanation", "silver", "rouge_l") in seen
    assert ("pop", "cold_start", "cross_domain", "auc") in seen
    assert ("pop", "efficiency", "cpu", "peak_memory_mb") in seen


def test_summary_copes_without_a_main_fit(tmp_path, capsys):
    """An explanation-only suite of a non-explaining model fits nothing: fit s shows '-'."""
    path = tmp_path / "suite.toml"
    path.write_text(SUITE.replace("[[models]]\nname = \"tiny_explainer\"\n", "").format(
        tracks='["explanation"]'))
    out = tmp_path / "runs"
    assert main(["run", str(path), "--out", str(out), "--no-progress"]) == 0
    eff = json.loads((out / "tr/ml-100k/pop/seed-0/efficiency.json").read_text())
    assert eff["fit_seconds"] is None
    assert "bleu4" in capsys.readouterr().out
