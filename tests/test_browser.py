"""The Space in a real headless Chromium: a judgment end to end, the leaderboard, the CSV download.

Needs Debian's ``chromium`` (``apt-get install -y chromium``) and Playwright from PyPI. Without the
browser the tests skip, unless ``REQUIRE_BROWSER=1`` (set in CI), where they fail instead.
Screenshots land in ``test-artifacts/`` (git-ignored).
"""

from __future__ import annotations

import re

import pytest

from judges.settings import Settings
from judges.ui.form import CUSTOM_JUDGE
from tests.support.app_launch import launched_app
from tests.support.browser import TIMEOUT_MS, shot
from tests.support.openai_server import reply, serve_openai

pytestmark = pytest.mark.browser

KEY = "sk-browser-typed-key-51c0"


@pytest.fixture(scope="module")
def server():
    def answer(request):
        if "[The Start of Answer]" in request.text:  # score mode: one unlettered answer
            return reply('{"Analysis": "Q1 is not the lowest quarter.", "Judgement": "[[2]]"}')
        return reply(
            '{"Analysis": "Response A describes the red bus and the house.", "Judgement": "[[A]]"}',
            alternatives={"A": [("A", -0.1), ("B", -2.6), ("C", -4.0)]},
        )

    with serve_openai(default=answer) as srv:
        yield srv


@pytest.fixture(scope="module")
def running(tmp_path_factory):
    # Submissions go to a tmp RUNS_DIR, never to assets/ or ./runs.
    runs_dir = tmp_path_factory.mktemp("space") / "runs"
    env = {"JUDGE_MAX_RETRIES": "0", "JUDGE_TIMEOUT_S": "10", "RUNS_DIR": str(runs_dir)}
    with launched_app(Settings.from_env(env)) as app_:
        yield app_


@pytest.fixture
def page(browser, running):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(running.url)
    page.wait_for_selector("#judge-run")
    yield page
    context.close()


def cell(page, row: int, col: int):
    return page.locator(f'#lb-table [data-testid="cell-{row}-{col}"]')


def test_judgment_end_to_end(page, server):
    from playwright.sync_api import expect

    server.reset()
    page.get_by_text("Pair · street scene").click()  # fills image, mode, instruction and responses
    expect(page.locator("#judge-response-1 textarea")).to_have_value(re.compile(r"^A red bus drives"))
    expect(page.locator("#judge-response-3")).to_be_hidden()

    page.locator("#judge-name input").click()
    page.get_by_role("option", name=CUSTOM_JUDGE).click()
    page.locator("#judge-base-url textarea").fill(server.base_url)
    page.locator("#judge-model textarea").fill("judge-model")
    page.locator("#judge-logprobs input").check()
    page.locator("#judge-api-key input").fill(KEY)
    page.locator("#judge-run").click()

    verdict = page.locator("#judge-verdict")
    expect(verdict).to_contain_text("Response A wins")
    expect(verdict).to_contain_text("A red bus drives")
    expect(page.locator("#judge-analysis")).to_contain_text("describes the red bus")
    expect(page.locator("#judge-probabilities .js-plotly-plot")).to_be_visible()
    assert server.chat_requests[0].headers["authorization"] == f"Bearer {KEY}"
    assert KEY not in page.content()  # a password box keeps its value out of the DOM
    shot(page, "judge")

    # Another example, another mode, same judge settings: the form follows the mode.
    page.get_by_text("Score · bar chart").click()
    expect(page.locator("#judge-response-2")).to_be_hidden()
    page.locator("#judge-run").click()
    expect(verdict).to_contain_text("Fair")
    expect(verdict).to_contain_text("★★☆☆☆")


def test_batch_example_shows_four_boxes(page):
    from playwright.sync_api import expect

    page.get_by_text("Batch · app screenshot").click()
    expect(page.locator("#judge-count")).to_be_visible()
    expect(page.locator("#judge-response-4")).to_be_visible()
    expect(page.locator("#judge-response-5")).to_be_hidden()


# The Leaderboard and About tabs' browser tests are in tests/test_leaderboard_browser.py.


# ---------------------------------------------------------------------- issue 10: the Judge tab as a visitor meets it


def fill_custom_judge(page, server) -> None:
    page.locator("#judge-base-url textarea").fill(server.base_url)
    page.locator("#judge-model textarea").fill("judge-model")


