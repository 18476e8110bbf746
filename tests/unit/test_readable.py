"""The readable-explanation floor on hand-made cases, including the fragments the old fixture
model wrote."""

from __future__ import annotations

from benchmark.metrics.readable import names_item, readable, title_forms


def test_title_forms_move_the_article_and_drop_the_year():
    assert title_forms("Usual Suspects, The (1995)") == ["the usual suspects", "usual suspects",
                                                          "usual suspects, the"]
    assert title_forms("Heat (1995)") == ["heat"]


def test_readable_cases():
    genres = ["Crime", "Thriller"]
    title = "Usual Suspects, The (1995)"
    assert readable("The Usual Suspects is a twisty crime story you will enjoy.", title, genres)
    assert readable("You liked several thrillers, and this one keeps the suspense high.", title,
                    genres)
    # names neither the item nor a genre
    assert not readable("This is a wonderful movie that everyone should watch soon.", title,
                        genres)
    # too short, though it names the item
    assert not readable("The Usual Suspects: crime.", title, genres)
    # the old fixture's title fragments
    assert not readable(', The (1995)" is a movie: Drama.', title, genres)
    assert not readable('Suspects, The (1995)" is a movie: Crime, Thriller.', title, genres)
    assert not readable("", title, genres)


def test_genres_match_whole_words_only():
    assert names_item("A fine Sci-Fi adventure", "X (1990)", ["Sci-Fi"])
    assert not names_item("Dramatic lighting everywhere", "X (1990)", ["Drama"])
    assert names_item("a children's classic", "X (1990)", ["Children's"])
