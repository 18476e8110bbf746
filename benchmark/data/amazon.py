"""Amazon review data loader: the 2014 (McAuley et al.) and 2018 (Ni et al.) releases, as shipped.

Reviews are JSON lines in both releases. The 2014 *metadata* is not JSON: each line is a Python
dict literal (single quotes), so it is parsed with ``ast.literal_eval``, which accepts literals only
and never runs code. Files may be plain or gzipped (detected from the bytes, not the name).
A few broken lines are skipped with a warning (the count is kept in ``frame.attrs``); more than 1%
broken means a bad download or the wrong file, and is an error. A review whose rating parses but
is not a finite number inside the rating scale (1-5, or ``rating_scale`` of the dataset file) is
an error naming its line: it is data, not a broken line, and dropping it would change results.
"""

from __future__ import annotations

import ast
import gzip
import json
import math
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from benchmark.data.ratings_check import RATING_SCALES, scale_hint
from benchmark.data.types import RawDataset
from benchmark.errors import DataError

Version = Literal["2014", "2018"]
MAX_BAD_FRACTION = 0.01
REVIEW_KEYS = ("reviewerID", "asin", "overall", "unixReviewTime")

_HELP = {
    "2014": "the 2014 release (McAuley et al., https://jmcauley.ucsd.edu/data/amazon/), e.g. "
            "http://snap.stanford.edu/data/amazon/productGraph/categoryFiles/"
            "reviews_Movies_and_TV_5.json.gz and .../categoryFiles/meta_Movies_and_TV.json.gz",
    "2018": "the 2018 release (Ni et al., https://nijianmo.github.io/amazon/index.html), e.g. "
            "https://datarepo.eng.ucsd.edu/mcauley_group/data/amazon_v2/categoryFilesSmall/"
            "Movies_and_TV_5.json.gz and .../amazon_v2/metaFiles2/meta_Movies_and_TV.json.gz",
}


def parse_record(line: str, where: str = "<line>") -> dict:
    """One line as a dict: strict JSON, else a Python literal (2014 metadata). Never evaluates code."""
    try:
        value = json.loads(line)
    except ValueError:
        try:
            value = ast.literal_eval(line.strip())
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError) as exc:
            raise DataError(
                f"{where}: not a JSON object or Python dict literal "
                f"({type(exc).__name__}: {str(exc)[:80]}): {line.strip()[:80]!r}",
                "the file is corrupted or not Amazon review data; re-download it",
            ) from None
    if not isinstance(value, dict):
        raise DataError(f"{where}: expected a dict, got {type(value).__name__}",
                        "the file is not Amazon review data (one object per line)")
    return value


def _open(path: Path):
    with open(path, "rb") as f:
        gz = f.read(2) == b"\x1f\x8b"
    return gzip.open(path, "rt", encoding="utf-8") if gz else open(path, encoding="utf-8")


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    """(1-based line number, text) of non-blank lines; read errors become DataError."""
    try:
        with _open(path) as f:
            for no, line in enumerate(f, 1):
                if line.strip():
                    yield no, line
    except (OSError, EOFError, UnicodeDecodeError) as exc:  # truncated .gz, bad bytes
        raise DataError(f"cannot read {path}: {type(exc).__name__}: {exc}",
                        "the download is incomplete or corrupted; download it again") from None


@dataclass
class _Tally:
    """Counts broken lines so a bad file fails with the first broken line's number."""

    path: Path
    total: int = 0
    bad: int = 0
    first_bad: int = 0
    reason: str = ""

    def skip(self, no: int, reason: str) -> None:
        self.bad += 1
        if not self.first_bad:
            self.first_bad, self.reason = no, reason

    def check(self) -> None:
        if self.total == 0:
            raise DataError(f"{self.path} is empty (no records)",
                            "download the file again; it should hold one JSON object per line")
        where = f"{self.path}: {self.bad} of {self.total} lines unusable, first at line " \
                f"{self.first_bad} ({self.reason})"
        if self.bad > MAX_BAD_FRACTION * self.total:
            raise DataError(where, "check that this is the right file (reviews vs metadata) and "
                                   "re-download it if it is truncated or corrupted")
        if self.bad:
            warnings.warn(f"skipped lines: {where}", stacklevel=3)


def _records(path: Path, required: tuple[str, ...], tally: _Tally) -> Iterator[tuple[int, dict]]:
    for no, line in _lines(path):
        tally.total += 1
        where = f"{path}:{no}"
        try:
            rec = parse_record(line, where)
        except DataError as exc:
            tally.skip(no, exc.what[len(where) + 2:][:120])
            continue
        missing = [k for k in required if rec.get(k) in (None, "")]
        if missing:
            tally.skip(no, f"missing {', '.join(missing)}")
            continue
        yield no, rec


