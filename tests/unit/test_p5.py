"""P5: prompt texts, training samples built from the split, training, scoring, ranking, explaining.

Tiny backbones stand in for the default SmolLM2 so these tests take seconds: the shared causal
fixture (``benchmark.llm.testing.save_tiny``) runs the default decoder-only path, a tiny T5 with a
tokenizer trained on P5's prompt words runs the seq2seq path.
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("peft")

from baselines.llm import p5_prompts as P  # noqa: E402
from baselines.llm.p5_causal import SEP, id_texts, next_token_logprobs  # noqa: E402
from baselines.llm.p5_scoring import answer_logprobs, encode_sources  # noqa: E402
from benchmark.errors import BenchError, ConfigError  # noqa: E402
from benchmark.registry import build_model  # noqa: E402
from tests.model_contract import RecommenderContract  # noqa: E402
from tests.net_guard import refuse_network  # noqa: E402

TINY_T5 = dict(d_model=32, num_layers=1, num_decoder_layers=1, num_heads=2, d_ff=64, d_kv=16)


@pytest.fixture(autouse=True, scope="module")
def no_network():
    """Any connection attempt fails the test (P5 trains and runs offline); module scope, so
    the fits in module- and class-scoped fixtures are covered too."""
    with refuse_network():
        yield


@pytest.fixture(scope="module")
def tiny_causal(tmp_path_factory):
    from benchmark.llm.testing import save_tiny

    return save_tiny("causal", tmp_path_factory.mktemp("tiny_causal"))


@pytest.fixture(scope="module")
def tiny_t5(tmp_path_factory):
    from benchmark.llm import build_seq2seq_lm, load_tokenizer, train_bpe_tokenizer

    out = tmp_path_factory.mktemp("tiny_t5")
    words = [P.rating_prompt(1, 2), P.yesno_prompt(1, 2, [3]), P.sequential_prompt(1, [2]),
             P.choose_prompt(1, [2, 3]), "Item 3 matches your taste for A films yes no 1 2 3 4 5"]
    train_bpe_tokenizer(words * 20, out, vocab_size=300)
    tok = load_tokenizer(out)
    model = build_seq2seq_lm(len(tok), pad_token_id=tok.pad_token_id,
                             eos_token_id=tok.eos_token_id, **TINY_T5)
    model.save_pretrained(str(out))
    return out


def params(path, **extra):
    return {"backbone": str(path), "per_family": 60, "batch_size": 16, "learning_rate": 1e-2,
            "id_learning_rate": 5e-2, "history_len": 4, "n_candidates": 10,
            "show_progress": False, "num_threads": 1, **extra}


def fit(path, split, **extra):
    model = build_model("p5", params(path, **extra))
    model.fit(split.train, split.valid, seed=0)
    return model


@pytest.fixture(scope="module")
def causal(tiny_causal, split_synthetic):
    return fit(tiny_causal, split_synthetic)


@pytest.fixture(scope="module")
def seq2seq(tiny_t5, split_synthetic):
    return fit(tiny_t5, split_synthetic)


def plain_logprobs(model, sources, answers):
    """Independent reference: benchmark.llm's continuation log-probabilities after source+SEP."""
    from benchmark.llm import continuation_logprobs

    return continuation_logprobs(model.bb, [s + SEP for s in sources], answers)


# ---------------------------------------------------------------------- prompts and samples
def test_prompt_texts_are_exact():
    assert P.rating_prompt(3, 7) == "rating: How many stars from 1 to 5 will <user_3> give <item_7>?"
    assert P.sequential_prompt(3, np.array([5, 1])) == (
        "sequential: <user_3> watched <item_5> <item_1> in this order. "
        "Which movie will <user_3> watch next?")
    assert P.yesno_prompt(3, 7, []) == (
        "yesno: <user_3> recently watched nothing yet. Will <user_3> enjoy <item_7>? "
        "Answer yes or no.")
    assert P.choose_prompt(0, [9, 4]) == (
        "choose: Pick the movie <user_0> will enjoy most among <item_9> <item_4>.")


def test_known_user_prompts_on_the_synthetic_split(split_synthetic):
    hist = P.user_histories(split_synthetic.train)[0]
    f = split_synthetic.train.frame
    rows = f[f.user == 0].sort_values("timestamp", kind="stable")
    np.testing.assert_array_equal(hist.items, rows.item.to_numpy())
    last = " ".join(f"<item_{i}>" for i in rows.item.to_numpy()[-2:])
    assert P.yesno_prompt(0, 39, hist.items[-2:]) == (
        f"yesno: <user_0> recently watched {last}. Will <user_0> enjoy <item_39>? "
        "Answer yes or no.")
    title = split_synthetic.catalog.items.iloc[4]
    assert P.explanation_prompt(0, 4, split_synthetic.catalog) == (
        f"explanation: Explain why <user_0> would enjoy <item_4>, {title['title']} "
        f"({', '.join(title['genres'])}).")


