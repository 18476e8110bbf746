"""Cold-start and cross-domain sets on disk: TSV files plus meta.json with their sha256.

Like the main split (``split_store``): the hash covers every file byte for byte, a saved folder is
reused only if a rebuild hashes the same (a changed split or sampler is an error, not a silent
reuse), and loading verifies the hash. Sets live below the split folder they were drawn from.
"""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path

import numpy as np
import pandas as pd

from benchmark.data.coldstart import (
    PROXY_LABEL,
    ColdStartSet,
    ColdStartSpec,
    CrossDomainSet,
    _wrap,
    build_coldstart,
    build_cross_domain,
    proxy_domains,
)
from benchmark.data.crossdomain_amazon import build_amazon_cross_domain
from benchmark.data.dataset import DatasetData
from benchmark.data.frozen import blobs_hash, read_frozen, tsv_bytes, write_frozen
from benchmark.data.split import Split
from benchmark.data.types import Interactions
from benchmark.errors import DataError

FORMAT = 1
_COLS = ["user", "item", "rating", "timestamp"]
_DTYPES = {"user": np.int32, "item": np.int32, "rating": np.float32, "timestamp": np.int64}


def _write(folder: Path, blobs: dict[str, bytes], meta: dict) -> str:
    """Write blobs + meta.json (last); an existing folder must hold the same bytes."""
    digest = blobs_hash(blobs)
    write_frozen(folder, blobs, {"format": FORMAT, "hash": digest, **meta},
                 name="cold-start folder", holds="different sets",
                 fix="the split or the sampling code changed; delete that folder")
    return digest


def _read(folder: Path, names: tuple[str, ...]) -> tuple[dict[str, bytes], dict]:
    return read_frozen(folder, names, what="cold-start set",
                       build="run the cold_start track to build it")


def _frame(blob: bytes) -> pd.DataFrame:
    return pd.read_csv(io.BytesIO(blob), sep="\t", dtype=_DTYPES)


COLD_FILES = ("train.tsv", "valid.tsv", "user_eval.tsv", "item_eval.tsv", "new_users.tsv",
              "new_items.tsv")
CROSS_FILES = ("train.tsv", "valid.tsv", "eval.tsv", "domains.tsv")


def coldstart_folder(split_dir: Path, spec: ColdStartSpec) -> Path:
    return Path(split_dir) / "coldstart" / spec.key()


def save_coldstart(cs: ColdStartSet, folder: Path, spec: ColdStartSpec, split: Split
                   ) -> ColdStartSet:
    users = pd.DataFrame([(int(u), n) for n, us in cs.new_users.items() for u in us],
                         columns=["user", "support"]).sort_values("user")
    blobs = {"train.tsv": tsv_bytes(cs.train.frame[_COLS]),
             "valid.tsv": tsv_bytes(cs.valid.frame[_COLS]),
             "user_eval.tsv": tsv_bytes(cs.user_eval.frame[_COLS]),
             "item_eval.tsv": tsv_bytes(cs.item_eval.frame[_COLS]),
             "new_users.tsv": tsv_bytes(users),
             "new_items.tsv": tsv_bytes(pd.DataFrame({"item": cs.new_items}))}
    meta = {"kind": "coldstart", "spec": dataclasses.asdict(spec), "split_hash": split.hash,
            "dataset": split.dataset, **cs.info}
    digest = _write(Path(folder), blobs, meta)
    return dataclasses.replace(cs, hash=digest)


def load_coldstart(folder: Path, split: Split) -> ColdStartSet:
    """Read a saved set back (hash verified) on the ids of ``split``."""
    blobs, meta = _read(Path(folder), COLD_FILES)
    if meta.get("split_hash") != split.hash:
        raise DataError(f"cold-start set {folder} was drawn from another split",
                        "delete the folder to rebuild it from this split")
    like = split.train
    users = pd.read_csv(io.BytesIO(blobs["new_users.tsv"]), sep="\t", dtype=np.int64)
    groups = {int(n): np.sort(g["user"].to_numpy()) for n, g in users.groupby("support")}
    for n in meta["spec"]["support_sizes"]:
        groups.setdefault(int(n), np.empty(0, dtype=np.int64))
    items = pd.read_csv(io.BytesIO(blobs["new_items.tsv"]), sep="\t", dtype=np.int64)
    return ColdStartSet(
        train=_wrap(_frame(blobs["train.tsv"]), like), valid=_wrap(_frame(blobs["valid.tsv"]), like),
        user_eval=_wrap(_frame(blobs["user_eval.tsv"]), like),
        item_eval=_wrap(_frame(blobs["item_eval.tsv"]), like),
        new_users=dict(sorted(groups.items())), new_items=items["item"].to_numpy(),
        hash=meta["hash"], info={k: meta[k] for k in ("dropped_new_user_new_item_rows",)
                                 if k in meta})


