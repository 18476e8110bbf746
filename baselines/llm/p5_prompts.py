"""P5's prompt families, written for the harness split (Geng et al., RecSys 2022).

P5 turns every recommendation task into text-to-text: an input prompt and a target text. Five
families are built here, one template each (our own wording of the paper's task families):

- ``rating``: the star rating a user gives an item (target "1".."5");
- ``sequential``: the next item after the user's recent history (target: the item token);
- ``yesno``: direct recommendation as a question (target "yes" for liked items, "no" for
  disliked ones and for items the user never rated);
- ``choose``: direct recommendation among candidates (default 100: the liked target plus
  unseen items, shuffled; target: the chosen item token);
- ``explanation``: why the user would enjoy the item (target: the explanation track's silver
  reference, :class:`benchmark.explain.SilverBuilder`, built from attributes over the user's
  train history, because MovieLens has no review text).

Users and items are atomic id tokens (``<user_12>``, ``<item_345>``), one vocabulary entry each,
as P5's id-based setting (the paper's own ids were split into sub-words; atomic ids avoid the
spurious sharing between e.g. item 12 and item 1234 that the P5 authors later reported). Titles
are not used as item names: a title costs 5-10 tokens, so a 100-candidate prompt would be about
800 tokens, too long for CPU training, and generating a title cannot be checked against the
catalogue without fuzzy matching. The explanation prompt does carry the item's title, genres
and year, because the explanation is about those attributes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from benchmark.data.types import Catalog, Interactions

FAMILIES = ("rating", "sequential", "yesno", "choose", "explanation")
YES, NO = "yes", "no"


def user_token(user: int) -> str:
    return f"<user_{int(user)}>"


def item_token(item: int) -> str:
    return f"<item_{int(item)}>"


def id_tokens(n_users: int, n_items: int) -> list[str]:
    """Every id token the tokenizer must know, users first."""
    return [user_token(u) for u in range(n_users)] + [item_token(i) for i in range(n_items)]


def _items_text(items) -> str:
    return " ".join(item_token(i) for i in items) if len(items) else "nothing yet"


def rating_prompt(user: int, item: int) -> str:
    return f"rating: How many stars from 1 to 5 will {user_token(user)} give {item_token(item)}?"


def sequential_prompt(user: int, history) -> str:
    return (f"sequential: {user_token(user)} watched {_items_text(history)} in this order. "
            f"Which movie will {user_token(user)} watch next?")


def yesno_prompt(user: int, item: int, history) -> str:
    return (f"yesno: {user_token(user)} recently watched {_items_text(history)}. "
            f"Will {user_token(user)} enjoy {item_token(item)}? Answer yes or no.")


def choose_prompt(user: int, candidates) -> str:
    return (f"choose: Pick the movie {user_token(user)} will enjoy most among "
            f"{_items_text(candidates)}.")


def item_description(catalog: Catalog | None, item: int) -> str:
    """'Toy Story (1995; Animation, Comedy)' from the catalogue, or the bare id token."""
    if catalog is None or catalog.items is None or "title" not in catalog.items:
        return item_token(item)
    row = catalog.items.iloc[int(item)]
    extra = []
    year = row.get("year")
    if year is not None and not _isna(year):
        extra.append(str(int(year)))
    genres = row.get("genres")
    if isinstance(genres, list | tuple | np.ndarray) and len(genres):
        extra.append(", ".join(str(g) for g in genres))
    return f"{row['title']} ({'; '.join(extra)})" if extra else str(row["title"])


def explanation_prompt(user: int, item: int, catalog: Catalog | None) -> str:
    return (f"explanation: Explain why {user_token(user)} would enjoy {item_token(item)}, "
            f"{item_description(catalog, item)}.")


def _isna(value) -> bool:
    try:
        return bool(value != value)  # NaN / pd.NA compare unequal to themselves
    except TypeError:  # pd.NA raises on bool()
        return True


@dataclass(frozen=True)
class UserHistory:
    """One user's train interactions in time order (ties by row order)."""

    items: np.ndarray
    ratings: np.ndarray


