"""Shared test configuration. Tests are offline and CPU-only; gpu/api markers opt in elsewhere."""

from __future__ import annotations

import os
import tempfile

import pytest

pytest_plugins = ["tests.support.fixtures", "tests.support.browser", "tests.support.raw_http"]

# Caches the code keeps between runs (the leaderboard's row cache) go to a folder of this test
# session, never to the developer's ~/.cache; set before any test module imports the library.
os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="judge-tests-cache-")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # gpu and api tests need hardware or keys CI never has; they run only when asked for by -m.
    wanted = config.getoption("-m") or ""
    for item in items:
        for marker in ("gpu", "api"):
            if marker in item.keywords and marker not in wanted:
                item.add_marker(pytest.mark.skip(reason=f"{marker} test: run with -m {marker}"))


@pytest.fixture(autouse=True)
def _no_real_keys(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never see the developer's real keys or endpoints, except the opt-in live ones."""
    if request.node.get_closest_marker("api") or request.node.get_closest_marker("gpu"):
        return
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "GEMINI_API_KEY", "HF_TOKEN", "RUNS_REPO", "SPACE_ID"):
        if name in os.environ:
            monkeypatch.delenv(name)
    # Nor the machine's proxies: a test that wants one sets it (tests/judges/test_http_proxy.py).
    for name in list(os.environ):
        if name.lower() in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
            monkeypatch.delenv(name)
