"""RecExplainer on a tiny backbone: the projection, prompts per variant, the target's embeddings,
training examples taken from the target, the alignment track's instances, and explanations."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("transformers")
torch = pytest.importorskip("torch")

from baselines.explainers.recexplainer_lm import TargetProjection  # noqa: E402
from baselines.explainers.recexplainer_prompts import PromptBuilder, training_examples  # noqa: E402
from baselines.explainers.recexplainer_target import target_view  # noqa: E402
from benchmark.llm.testing import save_tiny  # noqa: E402
from benchmark.registry import build_model  # noqa: E402
from benchmark.tracks.alignment import AlignmentSettings, AlignmentTrack  # noqa: E402
from tests.model_contract import RecommenderContract  # noqa: E402

SMALL = {"interest_top": 5, "interest_far": 15, "history_len": 4, "rank_candidates": 4,
         "embedding_dim": 8, "batch_size": 8, "max_train_samples": 64, "eval_batch_size": 32}
TRACK = AlignmentSettings(max_users=10, title_items=8, title_candidates=4, history_items=2,
                          history_negatives=3, exclude_recent=4, next_candidates=5,
                          rank_candidates=4, k=2, interest_top=5, interest_far=15)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return str(save_tiny("causal", tmp_path_factory.mktemp("recexplainer-tiny")))


@pytest.fixture(scope="module")
def fitted(tiny, split_synthetic, tmp_path_factory):
    m = build_model("recexplainer", {"variant": "hybrid", "target": "pop", "backbone": tiny,
                                     **SMALL}, workdir=tmp_path_factory.mktemp("rx"))
    m.fit(split_synthetic.train, split_synthetic.valid, seed=0)
    return m


def test_projection_maps_to_hidden_size_and_gets_gradients():
    users, items = np.random.default_rng(0).normal(size=(5, 8)), np.ones((7, 8))
    proj = TargetProjection(users, items, hidden=32)
    out = proj(torch.tensor([0, 6, 7, 11]))  # two items, two users (index n_items + u)
    assert out.shape == (4, 32)
    out.pow(2).sum().backward()
    assert proj.proj.weight.grad is not None and float(proj.proj.weight.grad.abs().sum()) > 0
    assert not any(b.requires_grad for b in proj.buffers())  # target embeddings stay frozen
    # a user token is its own vector through the projection (index n_items + u)
    with torch.no_grad():
        expect = proj.proj(proj.users[4])
        np.testing.assert_allclose(proj(torch.tensor([11]))[0].numpy(), expect.numpy(),
                                   rtol=1e-6)


def test_projection_is_trained_with_the_lm(fitted):
    assert fitted.soft is not None
    assert fitted.soft.proj.weight.shape == (fitted.bb.model.config.hidden_size, 8)
    info = fitted.fit_info()
    assert info["train"]["steps"] > 0 and info["params_trainable"] > 8 * 32


def test_prompts_per_variant():
    titles = ["Alpha", "Beta", "Gamma"]
    recent = {1: [0, 2]}
    beh = PromptBuilder("behaviour", titles, recent).prompt("interest", user=1, item=1)
    intent = PromptBuilder("intention", titles, recent).prompt("interest", user=1, item=1)
    hyb = PromptBuilder("hybrid", titles, recent).prompt("interest", user=1, item=1)
    assert all(isinstance(s, str) for s in beh)
    assert '"Alpha", "Gamma"' in "".join(beh) and '"Beta"' in "".join(beh)
    assert [s for s in intent if isinstance(s, int)] == [3 + 1, 1]  # user token, item token
    assert "Alpha" not in "".join(s for s in intent if isinstance(s, str))
    assert [s for s in hyb if isinstance(s, int)] == [4, 1] and '"Alpha"' in "".join(
        s for s in hyb if isinstance(s, str))
    # the item -> title task never shows the title it asks for
    title_task = PromptBuilder("behaviour", titles, recent).prompt("item_title", item=2)
    assert "Gamma" not in "".join(title_task) and "item #2" in "".join(title_task)


class DotTarget:
    """A fake target whose scores are an exact rank-3 dot product."""

    name = "dot"
    n_items = 40

    def __init__(self):
        rng = np.random.default_rng(1)
        self.u, self.v = rng.normal(size=(9, 3)), rng.normal(size=(40, 3))

    def score_all(self, users):
        return self.u[users] @ self.v.T


def test_target_embeddings_reproduce_a_dot_product_model(split_synthetic):
    t = DotTarget()
    hist = split_synthetic.train  # only its frame is read (items seen per user)
    view = target_view(t, hist, np.arange(9), dim=3)
    scores = t.score_all(np.arange(9))
    centred = scores - scores.mean(1, keepdims=True)
    np.testing.assert_allclose(view.user_emb @ view.item_emb.T, centred, atol=1e-9)
    assert view.svd_fit == pytest.approx(1.0)
    for u in range(9):  # rankings are the target's own, best first, without seen items
        r = view.ranked[u]
        assert np.all(np.diff(scores[u, r]) <= 0)


def test_training_answers_come_from_the_target():
    titles = [f"T{i}" for i in range(20)]
    ranked = {0: np.arange(19, -1, -1), 1: np.arange(20)}
    pb = PromptBuilder("behaviour", titles, {0: [3], 1: [4]})
    ex = training_examples(pb, np.array([0, 1]), ranked, {0: np.array([5]), 1: np.array([6])},
                           20, np.random.default_rng(0), rank_candidates=4, interest_top=5,
                           interest_far=10)
    nxt = [e.answer for e in ex if e.task == "next_item"]
    assert nxt == ["T19", "T0"]
    hist = [e.answer for e in ex if e.task == "history"]
    assert hist == ["T5", "T6"]
    ranking = [e for e in ex if e.task == "ranking"]  # one per user, in user order
    for user, e in zip((0, 1), ranking):  # the answer is the candidate the target ranks best
        line = "".join(e.prompt).split("Candidates: ")[1].split("\n")[0]
        shown = [int(t.strip('"')[1:]) for t in line.split(", ")]
        assert len(shown) == 4
        best = min(shown, key=lambda i: list(ranked[user]).index(i))
        assert e.answer == f"T{best}"
    answers = [e.answer for e in ex if e.task == "interest"]
    assert answers == ["Yes.", "No.", "Yes.", "No."]
    assert len([e for e in ex if e.task == "item_title"]) == 20


class Oracle:
    """An explainer that answers with the target's own scores: every measure must be perfect."""

    def __init__(self, target, history, n_items):
        self.explained_model = target
        self.alignment_train_users = np.array([0, 1])
        self.history = history
        self.n_items = n_items
        self.constant = False

    def _target(self, users, cands):
        s = np.take_along_axis(np.asarray(self.explained_model.score_all(users)), cands, 1)
        return np.zeros_like(s) if self.constant else s

    def align_scores(self, task, users, items, candidates):
        c = np.asarray(candidates)
        if self.constant:
            return np.zeros(c.shape)
        if task == "item_title":
            return (c == np.asarray(items)[:, None]).astype(float)
        if task == "history":
            f = self.history.frame
            return np.stack([np.isin(row, f.item[f.user == u].to_numpy()) for u, row
                             in zip(users, c)]).astype(float)
        return self._target(users, c)

    def align_yes(self, users, items):
        if self.constant:
            return np.full(len(users), 0.5)
        s = np.array(self.explained_model.score_all(users), dtype=float)
        f = self.history.frame
        out = []
        for n, (u, i) in enumerate(zip(users, items)):  # yes = in the target's unseen top 5
            s[n, f.item[f.user == u].to_numpy()] = -np.inf
            out.append(float(i in np.argsort(-s[n], kind="stable")[:TRACK.interest_top]))
        return np.array(out)


