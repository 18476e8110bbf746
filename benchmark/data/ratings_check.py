"""Checks on a user's ratings file, so a bad file is an error naming the file, line and fix.

Why: loaders parse with pandas' fast C parser, whose errors ("could not convert string to float")
name neither the file nor the line, and which happily returns inf, negative or empty data. The
rule every delimited ratings file follows:

- not binary (a gzip / zip archive or NUL bytes is refused: unpack it first);
- at least one rating row (a header alone is "no rows", not an empty k-core);
- every row has user, item, rating and timestamp; the rating is a finite number inside the
  dataset's rating scale (``RATING_SCALES`` by loader, or ``rating_scale = [lo, hi]`` in the
  dataset's TOML file), the timestamp an integer (Unix seconds).

The good path costs one vectorised check; only a file that fails is scanned line by line
(``locate``) to name the first offending line and column.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from benchmark.data.loaders import LoaderKind
from benchmark.errors import DataError

#: the published rating scale of each loader kind (inclusive); a dataset file may set another
RATING_SCALES: dict[LoaderKind, tuple[float, float]] = {
    "ml-100k": (1.0, 5.0), "ml-1m": (1.0, 5.0), "ml-25m": (0.5, 5.0), "amazon": (1.0, 5.0),
}
_PARSE_ERRORS = (ValueError, OverflowError, KeyError, TypeError, pd.errors.ParserError,
                 UnicodeDecodeError)


@dataclass(frozen=True)
class RatingsFormat:
    """How one kind of ratings file is laid out (enough to re-read it line by line)."""

    layout: str  # shown to the user, e.g. "user::item::rating::timestamp"
    sep: str
    #: column names of user, item, rating, timestamp in the header; None = no header (positions)
    header: tuple[str, str, str, str] | None = None
    encoding: str = "latin-1"
    #: whether the loader reads timestamps as floats (RecBole's atomic files) or as integers
    float_timestamps: bool = False
    #: whether user and item ids must be integers (MovieLens-25M's CSV is read as int32 ids)
    int_ids: bool = False


ROLES = ("user", "item", "rating", "timestamp")


def scale_hint(scale: tuple[float, float]) -> str:
    return (f"ratings must be finite numbers in {scale[0]:g}-{scale[1]:g} (for another scale set "
            "rating_scale = [lo, hi] in the dataset's TOML file)")


def check_not_binary(path: Path, what: str) -> None:
    """Refuse archives and binary files before the text parser turns them into nonsense."""
    with open(path, "rb") as fh:
        head = fh.read(8192)
    kind = ("a gzip archive" if head[:2] == b"\x1f\x8b" else
            "a zip archive" if head[:4] == b"PK\x03\x04" else
            "binary (it holds NUL bytes)" if b"\x00" in head else None)
    if kind:
        raise DataError(f"{path} is {kind}, not a text {what} file",
                        "unpack it (gunzip / unzip) and point the dataset at the text file")


def _fields(line: str, sep: str) -> list[str]:
    return line.rstrip("\r\n").split(sep)


def locate(path: Path, fmt: RatingsFormat, scale: tuple[float, float]) -> tuple[int, str] | None:
    """(1-based line number, what is wrong) of the first bad line, or None if none is found."""
    positions: tuple[int, ...] = (0, 1, 2, 3)
    with open(path, encoding=fmt.encoding, errors="replace", newline="") as fh:
        seen_header = fmt.header is None
        for no, line in enumerate(fh, 1):
            if not line.strip():
                continue
            fields = _fields(line, fmt.sep)
            if not seen_header and fmt.header is not None:  # (not seen: there is a header)
                names = [f.strip().split(":", 1)[0] for f in fields]
                missing = [c for c in fmt.header if c not in names]
                if missing:
                    return no, (f"the header has no column {', '.join(map(repr, missing))} "
                                f"(found {', '.join(map(repr, names))})")
                positions = tuple(names.index(c) for c in fmt.header)
                seen_header = True
                continue
            if len(fields) <= max(positions):
                return no, (f"{len(fields)} field(s), expected {max(positions) + 1} "
                            f"({fmt.layout})")
            user, item, rating, ts = (fields[p].strip() for p in positions)
            for role, value in (("user", user), ("item", item)):
                col = f"column {positions[ROLES.index(role)] + 1} ({role} id)"
                if not value:
                    return no, f"{col} is empty"
                if fmt.int_ids and not value.lstrip("-").isdigit():
                    return no, f"{col} is {value!r}, not an integer id"
            col = f"column {positions[2] + 1} (rating)"
            try:
                r = float(rating)
            except ValueError:
                return no, f"{col} is {rating!r}, not a number"
            if not math.isfinite(r):
                return no, f"{col} is {rating!r}, not a finite number"
            if not scale[0] <= r <= scale[1]:
                return no, f"{col} is {rating}, outside the rating scale {scale[0]:g}-{scale[1]:g}"
            try:
                if not math.isfinite(float(ts) if fmt.float_timestamps else int(ts)):
                    raise ValueError(ts)
            except (ValueError, OverflowError):
                return no, (f"column {positions[3] + 1} (timestamp) is {ts!r}, not an integer "
                            "(Unix seconds)")
    return None


def _fix(fmt: RatingsFormat, scale: tuple[float, float], line: int | None = None) -> str:
    fix = f"each line must be {fmt.layout}; {scale_hint(scale)}, timestamps integers"
    return f"{fix}; correct or delete line {line}" if line else fix


def diagnose(path: Path, fmt: RatingsFormat, scale: tuple[float, float],
             cause: str = "", extra: str = "") -> DataError:
    """The error for a file that failed to parse or check: its first bad line if one is found."""
    found = locate(path, fmt, scale)
    if found:
        no, what = found
        return DataError(f"{path}:{no}: {what}{extra}", _fix(fmt, scale, no))
    return DataError(f"{path}: cannot be read as {fmt.layout}" + (f" ({cause})" if cause else "")
                     + extra, _fix(fmt, scale))


def _has_text(path: Path, fmt: RatingsFormat) -> bool:
    with open(path, encoding=fmt.encoding, errors="replace") as fh:
        return any(line.strip() for line in fh)


def read_ratings(path: Path, fmt: RatingsFormat, scale: tuple[float, float],
                 parse: Callable[[], pd.DataFrame]) -> pd.DataFrame:
    """``parse()`` (a frame with columns user, item, rating, timestamp), checked by the rule above.

    Any parser error or failed check becomes a DataError naming the file, the line and the fix.
    """
    path = Path(path)
    check_not_binary(path, "ratings")
    try:
        frame = parse()
    except pd.errors.EmptyDataError:
        frame = None
    except _PARSE_ERRORS as err:
        raise diagnose(path, fmt, scale, f"{type(err).__name__}: {str(err)[:120]}") from None
    if frame is None or len(frame) == 0:
        if frame is not None and fmt.header is None and _has_text(path, fmt):
            raise diagnose(path, fmt, scale)
        what = "has a header but no rating rows" if fmt.header and frame is not None else \
            "is empty (no rating rows)"
        raise DataError(f"{path} {what}",
                        f"fill it with one rating per line ({fmt.layout}), or point the dataset "
                        "at the right file")
    for role in ("user", "item"):
        ids = frame[role]
        if ids.dtype == object and (ids == "").any():
            raise diagnose(path, fmt, scale, f"an empty {role} id")
    r = frame["rating"].to_numpy()
    bad = ~np.isfinite(r) | (r < scale[0]) | (r > scale[1])
    if bad.any():
        first = frame.iloc[int(np.argmax(bad))]
        raise diagnose(path, fmt, scale, f"first: user {first['user']!r}, item "
                       f"{first['item']!r}, rating {first['rating']}",
                       f" ({int(bad.sum())} rating(s) outside {scale[0]:g}-{scale[1]:g} or not "
                       "finite)")
    return frame
