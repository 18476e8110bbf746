"""Leaderboards, renderings, plots and compare on run folders written here (benchmark.runner.store).

The run folders are synthetic on purpose: per-user values with known differences, rows of tracks
that other teams are still writing (cold_start, efficiency), so every path is exercised fast.
"""

from __future__ import annotations

import html.parser
import re

import numpy as np
import pytest
from scipy import stats as sps

from benchmark.errors import BenchError
from benchmark.report.compare import CompareOptions, compare, render
from benchmark.report.leaderboard import SignificanceSpec, build_boards
from benchmark.report.plots import all_plots
from benchmark.report.render import to_csv, to_html, to_latex, to_markdown
from benchmark.report.runs import load_runs
from benchmark.runner import store
from benchmark.stats.corrections import holm

HASH = "ab" * 32


def make_run(root, model, seed, per_user: dict[str, np.ndarray], users: np.ndarray, *,
             dataset="ml-100k", split_hash=HASH, extra_rows=(), modalities_used=None,
             registry=None, params=None, config_extra=None, commit="c0ffee", suite="s",
             metric_version=None, track_settings=None, weights=None):
    """A complete run folder: rows are the means of the given per-user arrays (+ extra rows).

    ``weights``: per-user weights of weighted metrics (GAUC), by the same keys; their rows are
    then weighted means (NaN users left out) and the weights are stored as ``<key>_weight``.
    """
    rows, arrays = [], {}
    for key, values in per_user.items():
        track, protocol, label = key.split("/")
        metric, _, k = label.partition("@")
        value = float(np.mean(values))
        if weights and key in weights:
            w = np.asarray(weights[key], dtype=np.float64)
            ok = ~np.isnan(np.asarray(values, dtype=np.float64))
            value = float(np.average(np.asarray(values)[ok], weights=w[ok]))
            arrays[f"{key}_weight"] = w
        rows.append({"track": track, "protocol": protocol, "metric": metric,
                     "k": int(k) if k else None, "value": value, "n": len(values)})
        arrays[key] = np.asarray(values, dtype=np.float64)
        arrays[f"{track}/{protocol}/users"] = np.asarray(users, dtype=np.int64)
    rows += [dict(r) for r in extra_rows]
    model_cfg = {"name": registry or model, "label": model, "params": params or {},
                 "config": dict(params or {}), "modalities": ["interactions"]}
    if modalities_used is not None:
        model_cfg["fit"] = {"modalities_used": modalities_used}
    config = {"model": model_cfg, "dataset": {"name": dataset, "max_eval_users": None},
              "seed": seed, "track_settings": track_settings or {
                  "accuracy": {"ks": [10], "sampled_negatives": 100, "user_batch": 1024}},
              **(config_extra or {})}
    folder = store.RunKey(suite, dataset, model, seed).folder(root)
    store.write_run(folder, config=config, metrics={
        "suite": suite, "model": model, "dataset": dataset, "seed": seed,
        "split": {"strategy": "chrono", "hash": split_hash}, "rows": rows, "info": {}},
        per_user=arrays, efficiency={"fit_seconds": 1.0}, samples=[],
        env={"git_commit": commit})
    if metric_version is not None:
        import json

        m = json.loads((folder / "metrics.json").read_text())
        m["metric_version"] = metric_version
        (folder / "metrics.json").write_text(json.dumps(m))
    return folder


@pytest.fixture(scope="module")
def three_models(tmp_path_factory):
    """good > base (clearly), same ~ base (noise); 2 seeds; users stored in shuffled order."""
    root = tmp_path_factory.mktemp("runs")
    n = 300
    rng = np.random.default_rng(0)
    truth = {}
    positives = np.random.default_rng(9).integers(1, 6, n).astype(float)  # GAUC's weights
    for seed in (0, 1):
        base = rng.random(n) * 0.5
        vals = {"base": base, "good": np.clip(base + 0.1 + rng.normal(0, 0.05, n), 0, 1),
                "same": np.clip(base + rng.normal(0, 0.05, n), 0, 1)}
        for name, v in vals.items():
            order = rng.permutation(n)  # per-run order differs: pairing must use user ids
            users = np.arange(1000, 1000 + n)[order]
            extra = [{"track": "accuracy", "protocol": "pointwise", "metric": "auc", "k": None,
                      "value": 0.6 + (0.1 if name == "good" else 0.0) + 0.01 * seed, "n": n},
                     {"track": "cold_start", "protocol": "new_user", "metric": "auc",
                      "k": None, "value": {"base": 0.52, "good": 0.55, "same": 0.53}[name],
                      "n": 50},
                     {"track": "efficiency", "protocol": "cpu", "metric": "latency_ms_p50",
                      "k": None, "value": {"base": 5.0, "good": 9.0, "same": 4.0}[name],
                      "n": 100}]
            make_run(root, name, seed, {"accuracy/full/ndcg@10": v[order],
                                        "accuracy/pointwise/gauc": v[order] * 0.5 + 0.5},
                     users, extra_rows=extra,
                     weights={"accuracy/pointwise/gauc": positives[order]},
                     modalities_used=["interactions", "text"] if name == "good" else None)
            truth[(name, seed)] = v
    return root, truth


