"""The Leaderboard and About tabs in a real headless Chromium, desktop (1400x900) and phone (390x844).

Needs Debian's ``chromium`` and Playwright from PyPI, like tests/test_browser.py (whose fixtures and
skip rule these tests share). Screenshots land in ``test-artifacts/`` (git-ignored).
"""

from __future__ import annotations

import csv
import re

import pytest

from judges.settings import Settings
from tests.support.app_launch import launched_app
from tests.support.browser import TIMEOUT_MS, shot

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1400, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def running(tmp_path_factory):
    runs_dir = tmp_path_factory.mktemp("lb-space") / "runs"
    runs_dir.mkdir()  # an empty RUNS_DIR, so the page lists no "folder not found" problem
    with launched_app(Settings.from_env({"RUNS_DIR": str(runs_dir)})) as app_:
        yield app_


def open_page(browser, url: str, viewport=DESKTOP):  # noqa: F811
    context = browser.new_context(viewport=viewport, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(2 * TIMEOUT_MS)  # the first load computes the whole table
    page.goto(url)
    return context, page


def headers(page) -> list[str]:
    return [h.strip() for h in page.locator("#lb-table thead th").all_inner_texts()]


def column(page, index: int) -> list[str]:
    rows = int(page.locator("#lb-table [role=grid]").get_attribute("aria-rowcount")) - 1
    return [page.locator(f'#lb-table [data-testid="cell-{r}-{index}"]').inner_text().strip() for r in range(rows)]


def wait_for_table(page, text: str | None = None) -> None:
    from playwright.sync_api import expect

    page.locator('#lb-table [data-testid="cell-0-0"]').wait_for()  # the page's timeout: a cold server computes
    expect(page.locator('#lb-table [data-testid="cell-0-0"]')).not_to_be_empty()
    if text:
        expect(page.locator("#lb-table")).to_contain_text(text)
    page.wait_for_timeout(300)


def test_the_leaderboard_opens_on_a_comparable_view_with_a_rank_column(browser, running):  # noqa: F811
    from playwright.sync_api import expect

    context, page = open_page(browser, running.url)
    page.get_by_role("tab", name="Leaderboard").click()
    wait_for_table(page, "(all)")
    assert headers(page)[:3] == ["Judge", "Rank", "Average"]
    judges = column(page, 0)
    assert len(judges) >= 2 and all("(all)" in j for j in judges), judges  # one subset, named on every row
    ranks = [int(r) for r in column(page, 1) if r not in ("", "–")]
    assert ranks[0] == 1 and ranks == sorted(ranks), ranks
    expect(page.locator("#lb-benchmark input")).to_have_value("MLLM-as-a-Judge")
    expect(page.locator("#lb-subsets")).to_contain_text("all")
    expect(page.locator("#lb-caption")).to_contain_text("Rank = 1 + rows whose 95% interval lies entirely better")
    expect(page).to_have_url(re.compile(r"task=score"))  # the view is in the URL
    shot(page, "leaderboard-desktop")
    context.close()


def test_search_with_semicolons_narrows_table_caption_and_csv(browser, running):  # noqa: F811
    from playwright.sync_api import expect

    context, page = open_page(browser, running.url)
    page.get_by_role("tab", name="Leaderboard").click()
    wait_for_table(page)
    page.locator("#lb-mode").get_by_text("Batch", exact=False).click()
    expect(page.locator("#lb-metric input")).to_have_value("Normalized Levenshtein ↓")
    page.locator("#lb-search textarea, #lb-search input").first.fill("gpt; llava")
    page.locator("#lb-search textarea, #lb-search input").first.press("Enter")
    expect(page).to_have_url(re.compile(r"search=gpt"))  # written after the table and plots are drawn
    page.wait_for_timeout(1000)
    judges = column(page, 0)
    assert judges and all(re.search("gpt|llava", j, re.IGNORECASE) for j in judges), judges
    expect(page.locator("#lb-caption")).to_contain_text(f"{len(judges)} row(s)")
    with page.expect_download() as download:
        page.locator("#lb-download").click()
    with open(download.value.path(), newline="") as handle:
        table = list(csv.reader(handle))
    assert download.value.suggested_filename == "leaderboard-batch-normalized_levenshtein.csv"
    assert [r[0] for r in table[1:]] == judges
    context.close()


def test_a_shared_link_opens_the_leaderboard_on_its_view(browser, running):  # noqa: F811
    from playwright.sync_api import expect

    context, page = open_page(browser, running.url + "?task=pair&subset=hq&metric=macro_f1")
    wait_for_table(page, "(hq)")
    expect(page.locator("#lb-mode input[value=pair]")).to_be_checked()
    expect(page.locator("#lb-metric input")).to_have_value(re.compile("F1"))
    assert all("(hq)" in j for j in column(page, 0))
    expect(page.locator("#lb-caption")).to_contain_text("macro_f1")
    context.close()


def test_on_a_phone_the_caption_stacks_and_nothing_overflows(browser, running):  # noqa: F811
    context, page = open_page(browser, running.url, PHONE)
    page.get_by_role("tab", name="Leaderboard").click()
    wait_for_table(page)
    page.wait_for_timeout(800)
    caption = page.locator("#lb-caption").bounding_box()
    assert caption is not None and caption["width"] >= 300, caption  # not one letter per line
    height = page.evaluate("document.documentElement.scrollHeight")
    assert height < 4500, f"the Leaderboard tab is {height} px tall on a phone"
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 400, f"the page is {width} px wide on a 390 px phone"
    judge = page.locator('#lb-table [data-testid="cell-0-0"]').bounding_box()
    assert judge is not None and judge["width"] <= 0.5 * PHONE["width"] + 10, judge  # only the judge is pinned
    shot(page, "leaderboard-phone")
    page.get_by_role("tab", name="About").click()
    page.locator("#about-text table").first.wait_for()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 400, f"the About tab is {width} px wide on a phone"
    context.close()


def test_submit_a_run_in_the_browser(browser, running, tmp_path):  # noqa: F811
    from playwright.sync_api import expect

    from tests.support.submissions import submission

    files = submission(tmp_path, "browser-score-run", "Browser-Judge", source="mllmj-hq-score-gpt-4v")
    context, page = open_page(browser, running.url + "?task=score&subset=hq")
    wait_for_table(page, "(hq)")
    page.get_by_text("Submit a run").click()
    page.locator("#lb-submit-files input[type=file]").set_input_files([str(f) for f in files])
    expect(page.locator("#lb-submit-files")).to_contain_text("judgments.jsonl")
    page.locator("#lb-submit-button").click()
    expect(page.locator("#lb-submit-message")).to_contain_text("Accepted run browser-score-run")
    expect(page.locator("#lb-table")).to_contain_text("Browser-Judge (hq) [unverified]")
    expect(page.locator("#lb-bars")).to_contain_text("Browser-Judge")  # the plots follow
    context.close()


def test_the_about_tab_lists_benchmarks_and_metrics_from_the_registries(browser, running):  # noqa: F811
    from playwright.sync_api import expect

    from leaderboard.benchmarks import BENCHMARKS
    from leaderboard.metrics.registry import METRICS

    context, page = open_page(browser, running.url)
    page.get_by_role("tab", name="About").click()
    about = page.locator("#about-text")
    for benchmark in BENCHMARKS.values():
        expect(about).to_contain_text(benchmark.title)
    for spec in METRICS:
        expect(about).to_contain_text(spec.name)
    shot(page, "about")
    context.close()


def open_plot_tab(page, name: str) -> None:
    """Click a Plots tab; one that Gradio moved into its "More tabs" menu (a narrow bar) is clicked there."""
    tab = page.get_by_role("tab", name=name, exact=True)
    if tab.count() and tab.first.is_visible():
        tab.first.click()
        return
    page.get_by_label("More tabs").last.click()  # the Plots bar is the page's last tab bar
    page.locator("button:visible", has_text=name).last.click()


def test_the_calibration_view_draws_a_reliability_diagram_with_ece_and_brier_in_its_caption(browser, running):  # noqa: F811
    from playwright.sync_api import expect

    context, page = open_page(browser, running.url + "?task=score&subset=all")
    wait_for_table(page, "(all)")
    open_plot_tab(page, "Calibration")
    caption = page.locator("#lb-calibration-caption")
    expect(caption).to_contain_text("ECE", timeout=2 * TIMEOUT_MS)  # drawn after the table and plots
    text = caption.inner_text()
    for judge in ("Gemini-2.5-Flash (all)", "LLaVA-Critic-7B (all)", "Phi-4-reasoning-vision (all)"):
        assert re.search(re.escape(judge) + r": ECE 0\.\d{3} \[0\.\d{3}, 0\.\d{3}\], Brier \d\.\d{3}", text), text
    expect(page.locator("#lb-reliability")).to_contain_text("calibrated")  # the diagonal's legend entry
    shot(page, "leaderboard-calibration")
    context.close()


def test_the_paired_comparison_follows_the_chosen_judges(browser, running):  # noqa: F811
    from playwright.sync_api import expect

    context, page = open_page(browser, running.url + "?task=score&subset=all")
    wait_for_table(page, "(all)")
    open_plot_tab(page, "Paired comparison")
    paired = page.locator("#lb-paired")
    expect(paired).to_contain_text("Gemini-2.5-Flash (all)", timeout=2 * TIMEOUT_MS)
    expect(page.locator("#lb-paired-note")).to_contain_text("items both judged")
    expect(page.locator("#lb-wins")).to_contain_text("Significant wins")
    page.locator("#lb-run-b input").click()
    page.get_by_role("option", name="Phi-4-reasoning-vision (all)").click()
    expect(paired).to_contain_text("Phi-4-reasoning-vision (all)", timeout=2 * TIMEOUT_MS)
    shot(page, "leaderboard-paired")
    context.close()


def test_on_a_phone_the_calibration_and_paired_views_do_not_overflow(browser, running):  # noqa: F811
    from playwright.sync_api import expect

    context, page = open_page(browser, running.url + "?task=score&subset=all", PHONE)
    wait_for_table(page)
    for tab, ready in (("Calibration", "#lb-calibration-caption"), ("Paired comparison", "#lb-paired-note")):
        open_plot_tab(page, tab)
        expect(page.locator(ready)).not_to_be_empty(timeout=2 * TIMEOUT_MS)
        page.wait_for_timeout(600)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 400, f"the {tab} view makes the page {width} px wide on a 390 px phone"
        shot(page, f"leaderboard-{tab.split()[0].lower()}-phone")
    a, b = page.locator("#lb-run-a").bounding_box(), page.locator("#lb-run-b").bounding_box()
    assert a is not None and b is not None and b["y"] >= a["y"] + a["height"] - 1, (a, b)  # stacked
    context.close()


@pytest.fixture(scope="module")
def with_benchmark_copy(tmp_path_factory):
    """The Space with a local benchmark copy (``BENCHMARK_DIR``) whose labels are in its ``RUNS_DIR``."""
    from tests.support.benchmark_fixture import import_labels, write_fixture

    root = tmp_path_factory.mktemp("lb-copy")
    fixture = write_fixture(root / "MLLM-Judge")
    import_labels(fixture, root / "runs")  # runs/benchmark/labels.csv: the sample view lists its items
    settings = Settings.from_env({"RUNS_DIR": str(root / "runs"), "BENCHMARK_DIR": str(fixture.root)})
    with launched_app(settings) as app_:
        yield app_


def choose(page, elem_id: str, option: str) -> None:
    page.locator(f"#{elem_id} input").click()
    page.get_by_role("option", name=option, exact=True).click()


def test_a_sample_opens_in_the_judge_tab_with_its_image_and_each_of_its_responses(browser, with_benchmark_copy):  # noqa: F811
    from playwright.sync_api import expect

    context, page = open_page(browser, with_benchmark_copy.url + "?task=batch&subset=all")
    wait_for_table(page)
    page.get_by_text("Samples: one benchmark item, every judge's verdict").click()
    choose(page, "lb-sample-subset", "all")
    choose(page, "lb-sample-dataset", "C.C.")
    choose(page, "lb-sample-item", "#305 · human: CAB")  # the fixture's batch item with three answers
    expect(page.locator("#lb-sample-open")).to_be_visible()
    page.locator("#lb-sample-open").click()

    expect(page.get_by_role("tab", name="Judge", exact=True)).to_have_attribute("aria-selected", "true")
    instruction = page.locator("#judge-instruction textarea")
    expect(instruction).to_have_value(re.compile(r"^\[batch-305\] List the shapes in the figure from Concept Caption"))
    expect(page.locator("#judge-mode")).to_contain_text("Batch")
    for k in range(3):
        expect(page.locator(f"#judge-response-{k + 1} textarea")).to_have_value(
            re.compile(rf"^Answer {k} for item 5: (a rectangle\. ?){{{k + 1}}}$")
        )
    expect(page.locator("#judge-response-4")).to_be_hidden()  # three answers, three boxes
    expect(page.locator("#judge-image img")).to_be_visible()  # the item's picture, from the local copy
    shot(page, "leaderboard-sample-in-judge-tab")

    # Back on the leaderboard, the message says what was filled in.
    page.get_by_role("tab", name="Leaderboard").click()
    expect(page.locator("#lb-sample-open-message")).to_contain_text("Item 305 (all) is in the Judge tab with its image")
    context.close()
