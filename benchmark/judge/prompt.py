"""The judge prompts, versioned: change a word here => bump JUDGE_PROMPT_VERSION.

Three forms share the same facts block (the user's recent liked titles, the item, its genres when
known, the text) and the same criterion definitions:

- ``chat_messages``: one criterion per chat, for a local judge whose tokenizer has a chat
  template (an instruction-tuned model); the rating is the assistant's first token(s);
- ``local_prompt``: the same question as plain text ending in "Rating (1-5):", for a local model
  without a chat template (a base model or the test fixture);
- ``endpoint_messages``: all three ratings at once as a JSON object, for an endpoint judge.

Nothing in a prompt says where the text came from (a model, a reference): the judge sees only
what a human rater would.
"""

from __future__ import annotations

from benchmark.judge.base import CRITERIA, JudgeRequest

#: judge-v2: a chat form for instruction models; the item's genres when known; one question
#: per criterion (the wording tuned on pairs disjoint from the measured ones, docs/judge.md)
JUDGE_PROMPT_VERSION = "judge-v2"
#: how many of the user's most recent liked titles the judge sees
MAX_LIKED = 5

SYSTEM = ("You are a strict, impartial judge of the explanations a recommender system writes "
          "for its users. You check each explanation against the facts you are given.")

#: the ExplainRec human-study criteria, each as the question the judge answers
QUESTIONS = {
    "usefulness": "Does it give the user a clear, relevant reason to watch or buy the "
                  "recommended item?",
    "accuracy": "Does it name the recommended item and only state true facts about it (its "
                "title and genres)?",
    "clarity": "Is it written in clear, grammatical English sentences?",
}
#: the plain prompt ends with this line; the rating digit follows it
ANSWER_CONTEXT = "Rating (1-5):"


def _check(criterion: str) -> None:
    if criterion not in QUESTIONS:
        raise KeyError(f"unknown criterion {criterion!r}; known: {', '.join(CRITERIA)}")


def _facts(req: JudgeRequest) -> str:
    liked = req.liked_titles[-MAX_LIKED:]
    history = "; ".join(liked) if liked else "(not available)"
    genres = f" (genres: {', '.join(req.item_genres)})" if req.item_genres else ""
    return (f"Items the user recently liked: {history}\n"
            f"Recommended item: {req.item_title}{genres}\n"
            f"Explanation: \"{req.explanation.strip()}\"\n")


def _header(req: JudgeRequest) -> str:
    return ("You judge an explanation that a recommender system gave a user for a recommended "
            "item.\n" + _facts(req))


def chat_messages(req: JudgeRequest, criterion: str) -> list[dict]:
    """One criterion as chat messages; the assistant's reply starts with the rating digit."""
    _check(criterion)
    return [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": _facts(req)
            + f"\n{QUESTIONS[criterion]}\n"
            + f"Give the explanation's {criterion} a score: 1, 2, 3, 4 or 5 (5 = best). "
            + "Your answer is only the score."},
    ]


def chat_prompt(tokenizer, req: JudgeRequest, criterion: str) -> str:
    """``chat_messages`` through the tokenizer's chat template, ready for the reply."""
    return tokenizer.apply_chat_template(chat_messages(req, criterion), tokenize=False,
                                         add_generation_prompt=True)


def local_prompt(req: JudgeRequest, criterion: str) -> str:
    """One criterion as plain text (no chat template); the model's next tokens are its rating."""
    _check(criterion)
    return (_header(req)
            + f"Criterion: {criterion}: {QUESTIONS[criterion]} 1 = not at all, 5 = fully.\n"
            + "Answer with one digit from 1 to 5.\n"
            + ANSWER_CONTEXT)


def endpoint_messages(req: JudgeRequest) -> list[dict]:
    """Chat messages asking for the three ratings as one JSON object."""
    crit = "\n".join(f"- {c}: {QUESTIONS[c]} 1 = not at all, 5 = fully" for c in CRITERIA)
    shape = ", ".join(f'"{c}": n' for c in CRITERIA)
    return [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": _header(req)
            + f"Rate the explanation on each criterion with an integer from 1 to 5:\n{crit}\n"
            + f"Reply with only a JSON object {{{shape}}} and nothing else."},
    ]
