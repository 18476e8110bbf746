"""Run folders loaded for reporting: the labelled numbers, provenance, and per-user values.

Everything the report, compare, check and reproduce commands read goes through ``load_runs``, so
missing or malformed files fail in one place with a clear message. ``metrics.json`` is validated
when a run is loaded (every row a labelled number); ``per_user.npz`` is read on first use, and a
missing or unreadable one raises ``PerUserUnavailable`` (never "no per-user values"), so the
significance tests fail closed instead of quietly skipping what they could not test.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np

from benchmark.errors import DataError
from benchmark.results import MetricKey
from benchmark.runner import store
from benchmark.runner.fingerprint import result_settings
from benchmark.stats.pairing import mean_by_user

#: what to do about a damaged run folder: these files are only ever written by `recbench run`
RERUN_FIX = ("the run folder is damaged or was not written by `recbench run`: re-run that job "
             "(`recbench run SUITE --out ROOT` again redoes a run whose files are missing or "
             "changed; or delete the folder first) and try again")


class PerUserUnavailable(DataError):
    """A run's per_user.npz is missing, unreadable, or holds malformed arrays.

    A complete run always writes the file, so this is damage, not "the metric has no per-user
    values": callers must not treat it as a pooled metric (that would skip a test silently).
    """

    def __init__(self, path: Path, reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"{self.path} {reason}", RERUN_FIX)


@dataclass
class Run:
    """One complete run folder."""

    folder: Path
    metrics: dict
    config: dict
    env: dict
    efficiency: dict
    _per_user: dict | None = field(default=None, repr=False)

    @property
    def model(self) -> str:
        return self.metrics["model"]

    @property
    def dataset(self) -> str:
        return self.metrics["dataset"]

    @property
    def seed(self) -> int:
        return int(self.metrics["seed"])

    @property
    def split_hash(self) -> str:
        return self.metrics["split"].get("hash", "")

    @property
    def metric_version(self) -> int | None:
        return self.metrics.get("metric_version")

    @property
    def commit(self) -> str:
        return self.env.get("git_commit") or "unknown"

    @property
    def registry_name(self) -> str:
        return self.config.get("model", {}).get("name", self.model)

    @property
    def params(self) -> dict:
        return self.config.get("model", {}).get("params", {}) or {}

    @property
    def modalities(self) -> list[str]:
        """modalities_used from fit_info, else the class's declared ones."""
        m = self.config.get("model", {})
        used = (m.get("fit") or {}).get("modalities_used")
        return sorted(used if used is not None else m.get("modalities", []))

    @cached_property
    def values(self) -> dict[MetricKey, float]:
        return {MetricKey(r["track"], r["protocol"], r["metric"], r.get("k")): float(r["value"])
                for r in self.metrics["rows"]}

    def per_user_table(self) -> dict[str, np.ndarray]:
        """Every array of per_user.npz (read once); PerUserUnavailable if missing or damaged."""
        if self._per_user is None:
            path = self.folder / "per_user.npz"
            if not path.is_file():
                raise PerUserUnavailable(path, "is missing")
            try:
                self._per_user = store.read_per_user(self.folder)
            except MemoryError:
                raise
            except Exception as err:  # BadZipFile, zlib.error, EOFError, ValueError, ...
                # whatever numpy / zipfile raise on a truncated or overwritten archive
                raise PerUserUnavailable(path, f"is damaged: not a readable .npz archive "
                                               f"({type(err).__name__}: {err})") from err
        return self._per_user

    def per_user(self, key: MetricKey) -> tuple[np.ndarray, np.ndarray] | None:
        """(user ids, values) behind ``key``'s mean, or None when the track kept none.

        Raises PerUserUnavailable when per_user.npz is missing, unreadable or malformed.
        """
        table = self.per_user_table()
        path = self.folder / "per_user.npz"
        values = table.get(key.per_user_key())
        users = table.get(MetricKey.users_key(key.track, key.protocol))
        if values is None or users is None:
            return None
        if values.ndim != 1 or users.ndim != 1 or values.dtype.kind not in "biuf":
            raise PerUserUnavailable(path, f"is damaged: {key.per_user_key()} is not a list of "
                                           f"numbers (dtype {values.dtype}, shape "
                                           f"{values.shape}; users shape {users.shape})")
        if len(values) != len(users):
            raise PerUserUnavailable(path, f"is damaged: {key.per_user_key()} has "
                                           f"{len(values)} values for {len(users)} users")
        # NaN marks a user for whom the metric is undefined (e.g. GAUC of a user with one label
        # only, aligned with the ranking users by the cold-start track): not a value, dropped
        defined = ~np.isnan(np.asarray(values, dtype=np.float64))
        return users[defined], values[defined]

    def protocol_settings(self, track: str) -> dict:
        """The track's settings that change what a number means (not the knobs the track
        declares neutral: batch sizes, memory budgets)."""
        return result_settings(track, self.config.get("track_settings", {}).get(track, {}))


