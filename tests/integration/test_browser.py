"""The HTML leaderboard in a real browser: headless Chromium (Debian chromium + chromium-driver,
installed by `scripts/setup.sh --browser`) opens the page over file:// and finds the standings
table and the history plots, decoded as images.

It is in the default tier. Without a browser it skips locally; .ci/run installs the browser and
sets RECBENCH_REQUIRE_BROWSER=1, which turns a missing browser into a failure, so in CI it can
never skip silently.
"""

from __future__ import annotations

import numpy as np

from benchmark.report.site import build_site
from tests.browser import chrome
from tests.unit.test_report import make_run


def _driver(profile):
    return chrome(profile)


def test_leaderboard_renders_in_headless_chromium(tmp_path):
    from selenium.webdriver.common.by import By

    users = np.arange(60)
    for i, commit in enumerate(("1111aaa", "2222bbb")):
        for name, shift in (("pop", 0.0), ("ease", 0.1 + 0.05 * i)):
            for seed in (0, 1):
                v = np.linspace(0, 0.5, 60) + shift + 0.01 * seed
                make_run(tmp_path / f"c{i}", name, seed, {"accuracy/full/ndcg@10": v}, users,
                         commit=commit)
    files = build_site([tmp_path / "c0", tmp_path / "c1"], tmp_path / "site", baseline="pop")
    driver = _driver(tmp_path / "profile")
    try:
        driver.set_page_load_timeout(30)
        driver.get(files["html"].resolve().as_uri())
        assert driver.title == "recbench leaderboard"
        table = driver.find_element(By.CSS_SELECTOR, "table.leaderboard")
        rows = table.find_elements(By.TAG_NAME, "tr")
        assert [r.find_elements(By.TAG_NAME, "td")[0].text for r in rows[1:]] == ["ease", "pop"]
        best = table.find_element(By.TAG_NAME, "strong")
        assert best.text.startswith("0.4") and "†" in rows[1].text
        images = driver.find_elements(By.CSS_SELECTOR, "#history img.history-plot")
        assert len(images) == 1
        # loaded and decoded by the browser, not just present in the markup
        for img in images:
            assert driver.execute_script(
                "return arguments[0].complete && arguments[0].naturalWidth", img) > 100
        assert "2222bbb (c1)" in driver.find_element(By.TAG_NAME, "body").text
    finally:
        driver.quit()