def test_leaderboard_marks_daggers_and_footer(three_models):
    root, truth = three_models
    boards = {(b.track, b.protocol): b for b in build_boards(
        load_runs([root]), SignificanceSpec("base"))}
    assert set(boards) == {("accuracy", "full"), ("accuracy", "pointwise"),
                           ("cold_start", "new_user"), ("efficiency", "cpu")}
    full = boards[("accuracy", "full")]
    cell = full.cells[("good", "ndcg@10")]
    means = [truth[("good", s)].mean() for s in (0, 1)]
    assert cell.mean == pytest.approx(np.mean(means))
    assert cell.std == pytest.approx(np.std(means, ddof=1))
    assert cell.mark == "best" and cell.dagger
    assert not full.cells[("same", "ndcg@10")].dagger  # noise is not significant
    # the dagger's p-value: per-user mean over seeds, paired by user, ttest, Holm over the family
    a = (truth[("good", 0)] + truth[("good", 1)]) / 2
    b = (truth[("base", 0)] + truth[("base", 1)]) / 2
    s = (truth[("same", 0)] + truth[("same", 1)]) / 2
    expected = holm([sps.ttest_rel(a, b).pvalue, sps.ttest_rel(s, b).pvalue])
    assert cell.p_corrected == pytest.approx(expected[0])
    assert full.cells[("same", "ndcg@10")].p_corrected == pytest.approx(expected[1])
    assert full.modalities == {"base": "interactions", "good": "interactions+text",
                               "same": "interactions"}
    for text in ("dataset=ml-100k", f"hash {HASH[:12]}", "protocol=full", "seeds=[0, 1]"):
        assert text in full.footer
    # costs: lower is better; pooled metrics are not tested and the footer says so
    eff = boards[("efficiency", "cpu")]
    assert eff.cells[("same", "latency_ms_p50")].mark == "best"
    assert eff.cells[("base", "latency_ms_p50")].mark == "second"
    assert "not tested (no per-user values): auc" in boards[("accuracy", "pointwise")].footer


