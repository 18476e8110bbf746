"""One headless Chromium for the browser tests (Debian chromium + chromium-driver, installed by
`scripts/setup.sh --browser`). Without a browser a test skips locally; with
RECBENCH_REQUIRE_BROWSER=1 (set by .ci/run) a missing browser is a failure, never a skip."""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
DRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"

_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
          "--disable-component-update", "--disable-sync", "--no-first-run",
          "--disable-dev-shm-usage")


def chrome(profile: Path, extra_flags: Sequence[str] = (),
           capabilities: dict[str, Any] | None = None) -> Any:
    """A started headless Chromium driver with its own profile folder."""
    if not (os.path.exists(CHROMIUM) and os.path.exists(DRIVER)):
        if os.environ.get("RECBENCH_REQUIRE_BROWSER") == "1":
            pytest.fail(f"chromium or chromedriver missing ({CHROMIUM}, {DRIVER}); "
                        "run scripts/setup.sh --browser")
        pytest.skip("chromium / chromedriver not installed (scripts/setup.sh --browser)")
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in (*_FLAGS, *extra_flags, f"--user-data-dir={profile}"):
        opts.add_argument(flag)
    for key, value in (capabilities or {}).items():
        opts.set_capability(key, value)
    return webdriver.Chrome(service=Service(DRIVER), options=opts)
