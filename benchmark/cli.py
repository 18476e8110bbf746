"""The `recbench` command: run suites, list what exists, report results.

User errors (BenchError) print one short message with the fix and exit 2; --debug shows the
traceback. Nothing already written to a run folder is touched by a later failure.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from benchmark.cli_args import (
    AnyOrderParser,
    VersionAction,
    add_common,
    add_out,
    emit,
    folder_arg,
    metric_name,
    number,
)
from benchmark.errors import BenchError


def _nonneg_int(text: str) -> int:
    return number(text, int, lambda v: v >= 0, "an integer >= 0")


def _seed(text: str) -> int:
    return number(text, int, lambda v: 0 <= v < 2**32, "an integer in 0 .. 4294967295")


def _positive_int(text: str) -> int:
    return number(text, int, lambda v: v > 0, "an integer >= 1")


def _nonneg_float(text: str) -> float:
    return number(text, float, lambda v: v >= 0, "a number >= 0 (0.01 = 1%)")


def _open_unit(text: str) -> float:
    return number(text, float, lambda v: 0 < v < 1, "a number between 0 and 1 (exclusive)")


def _cmd_run(args: argparse.Namespace) -> int:
    from benchmark.config.suite import load_suite
    from benchmark.report.summary import print_summary
    from benchmark.runner.runner import run_suite

    out = folder_arg(args.out, "--out")
    suite = load_suite(args.suite)
    from benchmark import net_policy

    for url in args.allow_endpoint or ():  # named here, outside the suite file
        net_policy.allow_endpoint(url)
    for var in args.allow_key_env or ():
        net_policy.allow_key_env(var)
    net_policy.check_suite(suite, args.only)  # before any job: a suite file alone may not
    # send a key, nor users' data off this machine (benchmark/net_policy.py)
    if args.job_timeout is not None:  # the command line overrides the suite's setting
        suite = suite.model_copy(update={"job_timeout_s": args.job_timeout})
    from benchmark.runner.executors import ExecutorSettings

    executor = ExecutorSettings(kind=args.executor, address=args.address,
                                num_cpus=args.num_cpus, max_retries=args.max_retries,
                                isolate=not args.in_process)
    outcome = run_suite(suite, out, seeds=args.seeds, only=args.only,
                        progress=not args.no_progress, executor=executor)
    print_summary(suite, out, outcome)
    return 1 if outcome.failed else 0


def _seconds(text: str) -> float:
    """argparse type of --job-timeout: a finite number of seconds > 0."""
    return number(text, float, lambda v: v > 0, "a number of seconds > 0")


def _cmd_list(args: argparse.Namespace) -> int:
    from benchmark.cli_list import list_sections

    for title, lines in list_sections(args.what).items():
        print(f"{title}:")
        for line in lines:
            print(f"  {line}")
    return 0


def _significance(args: argparse.Namespace):
    from benchmark.report.leaderboard import SignificanceSpec

    if not args.baseline:
        return None
    return SignificanceSpec(args.baseline, args.test, args.correction, args.alpha)


def _cmd_report(args: argparse.Namespace) -> int:
    from benchmark.report.report import report_text, write_report
    from benchmark.report.runs import load_runs

    runs = load_runs(args.rundirs)
    sig = _significance(args)
    if args.site:  # the static site; other outputs only when asked for as well
        from benchmark.report.site import build_report_site

        pages = build_report_site(runs, folder_arg(args.site, "--site"), significance=sig,
                                  metrics=tuple(args.metrics or ()))
        print(f"wrote site: {pages['index.html']} ({len(pages)} pages)", file=sys.stderr)
        if not (args.out or args.output or args.out_dir):
            return 0
    fmt, path, option, folder = _report_target(args)
    if folder and path is not None:  # (a folder target always has a path)
        files, skipped = write_report(runs, folder_arg(path, option), sig,
                                      plots=not args.no_plots, metrics=tuple(args.metrics or ()))
        for f in files:
            print(f"wrote {f}", file=sys.stderr)
        for why in skipped:
            print(f"figure skipped: {why}", file=sys.stderr)
        return 0
    emit(report_text(runs, fmt, sig, tuple(args.metrics or ())), path, option)
    return 0


#: ``report --out FILE`` without --format: the format follows the file's suffix
_SUFFIX_FORMAT = {".md": "md", ".tex": "latex", ".html": "html", ".csv": "csv", ".json": "json"}


def _report_target(args: argparse.Namespace) -> tuple[str, str | None, str, bool]:
    """(format, path, option as typed, whether path is a folder for every format).

    ``--out DIR`` writes every format into DIR; ``--out FILE`` writes one format, named by
    ``--format`` or by the file's suffix. The old ``-o FILE`` and ``--out-dir DIR`` still work.
    """
    if args.out_dir:
        return args.format or "md", args.out_dir, "--out-dir", True
    if args.output:
        return args.format or "md", args.output, "-o", False
    if args.out is None:
        return args.format or "md", None, "--out", False
    suffix = _SUFFIX_FORMAT.get(Path(args.out).suffix.lower())
    if args.format or suffix:
        return args.format or suffix or "md", args.out, "--out", False
    return "md", args.out, "--out", True


def _cmd_compare(args: argparse.Namespace) -> int:
    from benchmark.report.compare import CompareOptions, compare, render
    from benchmark.report.runs import load_runs

    opts = CompareOptions(args.baseline, tuple(args.metrics or ()), args.test, args.correction,
                          args.confidence, args.resamples, args.seed, args.alpha)
    df = compare(load_runs(args.rundirs), opts)
    emit(render(df, opts, args.format), args.out)
    return 0


def _cmd_check(args: argparse.Namespace) -> int:
    from benchmark.report.check import CheckOptions, check, render
    from benchmark.report.runs import load_runs

    opts = CheckOptions(args.tolerance, args.alpha, args.test, args.correction,
                        args.efficiency_tolerance, tuple(args.metrics or ()))
    result = check(load_runs(args.baseline), load_runs(args.current), opts)
    emit(render(result, opts), args.out)
    return result.status


def _cmd_reproduce(args: argparse.Namespace) -> int:
    from benchmark.report.paper import load_tables
    from benchmark.report.reproduce import judge, render
    from benchmark.report.runs import load_runs

    tables = load_tables(args.paper)
    wanted = list(tables) if args.table == "all" else [args.table]
    for t in wanted:
        if t not in tables:
            raise BenchError(f"{args.paper} has no table {t!r}",
                             f"use one of {', '.join(tables)} or all")
    runs = load_runs(args.rundirs) if args.rundirs else []
    chosen = [tables[t] for t in wanted]
    verdicts = [judge(t, runs, confidence=args.confidence, seed=args.seed) for t in chosen]
    text = render(chosen, verdicts, args.confidence)
    if not runs:
        text = ("No run folders given: every verdict is 'not comparable (no run)'. Pass run "
                "folders, e.g. `recbench reproduce explainrec --table I runs/paper`.\n\n" + text)
    emit(text, args.out)
    return 0


def _cmd_leaderboard(args: argparse.Namespace) -> int:
    from benchmark.report.site import build_history_site, build_site

    if not (args.out or args.site):
        raise BenchError("leaderboard needs --out DIR (one page) or --site DIR (the site)",
                         "e.g. recbench leaderboard runs-old runs-new --site site")
    if args.site:
        pages = build_history_site([Path(d) for d in args.dirs],
                                   folder_arg(args.site, "--site"), baseline=args.baseline,
                                   metrics=tuple(args.metrics or ()))
        print(f"wrote site: {pages['index.html']} ({len(pages)} pages)", file=sys.stderr)
        if not args.out:
            return 0
    files = build_site([Path(d) for d in args.dirs], folder_arg(args.out, "--out"),
                       metrics=tuple(args.metrics or ()), baseline=args.baseline)
    for kind, path in files.items():
        print(f"wrote {kind}: {path}", file=sys.stderr)
    return 0


def _stats_options(p: argparse.ArgumentParser, *, baseline_help: str | None) -> None:
    from benchmark.stats.corrections import METHODS
    from benchmark.stats.paired import TESTS

    if baseline_help:
        p.add_argument("--baseline", metavar="MODEL", help=baseline_help)
    p.add_argument("--test", default="ttest", choices=TESTS,
                   help="paired two-sided test over per-user values (default ttest)")
    p.add_argument("--correction", default="holm", choices=METHODS,
                   help="multiple-comparison correction (default holm)")
    p.add_argument("--alpha", type=_open_unit, default=0.05, help="significance level (0.05)")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="recbench", description=__doc__.splitlines()[0])
    p.add_argument("--version", action=VersionAction)
    add_common(p, top=True)
    sub = p.add_subparsers(dest="command", required=True, parser_class=AnyOrderParser)

    r = sub.add_parser("run", help="run a suite (models x datasets x seeds)")
    r.add_argument("suite", help="suite file, e.g. suites/quick.toml")
    r.add_argument("--out", default="runs", help="results root (default: runs/)")
    r.add_argument("--seeds", type=_seed, nargs="+", help="override the suite's seeds "
                   "(integers >= 0)")
    r.add_argument("--only", nargs="+", metavar="MODEL", help="run only these models (labels)")
    r.add_argument("--executor", choices=["local", "ray"], default="local",
                   help="local: jobs one after another, each in a child process (default); "
                        "ray: one Ray task per job (needs the [distributed] extra and --out on "
                        "a shared filesystem)")
    r.add_argument("--job-timeout", type=_seconds, metavar="SECONDS",
                   help="local: stop a job running longer and record it as failed (overrides "
                        "the suite's job_timeout_s; default: none)")
    r.add_argument("--in-process", action="store_true",
                   help="local: run jobs in this process (for debuggers and profilers; a "
                        "crashing model then ends the whole run, no time limit)")
    r.add_argument("--address", help="Ray cluster address (e.g. auto, ray://head:10001); "
                                     "default: start a local Ray instance")
    r.add_argument("--num-cpus", type=_positive_int, help="CPUs of a local Ray instance (default: all)")
    r.add_argument("--max-retries", type=_nonneg_int, default=2,
                   help="Ray: retries of a job whose worker died (default 2)")
    r.add_argument("--allow-endpoint", action="append", metavar="URL",
                   help="let the suite contact this endpoint (its origin), e.g. a judge's or "
                   "Chat-REC's server; a suite file alone may only reach this machine and never "
                   "send a key (also: RECBENCH_ALLOW_ENDPOINTS); repeatable")
    r.add_argument("--allow-key-env", action="append", metavar="VAR",
                   help="let the suite send the key held in environment variable VAR (https or "
                   "this machine only; also: RECBENCH_ALLOW_KEY_ENVS or a RECBENCH_ name); "
                   "repeatable")
    r.set_defaults(func=_cmd_run)

    ls = sub.add_parser("list", help="list models, datasets, tracks and suites")
    ls.add_argument("what", nargs="?", choices=["models", "datasets", "tracks", "suites"])
    ls.set_defaults(func=_cmd_list)

    rep = sub.add_parser("report", help="leaderboard tables and figures from run folders")
    rep.add_argument("rundirs", nargs="+", help="run folders or roots (e.g. runs/quick)")
    rep.add_argument("--format", choices=["md", "latex", "html", "board-csv", "csv", "json"],
                     help="md/latex/html/board-csv: leaderboard (mean ± std over seeds); "
                     "csv/json: one row per number and seed (default md, or the --out file's "
                     "suffix)")
    rep.add_argument("--out", help="a folder: every format, long.csv/json and the plots; a "
                     "file (.md .tex .html .csv .json, or with --format): that format; "
                     "default: stdout")
    rep.add_argument("-o", "--output", help=argparse.SUPPRESS)  # old: one file
    rep.add_argument("--out-dir", help=argparse.SUPPRESS)  # old: every format
    rep.add_argument("--site", metavar="DIR", help="write the static results site here "
                     "(overview, full tables, figures, run pages, compare, paper)")
    rep.add_argument("--no-plots", action="store_true", help="with an --out folder: skip "
                     "figures")
    rep.add_argument("--metrics", nargs="+", type=metric_name,
                     help="leaderboard columns, e.g. ndcg@10 auc (default all)")
    _stats_options(rep, baseline_help="mark (†) models significantly better than this one")
    rep.set_defaults(func=_cmd_report)

    cmp_ = sub.add_parser("compare", help="every model against a baseline: paired tests, CI, "
                          "effect sizes, win/tie/loss")
    cmp_.add_argument("rundirs", nargs="+", help="run folders or roots")
    _stats_options(cmp_, baseline_help=None)
    cmp_.add_argument("--baseline", required=True, metavar="MODEL", help="model label")
    cmp_.add_argument("--metrics", nargs="+", type=metric_name,
                      help="e.g. ndcg@10 full/recall@20 (default all)")
    cmp_.add_argument("--confidence", type=_open_unit, default=0.95, help="CI level (0.95)")
    cmp_.add_argument("--resamples", type=_positive_int, default=2000,
                      help="bootstrap resamples (>= 1)")
    cmp_.add_argument("--seed", type=_nonneg_int, default=0,
                      help="seed of bootstrap / permutations")
    cmp_.add_argument("--format", default="md", choices=["md", "csv"])
    add_out(cmp_, "write to this file instead of stdout")
    cmp_.set_defaults(func=_cmd_compare)

    chk = sub.add_parser("check", help="regression gate: exit 0 ok, 1 regression, "
                         "2 not comparable")
    chk.add_argument("--baseline", nargs="+", required=True, metavar="OLD",
                     help="run folder(s) of the reference commit")
    chk.add_argument("--current", nargs="+", required=True, metavar="NEW",
                     help="run folder(s) of the commit under test")
    chk.add_argument("--tolerance", type=_nonneg_float, default=0.01,
                     help="relative drop a quality metric may show before it can fail (0.01)")
    chk.add_argument("--efficiency-tolerance", type=_nonneg_float, default=0.5,
                     help="relative growth of a cost (time, memory) that fails (0.5 = +50%%)")
    chk.add_argument("--metrics", nargs="+", type=metric_name,
                     help="check only these; they become the gated family (default: the "
                     "headline metrics gated, the rest shown as information)")
    _stats_options(chk, baseline_help=None)
    add_out(chk, "write the diff to this file instead of stdout")
    chk.set_defaults(func=_cmd_check)

    rpr = sub.add_parser("reproduce", help="published tables beside ours, with verdicts")
    rpr.add_argument("paper", choices=["explainrec"])
    rpr.add_argument("--table", default="all", help="I, II, III, IV, README (TALLRec) or all")
    rpr.add_argument("rundirs", nargs="*", help="run folders or roots to take our numbers from")
    rpr.add_argument("--confidence", type=_open_unit, default=0.95, help="CI level (0.95)")
    rpr.add_argument("--seed", type=_nonneg_int, default=0, help="bootstrap seed")
    add_out(rpr, "write to this file instead of stdout")
    rpr.set_defaults(func=_cmd_reproduce)

    lb = sub.add_parser("leaderboard", help="static HTML + Markdown page over many result "
                        "folders (e.g. one per commit, oldest first)")
    lb.add_argument("dirs", nargs="+", help="result folders, oldest first")
    lb.add_argument("--out", help="folder for the page and its plots")
    lb.add_argument("--site", metavar="DIR", help="write the static results site here, with "
                    "the history page")
    lb.add_argument("--metrics", nargs="+", type=metric_name,
                    help="only these metrics (standings and history)")
    lb.add_argument("--baseline", metavar="MODEL", help="mark (†) significant wins over it")
    lb.set_defaults(func=_cmd_leaderboard)

    from benchmark.cli_judge import add_parser as add_judge_parser

    add_judge_parser(sub)  # recbench judge RUN_DIR: rate stored explanations post hoc
    for subparser in sub.choices.values():
        add_common(subparser)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.no_progress:  # one process-wide switch, inherited by every job process
        from benchmark import progress

        progress.disable_all()
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
