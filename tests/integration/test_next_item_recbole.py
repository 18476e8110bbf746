"""Fidelity of the next-item protocol: GRU4Rec through the harness == RecBole's own evaluator.

MovieLens-100K (the copy in the recbole wheel), 200 users, the default chronological 80/10/10
split and the leave-one-out split; GRU4Rec trained briefly. Same files, seed, config and
(asserted) bit-identical weights on both sides; RecBole evaluates its test file (one row per test
interaction, with the history before it) by full ranking without masking, the harness runs its
``next_item`` protocol. Agreement is to float precision (~1e-12; the acceptance asks 1e-4).
"""

from __future__ import annotations

import dataclasses
import filecmp

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("torch")
pytest.importorskip("recbole")

from benchmark.data.loaders import load_raw  # noqa: E402
from benchmark.data.split import SplitSpec, make_split  # noqa: E402
from benchmark.registry import build_model  # noqa: E402
from benchmark.tracks.accuracy import next_item_means  # noqa: E402

pytestmark = [
    pytest.mark.recbole,
    pytest.mark.filterwarnings("ignore:A value is trying to be set on a copy:FutureWarning"),
    pytest.mark.filterwarnings("ignore:using <built-in function len> in Series.agg:FutureWarning"),
    pytest.mark.filterwarnings("ignore:`torch.cuda.amp.GradScaler:FutureWarning"),
    pytest.mark.filterwarnings("ignore:__array_wrap__ must accept context:DeprecationWarning"),
]

PARAMS = {"epochs": 6, "hidden_size": 32, "embedding_size": 32, "max_seq_length": 20,
          "learning_rate": 0.01, "show_progress": False, "device": "cpu"}  # as RecBole alone


@pytest.fixture(scope="module")
def raw200():
    raw = load_raw("ml-100k")
    inter = raw.interactions
    users = sorted(inter["user"].unique(), key=int)[:200]
    return dataclasses.replace(raw, interactions=inter[inter["user"].isin(users)])


@pytest.fixture(scope="module", params=["chrono", "leave_one_out"])
def split(request, raw200):
    return make_split(raw200, SplitSpec(strategy=request.param, ratios=(0.8, 0.1, 0.1), seed=0))


def read_inter(path) -> pd.DataFrame:
    return pd.read_csv(path, sep="\t", dtype=str)


def test_gru4rec_next_item_equals_recboles_evaluator(split, tmp_path):
    """Why test rows are filtered: RecBole numbers items by first appearance across the train,
    valid, test files' ``item_id`` column, then ``.item``. A test target that is no target in
    train or valid would get another internal row (hence another initial embedding) than in the
    adapter, which never writes test. Keeping the test rows whose item is a train or valid
    target (about 98%) gives identical vocabularies, asserted through identical weights."""
    import torch

    from baselines.recbole_reference import prepared_files_settings, run_recbole

    seed = 5
    adapter = build_model("gru4rec", PARAMS, workdir=tmp_path / "adapter")
    adapter.fit(split.train, split.valid, seed=seed)
    files = adapter.workdir / "data" / "harness"
    targets = set(read_inter(files / "harness.train.inter")["item_id:token"]) | set(
        read_inter(files / "harness.valid.inter")["item_id:token"])
    test = split.test.frame
    known = test["item"].astype(str).isin(targets).to_numpy()
    assert known.mean() > 0.9
    kept = dataclasses.replace(split.test, frame=test[known].reset_index(drop=True))
    kept_split = dataclasses.replace(split, test=kept)

    alone = tmp_path / "alone"
    adapter.write_files(alone / "data" / "harness", split.train, split.valid, test=kept)
    for name in ("harness.train.inter", "harness.valid.inter", "harness.user", "harness.item"):
        assert filecmp.cmp(alone / "data" / "harness" / name, files / name, shallow=False)
    test_rows = read_inter(alone / "data" / "harness" / "harness.test.inter")
    settings = {**prepared_files_settings(alone / "data", alone / "saved", adapter.inter_fields),
                **adapter._model_settings(), "metric_decimal_place": 12,
                "topk": [10], "metrics": ["Hit", "MRR", "NDCG"]}
    model, _, theirs = run_recbole("GRU4Rec", "harness", settings, tmp_path / "cwd", seed)

    for name, tensor in model.state_dict().items():
        assert torch.equal(tensor, adapter.model.state_dict()[name]), name
    ours = next_item_means(adapter, kept_split, [10], mask_seen=False)
    print({"ours": ours, "recbole": dict(theirs), "queries": len(test_rows)})
    for metric in ("ndcg@10", "mrr@10", "hit@10"):
        assert ours[metric] == pytest.approx(theirs[metric], abs=1e-4), metric
    # a trained model, not two identical random ones (random: hit@10 = 10 / n_items)
    assert ours["hit@10"] > 3 * 10 / split.n_items
    # score_history on the train + valid history is score_all (full ranking's input)
    seqs = split.train.concat(split.valid).sequences()
    some = np.array(sorted(seqs)[:16])
    np.testing.assert_array_equal(adapter.score_history(some, [seqs[u] for u in some]),
                                  adapter.score_all(some))
    # one query per kept test row: the harness's query count is RecBole's row count
    from benchmark.tracks.next_item import build_queries

    users = np.unique(kept.positive_frame()["user"].to_numpy())
    assert len(build_queries(kept_split, users)) == len(test_rows)


