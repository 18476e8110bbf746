"""LR-Recsys pieces on hand-made and synthetic data: the network uses a planted explanation
signal only when asked to, the autoencoder learns, config errors name their field, prompts and
LM targets never depend on the pair's own rating, malformed generations are recorded and reach
the explanation track's samples, and the shared model contract on a tiny backbone."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from baselines.explainers.lrrecsys import LRRecsys  # noqa: E402
from baselines.explainers.lrrecsys_embed import AutoencoderEmbedder  # noqa: E402
from baselines.explainers.lrrecsys_net import LRNet, PairData, train_net  # noqa: E402
from baselines.explainers.lrrecsys_text import (  # noqa: E402
    Timeline,
    item_titles,
    lm_training_texts,
)
from benchmark.data.types import Interactions  # noqa: E402
from benchmark.errors import ConfigError  # noqa: E402
from benchmark.explain.contrastive import ContrastivePair, parse_contrastive  # noqa: E402
from benchmark.llm.testing import save_tiny  # noqa: E402
from benchmark.metrics.pointwise import auc  # noqa: E402
from benchmark.registry import build_model  # noqa: E402
from tests.model_contract import RecommenderContract  # noqa: E402

FAST = {"lm_train_samples": 32, "lm_epochs": 1, "max_new_tokens": 8, "dnn_train_pairs": 300,
        "dnn_valid_pairs": 100, "ae_epochs": 10, "epochs": 15, "history": 4, "gen_batch_size": 256}


@pytest.fixture(scope="module")
def tiny_params(tmp_path_factory):
    root = tmp_path_factory.mktemp("lrrecsys")
    return {"backbone": str(save_tiny("causal", root / "tiny")), "cache_dir": str(root), **FAST}


@pytest.fixture(scope="module")
def fitted_tiny(tiny_params, split_synthetic):
    m = build_model("lrrecsys", tiny_params)
    m.fit(split_synthetic.train, split_synthetic.valid, seed=0)
    return m


@pytest.fixture(scope="module")
def fitted_free(tiny_params, split_synthetic):
    """Free decoding: the LM must write both labels itself (the untrained fixture often fails)."""
    m = build_model("lrrecsys", {**tiny_params, "decoding": "free"})
    m.fit(split_synthetic.train, split_synthetic.valid, seed=0)
    return m


class TestLRRecsysContract(RecommenderContract):
    model_name = "lrrecsys"

    @pytest.fixture(scope="class", autouse=True)
    @classmethod
    def _params(cls, tiny_params):
        cls.params = tiny_params


@pytest.mark.parametrize("field, value", [("text_encoder", "bow"), ("finetune", "qlora"),
                                          ("hidden", []), ("dropout", 1.0), ("ae_dim", 0),
                                          ("dnn_valid_pairs", 0), ("lm_lr", 0.0)])
def test_bad_config_names_the_field(field, value):
    with pytest.raises(ConfigError, match=field):
        build_model("lrrecsys", {field: value})


def _planted(n: int, rng) -> PairData:
    """Features are noise; the label is carried by the explanation embedding only."""
    expl = rng.normal(size=(n, 6)).astype(np.float32)
    y = (expl[:, 0] + 0.3 * rng.normal(size=n) > 0).astype(np.float32)
    return PairData(rng.integers(0, 50, n), rng.integers(0, 80, n),
                    rng.normal(size=(n, 5)).astype(np.float32), expl, y)


@pytest.fixture(autouse=True)
def _one_thread():
    """Tiny tensors: one torch thread avoids oversubscribing the shared 2-core machine."""
    from benchmark.threads import torch_threads

    with torch_threads(1):
        yield


def test_network_learns_a_signal_carried_only_by_explanations():
    rng = np.random.default_rng(0)
    tr, va, te = _planted(1000, rng), _planted(300, rng), _planted(500, rng)
    kw = {"epochs": 20, "lr": 3e-3, "batch_size": 128, "weight_decay": 0.0, "patience": 4,
          "seed": 0}
    with_e = LRNet(5, 6, 50, 80, 0, [32, 16], 0.0)
    info = train_net(with_e, tr, va, **kw)
    without = LRNet(5, 0, 50, 80, 0, [32, 16], 0.0)  # the same network, no explanation input
    train_net(without, tr, va, **kw)
    auc_with, auc_without = auc(te.y, with_e.predict(te)), auc(te.y, without.predict(te))
    assert auc_with > 0.85 and auc_without < 0.6, (auc_with, auc_without)
    assert info["best_valid_auc"] > 0.85 and 1 <= info["best_epoch"] <= info["epochs_run"]
    # the network without explanations cannot see them: scrambling them changes nothing
    scrambled = dataclasses.replace(te, expl=rng.normal(size=te.expl.shape).astype(np.float32))
    np.testing.assert_array_equal(without.predict(te), without.predict(scrambled))
    assert not np.allclose(with_e.predict(te), with_e.predict(scrambled))


def test_autoencoder_reconstruction_loss_falls():
    rng = np.random.default_rng(1)
    words = ["comedy", "drama", "heat", "fargo", "era", "1990s", "thriller", "romance", "war"]
    texts = [" ".join(rng.choice(words, 4)) + " film" for _ in range(300)]
    ae = AutoencoderEmbedder(dim=4, epochs=25)
    info = ae.fit(texts, seed=0)
    assert info["loss_final_epoch"] < 0.5 * info["loss_first_epoch"], info["loss_per_epoch"]
    assert ae.reconstruction_loss(texts) < info["loss_first_epoch"]
    emb = ae.transform(texts[:3] + [""])
    assert emb.shape == (4, 4) and np.isfinite(emb).all()


def test_autoencoder_fits_texts_without_a_word():
    """An LM can write halves of punctuation only: the embedder still fits and embeds them."""
    ae = AutoencoderEmbedder(dim=4, epochs=2)
    assert ae.fit(["...", "!!", ""], seed=0)["vocabulary"] == 1
    assert np.isfinite(ae.transform(["...", "a word"])).all()


class OracleLRRecsys(LRRecsys):
    """LR-Recsys with its LM replaced by an oracle that writes the pair's true label into the
    explanation (every fifth one malformed), to check the text -> embedding -> network path."""

    oracle: dict[tuple[int, int], bool] = {}

    def _ensure_lm(self) -> None:
        self._adapter = ""

    def _fit_prompts(self, rows, items):
        users = self.history.frame["user"].to_numpy()[rows]
        return [f"{u} {i}" for u, i in zip(users, items)]

    def explain_prompts(self, users, items):
        return [f"{u} {i}" for u, i in zip(users, items)]

    def _generate(self, prompts):
        out = []
        for k, p in enumerate(prompts):
            u, i = map(int, p.split())
            word = "wonderful" if self.oracle[(u, i)] else "dreadful"
            raw = f"Positive: a {word} pick\nNegative: a {word} risk"
            out.append(parse_contrastive(raw if k % 5 else f"{word} {word}"))
        return out


def _random_likes_split(split):
    """The synthetic split with every rating replaced by a coin flip: features carry nothing."""
    rng = np.random.default_rng(3)
    parts = []
    for part in (split.train, split.valid, split.test):
        f = part.frame.copy()
        f["rating"] = np.where(rng.random(len(f)) < 0.5, 5.0, 1.0).astype(np.float32)
        parts.append(dataclasses.replace(part, frame=f))
    return parts


def test_explanations_carry_a_planted_signal_end_to_end(split_synthetic):
    train, valid, test = _random_likes_split(split_synthetic)
    OracleLRRecsys.oracle = {(int(u), int(i)): bool(y) for part in (train, valid, test)
                             for u, i, y in zip(part.frame.user, part.frame.item, part.liked())}
    params = {**FAST, "dnn_valid_pairs": 200, "ae_epochs": 30}
    tu, ti = test.frame.user.to_numpy(), test.frame.item.to_numpy()
    scores = {}
    for flag in (True, False):
        m = OracleLRRecsys({**params, "use_explanations": flag})
        m.fit(train, valid, seed=0)
        scores[flag] = auc(test.liked(), m.score(tu, ti))
    assert scores[True] > 0.8 and scores[False] < 0.65, scores
    info = m.fit_info()  # the without-variant never generated anything
    assert info["generated_so_far"]["pairs"] == 0 and "malformed_fit" not in info


def test_no_label_leakage_in_prompts_or_targets(split_synthetic):
    train, valid = split_synthetic.train, split_synthetic.valid
    titles = item_titles(train.catalog, train.n_items)
    history = train.concat(valid)
    f = train.frame
    # a train pair late in its user's history, and an earlier interaction of the same user
    user = int(f.user.iloc[0])
    rows = np.flatnonzero(f.user.to_numpy() == user)
    order = rows[np.argsort(f.timestamp.to_numpy()[rows], kind="stable")]
    row, earlier = int(order[-1]), int(order[-2])

    def texts(frame):
        part = dataclasses.replace(train, frame=frame)
        tl = Timeline(part.concat(valid))
        return lm_training_texts(part, tl, np.array([row]), titles, 10)

    flipped_own = f.copy()
    flipped_own.loc[row, "rating"] = 6.0 - f.loc[row, "rating"] + 1.0  # like <-> dislike
    assert (f.loc[row, "rating"] >= 4) != (flipped_own.loc[row, "rating"] >= 4)
    assert texts(flipped_own) == texts(f)  # its own rating is nowhere in prompt or target
    flipped_earlier = f.copy()
    flipped_earlier.loc[earlier, "rating"] = 6.0 - f.loc[earlier, "rating"] + 1.0
    assert texts(flipped_earlier)[0] != texts(f)[0]  # but the history before it is shown
    # the fit-time prompt shows only earlier interactions
    tl = Timeline(history)
    items, _ = tl.before(row, 100)
    earlier_items = f.item.to_numpy()[order[:-1]]
    assert sorted(items) == sorted(earlier_items)


def _flipped(part: Interactions, row: int) -> Interactions:
    f = part.frame.copy()
    f.loc[f.index[row], "rating"] = 6.0 - f.rating.iloc[row] + 1.0  # 5 <-> 2: like <-> dislike
    out = dataclasses.replace(part, frame=f)
    assert out.liked()[row] != part.liked()[row]
    return out


def test_scored_pair_prompt_shows_history_ratings_but_never_its_own(split_synthetic):
    train, valid, test = split_synthetic.train, split_synthetic.valid, split_synthetic.test
    u, i = int(test.frame.user.iloc[0]), int(test.frame.item.iloc[0])
    last_valid = int(np.flatnonzero(valid.frame.user.to_numpy() == u)[-1])

    def fitted(valid_part):
        m = LRRecsys({**FAST, "use_explanations": False})
        m.fit(train, valid_part, seed=0)  # only train + valid ever reach the model
        return m

    m = fitted(valid)
    base = m.explain_prompts(np.array([u]), np.array([i]))[0]
    flipped = fitted(_flipped(valid, last_valid)).explain_prompts(np.array([u]), np.array([i]))
    assert flipped[0] != base  # the history's ratings are shown (so the check can fail) ...
    # ... but a pair whose item is itself in the history does not show its own rating
    seen = int(valid.frame.item.iloc[last_valid])
    title = m._titles[seen]
    own = m.explain_prompts(np.array([u]), np.array([seen]))[0]
    assert own.count(f'"{title}"') == 1 and f'Target movie: "{title}"' in own
    assert "Target movie" in base and "Yes" not in base


def test_malformed_generations_are_recorded_and_reach_the_track(fitted_free, split_synthetic):
    from benchmark.tracks.explanation import ExplanationSettings, ExplanationTrack

    assert fitted_free.fit_info()["decoding"]["labels"] == "free"
    bad = fitted_free.fit_info()["malformed_fit"]
    assert bad["pairs"] == 300 + min(100, len(split_synthetic.valid))
    assert bad["malformed"] > 0 and bad["rate"] == bad["malformed"] / bad["pairs"]
    halves = fitted_free.explain_contrastive(np.array([0, 1]), np.array([3, 4]))
    assert all(isinstance(h, ContrastivePair) for h in halves)
    track = ExplanationTrack(ExplanationSettings(max_pairs=6, fidelity_candidates=5), None)
    result = track.evaluate(fitted_free, split_synthetic, None, 0)
    samples = result.samples
    assert len(samples) == 6
    flagged = [s for s in samples if s["malformed"]]
    assert flagged, "the untrained tiny LM writes junk: some samples must be malformed"
    assert all("raw" in s and s["problem"] for s in flagged)
    rows = {r.metric: r.value for r in result.rows}
    assert rows["malformed_rate"] == pytest.approx(len(flagged) / len(samples))
    assert "rouge_l_for" in rows and "rouge_l_against" in rows
    # explain() gives the "for" half, or the raw text of a malformed pair
    texts = fitted_free.explain(np.array([0, 1]), np.array([3, 4]))
    assert texts == [h.raw if h.malformed else h.for_text for h in halves]


def test_primed_decoding_writes_the_labels_and_the_lm_the_halves(fitted_tiny):
    """Primed (the default): the harness writes "Positive:" and "Negative:", the LM writes each
    half to the end of its line; a pair is malformed only when a half is empty."""
    from benchmark.llm import generate

    users, items = np.array([0, 1, 2, 3]), np.array([3, 4, 5, 6])
    pairs = fitted_tiny.explain_contrastive(users, items)
    assert fitted_tiny.fit_info()["decoding"] == {"labels": "primed", "no_repeat_ngram": 3}
    prompts = fitted_tiny.explain_prompts(users, items)
    half = fitted_tiny.config.max_new_tokens // 2
    firsts = generate(fitted_tiny.bb, [p + "Positive:" for p in prompts], max_new_tokens=half,
                      stop="\n", no_repeat_ngram=3)
    seconds = generate(fitted_tiny.bb, [f"{p}Positive: {f}\nNegative:"
                                        for p, f in zip(prompts, firsts)],
                       max_new_tokens=half, stop="\n", no_repeat_ngram=3)
    for pair, first, second in zip(pairs, firsts, seconds):
        assert "\n" not in first and "\n" not in second
        assert pair.raw == f"Positive: {first}\nNegative: {second}"
        if first and second:
            assert not pair.malformed and pair.halves() == (first, second)
        else:
            assert pair.malformed and pair.problem.startswith("empty")
    # at fit time too, a pair can be malformed only by an empty half
    assert all(e.startswith("Positive: ") and "\nNegative: " in e
               for e in fitted_tiny.fit_info()["malformed_fit"]["examples"])


def test_fit_info_reports_every_stage(fitted_tiny):
    info = fitted_tiny.fit_info()
    assert info["use_explanations"] is True
    assert {"lm_tuning", "generation_fit", "embedding", "dnn"} <= set(info["seconds"])
    assert info["lm"]["backbone"]["weights_sha256"] and info["lm"]["n_train_samples"] == 32
    assert info["embedding"]["text_encoder"] == "autoencoder"
    assert 0.0 <= info["dnn"]["best_valid_auc"] <= 1.0
    assert info["dnn"]["input_dims"]["explanation"] == 2 * 16 + 1
    assert fitted_tiny.num_parameters() > info["lm"]["params_trainable"] > 0
