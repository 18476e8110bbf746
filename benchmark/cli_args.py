"""Argument handling shared by every `recbench` subcommand.

Why a module of its own: the rules here are what a user meets first and they must hold for
every subcommand alike, including those added elsewhere (``recbench judge``):

- options and positionals in any order after the subcommand (``_AnyOrder``), so the README's
  ``recbench reproduce explainrec --table all runs/quick`` works as written;
- ``--debug`` and ``--no-progress`` accepted before or after the subcommand (``add_common``);
- one output option name, ``--out``; the older ``-o``/``--output``/``--out-dir`` stay as hidden
  aliases so existing scripts keep working;
- metric names typed by a user are case-insensitive (``metric_name``);
- ``recbench --version`` prints the package version and, in a git checkout, the commit.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from benchmark.errors import BenchError


class AnyOrderParser(argparse.ArgumentParser):
    """A subcommand parser that takes options and positionals intermixed (argparse's default
    binds an optional ``nargs='*'`` positional too early: ``paper --table I runs`` fails)."""

    _inside = False

    def parse_known_args(self, args=None, namespace=None):
        if self._inside:  # parse_known_intermixed_args calls back into this method
            return super().parse_known_args(args, namespace)
        self._inside = True
        try:
            return self.parse_known_intermixed_args(args, namespace)
        finally:
            self._inside = False


def add_common(parser: argparse.ArgumentParser, *, top: bool = False) -> None:
    """Options every subcommand takes. On subcommands their default is SUPPRESS, so a value
    given before the subcommand is not reset by the subparser's default."""
    default: dict[str, Any] = {} if top else {"default": argparse.SUPPRESS}
    names = {s for a in parser._actions for s in a.option_strings}
    if "--debug" not in names:
        parser.add_argument("--debug", action="store_true", **default,
                            help="show tracebacks and debug logs")
    if "--no-progress" not in names:
        parser.add_argument("--no-progress", action="store_true", **default,
                            help="hide every progress bar (also in job logs)")


def add_out(parser: argparse.ArgumentParser, help_text: str, *, required: bool = False,
            dest: str = "out") -> None:
    """``--out`` plus the old spellings ``-o`` / ``--output`` as hidden aliases."""
    parser.add_argument("--out", dest=dest, required=required, help=help_text)
    parser.add_argument("-o", "--output", dest=dest, help=argparse.SUPPRESS)


def metric_name(text: str) -> str:
    """argparse type of ``--metrics``: names are stored lower case (ndcg@10, full/recall@20),
    so ``NDCG@10`` means the same."""
    return text.strip().lower()


def version_text() -> str:
    """``recbench X.Y.Z`` and the code commit when this is a git checkout."""
    from importlib.metadata import PackageNotFoundError, version

    from benchmark.runner.env import git_commit

    try:
        text = f"recbench {version('explainrec-bench')}"
    except PackageNotFoundError:
        text = "recbench (not installed as a package)"
    commit = git_commit(Path(__file__).resolve().parent)
    return text + (f" (commit {commit})" if commit else "")


class VersionAction(argparse.Action):
    """Like argparse's ``version`` action, but the text (a git call) is made only when asked."""

    def __init__(self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS,
                 help="print the version (and code commit) and exit"):  # noqa: A002
        super().__init__(option_strings, dest, nargs=0, default=default, help=help)

    def __call__(self, parser, namespace, values, option_string=None):
        print(version_text())
        parser.exit()


def number(text: str, kind: type, test, allowed: str):
    """argparse type: ``kind(text)`` when ``test`` holds, else a usage error naming the range."""
    try:
        value = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not {allowed}") from None
    if value != value or value in (float("inf"), float("-inf")) or not test(value):
        raise argparse.ArgumentTypeError(f"{text!r} is out of range: must be {allowed}")
    return value


def folder_arg(path: str, option: str) -> Path:
    """A folder the command will create or fill: no part of it may be an existing file."""
    folder = Path(path)
    for p in (folder, *folder.parents):
        if p.exists():
            if not p.is_dir():
                raise BenchError(f"{option} {path}: {p} is a file, not a folder",
                                 f"pass a folder for {option} (it is created if missing), or "
                                 f"move {p} away")
            break
    return folder


def emit(text: str, output: str | None, option: str = "--out") -> None:
    """Write ``text`` to the file ``output`` (its folder is created), else to stdout."""
    if output:
        target = Path(output)
        if target.is_dir():
            raise BenchError(f"{option} {output} is a folder", "pass a file name, e.g. "
                             f"{target / 'report.md'}")
        folder_arg(str(target.parent), option)  # a missing folder is created
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
        print(f"wrote {output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