def test_training_samples_come_from_train_and_respect_time(split_synthetic):
    train = split_synthetic.train
    samples = P.build_samples(train, per_family=80, history_len=4, n_candidates=10, seed=1,
                              explain=lambda u, i: f"reason {u} {i}")
    assert {s.family for s in samples} == set(P.FAMILIES)
    assert samples == P.build_samples(train, per_family=80, history_len=4, n_candidates=10,
                                      seed=1, explain=lambda u, i: f"reason {u} {i}")
    hist = P.user_histories(train)
    liked = {(int(u), int(i)) for u, i, r in train.frame[["user", "item", "rating"]].to_numpy()
             if r >= train.like_threshold}
    for s in samples:
        user = int(s.source.split("<user_")[1].split(">")[0])
        items = [int(x.split(">")[0]) for x in s.source.split("<item_")[1:]]
        if s.family == "sequential":
            target = int(s.target[6:-1])
            seq = hist[user].items.tolist()
            pos = [p for p in range(1, len(seq)) if seq[p] == target][0]
            assert items == seq[max(0, pos - 4):pos]  # the items right before the target
        elif s.family == "choose":
            target = int(s.target[6:-1])
            assert len(items) == 10 and target in items and (user, target) in liked
            assert not set(items) - {target} & set(hist[user].items.tolist())
        elif s.family == "yesno":
            item = items[-1]
            rated = item in hist[user].items
            assert s.target == ("yes" if (user, item) in liked else "no")
            assert rated or s.target == "no"
        elif s.family == "explanation":
            assert s.target == f"reason {user} {items[0]}" and (user, items[0]) in liked


# ---------------------------------------------------------------------- backbone choice
def test_default_seq2seq_is_the_suites_config_error():
    """No pretrained T5 exists offline: asking for one is the suite's ConfigError."""
    model = build_model("p5", {"backbone": "default", "backbone_kind": "seq2seq",
                               "show_progress": False})
    with pytest.raises(ConfigError, match="default seq2seq backbone"):
        model._load(3, 3)


def test_a_folder_of_the_wrong_kind_is_a_config_error(tiny_t5):
    model = build_model("p5", params(tiny_t5, backbone_kind="causal"))
    with pytest.raises(ConfigError, match="holds a seq2seq"):
        model._load(3, 3)


def test_bad_config_is_a_clear_error(tiny_t5):
    with pytest.raises(ConfigError, match="score_task"):
        build_model("p5", {"score_task": "stars"})
    with pytest.raises(ConfigError, match="backbone_kind"):
        build_model("p5", {"backbone_kind": "t5"})
    with pytest.raises(BenchError, match="not found"):
        build_model("p5", {"backbone": str(tiny_t5 / "missing")})._load(3, 3)


# ---------------------------------------------------------------------- training
@pytest.mark.parametrize("kind", ["causal", "seq2seq"])
def test_training_lowers_the_loss_on_the_training_prompts(kind, tiny_causal, tiny_t5,
                                                          split_synthetic):
    import torch

    folder = tiny_causal if kind == "causal" else tiny_t5
    model = build_model("p5", params(folder, epochs=8, batch_size=4))
    model._load(split_synthetic.n_users, split_synthetic.n_items, split_synthetic.catalog)
    assert model.engine.kind == kind
    samples = P.build_samples(split_synthetic.train, per_family=20, history_len=4,
                              n_candidates=10, seed=0)
    samples = [s for s in samples if s.family == "sequential"][:4]  # one batch per epoch
    with torch.no_grad():
        before = float(model.engine.loss(samples))
    losses = model._train(samples, seed=0)
    model.bb.model.eval()
    with torch.no_grad():
        after = float(model.engine.loss(samples))
    assert len(losses) == 8 and after < 0.7 * before, (before, after, losses)


def test_causal_fit_is_labelled_decoder_only(causal):
    info = causal.fit_info()
    assert "decoder-only" in info["architecture"] and "not the paper's T5" in info["architecture"]
    assert info["backbone"]["kind"] == "causal" and info["backbone"]["weights_sha256"]
    assert info["finetuning"].startswith("LoRA r=8 on q_proj/v_proj")
    assert info["loss_end"] < info["loss_start"], info
    assert info["id_tokens_added"] == causal.n_users + causal.n_items
    assert info["explanation_targets"].startswith("benchmark.explain silver references")
    assert set(info["samples_per_family"]) == set(P.FAMILIES)


