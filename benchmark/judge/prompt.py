"""The judge prompts, versioned: change a word here => bump JUDGE_PROMPT_VERSION.

Two forms share the same header and definitions: the local judge reads one criterion at a time
and its next token is the rating (so its probability over "1".."5" can be read); an endpoint is
asked for all three ratings at once as a JSON object.
"""

from __future__ import annotations

from benchmark.judge.base import CRITERIA, JudgeRequest

JUDGE_PROMPT_VERSION = "judge-v1"
#: how many of the user's most recent liked titles the judge sees
MAX_LIKED = 5

DEFINITIONS = {
    "usefulness": "does the explanation help this user decide whether to watch or buy the "
                  "recommended item? 1 = no help at all, 5 = gives a clear, relevant reason "
                  "to decide",
    "accuracy": "is what the explanation says factually true of the item, and consistent "
                "with the user's history shown above? 1 = false or contradicts the history, "
                "5 = every claim is true and consistent",
    "clarity": "is the explanation easy to understand? 1 = confusing or ungrammatical, "
               "5 = short, fluent and unambiguous",
}
#: the local prompt ends with this line; the rating digit follows it
ANSWER_CONTEXT = "Rating (1-5):"


def _header(req: JudgeRequest) -> str:
    liked = req.liked_titles[-MAX_LIKED:]
    history = "; ".join(liked) if liked else "(not available)"
    return ("You judge an explanation that a recommender system gave a user for a recommended "
            "item.\n"
            f"Items the user recently liked: {history}\n"
            f"Recommended item: {req.item_title}\n"
            f"Explanation: \"{req.explanation.strip()}\"\n")


def local_prompt(req: JudgeRequest, criterion: str) -> str:
    """One criterion; the model's next tokens are its rating."""
    if criterion not in DEFINITIONS:
        raise KeyError(f"unknown criterion {criterion!r}; known: {', '.join(CRITERIA)}")
    return (_header(req)
            + f"Criterion: {criterion}: {DEFINITIONS[criterion]}\n"
            + "Answer with one digit from 1 to 5.\n"
            + ANSWER_CONTEXT)


def endpoint_messages(req: JudgeRequest) -> list[dict]:
    """Chat messages asking for the three ratings as one JSON object."""
    crit = "\n".join(f"- {c}: {DEFINITIONS[c]}" for c in CRITERIA)
    shape = ", ".join(f'"{c}": n' for c in CRITERIA)
    return [
        {"role": "system", "content": "You are a careful, impartial evaluator of "
                                      "recommendation explanations."},
        {"role": "user", "content": _header(req)
            + f"Rate the explanation on each criterion with an integer from 1 to 5:\n{crit}\n"
            + f"Reply with only a JSON object {{{shape}}} and nothing else."},
    ]
