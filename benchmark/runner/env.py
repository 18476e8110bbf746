"""The environment a run happened in: enough to tell two machines or two commits apart.

The CPU and memory measurements (threads, CPU seconds, load average, peak memory, hardware)
live in ``benchmark.measure``, shared with the tracks.
"""

from __future__ import annotations

import subprocess
from importlib import metadata
from pathlib import Path

from benchmark.measure import hardware

PACKAGES = ("numpy", "scipy", "pandas", "torch", "recbole", "scikit-learn", "explainrec-bench")


def git_commit(cwd: Path | None = None) -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=cwd or Path(__file__).parent,
                             capture_output=True, text=True, timeout=5)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=cwd or Path(__file__).parent, capture_output=True, text=True,
                               timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0:
        return None
    return out.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")


def package_versions() -> dict[str, str | None]:
    versions: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def collect_env() -> dict:
    return {"git_commit": git_commit(), "packages": package_versions(), "hardware": hardware()}
