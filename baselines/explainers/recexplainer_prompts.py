"""RecExplainer's prompts and training tasks, built from a target recommender's outputs.

How a user and an item appear in a prompt depends on the alignment variant (Lei et al., 2023):
- behaviour: text only. A user is the titles of their ``history_len`` most recent train+valid
  items; an item is its title (in the item -> title task, where the title is the answer, the
  item is named by its id: "item #42").
- intention: embeddings only. A user is one soft token (the target's user vector through the
  trained projection) and an item is one soft token (the target's item vector).
- hybrid: both (history titles and the user token; title and item token).

Training tasks (answers come from the target model, never from ratings):
- item_title: item -> its title (every item once);
- history: user -> one of their older history items (not among the recent ones shown);
- next_item: user -> the target's top-1 unseen item;
- ranking: user + candidates (some from the target's top 20, the rest random unseen) -> the one
  the target ranks first among them;
- interest: user + item -> "Yes." if the item is in the target's top ``interest_top`` unseen,
  "No." for a random unseen item beyond its top ``interest_far``.
The alignment track (benchmark/tracks/alignment.py) builds its own evaluation instances of the
same tasks for users this model never trained on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from benchmark.llm.segments import merge_segments

INSTRUCTION = ("Below is an instruction that describes a task, paired with an input that provides "
               "further context. Write a response that appropriately completes the request.\n")
RESPONSE = "### Response:\n"
QUESTIONS = {
    "item_title": "What is the title of this movie?",
    "history": "Name a movie this user watched before the recent ones.",
    "next_item": "Which movie will the recommender suggest to this user next?",
    "ranking": "Which of the candidate movies does the recommender rank first for this user?",
    "interest": "Will the recommender suggest this movie to this user? Answer \"Yes.\" or \"No.\".",
    "explain": "Explain why the recommender suggests this movie to this user.",
}
#: the alignment variants: text history, target embeddings as soft tokens, or both
Variant = Literal["behaviour", "intention", "hybrid"]


@dataclass
class PromptBuilder:
    """Segments (text and soft-token indices) for one variant; users' soft indices follow the
    items' (index = n_items + user)."""

    variant: str
    titles: list[str]
    recent: dict[int, list[int]]  # user -> recent history items shown (oldest first)

    @property
    def text(self) -> bool:
        return self.variant in ("behaviour", "hybrid")

    @property
    def soft(self) -> bool:
        return self.variant in ("intention", "hybrid")

    def user(self, u: int) -> list:
        segs: list = []
        if self.soft:
            segs += ["User: ", len(self.titles) + int(u), "\n"]
        if self.text:
            shown = ", ".join(f'"{self.titles[i]}"' for i in self.recent.get(int(u), []))
            segs.append(f"User history: {shown}\n")
        return segs

    def item(self, i: int, named_by_id: bool = False) -> list:
        segs: list = []
        if self.text:
            segs.append(f"item #{int(i)}" if named_by_id else f'"{self.titles[int(i)]}"')
        if self.soft:
            segs += [" " if segs else "", int(i)]
        return [s for s in segs if s != ""]

    def prompt(self, task: str, user: int | None = None, item: int | None = None,
               candidates: np.ndarray | None = None) -> list:
        segs: list = [INSTRUCTION, f"### Instruction:\n{QUESTIONS[task]}\n### Input:\n"]
        if user is not None and user >= 0:
            segs += self.user(user)
        if candidates is not None:
            segs.append("Candidates: ")
            for n, c in enumerate(candidates):
                segs += ([", "] if n else []) + self.item(int(c))
            segs.append("\n")
        if item is not None and item >= 0:
            segs += ["Movie: ", *self.item(item, named_by_id=task == "item_title"), "\n"]
        segs.append(RESPONSE)
        return merge_segments(segs)


@dataclass(frozen=True)
class TrainExample:
    task: str
    prompt: list
    answer: str  # a title, "Yes." or "No."


def training_examples(pb: PromptBuilder, users: np.ndarray, ranked: dict[int, np.ndarray],
                      older: dict[int, np.ndarray], n_items: int, rng: np.random.Generator,
                      rank_candidates: int = 10, interest_top: int = 20,
                      interest_far: int = 100) -> list[TrainExample]:
    """All tasks' examples. ``ranked[u]``: the target's unseen items for u, best first (at least
    ``interest_far`` + 1 long); ``older[u]``: u's history items not shown in the prompt."""
    out = [TrainExample("item_title", pb.prompt("item_title", item=i), pb.titles[i])
           for i in range(n_items)]
    for u in users:
        u = int(u)
        top = ranked[u]
        out.append(TrainExample("next_item", pb.prompt("next_item", user=u),
                                pb.titles[int(top[0])]))
        if len(older.get(u, [])):
            out.append(TrainExample("history", pb.prompt("history", user=u),
                                    pb.titles[int(rng.choice(older[u]))]))
        half = rank_candidates // 2
        cands = np.concatenate([rng.choice(top[:interest_top], half, replace=False),
                                rng.choice(top[interest_top:], rank_candidates - half,
                                           replace=False)])
        cands = cands[rng.permutation(len(cands))]
        best = cands[np.argmin([np.flatnonzero(top == c)[0] for c in cands])]
        out.append(TrainExample("ranking", pb.prompt("ranking", user=u, candidates=cands),
                                pb.titles[int(best)]))
        pos = int(rng.choice(top[:interest_top]))
        neg = int(rng.choice(top[interest_far:]))
        out.append(TrainExample("interest", pb.prompt("interest", user=u, item=pos), "Yes."))
        out.append(TrainExample("interest", pb.prompt("interest", user=u, item=neg), "No."))
    return out