def detect_version(reviews_path: Path, meta_path: Path | None = None) -> Version:
    """2014 or 2018 from the first record's keys: 2014 reviews carry ``helpful``, 2018 ``verified``."""
    for path, old, new in ((reviews_path, {"helpful"}, {"verified", "vote", "style", "image"}),
                           (meta_path, {"categories", "imUrl", "related", "salesRank"},
                            {"category", "imageURL", "imageURLHighRes", "also_buy", "main_cat"})):
        if path is None:
            continue
        for _, rec in _records(path, (), _Tally(path)):  # the first readable record decides
            keys = set(rec)
            if keys & old and not keys & new:
                return "2014"
            if keys & new and not keys & old:
                return "2018"
            break
    raise DataError(f"cannot tell whether {reviews_path} is the 2014 or the 2018 Amazon release",
                    'pass version="2014" or version="2018"')


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return "\n".join(str(v).strip() for v in value if str(v).strip())
    return str(value).strip()


def _flat(value) -> list[str]:
    """Categories as one flat list, order kept, duplicates dropped (2014 nests lists of paths)."""
    out: list[str] = []
    stack = [value] if isinstance(value, str) else list(value or [])[::-1]
    while stack:
        v = stack.pop()
        if isinstance(v, list | tuple):
            stack.extend(list(v)[::-1])
        elif v not in (None, "") and str(v) not in out:
            out.append(str(v))
    return out


def _first(*values) -> str | None:
    for v in values:
        if isinstance(v, list | tuple):
            v = next((x for x in v if x), None)
        if v:
            return str(v)
    return None


_ITEM_FIELDS: dict[str, Callable[[dict], dict]] = {
    "2014": lambda r: {"title": r.get("title") or None, "description": _text(r.get("description")),
                       "categories": _flat(r.get("categories")), "brand": r.get("brand") or None,
                       "image_url": _first(r.get("imUrl"))},
    "2018": lambda r: {"title": r.get("title") or None, "description": _text(r.get("description")),
                       "categories": _flat(r.get("category")), "brand": r.get("brand") or None,
                       "image_url": _first(r.get("imageURLHighRes"), r.get("imageURL"))},
}


def _need(path: Path | str, role: str, version: Version | None) -> Path:
    path = Path(path).expanduser()
    if not path.is_file():
        where = _HELP[version] if version else f"{_HELP['2018']}; or {_HELP['2014']}"
        raise DataError(f"Amazon {role} file not found: {path}",
                        f"download {where}; put the file at {path} (gzipped or not)")
    return path


def load_amazon(reviews_path: Path | str, meta_path: Path | str | None = None, *,
                version: Version | None = None, name: str | None = None,
                rating_scale: tuple[float, float] | None = None) -> RawDataset:
    """Reviews (+ optional metadata) as a RawDataset; review text kept for explanation references.

    interactions: user (reviewerID), item (asin), rating (overall), timestamp (unixReviewTime),
    review (reviewText, "" if absent), summary. items: title, description, categories,
    brand, image_url, indexed by asin (first record wins on duplicate asins).
    """
    if version not in (None, "2014", "2018"):
        raise DataError(f"unknown Amazon release {version!r}", 'use version="2014" or "2018"')
    reviews = _need(reviews_path, "reviews", version)
    meta = _need(meta_path, "metadata", version) if meta_path is not None else None

    cols: dict[str, list] = {k: [] for k in ("user", "item", "rating", "timestamp", "review",
                                             "summary")}
    tally = _Tally(reviews)
    lo, hi = rating_scale or RATING_SCALES["amazon"]
    for no, r in _records(reviews, REVIEW_KEYS, tally):
        try:
            rating, ts = float(r["overall"]), int(r["unixReviewTime"])
        except (TypeError, ValueError, OverflowError):
            tally.skip(no, "overall / unixReviewTime not a number")
            continue
        if not (math.isfinite(rating) and lo <= rating <= hi):
            raise DataError(f"{reviews}:{no}: overall = {r['overall']!r} is not a rating in "
                            f"{lo:g}-{hi:g}", f"{scale_hint((lo, hi))}; correct or delete line "
                            f"{no}")
        cols["user"].append(str(r["reviewerID"]))
        cols["item"].append(str(r["asin"]))
        cols["rating"].append(rating)
        cols["timestamp"].append(ts)
        cols["review"].append(_text(r.get("reviewText")))
        cols["summary"].append(_text(r.get("summary")))
    tally.check()
    inter = pd.DataFrame(cols)
    inter["rating"] = inter["rating"].astype(np.float32)
    inter["timestamp"] = inter["timestamp"].astype(np.int64)
    inter.attrs["skipped_lines"] = tally.bad
    version = version or detect_version(reviews, meta)  # after the checks: empty file first

    items = None
    if meta is not None:
        rows, ids, mtally = [], [], _Tally(meta)
        for _, rec in _records(meta, ("asin",), mtally):
            ids.append(str(rec["asin"]))
            rows.append(_ITEM_FIELDS[version](rec))
        mtally.check()
        items = pd.DataFrame(rows, index=pd.Index(ids, name="item", dtype=object),
                             columns=["title", "description", "categories", "brand", "image_url"])
        items = items[~items.index.duplicated(keep="first")]
        items.attrs["skipped_lines"] = mtally.bad

    stem = reviews.name.split(".")[0]
    source = str(reviews) if meta is None else f"{reviews} + {meta}"
    return RawDataset(name or f"amazon{version}-{stem}", inter, items, None, source=source)
