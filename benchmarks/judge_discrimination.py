"""Does the explanation judge tell silver references from scrambled ones and from junk?

On the explanation track's pairs for ml-100k (chronological split of datasets/ml-100k.toml; the
track's seeded draw of one test pair per user, ``ExplanationTrack.pairs``), the judge rates, per
pair and criterion:

(a) silver: the silver reference (``benchmark.explain.silver``) of the pair;
(b) scrambled: the same reference with the item's title and genre words replaced by those of
    another pair's item (a seeded derangement: every pair gets another pair's item);
(c) junk: the reference's own words in a seeded random order (same words, same length, no
    sentence left).

The judge sees what the track's judge step shows: the user's 5 most recent liked titles, the
recommended item's title and genres, and the text. It is never told which text is which.
Printed and written to --out (JSON): per criterion the mean rating of each condition with a 95%
bootstrap interval over pairs, and the paired differences silver - scrambled and silver - junk
with their intervals (``benchmark.stats.bootstrap``, BCa, seeded).

Run (about 5 minutes on one CPU thread for 60 pairs; numbers in docs/judge.md):
    OMP_NUM_THREADS=1 python benchmarks/judge_discrimination.py --out judge_discrimination.json
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmark.judge.base import CRITERIA, JudgeRequest  # noqa: E402
from benchmark.judge.prompt import MAX_LIKED  # noqa: E402

CONDITIONS = ("silver", "scrambled", "junk")
JUNK = "the reference's own words (whitespace tokens, punctuation attached) in a random order"
SCRAMBLE = ("the reference with the item's title and genre words replaced by another pair's "
            "item's title and genres (seeded derangement)")


def draw_pairs(n: int, seed: int, dataset: str = "ml-100k",
               exclude: tuple[int, int] | None = None):
    """(split, builder, users, items): the track's seeded pairs; ``exclude`` = (seed, n) of a
    draw whose users are left out (a tuning set disjoint from the measured one)."""
    from benchmark.explain.silver import SilverBuilder
    from benchmark.runner.prepare import prepare_split
    from benchmark.tracks.explanation import ExplanationSettings, ExplanationTrack

    split, _ = prepare_split(dataset, seed)
    extra = 0 if exclude is None else exclude[1]
    users, items = ExplanationTrack(ExplanationSettings(max_pairs=n + extra), None).pairs(
        split, seed)
    if exclude is not None:
        gone, _ = ExplanationTrack(ExplanationSettings(max_pairs=exclude[1]), None).pairs(
            split, exclude[0])
        keep = ~np.isin(users, gone)
        users, items = users[keep], items[keep]
    users, items = users[:n], items[:n]
    builder = SilverBuilder(split.catalog, split.train.concat(split.valid))
    return split, builder, users, items


def _word(term: str) -> re.Pattern:
    return re.compile(rf"(?<![\w-]){re.escape(term)}(?![\w-])")


def swap_item(text: str, title: str, genres: list[str], new_title: str,
              new_genres: list[str]) -> str:
    """``text`` (a silver "for" text: "<title> ... <genres> film(s), like ...") with the leading
    ``title`` -> ``new_title`` and each genre word before " film" -> one of ``new_genres``
    (genres the original lacks first, so that a shared genre changes when it can). The liked
    titles after it are left alone, even when they contain the title or a genre word."""
    fresh = [g for g in new_genres if g not in genres] + [g for g in new_genres if g in genres]
    rest = text[len(title):] if text.startswith(title) else text
    cut = rest.find(" film")
    head, tail = (rest[:cut], rest[cut:]) if cut >= 0 else (rest, "")
    ordered = sorted(genres, key=len, reverse=True)  # longest first: no word inside another
    for k, g in enumerate(ordered):
        head = _word(g).sub(f"\x00G{k}\x00", head)
    for k, _g in enumerate(ordered):
        head = head.replace(f"\x00G{k}\x00", fresh[k % len(fresh)] if fresh else "unknown")
    for g in set(fresh):  # a partner with fewer genres: "Drama and Drama" -> "Drama"
        head = re.sub(rf"{re.escape(g)}((, | and ){re.escape(g)})+(?![\w-])", g, head)
    return new_title + head + tail if text.startswith(title) else head + tail


def scrambled(refs: list[str], items: np.ndarray, builder, rng: np.random.Generator
              ) -> tuple[list[str], float]:
    """Each reference with another pair's item title and genres; the share whose genre words
    all changed."""
    order = rng.permutation(len(refs))
    partner = np.empty(len(refs), dtype=np.int64)
    partner[order] = np.roll(order, -1)  # a derangement: nobody keeps their own item
    out, changed = [], []
    for r, p in enumerate(partner):
        i, j = int(items[r]), int(items[p])
        out.append(swap_item(refs[r], builder.titles[i], builder.genres[i], builder.titles[j],
                             builder.genres[j]))
        changed.append(not set(builder.genres[j]) <= set(builder.genres[i]))
    return out, float(np.mean(changed))


def junk(refs: list[str], rng: np.random.Generator) -> list[str]:
    """Each reference's words in a random order (the JUNK condition)."""
    return [" ".join(rng.permutation(t.split()).tolist()) for t in refs]


