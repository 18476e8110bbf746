"""Generated explanations: whole sentences only, n-gram blocking in greedy decoding."""

from __future__ import annotations

import pytest

from benchmark.explain.trim import whole_sentences


@pytest.mark.parametrize(("text", "skip", "expected"), [
    ("G.I. Jane is a war drama. It has a dark and gritty", 9, "G.I. Jane is a war drama."),
    ("G.I. Jane is a war drama with", 9, "G.I. Jane is a war drama with"),  # nothing complete
    ("Mimic is good.\n\nThe user liked", 0, "Mimic is good."),  # new block dropped
    ("Heat is long!  Is it good? Maybe", 0, "Heat is long! Is it good?"),
    ('He said "yes." Then it went', 0, 'He said "yes."'),
    ("Dr. Strangelove is a satire", 0, "Dr."),  # without skip an abbreviation ends a sentence
    ("Dr. Strangelove is a satire", 3, "Dr. Strangelove is a satire"),
    ("", 0, ""),
])
def test_whole_sentences(text, skip, expected):
    assert whole_sentences(text, skip=skip) == expected


def test_banned_tokens_are_the_ones_that_repeat_an_ngram():
    from benchmark.llm.soft_prompts import banned_ngram_tokens

    assert banned_ngram_tokens([1, 2, 3, 1], 2) == [2]  # "1 2" seen: after 1, 2 is banned
    assert sorted(banned_ngram_tokens([1, 2, 1, 3, 1], 2)) == [2, 3]
    assert banned_ngram_tokens([1, 2, 3, 1, 2], 3) == [3]
    assert banned_ngram_tokens([1, 2, 3], 3) == []
    assert banned_ngram_tokens([1, 1], 0) == []


def test_greedy_never_repeats_a_trigram(tmp_path):
    torch = pytest.importorskip("torch")
    from benchmark.llm import load_backbone
    from benchmark.llm.soft_prompts import greedy
    from benchmark.llm.testing import save_tiny

    torch.manual_seed(0)
    bb = load_backbone(save_tiny("causal", tmp_path / "tiny"), kind="causal", device="cpu")
    ids = bb.tokenizer("Toy Story is", add_special_tokens=False)["input_ids"]
    rows = [(ids, [-1] * len(ids))] * 2
    plain = greedy(bb, None, rows, 40, [])
    blocked = greedy(bb, None, rows, 40, [], no_repeat_ngram=3, primed=[ids[-2:], []])

    def repeats(seq):
        grams = [tuple(seq[k:k + 3]) for k in range(len(seq) - 2)]
        return len(grams) - len(set(grams))

    assert repeats(plain[0]) > 0  # the untrained fixture loops, so the rule has work to do
    assert repeats(ids[-2:] + blocked[0]) == 0 and repeats(blocked[1]) == 0
    assert len(blocked[0]) == 40
