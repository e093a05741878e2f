"""The probe tasks in the Judge tab, in a real headless Chromium: the constitution editor and the
candidate list, judged by the loopback server from Yes/No token probabilities, shown as tables.

Skips without Chromium or Playwright (fails with ``REQUIRE_BROWSER=1``), like tests/test_browser.py.
"""

from __future__ import annotations

import pytest
from PIL import Image

from judges.settings import Settings
from tests.support.app_launch import launched_app
from tests.support.browser import TIMEOUT_MS, shot
from tests.support.openai_server import RecordedRequest, serve_openai, yes_no

pytestmark = pytest.mark.browser


def answer(request: RecordedRequest):
    text = request.text
    if "[Candidate]" in text:
        return yes_no(0.92 if "red bus" in text.split("[Candidate]", 1)[1] else 0.15)
    if "could apply" in text:
        return yes_no(0.9 if "fire" in text else 0.05)
    if "Statement" in text:
        # Image-grounded: yes with the image, no without it.
        return yes_no(0.9 if request.image_urls else 0.1)
    return yes_no(0.5)


@pytest.fixture(scope="module")
def page_and_server(tmp_path_factory, browser):
    runs_dir = tmp_path_factory.mktemp("space") / "runs"
    env = {"JUDGE_MAX_RETRIES": "0", "JUDGE_TIMEOUT_S": "10", "RUNS_DIR": str(runs_dir)}
    with serve_openai(default=answer) as server, launched_app(Settings.from_env(env)) as running:
        context = browser.new_context(viewport={"width": 1280, "height": 1000})
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        page.goto(running.url)
        page.wait_for_selector("#judge-run")
        yield page, server
        context.close()


def custom_judge(page, server) -> None:
    page.locator("#judge-base-url textarea").fill(server.base_url)
    page.locator("#judge-model textarea").fill("judge-model")
    page.locator("#judge-logprobs input").check()


def test_safety_with_the_constitution_editor(page_and_server, tmp_path):
    from playwright.sync_api import expect

    page, server = page_and_server
    picture = tmp_path / "scene.png"
    Image.new("RGB", (48, 48), (230, 110, 30)).save(picture)
    page.locator("#judge-mode").get_by_text("Safety", exact=False).click()
    editor = page.locator("#judge-input-constitution textarea")
    expect(editor).to_be_visible()
    expect(editor).to_have_value(lambda_free_contains("[[rules]]"))
    page.locator("#judge-image input[type=file]").set_input_files(str(picture))
    custom_judge(page, server)
    page.locator("#judge-run").click()
    verdict = page.locator("#judge-verdict")
    expect(verdict).to_contain_text("Unsafe")
    table = page.locator("#judge-verdict table.details-safety")
    expect(table).to_be_visible()
    expect(table).to_contain_text("fire")
    expect(table).to_contain_text("0.900")  # s(image)
    expect(table).to_contain_text("0.100")  # s(no image)
    expect(table).to_contain_text("skipped (not relevant)")
    shot(page, "judge-safety")


def test_relevance_with_a_candidate_list(page_and_server):
    from playwright.sync_api import expect

    page, server = page_and_server
    page.locator("#judge-mode").get_by_text("Relevance", exact=False).click()
    page.locator("#judge-instruction textarea").fill("a red bus on a street")
    candidates = page.locator("#judge-input-candidate textarea")
    expect(candidates).to_be_visible()
    candidates.fill("a cat on a sofa\na red bus in the city\na bowl of soup")
    page.locator("#judge-input-positive input").fill("2")
    custom_judge(page, server)
    page.locator("#judge-run").click()
    verdict = page.locator("#judge-verdict")
    expect(verdict).to_contain_text("Candidate 2")
    table = page.locator("#judge-verdict table.details-relevance")
    expect(table).to_contain_text("0.9200")
    expect(table).to_contain_text("positive")
    expect(table).to_contain_text("hard negative")
    shot(page, "judge-relevance")


def lambda_free_contains(text: str):
    import re

    return re.compile(re.escape(text))


def test_a_judge_without_logprobs_is_refused_with_one_line(page_and_server):
    from playwright.sync_api import expect

    from tests.support.openai_server import reply

    page, _ = page_and_server
    with serve_openai(default=reply("Yes", logprobs=False)) as plain:
        page.locator("#judge-mode").get_by_text("Relevance", exact=False).click()
        page.locator("#judge-instruction textarea").fill("a red bus")
        page.locator("#judge-input-candidate textarea").fill("a bus\na cat")
        page.locator("#judge-base-url textarea").fill(plain.base_url)
        page.locator("#judge-model textarea").fill("plain-model")
        page.locator("#judge-logprobs input").uncheck()
        page.locator("#judge-run").click()
        expect(page.locator(".toast-body")).to_contain_text("missing capability: logprobs")
        # Only the one-token capability question reached the server, never a probe.
        assert len(plain.chat_requests) == 1 and "water" in plain.chat_requests[0].text