def requests(texts: list[str], users: np.ndarray, items: np.ndarray, builder
             ) -> list[JudgeRequest]:
    """What the track's judge step shows: recent liked titles, item title and genres, text."""
    out = []
    for t, u, i in zip(texts, users, items):
        liked = builder.liked_history(int(u))[-MAX_LIKED:]
        out.append(JudgeRequest(builder.titles[int(i)], t,
                                tuple(builder.titles[h] for h in liked),
                                tuple(builder.genres[int(i)])))
    return out


def _interval(a: np.ndarray, b: np.ndarray | None, resamples: int, seed: int) -> dict:
    from benchmark.stats.bootstrap import mean_diff_ci

    ci = mean_diff_ci(a, np.zeros_like(a) if b is None else b, n_resamples=resamples, seed=seed)
    return {"mean": ci.estimate, "low": ci.low, "high": ci.high, "method": ci.method}


def summarise(ratings: dict[str, np.ndarray], resamples: int, seed: int) -> dict:
    """Means with intervals per condition and criterion; paired differences from silver."""
    means = {cond: {c: _interval(m[:, j], None, resamples, seed) for j, c in enumerate(CRITERIA)}
             for cond, m in ratings.items()}
    diffs = {f"silver - {o}": {c: _interval(ratings["silver"][:, j], ratings[o][:, j],
                                            resamples, seed) for j, c in enumerate(CRITERIA)}
             for o in CONDITIONS[1:]}
    return {"means": means, "differences": diffs}


def verdict(diffs: dict) -> str:
    """Plain words: which differences are above 0 with intervals that exclude 0."""
    parts = []
    for name, per in diffs.items():
        above = [c for c, d in per.items() if d["low"] > 0]
        below = [c for c, d in per.items() if d["high"] < 0]
        parts.append(f"{name}: above 0 for {', '.join(above) or 'no criterion'}"
                     + (f"; below 0 for {', '.join(below)}" if below else ""))
    return "; ".join(parts)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=60, help="pairs (default 60)")
    ap.add_argument("--seed", type=int, default=0, help="pair draw, scramble, junk and "
                    "bootstrap seed (default 0)")
    ap.add_argument("--resamples", type=int, default=2000)
    ap.add_argument("--path", default="", help="judge model (\"\" = the default judge)")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--exclude", metavar="SEED:N", help="leave out the users of the N-pair "
                    "draw of SEED (tune on pairs disjoint from the measured ones)")
    ap.add_argument("--out", type=Path, help="write the JSON here")
    args = ap.parse_args(argv)

    from benchmark.judge.local import LocalLMJudge

    t0 = time.perf_counter()
    exclude = tuple(int(x) for x in args.exclude.split(":")) if args.exclude else None
    split, builder, users, items = draw_pairs(args.n, args.seed, exclude=exclude)
    refs = [builder.build(int(u), int(i)).text for u, i in zip(users, items)]
    rng = np.random.default_rng(args.seed)
    mixed, changed = scrambled(refs, items, builder, rng)
    texts = {"silver": refs, "scrambled": mixed, "junk": junk(refs, rng)}
    judge = LocalLMJudge(args.path, device=args.device, batch_size=args.batch_size, threads=1,
                         progress=True)
    ratings = {}
    for cond in CONDITIONS:
        got = judge.rate(requests(texts[cond], users, items, builder))
        ratings[cond] = np.array([[r.values[c] for c in CRITERIA] for r in got], dtype=float)
    out = {"dataset": "ml-100k", "split_hash": split.hash,
           "n": len(users), "seed": args.seed, "resamples": args.resamples,
           "judge": judge.label(), "scramble": SCRAMBLE, "junk": JUNK,
           "scrambled_genre_changed_share": changed, "exclude": args.exclude,
           **summarise(ratings, args.resamples, args.seed),
           "examples": {cond: texts[cond][:3] for cond in CONDITIONS},
           "ratings": {cond: m.round(4).tolist() for cond, m in ratings.items()}}
    out["verdict"] = verdict(out["differences"])
    out["seconds"] = round(time.perf_counter() - t0, 1)
    print(f"judge {out['judge']['name']} ({out['judge']['prompt_version']}, "
          f"{out['judge']['prompt_form']}), n = {out['n']}, seed {args.seed}, "
          f"{out['seconds']} s")
    for group in ("means", "differences"):
        for name, per in out[group].items():
            cells = "  ".join(f"{c} {d['mean']:.3f} [{d['low']:.3f}, {d['high']:.3f}]"
                              for c, d in per.items())
            print(f"{name:>20}: {cells}")
    print("verdict:", out["verdict"])
    if args.out:
        args.out.write_text(json.dumps(out, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