def test_alignment_track_oracle_is_perfect_and_constant_is_not(split_synthetic, tmp_path):
    target = build_model("itemknn", {}, workdir=tmp_path)
    target.fit(split_synthetic.train, split_synthetic.valid, seed=0)
    hist = split_synthetic.train.concat(split_synthetic.valid)
    oracle = Oracle(target, hist, split_synthetic.n_items)
    res = AlignmentTrack(TRACK, None).evaluate(oracle, split_synthetic, seed=0)
    got = {r.metric: r.value for r in res.rows}
    for m in ("item_title_acc", "history_coverage", "next_hit", "next_ndcg", "rank_ndcg"):
        assert got[m] == pytest.approx(1.0), m
    users = res.per_user["alignment/target/users"]
    assert not set(users.tolist()) & {0, 1}  # never the explainer's training users
    assert res.rows[0].n == TRACK.title_items
    oracle.constant = True
    flat = {r.metric: r.value for r in AlignmentTrack(TRACK, None).evaluate(
        oracle, split_synthetic, seed=0).rows}
    assert flat["item_title_acc"] == 0.0 and flat["next_hit"] == 0.0
    assert flat["interest_acc"] == 0.5 and flat["interest_auc"] == 0.5  # ties count half
    assert got["interest_acc"] == 1.0 and got["interest_auc"] == 1.0
    # the popularity explainer's levels are recomputable from the stored instances' data
    pop = res.info["alignment_popularity"]
    assert set(pop) == {"history_coverage", "next_hit", "next_ndcg", "rank_ndcg",
                        "interest_acc", "interest_auc"}
    assert all(0.0 <= v <= 1.0 for v in pop.values())
    assert res.info["alignment_chance"]["next_hit"] == pytest.approx(TRACK.k / 5, abs=0.1)


