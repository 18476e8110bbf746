"""The TALLRec pointwise protocol (Bao et al., RecSys 2023) on MovieLens, rebuilt from raw data.

Built the way TALLRec's own preprocessing (preprocess_movie.py in its repository) builds it:
- ratings grouped by user, users in order of first appearance in the ratings file;
- each user's ratings sorted by timestamp (stable: ties keep file order);
- one sample per rating that has at least 10 earlier ones: history = the previous 10 items with
  their like labels (like = rating > 3), target = this item and its label;
- the last 10,000 samples of that list are kept and cut 8:1:1 in order (train, valid, test), so
  the three parts hold different users.
Titles are written "Title (Year)" as in u.item. The prompt is TALLRec's Alpaca template exactly
as its training code (finetune_rec.py, generate_prompt) produced it, including the two spaces and
the "# noqa: E501" text that its source embeds at the end of the first line. A model answers
these samples through the ``samples`` ability (``benchmark.models.abilities.SampleScorer``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from benchmark.data.dataset import DatasetData
from benchmark.data.types import RawDataset
from benchmark.errors import DataError

HISTORY = 10
KEEP = 10_000
INSTRUCTION = ("Given the user's preference and unpreference, identify whether the user will "
               "like the target movie by answering \"Yes.\" or \"No.\".")
PREAMBLE = ("Below is an instruction that describes a task, paired with an input that provides "
            "further context. Write a response that appropriately completes the request.  "
            "# noqa: E501")
RESPONSE_CONTEXT = "### Response:\n"
ANSWERS = ("Yes.", "No.")


@dataclass(frozen=True)
class TallrecSample:
    """One pointwise question: the user's last 10 rated items (liked or not) and a target."""

    user: str  # raw user id
    history: tuple[str, ...]  # raw item ids, oldest first
    history_liked: tuple[bool, ...]
    item: str  # raw id of the target item
    liked: bool
    timestamp: int


@dataclass
class TallrecData:
    train: list[TallrecSample]
    valid: list[TallrecSample]
    test: list[TallrecSample]
    titles: dict[str, str]  # raw item id -> "Title (Year)"
    n_samples_total: int  # before keeping the last 10,000

    def info(self) -> dict:
        def users(part):
            return len({s.user for s in part})
        return {"protocol": "tallrec", "n_train": len(self.train), "n_valid": len(self.valid),
                "n_test": len(self.test), "test_yes": int(sum(s.liked for s in self.test)),
                "train_users": users(self.train), "valid_users": users(self.valid),
                "test_users": users(self.test), "n_samples_total": self.n_samples_total}


def item_titles(raw: RawDataset) -> dict[str, str]:
    """raw item id -> "Title (Year)" (the u.item form TALLRec's prompts quote)."""
    from benchmark.llm.pretrain import title_with_year

    if raw.items is None or "title" not in raw.items:
        raise DataError(f"{raw.name}: the TALLRec protocol needs item titles",
                        "use a dataset whose items have a 'title' column (MovieLens)")
    years = raw.items["year"] if "year" in raw.items else [None] * len(raw.items)
    return {str(i): title_with_year(t, y)
            for i, t, y in zip(raw.items.index, raw.items["title"], years)}


def build_samples(raw: RawDataset, history: int = HISTORY, keep: int = KEEP) -> TallrecData:
    """The protocol's train/valid/test samples from a raw ratings file (in its file order)."""
    f = raw.interactions
    if f.empty:
        raise DataError(f"{raw.name}: no ratings", "check the dataset files")
    users = f["user"].astype(str).to_numpy()
    items = f["item"].astype(str).to_numpy()
    liked = f["rating"].to_numpy() > 3
    ts = f["timestamp"].to_numpy().astype(np.int64)
    order_users = list(dict.fromkeys(users))  # first appearance
    rows_of: dict[str, list[int]] = {}
    for row, u in enumerate(users):
        rows_of.setdefault(u, []).append(row)
    samples: list[TallrecSample] = []
    for u in order_users:
        rows = np.asarray(rows_of[u])
        rows = rows[np.argsort(ts[rows], kind="stable")]
        for k in range(history, len(rows)):
            h = rows[k - history:k]
            samples.append(TallrecSample(u, tuple(items[h]), tuple(bool(x) for x in liked[h]),
                                         str(items[rows[k]]), bool(liked[rows[k]]),
                                         int(ts[rows[k]])))
    total = len(samples)
    samples = samples[-keep:]
    a, b = int(len(samples) * 0.8), int(len(samples) * 0.9)
    return TallrecData(samples[:a], samples[a:b], samples[b:], item_titles(raw), total)


def prompt_input(sample: TallrecSample, titles: dict[str, str]) -> str:
    """The "### Input:" text: liked titles, disliked titles, the target question."""
    liked = ", ".join(f'"{titles[i]}"' for i, ok in zip(sample.history, sample.history_liked)
                      if ok)
    disliked = ", ".join(f'"{titles[i]}"' for i, ok in zip(sample.history, sample.history_liked)
                         if not ok)
    return (f"User Preference: {liked}\nUser Unpreference: {disliked}\n"
            f"Whether the user will like the target movie \"{titles[sample.item]}\"?")


def prompt(sample: TallrecSample, titles: dict[str, str]) -> str:
    """The full prompt up to and including "### Response:\\n" (the answer follows)."""
    return (f"{PREAMBLE}\n\n### Instruction:\n{INSTRUCTION}\n\n### Input:\n"
            f"{prompt_input(sample, titles)}\n\n{RESPONSE_CONTEXT}")


def answer(sample: TallrecSample) -> str:
    return ANSWERS[0] if sample.liked else ANSWERS[1]


def load_protocol(data: DatasetData) -> TallrecData:
    """Samples of a dataset (as the runner resolved it), from its raw files."""
    return build_samples(data.raw())
