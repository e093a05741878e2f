"""The verify and process tasks in a real headless Chromium: pick the task, fill its own fields, judge
through the loopback server, and see the checks (with the boxes drawn) or the steps under the verdict.

Skips without Chromium unless ``REQUIRE_BROWSER=1`` (see tests/test_browser.py).
"""

from __future__ import annotations

import json

import pytest

from judges.settings import Settings
from tests.judges.test_verify_task import scene_png, true_facts
from tests.support.app_launch import launched_app
from tests.support.browser import TIMEOUT_MS, shot
from tests.support.openai_server import reply, serve_openai

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server():
    def answer(request):
        if '"steps"' in request.text:
            return reply(
                json.dumps(
                    {
                        "solution": "d = 5",
                        "steps": [
                            {"step": 1, "correct": True, "error_type": "none", "explanation": "Pythagoras applies"},
                            {"step": 2, "correct": False, "error_type": "numerical calculation",
                             "explanation": "9 + 16 is 25"},
                        ],
                    }
                )
            )  # fmt: skip
        return reply(json.dumps(true_facts()))

    with serve_openai(default=answer) as srv:
        yield srv


@pytest.fixture(scope="module")
def running(tmp_path_factory):
    env = {"JUDGE_MAX_RETRIES": "0", "JUDGE_TIMEOUT_S": "10", "RUNS_DIR": str(tmp_path_factory.mktemp("runs"))}
    with launched_app(Settings.from_env(env)) as app_:
        yield app_


@pytest.fixture
def page(browser, running):  # noqa: F811 - browser is the fixture imported above
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(running.url)
    page.wait_for_selector("#judge-run")
    yield page
    context.close()


def custom_judge(page, server) -> None:
    page.locator("#judge-base-url textarea").fill(server.base_url)
    page.locator("#judge-model textarea").fill("judge-model")


def test_verify_shows_each_check_and_the_boxes_on_the_image(page, server, tmp_path):
    from playwright.sync_api import expect

    image = tmp_path / "scene.png"
    image.write_bytes(scene_png())
    page.locator("#judge-mode").get_by_text("Verify", exact=False).click()
    checks = page.locator("#judge-input-check textarea")
    expect(checks).to_be_visible()
    expect(page.locator("#judge-input-steps")).to_be_hidden()
    page.locator("#judge-image input[type=file]").set_input_files(str(image))
    checks.fill('count:cat=2,dog=1\nleft-of:cat,dog\ntext:"OPEN 24H"\ncount:cat=3')
    custom_judge(page, server)
    page.locator("#judge-run").click()
    verdict = page.locator("#judge-verdict")
    expect(verdict).to_contain_text("Fail")
    table = verdict.locator(".details-verify table")
    expect(table).to_contain_text("count:cat=3")
    expect(table.locator("tr.details-pass")).to_have_count(4)
    expect(table.locator("tr.details-fail")).to_have_count(1)
    overlay = verdict.locator("img.details-overlay")
    expect(overlay).to_be_visible()
    assert overlay.get_attribute("src").startswith("data:image/png;base64,")
    assert overlay.evaluate("img => img.naturalWidth") > 0
    shot(page, "judge-verify")


def test_process_splits_the_response_and_marks_each_step(page, server, tmp_path):
    from playwright.sync_api import expect

    figure = tmp_path / "figure.png"
    figure.write_bytes(scene_png())
    page.locator("#judge-mode").get_by_text("Process", exact=False).click()
    # The problem's figure (the form asks for an image in the settings that show one).
    page.locator("#judge-image input[type=file]").set_input_files(str(figure))
    expect(page.locator("#judge-input-steps")).to_be_visible()
    page.locator("#judge-instruction textarea").fill("A rectangle is 3 by 4. How long is its diagonal?")
    page.locator("#judge-response-1 textarea").fill("Step 1: d^2 = 3^2 + 4^2\nStep 2: d^2 = 24, so d = sqrt(24)")
    custom_judge(page, server)
    page.locator("#judge-run").click()
    verdict = page.locator("#judge-verdict")
    expect(verdict).to_contain_text("First wrong step: 2")
    expect(verdict.locator(".details-process")).to_contain_text("Steps split by: step markers")
    expect(verdict.locator("tr.details-wrong")).to_contain_text("numerical calculation")
    assert len(server.chat_requests[-1].image_urls) == 1
    shot(page, "judge-process")