@dataclass(frozen=True)
class PerUserSides:
    """One metric's per-user values on two sides (each averaged over its seeds), or why not."""

    a: tuple[np.ndarray, np.ndarray] | None = None
    b: tuple[np.ndarray, np.ndarray] | None = None
    #: why the per-user test is impossible although per-user values should exist (a damaged
    #: file, or a side without values that the other side kept): one line per file
    unusable: tuple[str, ...] = ()

    @property
    def pooled(self) -> bool:
        """No readable run kept per-user values for the metric (AUC): by design, not damage."""
        return self.a is None and not self.unusable


def per_user_sides(a_runs: dict[int, Run], b_runs: dict[int, Run], key: MetricKey,
                   a_seeds: list[int], b_seeds: list[int]) -> PerUserSides:
    """Per-user values of ``key`` for a paired test of side a against side b.

    Fails closed: a missing or damaged per_user.npz, or a run lacking values that another run
    of the comparison kept, is reported in ``unusable`` rather than read as "no per-user values"
    (which would let a check skip the metric). Only when every readable run lacks the metric is
    it pooled (tested over seeds, if at all).
    """
    got: list[list[tuple[Run, tuple[np.ndarray, np.ndarray] | None]]] = [[], []]
    damaged: list[str] = []
    for side, (runs, seeds) in enumerate(((a_runs, a_seeds), (b_runs, b_seeds))):
        for s in seeds:
            try:
                got[side].append((runs[s], runs[s].per_user(key)))
            except PerUserUnavailable as err:
                damaged.append(err.what)
    readable = [p for side in got for _, p in side]
    kept = any(p is not None for p in readable)
    if not kept and readable:
        return PerUserSides()  # pooled; a damaged file is reported by the metrics it holds
    lacking = [f"{run.folder / 'per_user.npz'} has no {key.per_user_key()} although other "
               "runs of this comparison have it" for side in got for run, p in side if p is None]
    if damaged or lacking:
        return PerUserSides(unusable=tuple(dict.fromkeys(damaged + lacking)))
    return PerUserSides(mean_by_user([p for _, p in got[0]]),  # type: ignore[misc]
                        mean_by_user([p for _, p in got[1]]))  # type: ignore[misc]


def _read_json(path: Path, required: bool = True) -> dict:
    """A run file's JSON object; anything else (null, a list, bad bytes) is a clear error."""
    if not path.is_file():
        if required:
            raise DataError(f"missing {path}", "the run folder is incomplete; re-run it")
        return {}
    try:
        obj = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise DataError(f"{path} is not valid JSON ({err})", "re-run that job") from err
    except OSError as err:
        raise DataError(f"cannot read {path} ({err})", "check the file's permissions") from err
    if not isinstance(obj, dict):
        raise DataError(f"{path} holds {json.dumps(obj)[:40]}, not a JSON object", RERUN_FIX)
    return obj


