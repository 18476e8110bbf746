"""One folder per run (DESIGN.md, "Results"), with a fixed set of files and a marker written last.

    runs/<suite>/<dataset>/<model>/seed-<n>/
        config.json      what ran: model, params, dataset, split (with hash), track settings,
                         and the run's fingerprint (fingerprint.py)
        metrics.json     the labelled numbers (schema below)
        per_user.npz     per-user values behind every mean (numpy arrays only, no pickle)
        efficiency.json  training time, inference time, peak memory, parameters
        samples.jsonl    explanations / prompts (empty for models that produce none)
        env.json         git commit, package versions, hardware
        COMPLETE         written last: JSON {"marker_format": 2, "fingerprint": sha256,
                         "fields": {...}, "files": {name: sha256}}; a folder without it is
                         incomplete (format 1 was the text "ok", without a fingerprint)
        error.json       instead of COMPLETE when the run failed

metrics.json schema (version 1): {"schema_version": 1, "metric_version": 1, "suite", "model",
"dataset", "seed", "split": {...split.describe()}, "rows": [{"track", "protocol", "metric", "k",
"value", "n"}], "info": {...}}. Bump SCHEMA_VERSION when a field changes meaning; bump
METRIC_VERSION when a metric's definition changes (results of different versions are not
comparable; both are part of every run's fingerprint, so a bump reruns old folders on resume).

Every file is written through ``benchmark.atomic`` (unique temporary name, then rename), so
concurrent writers never see or leave half a file. Resume rules (``check_run``): see
``runner.py``; folders set aside by resume (``set_aside``) keep their files and are ignored by
``find_runs``.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from benchmark import atomic
from benchmark.hashing import file_sha256

log = logging.getLogger("recbench")

SCHEMA_VERSION = 1
# 2: sampled protocol breaks ties by item id (1 favoured positives)
# 3: gauc = RecBole's positives-weighted definition (2 weighted by pos x neg pairs, now
#    gauc_pairs); per_user.npz holds each weighted metric's <metric>_weight; SASRec/GRU4Rec
#    validation rows carry a history that grows with valid items (RecBole's construction), which
#    changes their early stopping; the next_item protocol is new
METRIC_VERSION = 3
MARKER = "COMPLETE"
MARKER_FORMAT = 2
RUN_FILES = ("config.json", "metrics.json", "per_user.npz", "efficiency.json", "samples.jsonl",
             "env.json")
#: a run folder set aside by resume: ``seed-0.stale-<fingerprint>`` / ``seed-0.damaged-...``
ASIDE_RE = re.compile(r"\.(stale|damaged)-[^/]*$")


@dataclass(frozen=True)
class RunKey:
    suite: str
    dataset: str
    model: str
    seed: int

    def folder(self, root: Path) -> Path:
        return Path(root) / self.suite / self.dataset / self.model / f"seed-{self.seed}"


def json_default(obj: Any) -> Any:
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating,)):
        return float(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, (tuple, set, frozenset)):
        return sorted(obj) if isinstance(obj, (set, frozenset)) else list(obj)
    raise TypeError(f"cannot write {type(obj).__name__} to JSON")


_json_default = json_default  # the old private name


def _json_bytes(obj: Any) -> bytes:
    return json.dumps(obj, indent=2, sort_keys=False, default=json_default).encode()


def _write_json(path: Path, obj: Any) -> None:
    atomic.write_bytes(path, _json_bytes(obj))


def sha256_file(path: Path) -> str:
    return file_sha256(path)


def is_complete(folder: Path) -> bool:
    return (Path(folder) / MARKER).is_file()


def is_aside(folder: Path) -> bool:
    """Whether ``folder`` is a run set aside by resume (kept, never reported)."""
    return ASIDE_RE.search(Path(folder).name) is not None


def write_run(folder: Path, *, config: dict, metrics: dict, per_user: dict[str, np.ndarray],
              efficiency: dict, samples: list[dict], env: dict,
              fingerprint: dict | None = None) -> None:
    """Write every file of a finished run, then the marker with the fingerprint
    (``{"sha256", "fields"}``) and each file's sha256, so resume can verify them."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "error.json").unlink(missing_ok=True)  # our own folder: the caller holds its lock
    npz = io.BytesIO()
    # numpy's stub types **kwds as if they could be allow_pickle (a bool); they are arrays
    np.savez_compressed(npz, **per_user)  # type: ignore[arg-type]
    blobs = {
        "config.json": _json_bytes(config),
        "metrics.json": _json_bytes({"schema_version": SCHEMA_VERSION,
                                     "metric_version": METRIC_VERSION, **metrics}),
        "per_user.npz": npz.getvalue(),
        "efficiency.json": _json_bytes(efficiency),
        "samples.jsonl": "".join(json.dumps(s, default=json_default) + "\n"
                                 for s in samples).encode(),
        "env.json": _json_bytes(env),
    }
    for name, data in blobs.items():
        atomic.write_bytes(folder / name, data)
    fp = fingerprint or {}
    _write_json(folder / MARKER, {
        "marker_format": MARKER_FORMAT, "fingerprint": fp.get("sha256"),
        "fields": fp.get("fields"),
        "files": {name: hashlib.sha256(data).hexdigest() for name, data in blobs.items()}})


