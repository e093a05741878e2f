"""Rendering an HTML/SVG artifact to screenshots in the system's headless Chromium (network off).

Needs Debian's ``chromium`` and Playwright; without them the rendering tests skip, unless
``REQUIRE_BROWSER=1`` (CI), where they fail instead, as tests/test_browser.py does.
"""

from __future__ import annotations

import json
import os

import pytest

from judges.errors import BadInput
from judges.render import check_render_allowed, chromium_path, screenshots
from judges.tasks import get_task

ANIMATED = """<!doctype html>
<html><head><style>
  body { margin: 0; background: #fff; }
  #box { position: absolute; top: 40px; left: 0; width: 120px; height: 120px; background: #c33;
         animation: slide 4s linear infinite; }
  @keyframes slide { from { left: 0; } to { left: 1000px; } }
</style>
<link rel="stylesheet" href="https://example.invalid/theme.css">
</head><body>
<div id="box"></div><p id="ticks">0</p>
<img src="http://example.invalid/logo.png">
<script>
  let ticks = 0;
  setInterval(() => { document.getElementById('ticks').textContent = String(++ticks); }, 250);
  fetch('http://example.invalid/api').catch(() => { document.title = 'offline'; });
</script>
</body></html>
"""


def _unavailable(reason: str) -> None:
    if os.environ.get("REQUIRE_BROWSER") == "1":
        pytest.fail(f"REQUIRE_BROWSER=1 but {reason}")
    pytest.skip(reason)


@pytest.fixture()
def browser_ready():
    if chromium_path() is None:
        _unavailable("no Chromium on this machine (apt-get install -y chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _unavailable("playwright is not installed (pip install playwright)")


def test_an_animated_page_gives_three_different_screenshots_with_the_network_off(tmp_path, browser_ready):
    page = tmp_path / "artifact.html"
    page.write_text(ANIMATED, encoding="utf-8")
    rendered = screenshots(page, 3)
    assert len(rendered.images) == 3 and rendered.interval_s == 1.0
    assert all(png.startswith(b"\x89PNG") for png in rendered.images)
    assert len(set(rendered.images)) == 3  # the animation and the timers moved between shots
    assert rendered.blocked >= 2  # the stylesheet, the image (and the fetch) never left the machine


def test_the_task_renders_into_images_and_records_it(tmp_path, browser_ready):
    page = tmp_path / "artifact.svg"
    page.write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" width="200" height="100"><circle cx="50" cy="50" r="40" fill="teal">'
        '<animate attributeName="cx" from="50" to="150" dur="2s" repeatCount="indefinite"/></circle></svg>',
        encoding="utf-8",
    )
    task = get_task("rubric").make_task(
        "Draw a moving circle.", ["<svg>...</svg>"], extra={"rubric": "artifacts", "render": str(page), "shots": 2}
    )
    assert len(task.images) == 2 and task.images[0].media_type == "image/png"
    assert task.rendered == {"source": "artifact.svg", "shots": 2, "interval_s": 1.0, "blocked_requests": 0}
    assert json.dumps(dict(task.rendered))


def test_rendering_is_refused_on_a_public_space(tmp_path, monkeypatch):
    page = tmp_path / "a.html"
    page.write_text("<p>hi</p>", encoding="utf-8")
    monkeypatch.setenv("SPACE_ID", "someone/space")
    with pytest.raises(BadInput, match="upload screenshots"):
        screenshots(page, 3)
    with pytest.raises(BadInput, match="upload screenshots"):
        get_task("rubric").make_task("Q?", ["A."], extra={"render": str(page)})
    with pytest.raises(BadInput, match="public Space"):
        check_render_allowed({"SPACE_ID": "x/y"})
    check_render_allowed({})


@pytest.mark.parametrize(
    ("name", "shots", "message"),
    [
        ("a.txt", 3, "Only .html"),
        ("a.html", 0, "shots must be"),
        ("a.html", 11, "shots must be"),
        ("missing.html", 3, "does not exist"),
    ],
)
def test_bad_render_requests_are_refused_before_any_browser(tmp_path, name, shots, message):
    if name != "missing.html":
        (tmp_path / name).write_text("<p>x</p>", encoding="utf-8")
    with pytest.raises(BadInput, match=message):
        screenshots(tmp_path / name, shots)


def test_a_page_that_never_finishes_loading_hits_the_time_limit(tmp_path, browser_ready):
    page = tmp_path / "busy.html"
    page.write_text("<p>busy</p><script>while (true) {}</script>", encoding="utf-8")
    with pytest.raises(BadInput, match="could not be rendered|took longer"):
        screenshots(page, 3, time_limit_s=3)


def test_local_files_the_page_points_at_are_blocked_too(tmp_path, browser_ready):
    from PIL import Image

    secret = tmp_path / "secret.png"
    Image.new("RGB", (50, 50), (0, 200, 0)).save(secret)
    Image.new("RGB", (50, 50), (0, 0, 200)).save(tmp_path / "beside.png")
    page = tmp_path / "peek.html"
    page.write_text(
        f'<iframe src="file:///etc/hostname"></iframe><img src="{secret.as_uri()}"><img src="beside.png">',
        encoding="utf-8",
    )
    rendered = screenshots(page, 1)
    assert rendered.blocked == 3  # only the page itself is loaded, never a file beside it
