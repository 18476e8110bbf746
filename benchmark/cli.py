"""The `recbench` command: run suites, list what exists, report results.

User errors (BenchError) print one short message with the fix and exit 2; --debug shows the
traceback. Nothing already written to a run folder is touched by a later failure.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from benchmark.errors import BenchError


def _cmd_run(args: argparse.Namespace) -> int:
    from benchmark.config.suite import load_suite
    from benchmark.report.summary import print_summary
    from benchmark.runner.runner import run_suite

    suite = load_suite(args.suite)
    out = Path(args.out)
    outcome = run_suite(suite, out, seeds=args.seeds, only=args.only,
                        progress=not args.no_progress)
    print_summary(suite, out, outcome)
    return 1 if outcome.failed else 0


def _cmd_list(args: argparse.Namespace) -> int:
    from benchmark.config.dataset_spec import known_datasets
    from benchmark.registry import MODELS, TRACKS

    root = Path(__file__).resolve().parents[1]
    sections = {
        "models": [f"{k:12s} {v}" for k, v in MODELS.items()],
        "datasets": known_datasets(),
        "tracks": list(TRACKS),
        "suites": sorted(str(p.relative_to(root)) for p in (root / "suites").glob("*.toml")),
    }
    for title, lines in sections.items():
        if args.what in (None, title):
            print(f"{title}:")
            for line in lines:
                print(f"  {line}")
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from benchmark.report.tables import long_table, render

    df = long_table([Path(p) for p in args.rundirs])
    text = render(df, args.format)
    if args.output:
        Path(args.output).write_text(text)
        print(f"wrote {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="recbench", description=__doc__.splitlines()[0])
    p.add_argument("--debug", action="store_true", help="show tracebacks and debug logs")
    sub = p.add_subparsers(dest="command", required=True)

    r = sub.add_parser("run", help="run a suite (models x datasets x seeds)")
    r.add_argument("suite", help="suite file, e.g. suites/quick.toml")
    r.add_argument("--out", default="runs", help="results root (default: runs/)")
    r.add_argument("--seeds", type=int, nargs="+", help="override the suite's seeds")
    r.add_argument("--only", nargs="+", metavar="MODEL", help="run only these models (labels)")
    r.add_argument("--no-progress", action="store_true", help="hide progress bars")
    r.set_defaults(func=_cmd_run)

    ls = sub.add_parser("list", help="list models, datasets, tracks and suites")
    ls.add_argument("what", nargs="?", choices=["models", "datasets", "tracks", "suites"])
    ls.set_defaults(func=_cmd_list)

    rep = sub.add_parser("report", help="tables from run folders")
    rep.add_argument("rundirs", nargs="+", help="run folders or roots (e.g. runs/quick)")
    rep.add_argument("--format", default="md", choices=["md", "csv", "json", "latex"])
    rep.add_argument("--output", "-o", help="write to this file instead of stdout")
    rep.set_defaults(func=_cmd_report)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # our own progress at INFO; other libraries' loggers (RecBole logs to the root logger) only
    # from WARNING, unless --debug
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("recbench").setLevel(logging.DEBUG if args.debug else logging.INFO)
    try:
        return args.func(args)
    except BenchError as err:
        if args.debug:
            raise
        print(f"error: {err.what}", file=sys.stderr)
        if err.fix:
            print(f"  fix: {err.fix}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; complete runs are kept, rerun to resume", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