def write_error(folder: Path, *, config: dict, error: dict) -> None:
    """Record a failed run. A folder that holds a complete run is left alone: that run was
    finished meanwhile (by another runner), and its results are worth more than this error."""
    folder = Path(folder)
    if is_complete(folder):
        log.warning("%s holds a complete run; not replacing it with this error: %s", folder,
                    error.get("message", ""))
        return
    folder.mkdir(parents=True, exist_ok=True)
    _write_json(folder / "config.json", config)
    _write_json(folder / "error.json", error)


def read_marker(folder: Path) -> dict | None:
    """The COMPLETE marker as a dict; None without one. Format 1 ("ok") reads as
    ``{"marker_format": 1}``; an unreadable marker as ``{"marker_format": None}``."""
    path = Path(folder) / MARKER
    try:
        text = path.read_text()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError):
        return {"marker_format": None}
    if text.strip() == "ok":
        return {"marker_format": 1}
    try:
        marker = json.loads(text)
    except json.JSONDecodeError:
        return {"marker_format": None}
    return marker if isinstance(marker, dict) else {"marker_format": None}


@dataclass(frozen=True)
class RunState:
    """What resume finds in a run folder.

    status: "absent" (no folder), "incomplete" (no marker: never finished, or failed),
    "complete" (fingerprint matches, files verify), "stale" (other or no fingerprint),
    "damaged" (a file is missing or does not match its hash).
    """

    status: str
    detail: str = ""
    old_fingerprint: str | None = None


def changed_fields(old: dict[str, Any] | None, new: dict[str, Any]) -> list[str]:
    """Which fields differ, one level deep for dicts (``model_config.dim``), for the log."""
    if not isinstance(old, dict):
        return ["(no fields recorded)"]
    out = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key), new.get(key)
        if a == b:
            continue
        if isinstance(a, dict) and isinstance(b, dict):
            out += [f"{key}.{k}" for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]
        elif key == "tracks" and isinstance(a, list) and isinstance(b, list):
            da, db = dict(map(tuple, a)), dict(map(tuple, b))
            if list(da) != list(db):
                out.append("tracks")
            for t in (t for t in db if t in da and da[t] != db[t]):
                sa, sb = da[t], db[t]
                out += [f"tracks.{t}.{k}" for k in sorted(set(sa) | set(sb))
                        if sa.get(k) != sb.get(k)]
        else:
            out.append(key)
    return out


def check_run(folder: Path, fingerprint: str, fields: dict | None = None) -> RunState:
    """Compare a folder with the fingerprint the current suite gives its job, then verify
    its files against the hashes in the marker."""
    folder = Path(folder)
    if not folder.is_dir():
        return RunState("absent")
    marker = read_marker(folder)
    if marker is None:
        return RunState("incomplete")
    fmt = marker.get("marker_format")
    if fmt is None:
        return RunState("damaged", f"{MARKER} is unreadable")
    old = marker.get("fingerprint")
    if fmt < MARKER_FORMAT or not old:
        return RunState("stale", "old-format COMPLETE marker without a fingerprint "
                        "(written before fingerprints existed)")
    if old != fingerprint:
        changed = changed_fields(marker.get("fields"), fields or {})
        return RunState("stale", "changed: " + (", ".join(changed) or "fingerprint"), old)
    files = marker.get("files") or {}
    for name in RUN_FILES:
        path = folder / name
        if name not in files:
            return RunState("damaged", f"{name} has no hash in {MARKER}", old)
        if not path.is_file():
            return RunState("damaged", f"{name} is missing", old)
        if sha256_file(path) != files[name]:
            return RunState("damaged", f"{name} does not match its sha256 in {MARKER}", old)
    return RunState("complete", "", old)


def set_aside(folder: Path, state: RunState) -> Path:
    """Rename a stale or damaged run folder to ``<folder>.<stale|damaged>-<tag>`` and return
    the new path. The tag is the old run's short fingerprint ("unversioned" for a run without
    one), so the name says which configuration produced it; ``-2``, ``-3``, ... follow when the
    name is taken. Nothing is deleted: the old files stay for comparison, and ``find_runs`` (so
    every report) skips such folders. The caller holds the folder's lock."""
    folder = Path(folder)
    kind = "damaged" if state.status == "damaged" else "stale"
    tag = state.old_fingerprint[:12] if state.old_fingerprint else "unversioned"
    target = folder.with_name(f"{folder.name}.{kind}-{tag}")
    n = 1
    while target.exists():
        n += 1
        target = folder.with_name(f"{folder.name}.{kind}-{tag}-{n}")
    folder.rename(target)
    return target


def read_metrics(folder: Path) -> dict:
    return json.loads((Path(folder) / "metrics.json").read_text())


def read_per_user(folder: Path) -> dict[str, np.ndarray]:
    with np.load(Path(folder) / "per_user.npz", allow_pickle=False) as data:
        return {k: data[k] for k in data.files}


def find_runs(root: Path) -> list[Path]:
    """Every complete run folder below ``root`` (root itself may be one run); folders set aside
    by resume are left out."""
    root = Path(root)
    if is_complete(root):
        return [root]
    return sorted(p.parent for p in root.rglob(MARKER) if not is_aside(p.parent))


def find_failed(root: Path) -> list[Path]:
    return sorted(p.parent for p in Path(root).rglob("error.json") if not is_aside(p.parent))