def _is_number(v: object) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _check_metrics(path: Path, metrics: dict) -> None:
    """Every field the reports read has its type, so no command fails later with a traceback."""
    for key in ("model", "dataset", "seed", "split", "rows"):
        if key not in metrics:
            raise DataError(f"{path} has no {key!r}",
                            "it was not written by `recbench run`; re-run that job")
    wants = {"model": (str, "a string"), "dataset": (str, "a string"),
             "split": (dict, "an object"), "rows": (list, "a list")}
    for key, (kind, text) in wants.items():
        if not isinstance(metrics[key], kind):
            raise DataError(f"{path}: {key!r} is {json.dumps(metrics[key])[:40]}, not {text}",
                            RERUN_FIX)
    seed = metrics["seed"]
    if not _is_number(seed) or seed != seed or int(seed) != seed:
        raise DataError(f"{path}: 'seed' is {json.dumps(seed)[:40]}, not an integer", RERUN_FIX)
    for i, row in enumerate(metrics["rows"]):
        where = f"{path}: row {i}"
        if not isinstance(row, dict):
            raise DataError(f"{where} is {json.dumps(row)[:40]}, not an object", RERUN_FIX)
        for field_ in ("track", "protocol", "metric"):
            if not isinstance(row.get(field_), str):
                raise DataError(f"{where} has no {field_!r} name", RERUN_FIX)
        name = f"{row['track']}/{row['protocol']}/{row['metric']}"
        k = row.get("k")
        if k is not None and (not _is_number(k) or (k == k and int(k) != k)):
            raise DataError(f"{where} ({name}): 'k' is {json.dumps(k)[:40]}, not an integer",
                            RERUN_FIX)
        if "value" not in row:
            raise DataError(f"{where} ({name}) has no 'value'", RERUN_FIX)
        value = row["value"]
        if not _is_number(value):
            raise DataError(f"{where} ({name}): 'value' is {json.dumps(value)[:40]}, not a "
                            "number", RERUN_FIX)
        if math.isinf(value):  # NaN is allowed: a metric undefined on this run
            raise DataError(f"{where} ({name}): 'value' is infinite", RERUN_FIX)
    if not isinstance(metrics.get("info", {}), dict):
        raise DataError(f"{path}: 'info' is not an object", RERUN_FIX)


def _check_config(path: Path, config: dict) -> None:
    """The parts of config.json that comparisons read are objects (else AttributeError later)."""
    for key in ("model", "dataset", "track_settings"):
        if not isinstance(config.get(key, {}), dict):
            raise DataError(f"{path}: {key!r} is not an object", RERUN_FIX)
    for track, settings in config.get("track_settings", {}).items():
        if not isinstance(settings, dict):
            raise DataError(f"{path}: track_settings.{track} is not an object", RERUN_FIX)


def load_run(folder: Path) -> Run:
    folder = Path(folder)
    metrics = _read_json(folder / "metrics.json")
    _check_metrics(folder / "metrics.json", metrics)
    config = _read_json(folder / "config.json", required=False)
    _check_config(folder / "config.json", config)
    return Run(folder, metrics, config, _read_json(folder / "env.json", required=False),
               _read_json(folder / "efficiency.json", required=False))


def load_runs(paths: list[Path | str]) -> list[Run]:
    """Every complete run under each path (a run folder or a results root)."""
    folders: list[Path] = []
    for p in paths:
        if not Path(p).exists():
            raise DataError(f"no such run folder: {p}", "pass the --out folder of `recbench run`")
        found = store.find_runs(Path(p))
        if not found:
            raise DataError(f"no complete runs under {p}",
                            "run a suite first (`recbench run suites/quick.toml`)")
        folders += found
    return [load_run(f) for f in dict.fromkeys(folders)]


def group_runs(runs: list[Run]) -> dict[tuple[str, str], dict[int, Run]]:
    """(dataset, model) -> seed -> run; two runs for the same key and seed are an error."""
    out: dict[tuple[str, str], dict[int, Run]] = {}
    for r in runs:
        seeds = out.setdefault((r.dataset, r.model), {})
        if r.seed in seeds:
            raise DataError(f"two runs of {r.model} on {r.dataset} seed {r.seed}: "
                            f"{seeds[r.seed].folder} and {r.folder}",
                            "pass the run folders of one suite run (or give models labels)")
        seeds[r.seed] = r
    return out
