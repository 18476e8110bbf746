"""The results site (`recbench report --site`) in headless Chromium, built from a real suite run.

A small suite on MovieLens-100K (Pop, EASE and the explaining content model, two seeds, the
accuracy, explanation and efficiency tracks; about 20 s) is run, the site built, and Chromium
opens it over file:// at 1,400 x 1,000 pixels. Asserted: the overview table is sorted by its
headline metric; a click on a number opens that run's page; an explanation sample with its
reference is visible on the explaining model's page; no table is wider than the window; no
request leaves file://. Screenshots of the overview and a run page go to RECBENCH_SCREENSHOTS
(default build/screenshots, git-ignored; docs/screenshots holds the committed copies).

Same tier rules as test_browser.py: skips without a browser unless RECBENCH_REQUIRE_BROWSER=1.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.browser import chrome

ROOT = Path(__file__).resolve().parents[2]
WIDTH, HEIGHT = 1400, 1000
SUITE = """
name = "site"
seeds = [0, 1]
tracks = ["accuracy", "explanation", "efficiency"]
[[datasets]]
name = "ml-100k"
max_eval_users = 200
[[models]]
name = "pop"
[[models]]
name = "ease"
params = { l2_grid = [], l2 = 500.0 }
[[models]]
name = "content"
params = { popularity_weights = [0.1] }
[accuracy]
ks = [5, 10, 20]
protocols = ["full", "sampled", "pointwise"]
sampled_negatives = 50
[explanation]
max_pairs = 12
"""


def _driver(profile: Path):
    driver = chrome(profile, extra_flags=("--hide-scrollbars", f"--window-size={WIDTH},{HEIGHT}"),
                    capabilities={"goog:loggingPrefs": {"performance": "ALL"}})
    driver.set_window_size(WIDTH, HEIGHT)
    # the viewport itself (not the window around it) is 1,400 x 1,000: tables and screenshots
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": WIDTH, "height": HEIGHT, "deviceScaleFactor": 1, "mobile": False})
    driver.set_page_load_timeout(30)
    driver.get("about:blank")
    driver.get_log("performance")  # drop the browser's own start page (chrome://new-tab-page)
    return driver


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    from benchmark.config.suite import load_suite
    from benchmark.report.site import build_report_site
    from benchmark.runner.executors import ExecutorSettings
    from benchmark.runner.runner import run_suite

    root = tmp_path_factory.mktemp("site")
    (root / "site.toml").write_text(SUITE)
    outcome = run_suite(load_suite(root / "site.toml"), root / "runs", progress=False,
                        executor=ExecutorSettings(isolate=False))
    assert not outcome.failed, outcome.failed
    pages = build_report_site([root / "runs"], root / "www", baseline="pop")
    return root, pages


def _widest_table(driver) -> float:
    """Widest table with every tab panel shown, and the page's own scroll width."""
    return driver.execute_script("""
        document.querySelectorAll('.panel').forEach(p => p.style.display = 'block');
        let w = document.documentElement.scrollWidth;
        document.querySelectorAll('table').forEach(t => {
            w = Math.max(w, t.getBoundingClientRect().right); });
        document.querySelectorAll('.panel').forEach(p => p.style.display = '');
        return w;""")


def _leaving_file(driver) -> list[str]:
    """Every URL the page or the browser asked for that is not file:// (or data:/about:)."""
    urls = driver.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)"
        ".concat([location.href]);")
    for entry in driver.get_log("performance"):
        msg = json.loads(entry["message"])["message"]
        if msg.get("method") == "Network.requestWillBeSent":
            urls.append(msg["params"]["request"]["url"])
    return [u for u in urls if not u.startswith(("file://", "data:", "about:"))]


def test_site_in_headless_chromium(site, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    root, pages = site
    shots = Path(os.environ.get("RECBENCH_SCREENSHOTS") or ROOT / "build" / "screenshots")
    shots.mkdir(parents=True, exist_ok=True)
    driver = _driver(tmp_path / "profile")
    try:
        for name in ("index.html", "tables.html", "figures.html", "compare.html", "paper.html"):
            driver.get(pages[name].resolve().as_uri())
            assert _widest_table(driver) <= WIDTH, name
            assert driver.execute_script(  # figures decoded, not just present in the markup
                "return [...document.images].every(i => i.complete && i.naturalWidth > 0)"), name
            assert not _leaving_file(driver), name
        driver.get(pages["index.html"].resolve().as_uri())
        table = driver.find_element(By.CSS_SELECTOR, "table.overview")
        col = int(table.get_attribute("data-sorted-by"))
        head = table.find_elements(By.CSS_SELECTOR, "thead th")[col]
        assert head.text.startswith("ndcg@10 [full]")
        rows = table.find_elements(By.CSS_SELECTOR, "tbody tr")
        values = [float(r.find_elements(By.TAG_NAME, "td")[col].get_attribute("data-value"))
                  for r in rows]
        assert len(values) == 3 and values == sorted(values, reverse=True)
        assert rows[0].find_element(By.TAG_NAME, "td").text == "ease"
        driver.save_screenshot(str(shots / "site-overview.png"))

        # a click on a number opens that run's page
        content = next(r for r in rows if r.find_element(By.TAG_NAME, "td").text == "content")
        link = content.find_elements(By.TAG_NAME, "td")[col].find_element(By.TAG_NAME, "a")
        href = link.get_attribute("href")
        link.click()
        WebDriverWait(driver, 10).until(lambda d: d.current_url == href)
        assert "content" in driver.find_element(By.TAG_NAME, "h1").text
        assert _widest_table(driver) <= WIDTH

        # an explanation sample beside its reference, as stored in the run folder
        sample = driver.find_element(By.CSS_SELECTOR, "#explanations tr.sample")
        assert sample.is_displayed()
        folder = root / "runs" / "site" / "ml-100k" / "content" / "seed-0"
        stored = json.loads((folder / "samples.jsonl").read_text().splitlines()[0])
        expl = sample.find_element(By.CSS_SELECTOR, "td.explanation").text
        ref = sample.find_element(By.CSS_SELECTOR, "td.reference").text
        assert stored["explanation"] in expl and stored["reference"] in ref
        assert stored["title"] in sample.text
        driver.execute_script("document.getElementById('explanations').scrollIntoView()")
        driver.save_screenshot(str(shots / "site-run-page.png"))
        assert not _leaving_file(driver)
    finally:
        driver.quit()
