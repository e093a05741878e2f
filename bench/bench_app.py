"""How fast the Space starts and shows its leaderboard, and how much memory it holds.

Run from the repository root::

    python bench/bench_app.py            # 3 repetitions of each measurement

Measured:

* **import + build**: a fresh ``python -c "import app; app.build_demo()"`` process, timed inside
  (interpreter start-up excluded). Target < 3 s.
* **leaderboard visible**: ``python app.py`` is started as a user would start it (on a free port);
  a headless Chromium opens the page, clicks the Leaderboard tab and waits for the first table
  cell. Timed from the start of navigation. Target < 2 s.
* **RSS**: resident memory of that ``python app.py`` process after the pages above were served
  (leaderboard computed, no local model loaded). Target < 500 MB.

Needs Debian's Chromium at /usr/bin/chromium and Playwright from PyPI for the browser row.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
BUILD_CODE = (
    "import time; t = time.perf_counter(); import app; t1 = time.perf_counter(); app.build_demo(); "
    "t2 = time.perf_counter(); print(t1 - t, t2 - t1)"
)


def free_port() -> int:
    """A TCP port that was free a moment ago on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def rss_mb(pid: int) -> float:
    """Resident set size of ``pid`` in MB (psutil when installed, else /proc)."""
    try:
        import psutil

        return psutil.Process(pid).memory_info().rss / 2**20
    except ImportError:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def import_and_build(repeats: int) -> tuple[list[float], list[float]]:
    """Seconds to import app and to build the demo, each in a fresh process."""
    imports, builds = [], []
    for _ in range(repeats):
        out = subprocess.run([sys.executable, "-c", BUILD_CODE], cwd=ROOT, capture_output=True, text=True, check=True)
        first, second = (float(x) for x in out.stdout.split()[-2:])
        imports.append(first)
        builds.append(second)
    return imports, builds


def serve_app() -> tuple[subprocess.Popen, str]:
    """Start ``python app.py`` on a free port and wait until it answers."""
    port = free_port()
    env = {**os.environ, "GRADIO_SERVER_NAME": "127.0.0.1", "GRADIO_SERVER_PORT": str(port)}
    env.pop("OPENAI_API_KEY", None)
    process = subprocess.Popen(
        [sys.executable, "app.py"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1):
                return process, url
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("app.py did not start within 60 s")


def leaderboard_visible(url: str, repeats: int) -> tuple[list[float], list[float]]:
    """Seconds from navigation start to the first table cell, and from the tab click to it."""
    from playwright.sync_api import sync_playwright

    totals, after_click = [], []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        for _ in range(repeats):
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            page = context.new_page()
            start = time.perf_counter()
            page.goto(url)
            page.get_by_role("tab", name="Leaderboard").click()
            clicked = time.perf_counter()
            page.locator('#lb-table [data-testid="cell-0-0"]').wait_for(state="visible", timeout=30_000)
            end = time.perf_counter()
            totals.append(end - start)
            after_click.append(end - clicked)
            context.close()
        browser.close()
    return totals, after_click


def row(name: str, values: list[float], unit: str, target: str) -> str:
    """One Markdown table row: median, worst, target."""
    return f"| {name} | {statistics.median(values):.2f} {unit} | {max(values):.2f} {unit} | {target} |"


def main() -> None:
    """Measure and print a Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    imports, builds = import_and_build(args.repeats)
    lines = [
        "| measurement | median | worst | target |",
        "|---|---:|---:|---|",
        row("import app", imports, "s", ""),
        row("build_demo()", builds, "s", ""),
        row("import + build", [a + b for a, b in zip(imports, builds, strict=True)], "s", "< 3 s"),
    ]
    process, url = serve_app()
    try:
        if Path(CHROMIUM).exists():
            totals, after_click = leaderboard_visible(url, args.repeats)
            lines.append(row("page load -> leaderboard table visible", totals, "s", "< 2 s"))
            lines.append(row("tab click -> table visible", after_click, "s", ""))
        else:
            lines.append(f"| leaderboard visible | skipped: no Chromium at {CHROMIUM} | | < 2 s |")
        memory = rss_mb(process.pid)
        lines.append(f"| RSS of `python app.py` (no local model) | {memory:.0f} MB | | < 500 MB |")
    finally:
        process.terminate()
        process.wait(timeout=10)
    print("\n".join(lines))
    print(f"\n{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at the end (other work slows every row).")


if __name__ == "__main__":
    main()
