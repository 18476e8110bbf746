"""ExplainRec behind the Recommender interface on a tiny backbone and the planted synthetic data:
the shared contract, the four ablation switches, cached scoring, the meta step, grounding."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("peft")

from benchmark.errors import ConfigError  # noqa: E402
from benchmark.llm.testing import save_tiny  # noqa: E402
from benchmark.metrics.explanation import TermMatcher  # noqa: E402
from benchmark.registry import build_model  # noqa: E402
from explainrec.config import VARIANTS  # noqa: E402
from explainrec.data import Example  # noqa: E402
from tests.model_contract import RecommenderContract  # noqa: E402


@pytest.fixture(scope="module")
def tiny_params(tmp_path_factory, split_synthetic):
    root = tmp_path_factory.mktemp("explainrec")
    tiny = save_tiny("causal", root / "tiny")
    feats = root / "feat"
    feats.mkdir()
    rng = np.random.default_rng(0)
    np.save(feats / "text_feat.npy",
            rng.normal(size=(split_synthetic.n_items, 8)).astype(np.float32))
    return {"backbone": str(tiny), "feature_dir": str(feats), "max_train_samples": 48,
            "batch_size": 8, "max_new_tokens": 8, "meta_episodes": 2, "meta_support": 1,
            "eta": 0.1}


@pytest.fixture(scope="module")
def fitted_variants(tiny_params, split_synthetic):
    out = {}
    for variant in VARIANTS:
        m = build_model("explainrec", {**tiny_params, "variant": variant})
        m.fit(split_synthetic.train, split_synthetic.valid, seed=0)
        out[variant] = m
    return out


class TestExplainRecContract(RecommenderContract):
    model_name = "explainrec"

    @pytest.fixture(scope="class", autouse=True)
    @classmethod
    def _params(cls, tiny_params, tmp_path_factory):
        cls.params = tiny_params
        # the TALLRec samples are ml-100k's: item features sized for its catalogue
        feats = tmp_path_factory.mktemp("explainrec_samples_feat")
        rng = np.random.default_rng(0)
        np.save(feats / "text_feat.npy", rng.normal(size=(1682, 8)).astype(np.float32))
        cls.samples_params = {**tiny_params, "feature_dir": str(feats)}


def test_config_errors():
    with pytest.raises(ConfigError, match="variant"):
        build_model("explainrec", {"variant": "no_everything"})
    with pytest.raises(ConfigError, match="reason_loss"):
        build_model("explainrec", {"reason_loss": "bleu"})
    with pytest.raises(ConfigError, match="lambda_rule"):
        build_model("explainrec", {"lambda_rule": "softmax"})


def test_ablation_switches(fitted_variants):
    info = {v: m.fit_info() for v, m in fitted_variants.items()}
    full = fitted_variants["full"]
    prompt = full.explain_prompts(np.array([0]), np.array([1]))[0]
    assert "<item>" in prompt and "(A)" in prompt  # soft tokens and attribution reasons
    assert full.net.soft is not None and full.kb is not None
    tasks = info["full"]["train"]["lambda"]["tasks"]
    assert tasks == ["preference", "explanation", "rating", "cross_domain"]
    assert info["full"]["train"]["lambda"]["trajectory"][-1] != [1.0] * 4  # adaptive
    assert info["full"]["train"]["meta_episodes"]  # FOMAML episodes ran
    # w/o attribution: no reasons in the prompt, no explanation task
    p = fitted_variants["no_attribution"].explain_prompts(np.array([0]), np.array([1]))[0]
    assert "(A)" not in p and "explanation" not in info["no_attribution"]["train"]["lambda"][
        "tasks"]
    # w/o zero-shot transfer: no knowledge base, no meta-learning
    assert fitted_variants["no_zero_shot"].kb is None
    assert "knowledge_base" not in info["no_zero_shot"]
    assert not info["no_zero_shot"]["train"]["meta_episodes"]
    # w/o multimodal: plain text tokens only
    assert fitted_variants["no_multimodal"].net.soft is None
    assert "<item>" not in fitted_variants["no_multimodal"].explain_prompts(
        np.array([0]), np.array([1]))[0]
    # w/o multi-task: fixed weights on preference + explanation
    lam = info["no_multitask"]["train"]["lambda"]
    assert lam["tasks"] == ["preference", "explanation"]
    assert all(row == [1.0, 1.0] for row in lam["trajectory"])
    # the variants really are different models
    users, items = np.array([0, 1, 2]), np.array([3, 25, 7])
    scores = {v: m.score(users, items) for v, m in fitted_variants.items()}
    assert not np.allclose(scores["full"], scores["no_zero_shot"])
    assert not np.allclose(scores["full"], scores["no_multimodal"])


def test_cached_prefix_scores_equal_full_prompts(fitted_variants):
    from explainrec.lm import answer_logits, prefix_answer_logits

    m = fitted_variants["full"]
    net = m.net
    hist, liked = m._recent[4]
    exs = [Example(4, hist, liked, i, False, np.nan, 0) for i in range(0, 40, 3)]
    full = answer_logits(net.bb, net.soft, [net.full_row(e) for e in exs], net.yes_id,
                         net.no_id).detach().numpy()
    cached = prefix_answer_logits(net.bb, net.soft, net.prompt(exs[0])[0],
                                  [net.prompt(e)[1] for e in exs], net.yes_id, net.no_id, 4)
    np.testing.assert_allclose(cached, full, atol=1e-5)
    assert np.ptp(full) > 0


def test_meta_step_lowers_the_support_loss(fitted_variants):
    from explainrec.meta import adapted, adapter_parameters

    m = fitted_variants["full"]
    hist, liked = m._recent[5]
    support = [Example(5, hist[:k], liked[:k], hist[k], not liked[k], np.nan, 0)
               for k in range(1, 6)]  # flipped labels: a support set the base model gets wrong
    kb = torch.tensor(m.kb.prior_logit([5] * 5, [e.item for e in support], loo=False),
                      dtype=torch.float32)
    params = adapter_parameters(m.net.bb.model)
    before_params = [p.detach().clone() for p in params]

    def loss():
        return m.net.losses(support, kb, None)["pred"]

    with torch.no_grad():
        before = float(loss())
    with adapted(params, loss, lr=0.05) as seen:
        with torch.no_grad():
            after = float(loss())
    assert seen[0] == pytest.approx(before, rel=1e-5)
    assert after < before
    for p, q in zip(params, before_params):  # restored on exit
        assert torch.equal(p, q)


def test_cold_user_uses_knowledge_base(fitted_variants):
    m = fitted_variants["full"]
    cold = 10_000  # no history, no demographics: the KB's groups are "unknown"
    m._recent.pop(cold, None)
    prompt = m.explain_prompts(np.array([cold]), np.array([0]))[0]
    assert "Knowledge:" in prompt and "Liked: \n" in prompt
    s = m.score(np.full(6, cold), np.arange(6))
    assert np.isfinite(s).all() and np.ptp(s) > 0


def test_explanations_cite_only_grounded_terms(fitted_variants):
    m = fitted_variants["full"]
    users, items = np.array([0, 1, 2, 3]), np.array([5, 30, 2, 21])
    halves = m.explain_contrastive(users, items)
    texts = m.explain(users, items)
    assert all(t in h for t, h in zip(texts, halves))
    t = m.grounder.terms
    matcher = TermMatcher(sorted({g for gs in t.genres for g in gs}) + t.titles)
    for u, i, (a, b) in zip(users, items, halves):
        allowed = {x.lower() for x in t.item_terms(int(i)) | t.history_terms(int(u))}
        for text in (a, b):
            assert all(c.lower() in allowed for c in m.grounder.citations(text))
    # an injected ungrounded title is replaced by one from the user's history
    seen = {int(x) for x in m.history.frame.query("user == 0")["item"]}
    stranger = next(i for i in range(40) if i not in seen and i != 5)
    before = dict(m.grounder.counts)
    fixed = m.grounder(0, 5, f"{t.titles[stranger]} is what you enjoyed.", m._recent[0])
    assert t.titles[stranger] not in fixed
    allowed = {x.lower() for x in t.item_terms(5) | t.history_terms(0)}
    assert all(c.lower() in allowed for c in matcher.find(fixed))
    assert m.grounder.counts["repaired"] == before["repaired"] + 1
    assert m.fit_info()["explanation_grounding"]["raw_grounding_rate"] < 1.0
    # a title written as a common word ("heavy-handed" is not *Heavy*) is neither a citation
    # nor rewritten: lower case, or inside a hyphenated word
    title = t.titles[stranger]
    for plain in (f"a {title.lower()} tone.", f"a {title}-like tone."):
        assert m.grounder.citations(plain) == [] and m.grounder(0, 5, plain, m._recent[0]) == plain
    # the word beside the title written as one: one citation, not two
    assert m.grounder.citations(f"{title} has a {title.lower()} tone.") == [title]


def test_title_citations_follow_the_catalogue_spelling():
    from explainrec.grounding import title_count

    assert title_count("Like Heavy, it is slow.", "Heavy") == 1
    assert title_count("a heavy-handed tone", "Heavy") == 0
    assert title_count("a Heavy-handed tone", "Heavy") == 0
    assert title_count("a heavy tone", "Heavy") == 0
    assert title_count("Heavyweights", "Heavy") == 0
    assert title_count("(Heavy) and Heavy again", "Heavy") == 2


def test_minimum_risk_option_trains(tiny_params, split_synthetic):
    m = build_model("explainrec", {**tiny_params, "reason_loss": "token_ce+mrt",
                                   "max_train_samples": 16, "mrt_every": 1})
    m.fit(split_synthetic.train, split_synthetic.valid, seed=0)
    stats = m.fit_info()["train"]
    assert stats["steps"] == 2 and np.isfinite(stats["final_losses"]["explanation"])


def test_users_with_a_few_ratings_get_the_meta_step(fitted_variants):
    m = fitted_variants["full"]
    few = 10_001
    hist, liked = m._recent[3]
    m._recent[few] = (hist[:3], liked[:3])
    params = [p.detach().clone() for p in m.net.bb.model.parameters() if p.requires_grad]
    adapted = m.score(np.full(5, few), np.arange(5))
    limit = m.config.meta_max_history
    m.config.meta_max_history = 0  # switch the step off: plain base-model scores
    try:
        base = m.score(np.full(5, few), np.arange(5))
    finally:
        m.config.meta_max_history = limit
        m._recent.pop(few)
    assert not np.allclose(adapted, base)
    after = [p for p in m.net.bb.model.parameters() if p.requires_grad]
    assert all(torch.equal(a, b) for a, b in zip(params, after))  # the base is restored


def test_explanations_start_from_the_item_title_and_end_on_a_sentence(fitted_variants):
    """prime_title: decoding starts from the item's title (the subject of every O_reason
    target); the text is cut to whole sentences when one is complete."""
    m = fitted_variants["full"]
    users, items = np.array([0, 1, 2, 3]), np.array([6, 31, 3, 22])
    for i, pair in zip(items, m.explain_contrastive(users, items)):
        title = m.items.titles[int(i)]
        for text in pair:
            assert text.startswith(title)
            rest = text[len(title):]
            assert "\n" not in text
            assert not any(c in rest for c in ".!?") or rest.rstrip("\"'”’)")[-1] in ".!?"
    assert m.fit_info()["decoding"] == {"greedy": True, "max_new_tokens": 8, "prime_title": True,
                                        "no_repeat_ngram": 3, "cut": "whole sentences"}