def user_histories(part: Interactions) -> dict[int, UserHistory]:
    """Every user's rated items and ratings in time order (all ratings, not only positives)."""
    f = part.frame
    order = np.lexsort((np.arange(len(f)), f["timestamp"].to_numpy(), f["user"].to_numpy()))
    users = f["user"].to_numpy()[order]
    items = f["item"].to_numpy()[order].astype(np.int64)
    ratings = f["rating"].to_numpy()[order].astype(np.float64)
    bounds = np.flatnonzero(np.diff(users)) + 1
    out = {}
    for u, it, r in zip(np.split(users, bounds), np.split(items, bounds),
                        np.split(ratings, bounds)):
        if len(u):
            out[int(u[0])] = UserHistory(it, r)
    return out


def silver_targets(train: Interactions) -> tuple[Callable[[int, int], str] | None, str]:
    """Explanation targets (the explanation track's silver references over train history) and
    their label; (None, why) when the catalogue lacks titles or genres (no explanation family)."""
    from benchmark.errors import DataError
    from benchmark.explain import SILVER_VERSION, SilverBuilder

    try:
        if train.catalog is None:
            raise DataError("the split has no catalogue")
        builder = SilverBuilder(train.catalog, train)
    except DataError as err:
        return None, f"none ({err.what})"
    return (lambda user, item: builder.build(user, item).text,
            f"benchmark.explain silver references {SILVER_VERSION}")


@dataclass(frozen=True)
class Sample:
    family: str
    source: str
    target: str


def build_samples(train: Interactions, *, per_family: int, history_len: int,
                  n_candidates: int, seed: int,
                  explain: Callable[[int, int], str] | None = None) -> list[Sample]:
    """About ``per_family`` training samples of each family, drawn from ``train`` only.

    Each sample is anchored at one train interaction (drawn uniformly); the histories in its
    prompt are the user's items rated before it. ``explain(user, item)`` writes the explanation
    targets (None: no explanation family). Families that need a liked anchor (choose,
    explanation) skip the drawn anchors that are not liked.
    """
    rng = np.random.default_rng(seed)
    catalog = train.catalog
    threshold = train.like_threshold
    hist = user_histories(train)
    users = np.fromiter(hist, dtype=np.int64)
    n_items = train.n_items
    lengths = np.array([len(hist[u].items) for u in users])
    # anchors: (user, position) pairs, uniform over train interactions
    cum = np.cumsum(lengths)

    def anchors(n: int, min_pos: int = 0) -> list[tuple[int, int]]:
        draws = rng.integers(0, cum[-1], size=n)
        rows = np.searchsorted(cum, draws, side="right")
        pos = draws - np.concatenate([[0], cum[:-1]])[rows]
        return [(int(users[r]), int(p)) for r, p in zip(rows, pos) if p >= min_pos]

    def unseen(user: int, k: int) -> np.ndarray:
        """Up to ``k`` distinct items the user never rated in train (uniform, no repeats)."""
        pool = np.setdiff1d(np.arange(n_items), hist[user].items)
        return rng.choice(pool, size=min(k, len(pool)), replace=False)

    samples: list[Sample] = []
    for u, p in anchors(per_family):
        h = hist[u]
        samples.append(Sample("rating", rating_prompt(u, h.items[p]), str(int(round(h.ratings[p])))))
    for u, p in anchors(per_family, min_pos=1):
        h = hist[u]
        samples.append(Sample("sequential", sequential_prompt(u, h.items[max(0, p - history_len):p]),
                              item_token(h.items[p])))
    for j, (u, p) in enumerate(anchors(per_family)):
        h = hist[u]
        recent = h.items[max(0, p - history_len):p]
        if j % 2 == 0:  # half the questions about rated items (liked -> yes, disliked -> no)
            item, answer = h.items[p], YES if h.ratings[p] >= threshold else NO
        else:  # half about items the user never rated
            other = unseen(u, 1)
            if not len(other):
                continue
            item, answer = other[0], NO
        samples.append(Sample("yesno", yesno_prompt(u, item, recent), answer))
    for u, p in anchors(per_family):
        h = hist[u]
        if h.ratings[p] < threshold:
            continue
        cands = np.concatenate([[h.items[p]], unseen(u, n_candidates - 1)])
        rng.shuffle(cands)
        samples.append(Sample("choose", choose_prompt(u, cands), item_token(h.items[p])))
    for u, p in anchors(per_family if explain is not None else 0):
        h = hist[u]
        if h.ratings[p] < threshold:
            continue
        assert explain is not None  # no anchors were drawn without it
        samples.append(Sample("explanation", explanation_prompt(u, h.items[p], catalog),
                              explain(u, int(h.items[p]))))
    order = rng.permutation(len(samples))
    return [samples[i] for i in order]
