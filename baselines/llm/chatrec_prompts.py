"""Chat-REC's prompt (Gao et al., 2023) and the local language model that re-ranks with it.

The prompt holds what Chat-REC gives its LLM: the user's profile (age, gender, occupation from the
catalogue's users frame) and recent history (titles with the user's star ratings). Titles are
written "Title (Year)" in quotes, the form the default backbone saw in its pretraining text.

Chat-REC asks ChatGPT to rewrite the candidate list in its preferred order. A small local model
cannot be trusted to write a list, so the local scorer reads the same preference off the model's
probabilities instead (``mode``):

- ``title_likelihood`` (default): mean log-probability per token of the candidate's quoted title
  after ``Recommended movie:``, i.e. how readily the model would itself name that movie next;
- ``yes_no``: P(Yes) / (P(Yes) + P(No)) after asking whether the user will enjoy the candidate.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from benchmark.data.types import Catalog

MODES = ("title_likelihood", "yes_no")
_GENDER = {"M": "male", "F": "female"}


def quoted_title(catalog: Catalog | None, item: int) -> str:
    """'"Toy Story (1995)"' (the item's title and year, quoted), or '"item 12"' without titles."""
    if catalog is None or catalog.items is None or "title" not in catalog.items:
        return f'"item {int(item)}"'
    row = catalog.items.iloc[int(item)]
    year = row.get("year")
    try:
        return f'"{row["title"]} ({int(year)})"'
    except (TypeError, ValueError):
        return f'"{row["title"]}"'


def profile_text(catalog: Catalog | None, user: int) -> str:
    """'a 24-year-old male technician', or 'a user with no recorded profile'."""
    users = None if catalog is None else catalog.users
    if users is None or not {"age", "gender", "occupation"} <= set(users.columns):
        return "a user with no recorded profile"
    row = users.iloc[int(user)]
    gender = _GENDER.get(str(row["gender"]), str(row["gender"]))
    return f"a {int(row['age'])}-year-old {gender} {row['occupation']}"


def user_prompt(catalog: Catalog | None, user: int, items: Sequence[int] | np.ndarray,
                ratings: Sequence[float] | np.ndarray) -> str:
    """Profile and history (oldest first) of one user, ending where a title may follow."""
    watched = ", ".join(f"{quoted_title(catalog, i)} ({int(round(r))} stars)"
                        for i, r in zip(items, ratings)) or "nothing yet"
    return (f"The user is {profile_text(catalog, user)}.\n"
            f"Movies the user rated recently: {watched}.\n"
            "Recommended movie:")


def yes_no_prompt(base: str, candidate: str) -> str:
    return f"{base} {candidate}\nWill the user enjoy it? Answer:"


def explanation_prompt(base: str, candidate: str) -> str:
    return f"{base} {candidate}\nWhy this movie suits the user:"


def explanation_request(base: str, candidate: str) -> str:
    """The same question as a user's turn for an instruction model (its chat template)."""
    profile = base.removesuffix("Recommended movie:").strip()
    return (f"{profile}\nWe recommend the movie {candidate} to this user. In one or two "
            "sentences, explain why this movie suits the user, naming what it shares with the "
            "movies they rated highly.")


class LocalLMScorer:
    """Scores candidates for one user prompt with a local causal LM (cached by weights + prompt)."""

    def __init__(self, bb: Any, mode: str = "title_likelihood", cache: Any = None,
                 batch_size: int = 32) -> None:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
        self.bb, self.mode, self.cache, self.batch_size = bb, mode, cache, batch_size
        self._labels = None

    def describe(self) -> dict:
        from benchmark.llm import describe_backbone

        return {"kind": "local", "mode": self.mode, "backbone": describe_backbone(self.bb)}

    def scores(self, prompt: str, candidates: Sequence[str]) -> np.ndarray:
        """One preference value in (0, 1] per candidate text (higher = preferred)."""
        if self.mode == "yes_no":
            from benchmark.llm import find_label_tokens, yes_probability

            if self._labels is None:
                self._labels = find_label_tokens(self.bb.tokenizer, " Yes", " No",
                                                 context="Answer:")
            prompts = [yes_no_prompt(prompt, c) for c in candidates]
            return yes_probability(self.bb, prompts, self._labels, self.batch_size, self.cache)
        return np.exp(self._mean_logprobs(prompt, list(candidates)))

    def _mean_logprobs(self, prompt: str, candidates: list[str]) -> np.ndarray:
        """Mean per-token log P(" <candidate>" | prompt), one batch of (prompt + candidate) rows."""
        import torch

        from benchmark.llm.lora import adapter_sha256
        from benchmark.llm.scoring import causal_forward

        out = np.full(len(candidates), np.nan)
        texts = [f"{prompt} {c}" for c in candidates]
        adapter = adapter_sha256(self.bb) if self.cache is not None else ""
        if self.cache is not None:
            got = self.cache.get_many(self.bb.weights_sha256, adapter, "mean_title_lp", texts)
            out = np.array([np.nan if v is None else v for v in got], dtype=np.float64)
        todo = np.flatnonzero(np.isnan(out))
        tok = self.bb.tokenizer
        base = tok(prompt)["input_ids"]
        for start in range(0, len(todo), self.batch_size):
            idx = todo[start:start + self.batch_size]
            rows, lens = [], []
            for i in idx:
                full = tok(texts[i])["input_ids"]
                # the candidate's tokens are what follows the prompt's own tokens
                n_cont = max(1, len(full) - len(base))
                rows.append(full)
                lens.append(n_cont)
            keep = max(lens) + 1
            with torch.inference_mode():
                logits = causal_forward(self.bb, rows, keep)
            logp = torch.log_softmax(logits, -1)
            for r, (i, n) in enumerate(zip(idx, lens)):
                target = torch.tensor(rows[r][-n:], device=logp.device)
                pred = logp[r, keep - n - 1: keep - 1, :]
                out[i] = float(pred.gather(-1, target[:, None]).mean())
            if self.cache is not None:
                self.cache.put_many(self.bb.weights_sha256, adapter, "mean_title_lp",
                                    [texts[i] for i in idx], [float(out[i]) for i in idx])
        return out
