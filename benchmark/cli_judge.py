"""``recbench judge RUN_DIR ...``: rate finished runs' explanations with a local or endpoint judge."""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def _cmd_judge(args: argparse.Namespace) -> int:
    from benchmark.config.base import parse_model
    from benchmark.errors import BenchError
    from benchmark.judge.posthoc import judge_run
    from benchmark.judge.settings import JudgeSettings, make_judge
    from benchmark.runner import store

    common = {"max_pairs": args.max_pairs, "rate_references": args.rate_references}
    if args.endpoint:
        from benchmark.net_policy import allow_endpoint, allow_key_env

        allow_endpoint(args.endpoint, "--endpoint")  # named by the user: net_policy allows it
        if args.api_key_env:
            allow_key_env(args.api_key_env, "--api-key-env")
        given = {"kind": "endpoint", "base_url": args.endpoint, "model": args.model or "",
                 "api_key_env": args.api_key_env or "", **common}
    else:
        if args.model or args.api_key_env:
            raise BenchError("--model and --api-key-env belong to --endpoint",
                             "pass --endpoint URL --model NAME, or only --path")
        given = {"kind": "local", "path": args.path, "device": args.device,
                 "batch_size": args.batch_size, **common}
    settings = parse_model(JudgeSettings, given, "recbench judge options")
    folders = [f for d in args.rundirs for f in store.find_runs(Path(d))]
    if not folders:
        raise BenchError(f"no complete run folder under {', '.join(args.rundirs)}",
                         "pass folders written by recbench run (with metrics.json)")
    judge = make_judge(settings, args.cache_dir, progress=True)
    for folder in folders:
        out = judge_run(folder, judge, settings.max_pairs, settings.rate_references)
        if out is None:
            print(f"{folder}: no explanation samples")
            continue
        means = {p: {m: round(v["value"], 3) for m, v in rows.items()}
                 for p, rows in out["protocols"].items()}
        print(f"{folder}: {out['rated_pairs']} rated -> judge.json {json.dumps(means)}")
    return 0


def add_parser(sub) -> None:
    """Register ``judge`` on the recbench subcommand parser."""
    j = sub.add_parser("judge", help="rate finished runs' explanations (usefulness, accuracy, "
                       "clarity 1-5) with an LLM judge; writes judge.json, keeps metrics")
    j.add_argument("rundirs", nargs="+", help="run folders or roots")
    src = j.add_mutually_exclusive_group(required=True)
    src.add_argument("--path", help="local Hugging Face model folder; \"\" or default = "
                     "SmolLM2-135M-Instruct (a small instruction model, not a validated judge); "
                     "trained-here = the test fixture")
    src.add_argument("--endpoint", metavar="URL", help="OpenAI-compatible base URL, e.g. "
                     "https://host/v1 (POST URL/chat/completions)")
    j.add_argument("--model", help="endpoint: model name")
    j.add_argument("--api-key-env", metavar="VAR", help="endpoint: environment variable that "
                   "holds the API key (the key itself is never passed on the command line)")
    j.add_argument("--max-pairs", type=int, default=100, help="rate at most this many samples "
                   "per run and protocol (default 100)")
    j.add_argument("--rate-references", action="store_true",
                   help="also rate the reference texts (judge calibration)")
    j.add_argument("--device", default="auto", help="local judge: auto, cpu or cuda")
    j.add_argument("--batch-size", type=int, default=16, help="local judge batch size")
    j.add_argument("--cache-dir", type=Path, help="keep the judge's answers in "
                   "CACHE_DIR/judge_cache.sqlite")
    j.set_defaults(func=_cmd_judge)