def test_first_visit_opens_on_a_judge_that_works_with_the_examples_above_the_fold(browser, running):
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(running.url)
    # This Space holds no key, so the form opens on the custom endpoint, its fields shown.
    expect(page.locator("#judge-name input")).to_have_value(CUSTOM_JUDGE)
    expect(page.locator("#judge-base-url")).to_be_visible()
    example = page.get_by_text("Pair · street scene")
    expect(example).to_be_visible()
    assert example.bounding_box()["y"] + example.bounding_box()["height"] < 900
    # A built-in judge says which key it needs, not "(optional)".
    page.locator("#judge-name input").click()
    page.get_by_role("option", name="GPT-4o · API", exact=True).click()
    expect(page.locator("#judge-api-key")).to_contain_text("OPENAI_API_KEY (required: this Space has none")
    context.close()


def test_a_broken_main_image_gets_our_message_not_gradios(page, tmp_path):
    from playwright.sync_api import expect

    fake = tmp_path / "photo.png"
    fake.write_text("this is not a picture")
    page.locator("#judge-image input[type=file]").set_input_files(str(fake))
    page.locator("#judge-instruction textarea").fill("What is shown?")
    page.locator("#judge-response-1 textarea").fill("A cat.")
    page.locator("#judge-response-2 textarea").fill("A dog.")
    page.locator("#judge-base-url textarea").fill("http://127.0.0.1:9/v1")
    page.locator("#judge-model textarea").fill("m")
    page.locator("#judge-run").click()
    toast = page.locator(".toast-body")
    expect(toast).to_contain_text("Image: photo.png is not an image PIL can read")
    assert "Could not preprocess" not in page.content()
    shot(page, "judge-broken-image")


def test_results_are_cleared_by_a_new_run_and_by_a_mode_change(page, server):
    from playwright.sync_api import expect

    server.reset()
    page.get_by_text("Pair · street scene").click()
    expect(page.locator("#judge-response-1 textarea")).to_have_value(re.compile(r"^A red bus drives"))
    fill_custom_judge(page, server)
    page.locator("#judge-run").click()
    verdict = page.locator("#judge-verdict")
    expect(verdict).to_contain_text("Response A wins")
    # A new run that fails must not leave the old verdict under its error.
    page.locator("#judge-base-url textarea").fill("localhost:1")
    page.locator("#judge-run").click()
    expect(page.locator(".toast-body")).to_contain_text("must start with http")
    expect(verdict).to_contain_text("The verdict will appear here.")
    # A verdict, then another mode: the old result goes.
    fill_custom_judge(page, server)
    page.locator("#judge-run").click()
    expect(verdict).to_contain_text("Response A wins")
    page.locator("#judge-mode").get_by_text("Batch", exact=False).click()
    expect(verdict).to_contain_text("The verdict will appear here.")
    expect(page.locator("#judge-analysis")).to_have_text("")


def test_a_slow_judge_can_be_stopped(page, server):
    from playwright.sync_api import expect

    from tests.support.openai_server import slow

    server.reset()
    server.script(slow(8, reply('{"Analysis": "late", "Judgement": "[[A]]"}')))
    page.get_by_text("Pair · street scene").click()
    expect(page.locator("#judge-response-1 textarea")).to_have_value(re.compile(r"^A red bus drives"))
    fill_custom_judge(page, server)
    page.locator("#judge-run").click()
    stop = page.locator("#judge-stop")
    expect(stop).to_be_visible()
    expect(page.locator("#judge-verdict")).to_contain_text(re.compile(r"Waiting for judge-model|Connecting"))
    stop.click()
    expect(stop).to_be_hidden()
    page.wait_for_timeout(500)
    expect(page.locator("#judge-verdict")).not_to_contain_text("Response A wins")


def test_on_a_phone_the_verdict_is_brought_into_view_and_the_probabilities_are_the_reconciled_ones(
    browser, running, server
):
    from playwright.sync_api import expect

    server.reset()
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(running.url)
    page.get_by_text("Pair · street scene").click()
    expect(page.locator("#judge-response-1 textarea")).to_have_value(re.compile(r"^A red bus drives"))
    fill_custom_judge(page, server)
    page.locator("#judge-logprobs input").check()
    page.get_by_text("Options").click()
    page.get_by_text("Position swap").click()
    page.locator("#judge-run").click()
    verdict = page.locator("#judge-verdict")
    expect(verdict).to_contain_text("Tie")  # the scripted judge always says A: position-biased
    expect(page.locator("#judge-probabilities")).to_contain_text("mean of 2 requests")
    page.wait_for_timeout(1200)  # the smooth scroll
    box = verdict.bounding_box()
    assert box is not None and 0 <= box["y"] < 844, box
    expect(page.locator("#judge-details")).to_contain_text("mean of 2 requests")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 400, f"the Judge tab is {width} px wide on a 390 px phone"
    shot(page, "judge-phone")
    context.close()
