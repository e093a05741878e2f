"""Take the README screenshots: the Judge tab after a judgment (desktop 1400x900 and phone 390x844),
a rubric judgment's per-criterion table, the leaderboard table and its heatmap.

Run from the repository root with ``python assets/screenshots/take_screenshots.py``. It serves the
app on 127.0.0.1 with a scripted OpenAI-compatible judge (no key, no network) and drives Debian's
Chromium through Playwright; the PNGs are palette-compressed to stay small.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PIL import Image

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))

from judges.rubrics import JUDGE_ANYTHING  # noqa: E402
from judges.settings import Settings  # noqa: E402
from judges.ui.form import CUSTOM_JUDGE  # noqa: E402
from tests.support.app_launch import launched_app  # noqa: E402
from tests.support.openai_server import reply, serve_openai  # noqa: E402

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
VERDICT = (
    '{"Analysis": "Response A names the red bus, the yellow house, the tree and the evening sky, all of '
    "which are in the picture. Response B describes a taxi, an apartment block and people at night, none "
    'of which appear.", "Judgement": "[[A]]"}'
)


#: The rubric judgment's answer: A is better on every criterion but creativity, a tie.
RUBRIC = {
    **{
        c.key: {"comment": f"A's {c.key} is better: it names what the picture shows.", "winner": "A"}
        for c in JUDGE_ANYTHING.criteria
    },
    "creativity": {"comment": "Both are plain descriptions; neither adds anything.", "winner": "C"},
    "overall": {"comment": "A describes the picture; B describes another scene.", "winner": "A"},
}


def _save(path: Path, max_height: int | None = None) -> None:
    image = Image.open(path).convert("RGB")
    if max_height and image.height > max_height:
        image = image.crop((0, 0, image.width, max_height))
    image.quantize(colors=192, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)
    print(f"{path.name}: {path.stat().st_size / 1024:.0f} KB")


def _judge_once(page, url: str, base_url: str) -> None:
    """Fill the pair example, point it at the scripted judge, and judge."""
    from playwright.sync_api import expect

    page.set_default_timeout(20_000)
    page.goto(url)
    page.get_by_text("Pair · street scene").click()
    page.locator("#judge-name input").click()
    page.get_by_role("option", name=CUSTOM_JUDGE).click()
    page.locator("#judge-base-url textarea").fill(base_url)
    page.locator("#judge-model textarea").fill("Qwen/Qwen2.5-VL-7B-Instruct")
    page.locator("#judge-logprobs input").check()
    page.locator("#judge-run").click()
    expect(page.locator("#judge-verdict")).to_contain_text("Response A wins")
    page.wait_for_timeout(1200)


def _rubric_once(page, url: str, base_url: str) -> None:
    """The pair example judged with the Judge Anything rubric: one verdict per criterion."""
    from playwright.sync_api import expect

    page.goto(url)
    page.get_by_text("Pair · street scene").click()
    page.locator("#judge-mode").get_by_text("Rubric", exact=False).click()
    page.locator("#judge-name input").click()
    page.get_by_role("option", name=CUSTOM_JUDGE).click()
    page.locator("#judge-base-url textarea").fill(base_url)
    page.locator("#judge-model textarea").fill("Qwen/Qwen2.5-VL-7B-Instruct")
    page.locator("#judge-run").click()
    expect(page.locator("#judge-verdict")).to_contain_text("creativity")
    page.wait_for_timeout(800)


def main() -> None:
    """Write judge.png, judge-phone.png, rubric.png, leaderboard.png and heatmap.png beside this script."""
    import json

    from playwright.sync_api import expect, sync_playwright

    alternatives = {"A": [("A", -0.08), ("B", -2.9), ("C", -4.2)]}

    def answer(recorded):
        # Rubric requests carry their JSON schema; the pair judgment is the paper's [[A]] format.
        if "response_format" in (recorded.body or {}):
            return reply(json.dumps(RUBRIC))
        return reply(VERDICT, alternatives=alternatives)

    with (
        serve_openai(default=answer) as server,
        launched_app(Settings()) as app,
        sync_playwright() as playwright,
    ):
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True).new_page()
        for shown, name, height in ((phone, "judge-phone.png", 2600),):
            _judge_once(shown, app.url, server.base_url)
            shown.screenshot(path=str(HERE / name), full_page=True)
            _save(HERE / name, max_height=height)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        _judge_once(page, app.url, server.base_url)
        page.screenshot(path=str(HERE / "judge.png"), full_page=True)
        _save(HERE / "judge.png", max_height=1250)

        _rubric_once(page, app.url, server.base_url)
        page.locator("#judge-verdict").screenshot(path=str(HERE / "rubric.png"))
        _save(HERE / "rubric.png")

        # The default comparable view: MLLM-as-a-Judge score on the full benchmark, computed runs
        # beside the published rows.
        page.get_by_role("tab", name="Leaderboard").click()
        expect(page.locator("#lb-table")).to_contain_text("Gemini-2.5-Flash (all)", timeout=60_000)
        page.wait_for_timeout(1500)
        page.screenshot(path=str(HERE / "leaderboard.png"), full_page=True)
        _save(HERE / "leaderboard.png", max_height=1200)

        page.get_by_role("tab", name="Heatmap").click()
        page.wait_for_timeout(1000)
        page.locator("#lb-heatmap").screenshot(path=str(HERE / "heatmap.png"))
        _save(HERE / "heatmap.png")
        browser.close()


if __name__ == "__main__":
    main()
