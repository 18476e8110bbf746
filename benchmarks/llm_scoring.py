"""Yes/No scoring speed on the TALLRec protocol with the real default backbone, four ways.

Run: .venv/bin/python benchmarks/llm_scoring.py --n 200 --threads 1

On the first ``--n`` test prompts of the TALLRec protocol (ml-100k), with SmolLM2-135M-Instruct
and TALLRec's first-token Yes/No labels, in one process and on the same prompts:

  (a) naive: batches in prompt order, every full prompt left padded, one forward each, no prefix
      reuse and no length bucketing (what ``yes_probability`` did before);
  (b) ``yes_probability`` without a response cache (length buckets + shared-prefix KV reuse);
  (c) ``yes_probability`` with a fresh ``ResponseCache`` (computes and writes every answer);
  (d) (c) again on that cache (reads only).

Prints seconds and prompts/s of each, the max |score difference| between (a) and (b), and writes
the numbers to ``--out`` as JSON (machine, versions, token statistics included). This is a
measurement, not a test; but it exits 1 if (a) and (b) disagree by more than 1e-4.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _naive_scores(bb: Any, rows: list[list[int]], labels: Any, batch_size: int) -> np.ndarray:
    """The reference: full left-padded prompts, batches in prompt order, no prefix cache."""
    import torch

    from benchmark.llm.scoring import causal_forward

    y, n = labels.yes_ids[0], labels.no_ids[0]
    out = np.empty(len(rows))
    with torch.inference_mode():
        for start in range(0, len(rows), batch_size):
            logits = causal_forward(bb, rows[start:start + batch_size], 1)[:, -1, :]
            diff = (logits[:, n] - logits[:, y]).cpu().numpy().astype(np.float64)
            out[start:start + len(diff)] = 1.0 / (1.0 + np.exp(diff))
    return out


def _padding(lengths: list[int], batches: list[list[int]]) -> float:
    """Share of the token slots of these batches that are padding."""
    slots = sum(len(b) * max(lengths[i] for i in b) for b in batches)
    return 1.0 - sum(lengths) / slots


def _git_commit() -> str:
    """Short HEAD hash, "+uncommitted" when the working tree differs from it."""
    def git(*a: str) -> str:
        return subprocess.run(["git", *a], cwd=ROOT, text=True, capture_output=True,
                              check=True).stdout.strip()
    try:
        head = git("rev-parse", "--short", "HEAD")
        return head + ("+uncommitted" if git("status", "--porcelain", "--untracked-files=no")
                       else "")
    except (OSError, subprocess.CalledProcessError):
        return ""


def _timed(fn: Any) -> tuple[Any, float]:
    t0 = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=1000, help="test prompts (of 1,000)")
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--device", default="cpu", help="cpu (default), cuda or auto")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/llm_scoring.json")
    args = ap.parse_args(argv)

    import torch
    import transformers

    from benchmark.llm import (
        LabelTokens,
        ResponseCache,
        describe_backbone,
        find_label_tokens,
        load_backbone,
        resolve_backbone,
        yes_probability,
    )
    from benchmark.llm.prefix import length_buckets, shared_prefix_length
    from benchmark.measure import load_average
    from benchmark.protocols import tallrec as proto
    from benchmark.runner.prepare import resolve_dataset

    torch.set_num_threads(args.threads)
    data = proto.load_protocol(resolve_dataset("ml-100k"))
    prompts = [proto.prompt(s, data.titles) for s in data.test[:args.n]]
    bb = load_backbone(resolve_backbone("default"), kind="causal", device=args.device)
    full = find_label_tokens(bb.tokenizer, *proto.ANSWERS, context=proto.RESPONSE_CONTEXT)
    labels = LabelTokens(full.yes_ids[:1], full.no_ids[:1])  # as TALLRec scores them

    rows = [list(r) for r in bb.tokenizer(prompts)["input_ids"]]
    lengths = [len(r) for r in rows]
    in_order = [list(range(s, min(s + args.batch_size, len(rows))))
                for s in range(0, len(rows), args.batch_size)]
    tokens = {"mean_prompt_tokens": float(np.mean(lengths)), "min_prompt_tokens": min(lengths),
              "max_prompt_tokens": max(lengths), "shared_prefix_tokens":
              shared_prefix_length(rows),
              "padding_share_in_order": _padding(lengths, in_order),
              "padding_share_bucketed": _padding(lengths, length_buckets(lengths,
                                                                         args.batch_size))}
    _naive_scores(bb, rows[:2], labels, 2)  # warm-up: first-call allocations, not measured

    print(f"{len(prompts)} TALLRec test prompts, {args.threads} thread(s), batch "
          f"{args.batch_size}, {bb.device}; mean {tokens['mean_prompt_tokens']:.0f} tokens, "
          f"shared prefix {tokens['shared_prefix_tokens']}", flush=True)
    load_start = load_average()
    naive, t_a = _timed(lambda: _naive_scores(bb, rows, labels, args.batch_size))
    print(f"(a) naive done in {t_a:.1f} s", flush=True)
    fast, t_b = _timed(lambda: yes_probability(bb, prompts, labels, args.batch_size))
    print(f"(b) yes_probability done in {t_b:.1f} s", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        cache = ResponseCache(Path(tmp) / "responses.sqlite")
        cached, t_c = _timed(lambda: yes_probability(bb, prompts, labels, args.batch_size,
                                                     cache=cache))
        again, t_d = _timed(lambda: yes_probability(bb, prompts, labels, args.batch_size,
                                                    cache=cache))
    diff_ab = float(np.abs(naive - fast).max())
    runs = {"a_naive": t_a, "b_suite_no_cache": t_b, "c_suite_fresh_cache": t_c,
            "d_suite_cached_rerun": t_d}
    result = {
        "date": dt.date.today().isoformat(), "commit": _git_commit(), "n": len(prompts),
        "threads": args.threads, "batch_size": args.batch_size, "device": bb.device,
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                    "processor": platform.processor() or platform.machine(),
                    # 1/5/15-minute load averages before (a) and after (d): whether the
                    # machine was shared while measuring
                    "load_average": {"start": load_start, "end": load_average()}},
        "versions": {"torch": torch.__version__, "transformers": transformers.__version__,
                     "python": platform.python_version()},
        "backbone": {k: v for k, v in describe_backbone(bb).items() if k != "path"},
        "labels": {"yes": list(labels.yes_ids), "no": list(labels.no_ids)},
        "tokens": tokens,
        "seconds": runs,
        "prompts_per_second": {k: len(prompts) / v if v > 0 else None for k, v in runs.items()},
        "speedup_b_over_a": t_a / t_b,
        "max_abs_diff_a_b": diff_ab,
        "max_abs_diff_b_c": float(np.abs(fast - cached).max()),
        "cached_rerun_identical": bool(np.array_equal(cached, again)),
    }
    print(f"\n{'run':<28}{'seconds':>10}{'prompts/s':>12}")
    for k, v in runs.items():
        print(f"{k:<28}{v:>10.2f}{len(prompts) / v:>12.1f}")
    print(f"\n(b) is {t_a / t_b:.2f}x faster than (a); max |a - b| = {diff_ab:.2e}; "
          f"max |b - c| = {result['max_abs_diff_b_c']:.2e}; cached re-run identical: "
          f"{result['cached_rerun_identical']}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")
    return 0 if diff_ab <= 1e-4 and result["cached_rerun_identical"] else 1


if __name__ == "__main__":
    sys.exit(main())
