"""Render an HTML or SVG artifact to screenshots in a local headless Chromium (Playwright).

ArtifactsBench judges an interactive artifact from screenshots taken about a second apart, so that
animations show as change. :func:`screenshots` loads one file in a fresh browser context with the
network off (every request other than the page itself is aborted), lets its JavaScript and timers
run, and takes ``shots`` viewport screenshots one second apart, all under a time limit.

This runs the artifact's code on the machine, so it is for the command line and self-hosted Spaces:
on a public Space it is refused and the visitor uploads screenshots instead. Nothing is downloaded:
the system's Chromium (``chromium`` on the PATH, or ``CHROMIUM_PATH``) is used. Playwright is
imported on first use.
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from judges.endpoints import on_public_space
from judges.errors import BadInput, ConfigError

#: Most screenshots per artifact, and the default.
MAX_SHOTS = 10
DEFAULT_SHOTS = 3
#: Seconds between screenshots.
INTERVAL_S = 1.0
#: Largest artifact file rendered.
MAX_ARTIFACT_BYTES = 5_000_000
#: Viewport (width, height) of every screenshot.
VIEWPORT = (1280, 800)
#: What Chromium is launched with: no sandbox (containers), no GPU, no background traffic.
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
)
#: File types rendered.
SUFFIXES = (".html", ".htm", ".svg")


@dataclass(frozen=True)
class Rendered:
    """Screenshots of one artifact.

    Attributes:
        images: PNG bytes, in the order taken.
        source: The file's name (no folder).
        interval_s: Seconds between screenshots.
        blocked: How many requests the page made that were refused (network is off).
    """

    images: tuple[bytes, ...]
    source: str
    interval_s: float
    blocked: int


def chromium_path() -> str | None:
    """The system Chromium: ``CHROMIUM_PATH`` when set, else ``chromium`` on the PATH."""
    configured = os.environ.get("CHROMIUM_PATH")
    if configured:
        return configured if Path(configured).is_file() else shutil.which(configured)
    return shutil.which("chromium") or shutil.which("chromium-browser")


def check_render_allowed(env: dict[str, str] | None = None) -> None:
    """Refuse rendering on a public Space.

    Raises:
        BadInput: On a public Space, saying to upload screenshots instead.
    """
    if on_public_space(os.environ if env is None else env):
        raise BadInput(
            "Rendering code is off on this public Space (it would run the code on the server): "
            "upload screenshots of the artifact as images instead, or run the Space or the CLI yourself."
        )


def screenshots(path: str | Path, shots: int = DEFAULT_SHOTS, *, time_limit_s: float = 30.0) -> Rendered:
    """Render ``path`` (HTML or SVG) and take ``shots`` screenshots one second apart.

    Args:
        path: The artifact file.
        shots: How many screenshots (1 to :data:`MAX_SHOTS`).
        time_limit_s: The most the whole rendering may take (loading included).

    Raises:
        BadInput: Rendering refused (public Space), a bad file or shot count, or a page that does
            not render in time.
        ConfigError: No Chromium or no Playwright on this machine.
    """
    check_render_allowed()
    if type(shots) is not int or not 1 <= shots <= MAX_SHOTS:
        raise BadInput(f"shots must be a whole number from 1 to {MAX_SHOTS}, got {shots!r}.")
    file = Path(path)
    if file.suffix.lower() not in SUFFIXES:
        raise BadInput(f"Only {', '.join(SUFFIXES)} files are rendered, not {file.name!r}.")
    if not file.is_file():
        raise BadInput(f"The file to render, {file.name!r}, does not exist.")
    if file.stat().st_size > MAX_ARTIFACT_BYTES:
        raise BadInput(f"{file.name} is larger than {MAX_ARTIFACT_BYTES:,} bytes; render a smaller artifact.")
    executable = chromium_path()
    if executable is None:
        raise ConfigError(
            "Rendering needs Chromium: install it (apt-get install -y chromium) or set CHROMIUM_PATH; "
            "or upload screenshots instead."
        )
    try:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import Route, ViewportSize, sync_playwright
    except ImportError:
        raise ConfigError(
            "Rendering needs Playwright: pip install playwright (no browser download is needed)."
        ) from None
    url = file.resolve().as_uri()
    deadline = time.monotonic() + time_limit_s
    blocked = 0

    def route(request_route: Route) -> None:
        nonlocal blocked
        # The page itself loads; anything else (scripts, fonts, images, fetches) would be network.
        if request_route.request.url == url:
            request_route.continue_()
        else:
            blocked += 1
            request_route.abort()

    images: list[bytes] = []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=executable, args=list(CHROMIUM_ARGS))
            try:
                context = browser.new_context(
                    viewport=ViewportSize(width=VIEWPORT[0], height=VIEWPORT[1]), java_script_enabled=True, offline=True
                )
                context.route("**/*", route)
                page = context.new_page()
                left_ms = max(1.0, (deadline - time.monotonic()) * 1000)
                page.set_default_timeout(left_ms)
                page.goto(url, wait_until="load", timeout=left_ms)
                for index in range(shots):
                    if index:
                        page.wait_for_timeout(INTERVAL_S * 1000)
                    if time.monotonic() > deadline:
                        raise BadInput(f"Rendering {file.name} took longer than {time_limit_s:g} s; simplify the page.")
                    images.append(page.screenshot(type="png", full_page=False))
            finally:
                browser.close()
    except PlaywrightError as exc:
        first = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
        raise BadInput(f"{file.name} could not be rendered: {first}") from None
    return Rendered(tuple(images), file.name, INTERVAL_S, blocked)
