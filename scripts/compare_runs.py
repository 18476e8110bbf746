"""Whether two runs of the same suite produced the same results, job by job.

Run: .venv/bin/python scripts/compare_runs.py RUNDIR_A RUNDIR_B

For every job of A (``metrics.json`` under it) the same job of B is read and compared: metric
rows (exact equality, efficiency rows left out since they are timings), per-user arrays
(``per_user.npz``, NaN equal to NaN, efficiency arrays left out) and ``samples.jsonl`` (bytes).
One line per job, then the count of differences; exits 1 when there is any. Used to check that a
refactor left a suite's numbers byte-identical (e.g. suites/quick.toml before and after).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np


def _rows(path: Path) -> list[dict]:
    return [r for r in json.loads(path.read_text())["rows"] if r["track"] != "efficiency"]


def compare(a: Path, b: Path) -> int:
    bad = jobs = 0
    for fa in sorted(a.rglob("metrics.json")):
        fb = b / fa.relative_to(a)
        jobs += 1
        if not fb.is_file():
            print(f"{fa.parent.relative_to(a)}: missing in {b}")
            bad += 1
            continue
        ra, rb = _rows(fa), _rows(fb)
        diff = [(x, y) for x, y in zip(ra, rb) if x != y]
        n_rows = len(diff) + abs(len(ra) - len(rb))
        worst = max((abs(x["value"] - y["value"]) for x, y in diff
                     if x["value"] is not None and y["value"] is not None), default=0.0)
        pa, pb = np.load(fa.parent / "per_user.npz"), np.load(fb.parent / "per_user.npz")
        keys = sorted(k for k in pa.files if not k.startswith("efficiency"))
        keys_b = sorted(k for k in pb.files if not k.startswith("efficiency"))
        arrays = [k for k in keys if k not in pb.files
                  or not np.array_equal(pa[k], pb[k], equal_nan=True)]
        samples = ((fa.parent / "samples.jsonl").read_bytes()
                   != (fb.parent / "samples.jsonl").read_bytes())
        bad += n_rows + len(arrays) + int(samples) + int(keys != keys_b)
        print(f"{fa.parent.relative_to(a)}: rows {len(ra)}, differ {n_rows} (max |diff| "
              f"{worst:.2e}); per-user arrays {len(keys)}, differ {len(arrays)}"
              f"{' (key sets differ)' if keys != keys_b else ''}; samples differ: {samples}")
    print(f"jobs {jobs}, differences {bad}")
    return 1 if bad else 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(compare(Path(sys.argv[1]), Path(sys.argv[2])))
