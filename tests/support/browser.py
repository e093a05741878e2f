"""The headless Chromium every browser test drives, as a pytest plugin (``browser`` fixture).

Needs Debian's ``chromium`` (``apt-get install -y chromium``) and Playwright from PyPI. Without them
the browser tests skip, unless ``REQUIRE_BROWSER=1`` (set in CI), where they fail instead.
Screenshots land in ``test-artifacts/`` (git-ignored).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: How long page actions and assertions wait: on a loaded 2-core machine a recompute after a
#: submission can take longer than Playwright's 5 s default.
TIMEOUT_MS = 20_000


def unavailable(reason: str) -> None:
    """Skip the test, or fail it where a browser is required (CI)."""
    if os.environ.get("REQUIRE_BROWSER") == "1":
        pytest.fail(f"REQUIRE_BROWSER=1 but {reason}")
    pytest.skip(reason)


def launch(playwright: Any) -> Any:
    """Chromium from the system, never a downloaded one."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


@pytest.fixture(scope="module")
def playwright_session() -> Iterator[Any]:
    """A running Playwright, after checking Chromium and Playwright are there."""
    if not (Path(CHROMIUM).is_file() or shutil.which(CHROMIUM)):
        unavailable(f"no Chromium at {CHROMIUM} (apt-get install -y chromium)")
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError:
        unavailable("playwright is not installed (pip install playwright)")
    expect.set_options(timeout=TIMEOUT_MS)
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="module")
def browser(playwright_session: Any) -> Iterator[Any]:
    """One headless Chromium per test module."""
    chromium = launch(playwright_session)
    yield chromium
    chromium.close()


def shot(page: Any, name: str) -> None:
    """A full-page screenshot in ``test-artifacts/<name>.png``."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