def test_recexplainer_runs_the_track_and_explains(fitted, split_synthetic):
    res = AlignmentTrack(TRACK, None).evaluate(fitted, split_synthetic, seed=0)
    metrics = {r.metric for r in res.rows}
    assert metrics == {"item_title_acc", "history_coverage", "next_hit", "next_ndcg",
                       "rank_ndcg", "interest_acc", "interest_auc"}
    assert all(0.0 <= r.value <= 1.0 for r in res.rows)
    users = np.array([2, 3])
    items = np.array([fitted.view.ranked[2][0], fitted.view.ranked[3][0]])
    texts = fitted.explain(users, items)
    assert len(texts) == 2 and all(fitted.titles[i] in t for t, i in zip(texts, items))
    for u, t in zip(users, texts):  # only the user's shown history is ever named
        named = {x for x in t.split('"')[3::2]}
        assert named <= {fitted.titles[j] for j in fitted.recent[int(u)]}
    chosen = fitted.choose(users, np.array([[0, 1, 2], [3, 4, 5]]))
    assert chosen[0] in (0, 1, 2) and chosen[1] in (3, 4, 5)
    s = fitted.score(users, items)
    assert s.shape == (2,) and np.all((s > 0) & (s < 1))


class TestRecExplainerContract(RecommenderContract):
    """The shared model contract (scores, ranks, determinism) with the tiny backbone. The tiny
    LM is a surrogate of its target, not a learner of the planted groups: nothing to beat."""

    model_name = "recexplainer"
    must_beat = None

    @pytest.fixture(scope="class", autouse=True)
    @classmethod
    def _backbone(cls, tmp_path_factory):
        cls.params = {"variant": "behaviour", "target": "pop", **SMALL, "max_train_samples": 16,
                      "backbone": str(save_tiny("causal", tmp_path_factory.mktemp("rx-c")))}


def test_bad_config_is_named():
    from benchmark.errors import ConfigError

    with pytest.raises(ConfigError, match="variant"):
        build_model("recexplainer", {"variant": "mixed"})
    with pytest.raises(ConfigError, match="train_users_fraction"):
        build_model("recexplainer", {"train_users_fraction": 1.0})


def test_shared_prompt_candidate_scores_equal_full_rows(fitted, monkeypatch):
    """Candidates continuing one prompt's key/value cache score as full prompt+answer rows do
    (hybrid variant: the prompts carry soft tokens)."""
    import baselines.explainers.recexplainer_lm as lm

    users = np.array([1, 2, 3])
    cands = np.array([[0, 1, 2, 3, 4], [5, 6, 7, 8, 9], [2, 4, 6, 8, 10]])
    prompts = [fitted.pb.prompt("history", user=int(u), item=-1) for u in users]
    answers = [[fitted.titles[int(x)] for x in row] for row in cands]
    shared = lm.answer_scores(fitted.bb, fitted.soft, fitted.enc, prompts, answers, 2)
    monkeypatch.setattr(lm, "SHARED_PROMPT_MIN", 10**9)  # every candidate as a full row
    full = lm.answer_scores(fitted.bb, fitted.soft, fitted.enc, prompts, answers, 4)
    assert shared.shape == full.shape == (3, 5)
    assert np.all(np.isfinite(shared))
    np.testing.assert_allclose(shared, full, atol=1e-4, rtol=0)
    assert np.ptp(full) > 1e-3  # the candidates differ, so agreement is not trivial