class _Tables(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.tables, self.rows, self.tags = 0, 0, []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag == "table" and ("class", "leaderboard") in attrs:
            self.tables += 1
        if tag == "tr":
            self.rows += 1


def test_markdown_html_csv(three_models):
    root, _ = three_models
    boards = build_boards(load_runs([root]), SignificanceSpec("base"))
    md = to_markdown(boards)
    row = next(line for line in md.splitlines() if line.startswith("| good") and "†" in line)
    assert re.search(r"\*\*0\.\d{4} ± 0\.\d{4}\*\*†", row) and "interactions+text" in row
    assert "<u>" in md and "_dataset=ml-100k; split=chrono" in md
    page = to_html(boards)
    parser = _Tables()
    parser.feed(page)
    assert parser.tables == 4 and parser.rows == 4 * 4  # header + 3 models per board
    assert "<strong>" in page and "&dagger;" in page and 'class="footer"' in page
    csv = to_csv(boards).splitlines()
    assert csv[0].startswith("dataset,track,protocol,metric,k,model,modalities,mean,std")
    good = next(line for line in csv if ",ndcg,10,good," in line)
    assert ",best,base,True," in good


def check_latex(tex: str) -> int:
    """A small LaTeX checker (no TeX here): balanced braces and $, matched environments, known
    macros only, and every tabular row with as many cells as its column spec. Returns tables."""
    allowed = {"begin", "end", "centering", "small", "toprule", "midrule", "bottomrule",
               "textbf", "underline", "pm", "dagger", "caption", "textbackslash"}
    stack, depth, tables = [], 0, 0
    for m in re.finditer(r"\\([A-Za-z]+|.)|[{}$]", tex):
        tok = m.group(0)
        if tok == "{":
            depth += 1
        elif tok == "}":
            depth -= 1
            assert depth >= 0, "unbalanced }"
        elif m.group(1) and m.group(1).isalpha():
            assert m.group(1) in allowed, f"unknown macro {tok}"
    assert depth == 0, "unbalanced {"
    assert len(re.findall(r"(?<!\\)\$", tex)) % 2 == 0, "unbalanced $"
    for m in re.finditer(r"\\(begin|end)\{(\w+)\}", tex):
        if m.group(1) == "begin":
            stack.append(m.group(2))
        else:
            assert stack and stack.pop() == m.group(2), f"mismatched \\end{{{m.group(2)}}}"
    assert not stack
    for m in re.finditer(r"\\begin\{tabular\}\{([lcr]+)\}(.*?)\\end\{tabular\}", tex, re.S):
        tables += 1
        ncols, body = len(m.group(1)), m.group(2)
        rules = [body.find(r) for r in (r"\toprule", r"\midrule", r"\bottomrule")]
        assert -1 not in rules and rules == sorted(rules), "booktabs rules missing or misplaced"
        plain = re.sub(r"\\(top|mid|bottom)rule", "", body)
        rows = [r for r in plain.split(r"\\") if r.strip()]
        assert len(rows) >= 2, "a table needs a header and a row"
        for r in rows:
            cells = len(re.findall(r"(?<!\\)&", r)) + 1
            assert cells == ncols, f"row with {cells} cells in a {ncols}-column table: {r}"
    return tables


def test_latex_is_well_formed_booktabs(three_models, tmp_path):
    root, _ = three_models
    make_run(tmp_path, "odd_name&50%", 0, {"accuracy/full/ndcg@10": np.ones(3)},
             np.arange(1000, 1003))
    tex = to_latex(build_boards(load_runs([root, tmp_path]), SignificanceSpec("base")))
    assert check_latex(tex) == 4
    assert r"\textbf{" in tex and r"$^\dagger$" in tex and r"\underline{" in tex
    assert r"odd\_name\&50\%" in tex
    with pytest.raises(AssertionError):
        check_latex(tex.replace(r"\bottomrule", "", 1))  # the checker can fail
    with pytest.raises(AssertionError):
        check_latex(tex.replace(" & ", " ", 1))


def test_plots_png_and_pdf(three_models, tmp_path):
    root, _ = three_models
    files, skipped = all_plots(load_runs([root]), tmp_path)
    names = sorted(p.name for p in files)
    assert names == ["cold_start.pdf", "cold_start.png", "headline.pdf", "headline.png"]
    for p in files:
        head = p.read_bytes()[:5]
        assert head == (b"\x89PNG\r" if p.suffix == ".png" else b"%PDF-")
    assert skipped == ["ablation: no model family run under several labels (ablation variants)"]


def test_ablation_plot_groups_variants(tmp_path):
    for variant in ("full", "no_attribution"):
        make_run(tmp_path, f"explainrec-{variant}", 0, {"accuracy/full/ndcg@10": np.ones(3)},
                 np.arange(3), registry="explainrec", params={"variant": variant})
    files, skipped = all_plots(load_runs([tmp_path]), tmp_path / "plots")
    assert "ablation.png" in {p.name for p in files}


def test_compare_equals_scipy_on_user_aligned_values(three_models):
    root, truth = three_models
    df = compare(load_runs([root]), CompareOptions("base", ("full/ndcg@10",), n_resamples=500))
    assert sorted(df["model"]) == ["good", "same"]
    row = df[df["model"] == "good"].iloc[0]
    a = (truth[("good", 0)] + truth[("good", 1)]) / 2
    b = (truth[("base", 0)] + truth[("base", 1)]) / 2
    assert row["p"] == pytest.approx(sps.ttest_rel(a, b).pvalue)
    assert row["diff"] == pytest.approx((a - b).mean())
    assert row["ci_low"] < row["diff"] < row["ci_high"]
    assert row["wins"] + row["ties"] + row["losses"] == 300 and row["wins"] > 250
    family = df.sort_values("model")["p"].to_numpy()  # good, same: the whole printed family
    assert df.sort_values("model")["p_corrected"].to_numpy() == pytest.approx(holm(family))
    wil = compare(load_runs([root]), CompareOptions("base", ("ndcg@10",), test="wilcoxon"))
    assert wil[wil["model"] == "good"].iloc[0]["p"] == pytest.approx(sps.wilcoxon(a, b).pvalue)


def test_compare_refuses_other_split_or_metric_version(three_models, tmp_path):
    root, _ = three_models
    u = np.arange(5)
    make_run(tmp_path / "a", "base", 0, {"accuracy/full/ndcg@10": np.ones(5)}, u)
    make_run(tmp_path / "a", "x", 0, {"accuracy/full/ndcg@10": np.ones(5)}, u,
             split_hash="cd" * 32)
    with pytest.raises(BenchError, match="other split / dataset hash"):
        compare(load_runs([tmp_path / "a"]), CompareOptions("base"))
    make_run(tmp_path / "b", "base", 0, {"accuracy/full/ndcg@10": np.ones(5)}, u)
    make_run(tmp_path / "b", "y", 0, {"accuracy/full/ndcg@10": np.ones(5)}, u,
             metric_version=99)
    with pytest.raises(BenchError, match="metric_version"):
        compare(load_runs([tmp_path / "b"]), CompareOptions("base"))
    with pytest.raises(BenchError, match="unknown baseline model"):
        compare(load_runs([root]), CompareOptions("nope"))


def test_nan_per_user_values_mean_undefined_and_are_dropped(tmp_path):
    # the cold-start track aligns GAUC with its ranking users, NaN where a user lacks a label
    u = np.arange(40)
    a = np.linspace(0.4, 0.9, 40)
    a[[3, 7]] = np.nan
    b = np.linspace(0.3, 0.8, 40) + np.random.default_rng(2).normal(0, 0.05, 40)
    b[[7, 11]] = np.nan
    # weights NaN where the values are (as the track writes them); equal weights elsewhere: the
    # weighted test is then the plain paired t-test
    w = np.where(np.isnan(a), np.nan, 2.0)
    wb = np.where(np.isnan(b), np.nan, 2.0)
    make_run(tmp_path, "base", 0, {"cold_start/new_item/gauc": b}, u,
             weights={"cold_start/new_item/gauc": wb})
    make_run(tmp_path, "m", 0, {"cold_start/new_item/gauc": a}, u,
             weights={"cold_start/new_item/gauc": w})
    row = compare(load_runs([tmp_path]), CompareOptions("base", n_resamples=200)).iloc[0]
    keep = ~np.isnan(a) & ~np.isnan(b)
    assert row["n_users"] == 37
    assert row["p"] == pytest.approx(sps.ttest_rel(a[keep], b[keep]).pvalue)


def test_compare_with_other_users_per_seed_falls_back_to_the_seed_level_test(tmp_path):
    """max_eval_users draws users per seed: no user is in every seed, so the per-user test is
    n/a (not an error, not a 1-user 'test') and the seed-level test still runs."""
    rng = np.random.default_rng(3)
    means = {}
    for seed in (0, 1, 2):
        users = np.arange(100 * seed, 100 * seed + 50)  # disjoint subsets
        for name, shift in (("base", 0.0), ("m", 0.05)):
            v = np.clip(rng.random(50) * 0.5 + shift + 0.02 * seed, 0, 1)
            make_run(tmp_path, name, seed, {"accuracy/sampled/ndcg@10": v}, users)
            means[(name, seed)] = float(v.mean())
    df = compare(load_runs([tmp_path]), CompareOptions("base", ("ndcg@10",)))
    row = df.iloc[0]
    assert row["n_users"] == 0 and np.isnan(row["p"]) and np.isnan(row["diff"])
    a = [means[("m", s)] for s in (0, 1, 2)]
    b = [means[("base", s)] for s in (0, 1, 2)]
    assert row["p_seeds"] == pytest.approx(sps.ttest_rel(a, b).pvalue)
    assert row["model_mean"] == pytest.approx(np.mean(a))
    text = render(df, CompareOptions("base"))
    assert "| n/a" in text and "seed-level test" in text
