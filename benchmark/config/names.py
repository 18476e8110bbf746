"""Names that become folder names (suite, dataset, model names and labels): one rule, used by
the suite and dataset files alike."""

from __future__ import annotations

import re

#: suite, dataset and model names and labels become folder names under --out
NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]*")
NAME_MAX = 100
NAME_FORM = (f"letters, digits and . _ + - only, starting with a letter or digit, without '..', "
             f"at most {NAME_MAX} characters")


def safe_name(value: str) -> str:
    """A name that is one folder name: it can neither leave --out ('../x', 'a/b') nor alias
    another name's folder ('pp/' is 'pp')."""
    if len(value) > NAME_MAX or not NAME_RE.fullmatch(value) or ".." in value:
        raise ValueError(f"{value!r} cannot be a run-folder name; use {NAME_FORM}")
    return value