def test_seq2seq_fit_is_labelled_seq2seq(seq2seq):
    info = seq2seq.fit_info()
    assert info["architecture"].startswith("P5 on a seq2seq checkpoint")
    assert info["backbone"]["kind"] == "seq2seq" and info["finetuning"].startswith("every weight")
    assert info["loss_end"] < info["loss_start"], info


def test_causal_training_moves_only_lora_and_the_id_rows(causal, tiny_causal):
    """The pretrained vocabulary rows and base weights are exactly as loaded."""
    from benchmark.llm import load_backbone

    ref = load_backbone(tiny_causal).model
    n_old = ref.get_input_embeddings().weight.shape[0]
    emb = causal.bb.model.get_input_embeddings().weight.detach()
    np.testing.assert_array_equal(emb[:n_old].numpy(), ref.get_input_embeddings().weight.numpy())
    base = causal.bb.model.get_base_model().model.layers[0].self_attn.q_proj.base_layer.weight
    np.testing.assert_array_equal(base.detach().numpy(),
                                  ref.model.layers[0].self_attn.q_proj.weight.detach().numpy())
    lora_b = causal.bb.model.get_base_model().model.layers[0].self_attn.q_proj.lora_B
    assert float(next(iter(lora_b.values())).weight.abs().sum()) > 0  # LoRA B starts at zero


def test_id_rows_start_from_their_text(tiny_causal, split_synthetic):
    model = build_model("p5", params(tiny_causal))
    n_users, n_items, cat = split_synthetic.n_users, split_synthetic.n_items, split_synthetic.catalog
    model._load(n_users, n_items, cat)
    tok, emb = model.bb.tokenizer, model.bb.model.get_input_embeddings().weight.detach()
    texts = id_texts(n_users, n_items, cat)
    assert texts[n_users + 4] == cat.items["title"].iloc[4]
    for token, text in [(P.item_token(4), texts[n_users + 4]), (P.user_token(2), texts[2])]:
        ids = tok(text, add_special_tokens=False)["input_ids"]
        row = tok.convert_tokens_to_ids(token)
        np.testing.assert_allclose(emb[row].numpy(), emb[ids].mean(0).numpy(), rtol=1e-6)
    # each id token is one vocabulary entry, also where it answers right after the prompt
    item5 = tok.convert_tokens_to_ids(P.item_token(5))
    assert model.engine.answer_ids(P.item_token(5)) == [item5]
    assert tok(P.choose_prompt(1, [5, 6]) + SEP)["input_ids"].count(item5) == 1


# ---------------------------------------------------------------------- causal inference
def test_shared_prefix_scoring_equals_plain_forwards(causal):
    """One user's prompts share their prefix's cache; the numbers are the plain forward's."""
    users = np.array([0, 0, 0, 0, 3, 3, 5])
    items = np.array([1, 7, 30, 2, 4, 9, 11])
    sources = [P.rating_prompt(u, i) for u, i in zip(users, items)]
    rows = [list(x) for x in causal.bb.tokenizer([s + SEP for s in sources])["input_ids"]]
    cols = [a[0] for a in causal._stars]
    grouped = next_token_logprobs(causal.bb, rows, cols, users, batch_size=3)
    np.testing.assert_allclose(grouped, plain_logprobs(causal, sources, causal._stars),
                               rtol=1e-4, atol=1e-5)


def test_causal_joint_score_is_next_item_plus_liked_rating(causal):
    users, items = np.array([0, 1, 1]), np.array([1, 2, 30])
    joint = causal.score(users, items)
    seq = plain_logprobs(causal, [P.sequential_prompt(1, causal._recent(1))],
                         [[causal._item_ids[30]]])[0, 0]
    stars = plain_logprobs(causal, [P.rating_prompt(1, 30)], causal._stars)[0]
    p = np.exp(stars) / np.exp(stars).sum()
    assert joint[2] == pytest.approx(seq + np.log(p[3] + p[4]), rel=1e-4)
    assert joint[1] != joint[2] and np.all(joint < 0)


def test_causal_yesno_and_rating_tasks(causal):
    users, items = np.array([0, 1, 1]), np.array([1, 2, 30])
    try:
        causal.config.score_task = "yesno"
        yes = causal.score(users, items)
        causal.config.score_task = "rating"
        rating = causal.score(users, items)
    finally:
        causal.config.score_task = "joint"
    lp = plain_logprobs(causal, [P.yesno_prompt(1, 30, causal._recent(1))], causal._yesno)[0]
    assert yes[2] == pytest.approx(1 / (1 + np.exp(lp[1] - lp[0])), rel=1e-4)
    assert np.all((rating >= 1) & (rating <= 5))


