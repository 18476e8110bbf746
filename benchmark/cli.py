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


def _number(text: str, kind: type, test, allowed: str):
    """argparse type: ``kind(text)`` when ``test`` holds, else a usage error naming the range."""
    try:
        value = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not {allowed}") from None
    if value != value or value in (float("inf"), float("-inf")) or not test(value):
        raise argparse.ArgumentTypeError(f"{text!r} is out of range: must be {allowed}")
    return value


def _nonneg_int(text: str) -> int:
    return _number(text, int, lambda v: v >= 0, "an integer >= 0")


def _seed(text: str) -> int:
    return _number(text, int, lambda v: 0 <= v < 2**32, "an integer in 0 .. 4294967295")


def _positive_int(text: str) -> int:
    return _number(text, int, lambda v: v > 0, "an integer >= 1")


def _nonneg_float(text: str) -> float:
    return _number(text, float, lambda v: v >= 0, "a number >= 0 (0.01 = 1%)")


def _open_unit(text: str) -> float:
    return _number(text, float, lambda v: 0 < v < 1, "a number between 0 and 1 (exclusive)")


def _folder_arg(path: str, option: str) -> Path:
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


def _cmd_run(args: argparse.Namespace) -> int:
    from benchmark.config.suite import load_suite
    from benchmark.report.summary import print_summary
    from benchmark.runner.runner import run_suite

    out = _folder_arg(args.out, "--out")
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
    return _number(text, float, lambda v: v > 0, "a number of seconds > 0")


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


def _emit(text: str, output: str | None) -> None:
    if output:
        target = Path(output)
        if target.is_dir():
            raise BenchError(f"-o {output} is a folder", "pass a file name, e.g. "
                             f"{target / 'report.md'}")
        _folder_arg(str(target.parent), "-o")  # a missing folder is created
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
        print(f"wrote {output}", file=sys.stderr)
    else:
        sys.stdout.write(text)


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
    if args.out_dir:
        files, skipped = write_report(runs, _folder_arg(args.out_dir, "--out-dir"), sig, plots=not args.no_plots,
                                      metrics=tuple(args.metrics or ()))
        for f in files:
            print(f"wrote {f}", file=sys.stderr)
        for why in skipped:
            print(f"figure skipped: {why}", file=sys.stderr)
        return 0
    _emit(report_text(runs, args.format, sig, tuple(args.metrics or ())), args.output)
    return 0


def _cmd_compare(args: argparse.Namespace) -> int:
    from benchmark.report.compare import CompareOptions, compare, render
    from benchmark.report.runs import load_runs

    opts = CompareOptions(args.baseline, tuple(args.metrics or ()), args.test, args.correction,
                          args.confidence, args.resamples, args.seed, args.alpha)
    df = compare(load_runs(args.rundirs), opts)
    _emit(render(df, opts, args.format), args.output)
    return 0


def _cmd_check(args: argparse.Namespace) -> int:
    from benchmark.report.check import CheckOptions, check, render
    from benchmark.report.runs import load_runs

    opts = CheckOptions(args.tolerance, args.alpha, args.test, args.correction,
                        args.efficiency_tolerance, tuple(args.metrics or ()))
    result = check(load_runs(args.baseline), load_runs(args.current), opts)
    _emit(render(result, opts), args.output)
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
    _emit(text, args.output)
    return 0


def _cmd_leaderboard(args: argparse.Namespace) -> int:
    from benchmark.report.site import build_site

    files = build_site([Path(d) for d in args.dirs], _folder_arg(args.out, "--out"),
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
    p.add_argument("--debug", action="store_true", help="show tracebacks and debug logs")
    sub = p.add_subparsers(dest="command", required=True)

    r = sub.add_parser("run", help="run a suite (models x datasets x seeds)")
    r.add_argument("suite", help="suite file, e.g. suites/quick.toml")
    r.add_argument("--out", default="runs", help="results root (default: runs/)")
    r.add_argument("--seeds", type=_seed, nargs="+", help="override the suite's seeds "
                   "(integers >= 0)")
    r.add_argument("--only", nargs="+", metavar="MODEL", help="run only these models (labels)")
    r.add_argument("--no-progress", action="store_true", help="hide progress bars")
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
    rep.add_argument("--format", default="md",
                     choices=["md", "latex", "html", "board-csv", "csv", "json"],
                     help="md/latex/html/board-csv: leaderboard (mean ± std over seeds); "
                     "csv/json: one row per number and seed")
    rep.add_argument("--output", "-o", help="write to this file instead of stdout")
    rep.add_argument("--out-dir", help="write every format, long.csv and the plots here")
    rep.add_argument("--no-plots", action="store_true", help="with --out-dir: skip figures")
    rep.add_argument("--metrics", nargs="+", help="leaderboard columns, e.g. ndcg@10 auc "
                     "(default all)")
    _stats_options(rep, baseline_help="mark (†) models significantly better than this one")
    rep.set_defaults(func=_cmd_report)

    cmp_ = sub.add_parser("compare", help="every model against a baseline: paired tests, CI, "
                          "effect sizes, win/tie/loss")
    cmp_.add_argument("rundirs", nargs="+", help="run folders or roots")
    _stats_options(cmp_, baseline_help=None)
    cmp_.add_argument("--baseline", required=True, metavar="MODEL", help="model label")
    cmp_.add_argument("--metrics", nargs="+", help="e.g. ndcg@10 full/recall@20 (default all)")
    cmp_.add_argument("--confidence", type=_open_unit, default=0.95, help="CI level (0.95)")
    cmp_.add_argument("--resamples", type=_positive_int, default=2000,
                      help="bootstrap resamples (>= 1)")
    cmp_.add_argument("--seed", type=_nonneg_int, default=0,
                      help="seed of bootstrap / permutations")
    cmp_.add_argument("--format", default="md", choices=["md", "csv"])
    cmp_.add_argument("--output", "-o", help="write to this file instead of stdout")
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
    chk.add_argument("--metrics", nargs="+", help="check only these (default all)")
    _stats_options(chk, baseline_help=None)
    chk.add_argument("--output", "-o", help="also write the diff to this file")
    chk.set_defaults(func=_cmd_check)

    rpr = sub.add_parser("reproduce", help="published tables beside ours, with verdicts")
    rpr.add_argument("paper", choices=["explainrec"])
    rpr.add_argument("--table", default="all", help="I, II, III, IV, README (TALLRec) or all")
    rpr.add_argument("rundirs", nargs="*", help="run folders or roots to take our numbers from")
    rpr.add_argument("--confidence", type=_open_unit, default=0.95, help="CI level (0.95)")
    rpr.add_argument("--seed", type=_nonneg_int, default=0, help="bootstrap seed")
    rpr.add_argument("--output", "-o", help="write to this file instead of stdout")
    rpr.set_defaults(func=_cmd_reproduce)

    lb = sub.add_parser("leaderboard", help="static HTML + Markdown page over many result "
                        "folders (e.g. one per commit, oldest first)")
    lb.add_argument("dirs", nargs="+", help="result folders, oldest first")
    lb.add_argument("--out", required=True, help="folder for the page and its plots")
    lb.add_argument("--metrics", nargs="+", help="only these metrics (standings and history)")
    lb.add_argument("--baseline", metavar="MODEL", help="mark (†) significant wins over it")
    lb.set_defaults(func=_cmd_leaderboard)

    from benchmark.judge.cli import add_parser as add_judge_parser

    add_judge_parser(sub)  # recbench judge RUN_DIR: rate stored explanations post hoc
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
