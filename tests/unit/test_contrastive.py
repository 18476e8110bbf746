"""The contrastive answer format: written by format_contrastive, read by parse_contrastive; every
answer that is not exactly one "Positive:" half followed by one "Negative:" half is malformed and
keeps its raw text (hand-made cases)."""

from __future__ import annotations

import pytest

from benchmark.explain.contrastive import ContrastivePair, format_contrastive, parse_contrastive


def test_round_trip_of_the_training_format():
    raw = format_contrastive("  Heat matches your taste for Crime films. ",
                             "Heat may not suit you: it is long.\n")
    assert raw == ("Positive: Heat matches your taste for Crime films.\n"
                   "Negative: Heat may not suit you: it is long.")
    pair = parse_contrastive(raw)
    assert pair == ContrastivePair("Heat matches your taste for Crime films.",
                                   "Heat may not suit you: it is long.", raw=raw)
    assert not pair.malformed and pair.problem == ""
    assert pair.halves() == (pair.for_text, pair.against_text)


def test_halves_may_span_lines_and_keep_inner_colons():
    pair = parse_contrastive("Positive: a comedy\nlike Fargo: you enjoyed it\nNegative: too old")
    assert pair.for_text == "a comedy\nlike Fargo: you enjoyed it"
    assert pair.against_text == "too old"


@pytest.mark.parametrize("raw, problem", [
    ("Positive: a comedy you may enjoy.", "found 1 and 0"),  # missing against half
    ("Negative: not your genre.", "found 0 and 1"),  # missing for half
    ("", "found 0 and 0"),  # nothing generated
    ("the the the, The, The", "found 0 and 0"),  # junk from an untrained LM
    ("Positive: a\nPositive: b\nNegative: c", "found 2 and 1"),  # repeated label
])
def test_missing_or_repeated_halves_are_malformed(raw, problem):
    pair = parse_contrastive(raw)
    assert pair.malformed and pair.raw == raw
    assert (pair.for_text, pair.against_text) == ("", "")
    assert problem in pair.problem


def test_swapped_order_is_malformed():
    raw = "Negative: too long.\nPositive: a comedy."
    pair = parse_contrastive(raw)
    assert pair.malformed and pair.raw == raw
    assert "comes before" in pair.problem


@pytest.mark.parametrize("raw, side", [
    ("Positive:   \nNegative: too long.", "positive"),
    ("Positive: a comedy.\nNegative:\n  ", "negative"),
])
def test_empty_half_is_malformed(raw, side):
    pair = parse_contrastive(raw)
    assert pair.malformed and pair.problem == f"empty {side} half"


def test_text_before_the_first_label_is_malformed():
    pair = parse_contrastive("Sure! Here it is.\nPositive: a comedy.\nNegative: too long.")
    assert pair.malformed and "before the 'Positive:' label" in pair.problem
    # a label that is not at a line start is not a label: the half stays unlabelled
    inline = parse_contrastive("Answer Positive: a comedy.\nNegative: too long.")
    assert inline.malformed and "found 0 and 1" in inline.problem


def test_labels_are_case_and_whitespace_tolerant():
    pair = parse_contrastive("\n  POSITIVE :  a comedy. \n\tnegative:too long.  \n")
    assert not pair.malformed
    assert pair.halves() == ("a comedy.", "too long.")


def test_non_string_input_is_malformed_not_an_error():
    pair = parse_contrastive(None)  # type: ignore[arg-type]
    assert pair.malformed and pair.raw == ""
