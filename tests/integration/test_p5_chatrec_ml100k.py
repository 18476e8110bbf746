"""Chat-REC and P5 prompts for a known MovieLens-100K user, on the harness's default split.

User "1" of u.user is a 24-year-old male technician; the three most recent ratings of the
history (train + valid of the chronological 80/10/10 split) are derived here independently
from the raw ratings file and must be what both prompts show. P5 then runs end to end on the
real split with the tiny causal test fixture standing in for the default SmolLM2 (seconds, not
minutes): its id tokens start from the real titles and every answer is read where it trained.
"""

from __future__ import annotations

import numpy as np
import pytest

from baselines.llm import chatrec_prompts as C
from baselines.llm import p5_prompts as P


@pytest.fixture(scope="module")
def split():
    from benchmark.runner.prepare import prepare_split

    return prepare_split("ml-100k", 0)[0]


def raw_recent(raw, user: str, k: int) -> list[str]:
    """The user's last k history items by the split's rule, from the raw file order."""
    f = raw.interactions[raw.interactions.user == user]
    f = f.iloc[np.lexsort((np.arange(len(f)), f.timestamp.to_numpy()))]
    n_test = int(len(f) * 0.1)  # RecBole's rounding: valid and test rounded down
    return f.item.to_numpy()[: len(f) - n_test][-k:].tolist()


def test_known_user_prompts(split, raw_ml100k):
    cat = split.catalog
    user = int(np.flatnonzero(cat.user_ids == "1")[0])
    expected_raw = raw_recent(raw_ml100k, "1", 3)
    assert expected_raw == ["100", "154", "9"]
    recent = [int(np.flatnonzero(cat.item_ids == r)[0]) for r in expected_raw]
    hist = P.user_histories(split.train.concat(split.valid))[user]
    np.testing.assert_array_equal(hist.items[-3:], recent)
    assert C.user_prompt(cat, user, hist.items[-3:], hist.ratings[-3:]) == (
        "The user is a 24-year-old male technician.\n"
        'Movies the user rated recently: "Fargo (1996)" (5 stars), '
        '"Monty Python\'s Life of Brian (1979)" (5 stars), "Dead Man Walking (1995)" (5 stars).\n'
        "Recommended movie:")
    toy = int(np.flatnonzero(cat.item_ids == "1")[0])
    ids = " ".join(f"<item_{i}>" for i in recent)
    assert P.yesno_prompt(user, toy, hist.items[-3:]) == (
        f"yesno: <user_{user}> recently watched {ids}. Will <user_{user}> enjoy <item_{toy}>? "
        "Answer yes or no.")
    assert P.explanation_prompt(user, toy, cat) == (
        f"explanation: Explain why <user_{user}> would enjoy <item_{toy}>, "
        "Toy Story (1995; Animation, Children's, Comedy).")


def test_p5_runs_on_the_real_split_with_the_causal_fixture(split, tmp_path):
    pytest.importorskip("peft")
    from baselines.llm.p5_causal import SEP
    from benchmark.llm import continuation_logprobs
    from benchmark.llm.testing import save_tiny
    from benchmark.registry import build_model

    folder = save_tiny("causal", tmp_path / "tiny")
    model = build_model("p5", {"backbone": str(folder), "per_family": 8, "history_len": 3,
                               "n_candidates": 5, "show_progress": False, "num_threads": 1})
    model.fit(split.train, split.valid, seed=0)
    info = model.fit_info()
    assert "decoder-only" in info["architecture"]
    assert info["id_tokens_added"] == split.n_users + split.n_items == 943 + 1682
    cat, tok = split.catalog, model.bb.tokenizer
    toy = int(np.flatnonzero(cat.item_ids == "1")[0])
    assert cat.items["title"].iloc[toy].startswith("Toy Story")
    user = int(np.flatnonzero(cat.user_ids == "1")[0])
    scores = model.score(np.array([user, user]), np.array([toy, toy + 1]))
    recent = model._recent(user)
    np.testing.assert_array_equal(recent, P.user_histories(split.train.concat(split.valid))[user]
                                  .items[-3:])
    seq = continuation_logprobs(model.bb, [P.sequential_prompt(user, recent) + SEP],
                                [[tok.convert_tokens_to_ids(P.item_token(toy))]])[0, 0]
    stars = continuation_logprobs(model.bb, [P.rating_prompt(user, toy) + SEP], model._stars)[0]
    p = np.exp(stars) / np.exp(stars).sum()
    assert scores[0] == pytest.approx(seq + np.log(p[3] + p[4]), rel=1e-4)
    top = model.rank(np.array([user]), 2, candidates=np.array([[toy, toy + 1, toy + 2]]))
    assert top.shape == (1, 2) and set(top[0]) <= {toy, toy + 1, toy + 2}
    assert isinstance(model.explain(np.array([user]), np.array([toy]))[0], str)