def prepare_coldstart(split: Split, split_dir: Path, spec: ColdStartSpec) -> tuple[ColdStartSet,
                                                                                     Path]:
    """Build (deterministically), save or verify against the saved copy, and reload."""
    folder = coldstart_folder(split_dir, spec)
    save_coldstart(build_coldstart(split, spec), folder, spec, split)
    return load_coldstart(folder, split), folder


def cross_domain_folder(split_dir: Path, spec: ColdStartSpec, source: str | None = None
                        ) -> Path:
    tag = "proxy" if source is None else "src-" + Path(str(source)).stem
    return Path(split_dir) / "crossdomain" / f"{tag}_{spec.key()}"


def save_cross_domain(cd: CrossDomainSet, folder: Path, spec: ColdStartSpec, split: Split
                      ) -> CrossDomainSet:
    domains = pd.DataFrame({"item": np.concatenate([cd.source_items, cd.target_items]),
                            "domain": ["source"] * len(cd.source_items)
                            + ["target"] * len(cd.target_items)})
    blobs = {"train.tsv": tsv_bytes(cd.train.frame[_COLS]),
             "valid.tsv": tsv_bytes(cd.valid.frame[_COLS]),
             "eval.tsv": tsv_bytes(cd.eval.frame[_COLS]), "domains.tsv": tsv_bytes(domains)}
    meta = {"kind": "cross_domain", "source": cd.source, "spec": dataclasses.asdict(spec),
            "split_hash": split.hash, "dataset": split.dataset,
            "test_users": [int(u) for u in cd.test_users]}
    digest = _write(Path(folder), blobs, meta)
    return dataclasses.replace(cd, hash=digest)


def load_cross_domain(folder: Path, split: Split, template: Interactions | None = None
                      ) -> CrossDomainSet:
    """Read a saved set back; ``template`` carries the combined catalogue of a two-dataset set."""
    blobs, meta = _read(Path(folder), CROSS_FILES)
    if meta.get("split_hash") != split.hash:
        raise DataError(f"cross-domain set {folder} was drawn from another split",
                        "delete the folder to rebuild it from this split")
    like = template if template is not None else split.train
    domains = pd.read_csv(io.BytesIO(blobs["domains.tsv"]), sep="\t",
                          dtype={"item": np.int64, "domain": str})
    return CrossDomainSet(
        train=_wrap(_frame(blobs["train.tsv"]), like), valid=_wrap(_frame(blobs["valid.tsv"]), like),
        eval=_wrap(_frame(blobs["eval.tsv"]), like),
        test_users=np.asarray(meta["test_users"], dtype=np.int64),
        source_items=domains.loc[domains["domain"] == "source", "item"].to_numpy(),
        target_items=domains.loc[domains["domain"] == "target", "item"].to_numpy(),
        source=meta["source"], hash=meta["hash"])


def prepare_cross_domain(split: Split, split_dir: Path, spec: ColdStartSpec,
                         source: str | None = None, source_data: DatasetData | None = None
                         ) -> tuple[CrossDomainSet, Path]:
    """``source`` None: the MovieLens genre-group proxy inside the split; else the dataset
    (e.g. "amazon-books") whose reviewers are shared with the split's (real cross-domain), as
    the runner resolved it (``source_data``)."""
    template = None
    if source is None:
        source_items, target_items = proxy_domains(split)
        cd = build_cross_domain(split, spec, source_items, target_items, PROXY_LABEL)
    else:
        if source_data is None:
            raise ValueError(f"cross-domain source {source!r} given without its resolved data")
        cd, template = build_amazon_cross_domain(split, spec, source, source_data)
    folder = cross_domain_folder(split_dir, spec, source)
    save_cross_domain(cd, folder, spec, split)
    loaded = load_cross_domain(folder, split, template)
    return dataclasses.replace(loaded, info=cd.info), folder
