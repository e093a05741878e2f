"""The rubric task in the Judge tab, in a real headless Chromium: the task picker, the rubric box
(a preset, then TOML typed in), the checklist box, and per-criterion results under the verdict.

Needs Debian's ``chromium`` and Playwright; without them the tests skip, unless ``REQUIRE_BROWSER=1``
(CI), where they fail instead. Screenshots land in ``test-artifacts/`` (git-ignored).
"""

from __future__ import annotations

import json

import pytest
from PIL import Image

from judges.rubrics import JUDGE_ANYTHING
from judges.settings import Settings
from tests.support.app_launch import launched_app
from tests.support.browser import TIMEOUT_MS, shot
from tests.support.openai_server import reply, serve_openai

pytestmark = pytest.mark.browser

KEYS = [c.key for c in JUDGE_ANYTHING.criteria]
TOML = '[[criteria]]\nname = "colour accuracy"\ndescription = "Names the colours right."\nscale = [1, 3]\n'


def _answer(recorded):
    if "colour accuracy" in recorded.text:
        return reply(
            json.dumps(
                {
                    "colour_accuracy": {"comment": "Says blue; it is blue.", "score": 3},
                    "overall": {"comment": "Right.", "score": 5},
                }
            )
        )
    parts = {k: {"comment": f"On {k}, A is more precise.", "winner": "A"} for k in KEYS}
    parts["creativity"] = {"comment": "Neither adds anything new.", "winner": "C"}
    parts["overall"] = {"comment": "A answers the question; B does not.", "winner": "A"}
    return reply(json.dumps(parts))


@pytest.fixture(scope="module")
def server():
    with serve_openai(default=_answer) as srv:
        yield srv


@pytest.fixture(scope="module")
def running(tmp_path_factory):
    runs_dir = tmp_path_factory.mktemp("space") / "runs"
    env = {"JUDGE_MAX_RETRIES": "0", "JUDGE_TIMEOUT_S": "10", "RUNS_DIR": str(runs_dir)}
    with launched_app(Settings.from_env(env)) as app_:
        yield app_


@pytest.fixture
def page(browser, running):
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(running.url)
    page.wait_for_selector("#judge-run")
    yield page
    context.close()


def _fill_common(page, server, tmp_path) -> None:
    image = tmp_path / "sky.png"
    Image.new("RGB", (64, 48), (70, 130, 220)).save(image)
    page.locator("#judge-mode").get_by_text("Rubric", exact=False).click()
    page.locator("#judge-image input[type=file]").set_input_files(str(image))
    page.locator("#judge-instruction textarea").fill("What colour is the picture?")
    page.locator("#judge-base-url textarea").fill(server.base_url)
    page.locator("#judge-model textarea").fill("judge-model")


def test_a_pair_judged_with_the_preset_rubric_and_a_checklist(page, server, tmp_path):
    from playwright.sync_api import expect

    server.reset()
    _fill_common(page, server, tmp_path)
    rubric = page.locator("#judge-input-rubric textarea")
    expect(rubric).to_have_value("judge-anything")
    expect(page.locator("#judge-input-checklist")).to_be_visible()
    page.locator("#judge-input-checklist textarea").fill("clarity: names one colour\nmentions blue")
    page.locator("#judge-response-1 textarea").fill("It is blue.")
    page.locator("#judge-response-2 textarea").fill("It is a picture.")
    page.locator("#judge-run").click()

    verdict = page.locator("#judge-verdict")
    expect(verdict).to_contain_text("Response A wins")
    table = verdict.locator("table.details-rubric")
    expect(table).to_be_visible()
    expect(table).to_contain_text("trustworthiness")
    expect(table).to_contain_text("On clarity, A is more precise.")
    expect(table.locator("tr", has_text="creativity")).to_contain_text("tie")
    sent = server.chat_requests[0]
    assert sent.body["response_format"]["json_schema"]["name"] == "rubric_verdict"
    assert "   - names one colour" in sent.text and "- mentions blue" in sent.text
    shot(page, "judge-rubric")


def test_a_single_response_judged_with_a_rubric_typed_in(page, server, tmp_path):
    from playwright.sync_api import expect

    server.reset()
    _fill_common(page, server, tmp_path)
    count = page.locator("#judge-count input[type=number]")
    count.fill("1")
    count.press("Enter")
    expect(page.locator("#judge-response-2")).to_be_hidden()
    page.locator("#judge-input-rubric textarea").fill(TOML)
    page.locator("#judge-response-1 textarea").fill("It is blue.")
    page.locator("#judge-run").click()
    verdict = page.locator("#judge-verdict")
    expect(verdict.locator("table.details-rubric")).to_contain_text("colour accuracy")
    expect(verdict.locator("table.details-rubric")).to_contain_text("3 / 3")
    expect(verdict).to_contain_text("5")
    assert "[The Start of Response]" in server.chat_requests[0].text


def test_a_bad_rubric_gets_a_clear_message(page, server, tmp_path):
    from playwright.sync_api import expect

    _fill_common(page, server, tmp_path)
    page.locator("#judge-input-rubric textarea").fill("[[criteria]]\nname = 'x'\n")
    page.locator("#judge-response-1 textarea").fill("It is blue.")
    page.locator("#judge-response-2 textarea").fill("It is a picture.")
    page.locator("#judge-run").click()
    expect(page.locator(".toast-body")).to_contain_text("description must be a non-empty text")