def test_causal_rank_orders_candidates_by_their_token_logprob(causal):
    cands = np.array([[3, 14, 15, 9, 26], [1, 2, 3, 4, 5]])
    top = causal.rank(np.array([2, 6]), 5, candidates=cands, exclude=[np.array([14]), np.array([], dtype=np.int64)])
    rng = np.random.default_rng(0)
    for row, (u, c) in enumerate(zip([2, 6], cands)):
        shown = c[rng.permutation(5)]
        logp = plain_logprobs(causal, [P.choose_prompt(u, shown)],
                              [[causal._item_ids[i]] for i in shown])[0]
        expected = shown[np.argsort(-logp, kind="stable")]
        if row == 0:
            expected = np.append(expected[expected != 14], -1)
        np.testing.assert_array_equal(top[row], expected)


def test_causal_explain_uses_the_chat_template_when_there_is_one(causal):
    from benchmark.llm import generate

    tok = causal.bb.tokenizer
    plain = causal.explain(np.array([0]), np.array([1]))
    source = P.explanation_prompt(0, 1, causal.history.catalog)
    assert plain == [t.strip() for t in generate(causal.bb, [source + SEP], 48)]
    tok.chat_template = ("{% for m in messages %}User: {{ m['content'] }}\n{% endfor %}"
                         "{% if add_generation_prompt %}Assistant:\n{% endif %}")
    try:
        assert causal.engine.prompt("explanation", source) == f"User: {source}\nAssistant:\n"
        chat = causal.explain(np.array([0]), np.array([1]))
        expected = generate(causal.bb, [f"User: {source}\nAssistant:\n"], 48)
    finally:
        tok.chat_template = None
    assert chat == [t.strip() for t in expected] and isinstance(chat[0], str)


# ---------------------------------------------------------------------- seq2seq inference
def test_seq2seq_single_token_and_multi_token_answers_agree(seq2seq):
    """The one-step read-out and teacher forcing give the same log-probability."""
    import torch

    bb, item = seq2seq.bb, seq2seq._item_ids
    ids, mask = encode_sources(bb.tokenizer, [P.rating_prompt(0, 1), P.rating_prompt(2, 3)],
                               64, bb.device)
    one = answer_logprobs(bb.model, ids, mask, [[item[5]], [item[6]]])
    two = answer_logprobs(bb.model, ids, mask, [[item[5], bb.tokenizer.eos_token_id], [item[6]]])
    np.testing.assert_allclose(two[:, 1], one[:, 1], rtol=1e-5, atol=1e-5)
    assert np.all(two[:, 0] < one[:, 0])  # a longer answer is less probable
    with torch.no_grad():
        labels = torch.tensor([[item[5], bb.tokenizer.eos_token_id]] * 2)
        logits = bb.model(input_ids=ids, attention_mask=mask, labels=labels).logits
        ref = torch.log_softmax(logits, -1).gather(-1, labels[..., None])[..., 0].sum(-1)
    np.testing.assert_allclose(two[:, 0], ref.numpy(), rtol=1e-5, atol=1e-5)


def test_seq2seq_score_rank_explain(seq2seq):
    joint = seq2seq.score(np.array([0, 1, 1]), np.array([1, 2, 30]))
    seq = seq2seq._logprobs([P.sequential_prompt(1, seq2seq._recent(1))],
                            [[t] for t in seq2seq._item_ids])[0]
    stars = seq2seq._logprobs([P.rating_prompt(1, 30)], seq2seq._stars)[0]
    p = np.exp(stars) / np.exp(stars).sum()
    assert joint[2] == pytest.approx(seq[30] + np.log(p[3] + p[4]), rel=1e-6)
    cands = np.array([[3, 14, 15, 9, 26]])
    top = seq2seq.rank(np.array([2]), 5, candidates=cands)[0]
    shown = cands[0][np.random.default_rng(0).permutation(5)]
    logp = seq2seq._logprobs([P.choose_prompt(2, shown)], [[t] for t in seq2seq._item_ids])[0]
    np.testing.assert_array_equal(top, shown[np.argsort(-logp[shown], kind="stable")])
    texts = seq2seq.explain(np.array([0]), np.array([1]))
    assert len(texts) == 1 and isinstance(texts[0], str)


class TestP5Contract(RecommenderContract):
    """The shared contract on the causal (default) path: shapes, exclusions, determinism, and
    beating Random."""

    model_name = "p5"
    params = {}  # set by ``fitted``: the tiny backbone's folder exists only at test time

    @pytest.fixture(scope="class")
    @classmethod
    def fitted(cls, tiny_causal, split_synthetic):
        cls.params = params(tiny_causal, per_family=120, epochs=2)
        model = build_model("p5", cls.params)
        model.fit(split_synthetic.train, split_synthetic.valid, seed=0)
        return model
