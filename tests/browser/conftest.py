"""A real browser for the dashboard: Debian's chromium, driven by Playwright.

Playwright's own browser builds cannot be downloaded here, so the tests launch `/usr/bin/chromium`
(`.ci/run` installs it). Without it they skip, saying why, unless DI_REQUIRE_BROWSER=1, where they fail.
Screenshots go to a temporary folder, or to docs/screenshots/ with DI_SCREENSHOTS=1 (`make screenshots`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
VIEWPORT = {"width": 1280, "height": 800}
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """A headless chromium for one module. Playwright's sync API runs an event loop in this thread while it is
    started, so it is stopped after each module: later tests may call asyncio.run() again."""
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium) to run the browser tests"
        if os.environ.get("DI_REQUIRE_BROWSER") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def screenshots(tmp_path: Path) -> Path:
    """Where the test's screenshots go: the README's own with DI_SCREENSHOTS=1, else a temporary folder."""
    if os.environ.get("DI_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        return SCREENSHOTS
    return tmp_path
