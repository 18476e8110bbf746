"""The cold-start track stores each GAUC's per-user AUC with its weight, aligned with its users,
and its rows are the weighted means of what it stored (so compare/check test the number shown)."""

from __future__ import annotations

import numpy as np
import pytest

from benchmark.runner import store
from tests.integration.test_tracks import finished  # noqa: F401  (the module's suite run)


def test_cold_start_gauc_rows_are_the_weighted_means_of_the_stored_values(finished):  # noqa: F811
    out, _, _ = finished
    checked = 0
    for folder in store.find_runs(out):
        rows = {(r["protocol"], r["metric"]): r["value"] for r in store.read_metrics(folder)["rows"]
                if r["track"] == "cold_start"}
        table = store.read_per_user(folder)
        for protocol in sorted({p for p, m in rows if m == "gauc"}):
            users = table[f"cold_start/{protocol}/users"]
            for metric in ("gauc", "gauc_pairs"):
                values = table[f"cold_start/{protocol}/{metric}"]
                weights = table[f"cold_start/{protocol}/{metric}_weight"]
                assert len(values) == len(weights) == len(users)
                defined = ~np.isnan(values)
                np.testing.assert_array_equal(defined, ~np.isnan(weights))
                assert defined.any() and np.all(weights[defined] >= 1)
                assert rows[(protocol, metric)] == pytest.approx(
                    np.average(values[defined], weights=weights[defined]), abs=1e-12)
                checked += 1
            pos = table[f"cold_start/{protocol}/gauc_weight"]
            pairs = table[f"cold_start/{protocol}/gauc_pairs_weight"]
            ok = ~np.isnan(pos)
            assert np.all(pairs[ok] >= pos[ok])  # pos x neg >= pos when neg >= 1
    assert checked >= 4