def test_leave_one_out_split_equals_recboles_ls(raw200, tmp_path):
    """Our ``leave_one_out`` split == RecBole's ``LS: valid_and_test`` (time-ordered, stable
    sort: ties keep file order on both sides) on the same ratings, part by part.

    RecBole holds float fields as float32, whose step near ml-100k's timestamps (~8.8e8) is 64 s:
    raw timestamps would reach it as ties in a different order. The file therefore carries each
    timestamp's dense rank (exact in float32, same order and ties)."""
    from baselines.recbole_adapter import write_atomic
    from baselines.recbole_reference import inside
    from benchmark.compat import recbole_shims

    recbole_shims.apply()
    from recbole.config import Config
    from recbole.data import create_dataset

    inter = raw200.interactions
    ours = make_split(raw200, SplitSpec(strategy="leave_one_out"))
    time_rank = pd.factorize(inter["timestamp"], sort=True)[0]
    folder = tmp_path / "data" / "loo"
    folder.mkdir(parents=True)
    write_atomic(folder / "loo.inter", {"user_id": ("token", inter["user"].to_numpy()),
                                        "item_id": ("token", inter["item"].to_numpy()),
                                        "timestamp": ("float", time_rank)})
    with inside(tmp_path / "cwd"):
        config = Config(model="BPR", dataset="loo", config_dict={
            "data_path": str(tmp_path / "data"), "use_gpu": False, "gpu_id": "",
            "load_col": {"inter": ["user_id", "item_id", "timestamp"]},
            "eval_args": {"split": {"LS": "valid_and_test"}, "order": "TO",
                          "group_by": "user", "mode": "full"}})
        parts = create_dataset(config).build()

    def pairs_recbole(d) -> set[tuple[str, str]]:
        u = d.id2token("user_id", d.inter_feat["user_id"].numpy())
        i = d.id2token("item_id", d.inter_feat["item_id"].numpy())
        return set(zip(u.tolist(), i.tolist()))

    def pairs_ours(part) -> set[tuple[str, str]]:
        f = part.frame
        return set(zip(ours.catalog.user_ids[f["user"]].tolist(),
                       ours.catalog.item_ids[f["item"]].tolist()))

    for theirs, mine in zip(parts, (ours.train, ours.valid, ours.test)):
        assert pairs_recbole(theirs) == pairs_ours(mine)
    assert len(ours.test) == len(ours.valid) == 200
