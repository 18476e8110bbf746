"""The results site on synthetic run folders: which pages exist, what they show, and that every
link and resource stays inside the site (the browser tier checks the same pages in Chromium)."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from benchmark.report.site import build_history_site, build_report_site
from tests.unit.test_report import make_run

pytest.importorskip("jinja2")

USERS = np.arange(80)
COLD = {"cold_start": {"default_support": 2}}


def _rows(track, protocol, values: dict[str, float]) -> list[dict]:
    return [{"track": track, "protocol": protocol, "metric": m, "k": None, "value": v, "n": 80}
            for m, v in values.items()]


def _runs(root, shift_ease: float = 0.1, commit: str = "c0ffee") -> None:
    """pop < explainrec variants < ease on full NDCG@10; cold-start, efficiency rows too."""
    models = {"pop": (0.0, "pop", {}), "ease": (shift_ease, "ease", {}),
              "xr-full": (0.05, "explainrec", {"variant": "full"}),
              "xr-no_kb": (0.03, "explainrec", {"variant": "no_kb"})}
    for name, (shift, registry, params) in models.items():
        for seed in (0, 1):
            v = np.linspace(0, 0.4, 80) + shift + 0.01 * seed
            extra = (_rows("accuracy", "pointwise", {"auc": 0.6 + shift})
                     + _rows("cold_start", "new_user", {"auc": 0.55 + shift})
                     + _rows("cold_start", "new_user_n0", {"auc": 0.5 + shift})
                     + _rows("efficiency", "cpu", {"train_seconds": 1 + 10 * shift,
                                                   "latency_ms_p50": 0.1 + shift}))
            make_run(root, name, seed, {"accuracy/full/ndcg@10": v}, USERS, extra_rows=extra,
                     registry=registry, params=params, commit=commit,
                     config_extra={"track_settings": COLD})


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("site")
    _runs(root / "runs")
    folder = root / "runs" / "s" / "ml-100k" / "xr-full" / "seed-0"
    samples = [{"track": "explanation", "user": 3, "item": 7, "title": "Heat",
                "explanation": "You may enjoy Heat, a crime film.", "reference": "Heat is a "
                "crime film like ones you liked.", "protocol": "silver", "predicted_like": True,
                "stance": 1, "score_percentile": 0.9, "cited": ["Heat"],
                "judge": {"usefulness": 4.0, "accuracy": 3.0, "clarity": 5.0},
                "judge_context": ["Ronin", "Casino"]},
               {"track": "tallrec", "protocol": "tallrec", "user_raw": "9", "item": 7,
                "title": "Heat", "prompt": "Given the user's history ... Answer Yes or No.",
                "reference": "Yes", "prediction": 0.8125}]
    samples.append({"track": "explanation", "user": 4, "item": 9, "title": "Alien",
                    "explanation": "Alien is sci-fi.", "reference": "Alien is a sci-fi film.",
                    "protocol": "silver"})
    (folder / "samples.jsonl").write_text("".join(json.dumps(s) + "\n" for s in samples))
    later = {"user": 4, "item": 9, "protocol": "silver", "judge": {
        "usefulness": 2.0, "accuracy": 3.5, "clarity": None}}  # `recbench judge` afterwards
    (folder / "judge.jsonl").write_text(json.dumps(later) + "\n")
    pages = build_report_site([root / "runs"], root / "www", baseline="pop")
    return root, pages


def test_pages_and_self_contained(site):
    root, pages = site
    for name in ("index.html", "tables.html", "figures.html", "compare.html", "paper.html"):
        assert name in pages
    assert "history.html" not in pages  # only `leaderboard --site` has history
    assert len([p for p in pages if p.startswith("runs/")]) == 8
    for path in pages.values():
        text = path.read_text()
        for ref in re.findall(r'(?:src|href)="([^"]*)"', text):
            assert not re.match(r"^[a-z]+:|^//", ref), (path, ref)  # relative: file:// only
            target = (path.parent / ref.split("#")[0]).resolve()
            assert target.exists(), (path, ref)
        assert "<img" not in text or all(a.strip() for a in re.findall(r'alt="([^"]*)"', text))
    assert (root / "www" / "static" / "site.js").is_file()


def test_overview_sorted_with_links_and_marks(site):
    _, pages = site
    text = pages["index.html"].read_text()
    table = text.split('<table class="overview')[1].split("</table>")[0]
    models = re.findall(r'<td class="model" data-value="([^"]+)"', table)
    assert models == ["ease", "xr-full", "xr-no_kb", "pop"]
    assert "runs/s--ml-100k--ease--seed-0.html" in table and "&dagger;" in table
    assert "Sorted by ndcg@10 [full]" in text and "hash abababababab" in text


def test_figures_cover_every_kind(site):
    root, pages = site
    names = {p.name for p in (root / "www" / "figures").iterdir()}
    assert {"cold-start-ml-100k.svg", "ablation-ml-100k-explainrec.svg",
            "efficiency-ml-100k.svg", "headline-ml-100k-accuracy.svg"} <= names
    text = pages["figures.html"].read_text()
    assert "each variant minus xr-full" in text and "N=0" in text


def test_run_page_samples(site):
    _, pages = site
    text = pages["runs/s--ml-100k--xr-full--seed-0.html"].read_text()
    for needle in ("You may enjoy Heat, a crime film.", "crime film like ones you liked",
                   "Ronin", "usefulness 4", "agrees", "0.8125", "Answer Yes or No",
                   "accuracy 3.5", "clarity unrated", "(recbench judge)"):
        assert needle in text, needle
    assert "seed-1.html" in text  # the other seed's page
    plain = pages["runs/s--ml-100k--pop--seed-0.html"].read_text()
    assert "stored no samples" in plain


def test_full_tables_tabs_fit(site):
    _, pages = site
    text = pages["tables.html"].read_text()
    assert 'role="tab"' in text and "<strong>" in text and "<u>" in text


def test_history_site_marks_the_regression(tmp_path):
    _runs(tmp_path / "c0", commit="1111aaa")
    _runs(tmp_path / "c1", shift_ease=-0.2, commit="2222bbb")  # ease drops sharply
    pages = build_history_site([tmp_path / "c0", tmp_path / "c1"], tmp_path / "www")
    text = pages["history.html"].read_text()
    assert "regression (exit 1)" in text and "ease on ml-100k accuracy/full/ndcg@10" in text
    assert "Regressions (red crosses): ease at 2222bbb (c1)" in text


def test_cli_site_option_and_plain_report_unchanged(site, tmp_path, capsys):
    from benchmark.cli import main
    from benchmark.report.leaderboard import build_boards
    from benchmark.report.render import render_boards
    from benchmark.report.runs import load_runs

    root, _ = site
    runs = root / "runs"
    assert main(["report", str(runs), "--site", str(tmp_path / "www")]) == 0
    assert (tmp_path / "www" / "index.html").is_file()
    assert "wrote site:" in capsys.readouterr().err
    assert main(["report", str(runs), "--format", "md"]) == 0  # without --site: as before
    assert capsys.readouterr().out == render_boards(build_boards(load_runs([runs])), "md")
    assert main(["leaderboard", str(runs), "--site", str(tmp_path / "lb")]) == 0
    assert (tmp_path / "lb" / "history.html").is_file()
