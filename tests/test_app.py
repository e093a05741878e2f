"""The Space end to end through its HTTP API: launched on 127.0.0.1, driven with gradio_client."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from judges.settings import Settings
from judges.ui.form import CUSTOM_JUDGE, INPUT_FIELDS, MAX_RESPONSES
from tests.support.app_launch import free_port, launched_app
from tests.support.openai_server import raw_json, reply, serve_openai

gradio_client = pytest.importorskip("gradio_client")
from gradio_client import Client, handle_file  # noqa: E402
from gradio_client.exceptions import AppError  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
KEY = "sk-test-typed-key-7f3a9c"


def verdict_json(label: str, analysis: str = "Response A matches the picture.") -> str:
    return json.dumps({"Analysis": analysis, "Judgement": f"[[{label}]]"})


# ---------------------------------------------------------------------- building without launching


def test_import_and_build_do_no_heavy_work():
    code = (
        "import sys, app\n"
        "assert 'leaderboard.metrics.compute' not in sys.modules, 'import app computed something'\n"
        "from leaderboard.board import LazyLeaderboard\n"
        "store = LazyLeaderboard()\n"
        "demo = app.build_demo(store=store)\n"
        "assert store._data is None, 'build_demo built the leaderboard'\n"
        "print(sorted(m for m in ('torch', 'transformers', 'openai') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_launch_imports_the_local_backend_for_zerogpu_and_prefetches():
    # main() with launch and prefetch recorded instead of run: hf.device is imported at launch, not
    # at `import app`, and it brings no torch with it.
    code = (
        "import sys, app, gradio as gr\n"
        "from leaderboard.board import LazyLeaderboard\n"
        "calls = []\n"
        "gr.Blocks.launch = lambda self, **kw: calls.append('launch')\n"
        "LazyLeaderboard.prefetch = lambda self: calls.append('prefetch')\n"
        "assert 'judges.backends.hf.device' not in sys.modules\n"
        "app.main()\n"
        "assert 'judges.backends.hf.device' in sys.modules\n"
        "print(calls, sorted(m for m in ('torch', 'transformers') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "['prefetch', 'launch'] []"


def test_every_event_has_an_explicit_api_name():
    import app

    demo = app.build_demo(Settings())
    names = [dep.api_name for dep in demo.fns.values()]
    assert all(names), names
    public = {dep.api_name for dep in demo.fns.values() if dep.api_visibility == "public"}
    assert {"judge", "leaderboard", "refresh", "submit"} <= public


# ---------------------------------------------------------------------- the launched app


@pytest.fixture(scope="module")
def server():
    with serve_openai() as srv:
        yield srv


@pytest.fixture(scope="module")
def running():
    # No retries and a short timeout keep the unreachable-endpoint test fast.
    settings = Settings.from_env({"JUDGE_MAX_RETRIES": "0", "JUDGE_TIMEOUT_S": "5"})
    with launched_app(settings) as app_:
        yield app_


@pytest.fixture(scope="module")
def client(running):
    return Client(running.url, verbose=False)


@pytest.fixture
def png(tmp_path) -> str:
    path = tmp_path / "bus.png"
    Image.new("RGB", (64, 40), "crimson").save(path)
    return str(path)


def judge_args(image, mode="pair", responses=("A red bus.", "A blue car."), count=2, **kw):
    """Positional /judge inputs in the documented order."""
    boxes = [*responses, *[""] * (MAX_RESPONSES - len(responses))]
    return (
        handle_file(image) if image else None,
        mode,
        kw.get("instruction", "What vehicle is shown?"),
        *boxes,
        count,
        kw.get("judge", CUSTOM_JUDGE),
        kw.get("base_url", ""),
        kw.get("model", "judge-model"),
        kw.get("api_key", ""),
        kw.get("setting", "no-cot"),
        "",  # image description
        "",  # criteria
        0.4,
        kw.get("swap", False),
        kw.get("shuffles", 0),
        kw.get("samples", 1),
        kw.get("logprobs", False),
    )


def test_api_lists_judge_and_leaderboard(client):
    endpoints = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert {"/judge", "/leaderboard"} <= set(endpoints)
    params = [p["parameter_name"] for p in endpoints["/judge"]["parameters"]]
    assert params == list(INPUT_FIELDS)


def test_pair_judgment_through_a_custom_endpoint(client, server):
    server.reset()
    server.set_default(reply(verdict_json("A"), alternatives={"A": [("A", -0.1), ("B", -2.5), ("C", -4.0)]}))
    png = ROOT / "assets" / "examples" / "street.png"
    outputs = client.predict(
        *judge_args(str(png), base_url=server.base_url, api_key=KEY, logprobs=True), api_name="/judge"
    )
    verdict, plot, details, analysis, raw, prompt, as_json = outputs
    assert "Response A wins" in verdict and "A red bus." in verdict
    assert plot["value"]["type"] == "plotly" if "value" in plot else plot["type"] == "plotly"
    assert analysis == "Response A matches the picture."
    assert '"[[A]]"' in raw and as_json["verdict"] == "A"
    assert "judge-model" in details and "tokens" in details
    assert "<image 1: " in prompt and "What vehicle is shown?" in prompt
    # The typed key went to the endpoint, and nowhere else.
    sent = server.chat_requests
    assert sent and all(r.headers["authorization"] == f"Bearer {KEY}" for r in sent)
    assert KEY not in json.dumps(outputs, default=str)
    assert sent[0].image_urls[0].startswith("data:image/png;base64,")


#: Token data a server may send that cannot be read: each alone must leave the probabilities unknown.
MALFORMED_TOKENS = {
    "logprob a string": {"logprob": "very likely", "top_logprobs": []},
    "top_logprobs entries null": {"logprob": -0.1, "top_logprobs": [None, None]},
}


def malformed_logprobs_reply(text: str, token_fields: dict) -> dict:
    """A completion whose text is fine but whose every token carries ``token_fields``."""
    tokens = [{"token": t, "bytes": None, **token_fields} for t in text]
    choice = {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
    return {
        "id": "chatcmpl-malformed-logprobs",
        "object": "chat.completion",
        "created": 0,
        "model": "judge-model",
        "choices": [{**choice, "logprobs": {"content": tokens}}],
    }


@pytest.mark.parametrize("malformation", list(MALFORMED_TOKENS))
def test_malformed_logprobs_give_the_verdict_with_probabilities_unknown(client, server, png, malformation):
    server.reset()
    server.set_default(raw_json(malformed_logprobs_reply(verdict_json("B"), MALFORMED_TOKENS[malformation])))
    verdict, plot, details, analysis, raw, _prompt, as_json = client.predict(
        *judge_args(png, base_url=server.base_url, logprobs=True), api_name="/judge"
    )
    assert server.chat_requests and server.chat_requests[0].body.get("logprobs") is True
    assert "Response B wins" in verdict and "A blue car." in verdict
    assert as_json["verdict"] == "B" and as_json["parsed"] is True
    assert as_json["probabilities"] is None
    assert plot is None or not (plot.get("value") or plot.get("plot"))
    assert "Expected score" not in details and "Confidence" not in details
    assert analysis == "Response A matches the picture." and '"[[B]]"' in raw
    assert "Something went wrong" not in json.dumps([verdict, details, analysis, raw], default=str)


def test_judge_by_keyword_with_defaults(client, server, png):
    # Keyword arguments named as in INPUT_FIELDS; everything left out takes the form's default.
    server.reset()
    server.set_default(reply(verdict_json("4")))
    verdict, *_ = client.predict(
        image=handle_file(png),
        mode="score",
        instruction="What vehicle is shown?",
        response_1="A red bus.",
        judge=CUSTOM_JUDGE,
        base_url=server.base_url,
        model="judge-model",
        api_name="/judge",
    )
    assert "★★★★☆" in verdict


def test_several_images_reach_the_judge_in_order(client, server, png):
    server.reset()
    server.set_default(reply(verdict_json("B")))
    chart = ROOT / "assets" / "examples" / "chart.png"
    client.predict(
        image=handle_file(png),
        mode="pair",
        instruction="Which answer matches both pictures?",
        response_1="Two buses.",
        response_2="A bus and a chart.",
        judge=CUSTOM_JUDGE,
        base_url=server.base_url,
        model="judge-model",
        more_images=[handle_file(str(chart))],
        api_name="/judge",
    )
    urls = server.chat_requests[0].image_urls
    assert len(urls) == 2
    assert len(urls[1]) > len(urls[0])  # the example chart is the larger PNG, and it comes second


def test_swap_inconsistency_becomes_a_tie(client, server, png):
    server.reset()
    server.set_default(reply(verdict_json("A")))  # always "A": position-biased
    verdict, _plot, details, *_ = client.predict(
        *judge_args(png, base_url=server.base_url, swap=True), api_name="/judge"
    )
    assert "Tie" in verdict and "inconsistent" in details
    assert len(server.chat_requests) == 2


def test_batch_and_score_modes(client, server, png):
    server.reset()
    server.set_default(reply('{"Analysis": "C is exact.", "Judgement": "[[C]], [[A]], [[B]]"}'))
    verdict, *_ = client.predict(
        *judge_args(png, mode="batch", responses=("two", "three", "one"), count=3, base_url=server.base_url),
        api_name="/judge",
    )
    assert "C &gt; A &gt; B" in verdict
    server.set_default(reply(verdict_json("5")))
    verdict, *_ = client.predict(
        *judge_args(png, mode="score", responses=("A red bus.",), count=2, base_url=server.base_url),
        api_name="/judge",
    )
    assert "★★★★★" in verdict and "Excellent" in verdict


def test_unparsed_output_is_unscored_not_an_error(client, server, png):
    server.reset()
    server.set_default(reply("I cannot decide."))
    verdict, *_ = client.predict(*judge_args(png, base_url=server.base_url), api_name="/judge")
    assert "Unscored:" in verdict


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"image": None}, "No image: upload the image"),
        # Three responses asked for, two given: the count and the boxes disagree; both are named.
        ({"mode": "batch", "count": 3}, "number of responses is 3, but 2 responses are filled in"),
        # Out of range: our words, not the slider's "less than minimum value 2".
        ({"mode": "batch", "count": 1}, "Batch mode takes 2 to 8 responses, got 1"),
        ({"responses": ("A red bus.", "")}, "Response B is empty"),
        ({"instruction": ""}, "The instruction is empty"),
        ({"base_url": "localhost:8000"}, "must start with http:// or https://"),
    ],
)
def test_bad_inputs_are_readable_errors(client, png, kwargs, message):
    kwargs = {"base_url": "http://127.0.0.1:9/v1", **kwargs}
    image = kwargs.pop("image", png)
    with pytest.raises(AppError, match=message):
        client.predict(*judge_args(image, **kwargs), api_name="/judge")


def test_unreachable_endpoint_is_a_readable_error(client, png):
    url = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens there
    with pytest.raises(AppError) as caught:
        client.predict(*judge_args(png, base_url=url, api_key=KEY), api_name="/judge")
    text = str(caught.value)
    assert "127.0.0.1" in text and "Traceback" not in text and KEY not in text


def test_builtin_judge_without_its_secret_asks_for_a_key(client, png):
    with pytest.raises(AppError, match="OPENAI_API_KEY"):
        client.predict(*judge_args(png, judge="GPT-4o"), api_name="/judge")


def test_unexpected_errors_are_generic_and_logged_without_the_key(client, png, monkeypatch, caplog):
    def explode(form, settings, **kwargs):
        raise RuntimeError(f"internal detail with {form.api_key}")

    monkeypatch.setattr("judges.ui.tab.judge_form", explode)
    with caplog.at_level(logging.ERROR, logger="judges.ui.tab"), pytest.raises(AppError) as caught:
        client.predict(*judge_args(png, api_key=KEY, base_url="http://127.0.0.1:9/v1"), api_name="/judge")
    assert "Something went wrong while judging" in str(caught.value)
    assert "internal detail" not in str(caught.value)
    assert "internal detail with ***" in caplog.text and KEY not in caplog.text


# The /leaderboard API's own tests are in tests/leaderboard/test_ui_api.py.


# ---------------------------------------------------------------------- refresh and submissions


@pytest.fixture(scope="module")
def runs_dir(tmp_path_factory) -> Path:
    # Submissions go to a tmp RUNS_DIR, never to assets/ or ./runs.
    return tmp_path_factory.mktemp("space") / "runs"


@pytest.fixture(scope="module")
def submit_client(runs_dir):
    with launched_app(Settings(runs_dir=runs_dir)) as app_:
        yield Client(app_.url, verbose=False)


def rows_by_run(client, mode):
    from leaderboard.metrics.registry import HEADLINE_METRIC

    table, _caption, _csv = client.predict(
        mode, HEADLINE_METRIC[mode], [], [], [], ["Provenance", "Run"], api_name="/leaderboard"
    )
    headers = table["headers"]
    return {row[headers.index("Run")]: dict(zip(headers, row, strict=True)) for row in table["data"]}


def test_api_lists_refresh_and_submit(submit_client):
    endpoints = submit_client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert {"/refresh", "/submit"} <= set(endpoints)


def test_a_submitted_run_is_listed_at_once_as_unverified(submit_client, runs_dir, tmp_path):
    from leaderboard.schema import PROVENANCE_UNVERIFIED
    from tests.support.submissions import submission

    manifest, judgments = submission(tmp_path, "api-pair-run", "Api-Judge")
    message = submit_client.predict([handle_file(manifest), handle_file(judgments)], api_name="/submit")
    assert message.startswith("**Accepted** run `api-pair-run`") and PROVENANCE_UNVERIFIED in message
    assert (runs_dir / "api-pair-run" / "manifest.json").is_file()
    row = rows_by_run(submit_client, "pair")["api-pair-run"]
    assert row["Judge"] == "Api-Judge (hq) [unverified]" and row["Provenance"] == PROVENANCE_UNVERIFIED
    again = submit_client.predict([handle_file(manifest), handle_file(judgments)], api_name="/submit")
    assert "already on the leaderboard" in again


@pytest.mark.parametrize(
    ("bad", "fragment"),
    [
        ("jsonl", "judgments.jsonl line 2: not valid JSON"),
        ("zip", "points outside the archive"),
        ("item", "item 424242 is not in the benchmark"),
    ],
)
def test_bad_submissions_are_readable_rejections(submit_client, tmp_path, bad, fragment):
    from tests.support.submissions import submission, zipped

    if bad == "jsonl":
        files = submission(tmp_path, "bad-jsonl", "J", edit_lines=lambda ls: [ls[0], "{oops", *ls[1:]])
    elif bad == "item":
        files = submission(tmp_path, "bad-item", "J", edit_lines=lambda ls: ['{"item_id": "424242", "verdict": "A"}'])
    else:
        files = [zipped(tmp_path / "evil.zip", {"../manifest.json": b"{}", "judgments.jsonl": b""})]
    message = submit_client.predict([handle_file(f) for f in files], api_name="/submit")
    assert message.startswith("**Submission rejected.**") and fragment in message
    assert "Traceback" not in message


def test_refresh_picks_up_a_run_written_to_runs_dir(submit_client, runs_dir):
    from tests.support.submissions import submission

    submission(runs_dir, "written-score-run", "Disk-Judge", source="mllmj-hq-score-gpt-4v")
    assert "written-score-run" not in rows_by_run(submit_client, "score")
    status = submit_client.predict(api_name="/refresh")
    assert status.startswith("Reloaded ")
    assert rows_by_run(submit_client, "score")["written-score-run"]["Judge"] == "Disk-Judge (hq)"


# ---------------------------------------------------------------------- issue 10 and 15: the API as a visitor meets it


def test_batch_without_a_count_ranks_every_given_response(client, server, png):
    server.reset()
    server.set_default(reply('{"Analysis": "E is best.", "Judgement": "[[E]], [[D]], [[C]], [[B]], [[A]]"}'))
    five = {f"response_{i + 1}": text for i, text in enumerate(["one", "two", "three", "four", "five"])}
    verdict, *_ = client.predict(
        image=handle_file(png),
        mode="batch",
        instruction="Rank them.",
        **five,
        judge=CUSTOM_JUDGE,
        base_url=server.base_url,
        model="judge-model",
        api_name="/judge",
    )
    assert "E &gt; D &gt; C &gt; B &gt; A" in verdict
    server.set_default(reply('{"Analysis": "B.", "Judgement": "[[B]], [[A]]"}'))
    verdict, *_ = client.predict(
        image=handle_file(png),
        mode="batch",
        instruction="Rank them.",
        response_1="one",
        response_2="two",
        judge=CUSTOM_JUDGE,
        base_url=server.base_url,
        model="judge-model",
        api_name="/judge",
    )
    assert "B &gt; A" in verdict


def bomb_png(path: Path, side: int = 12_000) -> Path:
    """A 1-bit PNG of side x side pixels, a few KB on disk (written without decoding anything)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    row = b"\x00" * (1 + (side + 7) // 8)
    body = zlib.compress(row * side, 9)
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b""))
    return path


#: Bad inputs through the API and the messages they must get (issue 15, items 11 and 12).
BAD_API_INPUTS = [
    ("text named .png", {"image": "text"}, "Image: notes.png is not an image PIL can read"),
    ("0-byte file", {"image": "empty"}, "Image: empty.png is not an image PIL can read"),
    (
        "pixel bomb",
        {"image": "bomb"},
        "Image: bomb.png is 12000x12000 pixels, more than the 50,000,000 accepted. Resize it to at most 7071 x 7071 pixels",
    ),
    ("bomb under More images", {"more_images": "bomb"}, "More images, file 1: bomb.png is 12000x12000 pixels"),
    ("unknown mode", {"mode": "triple"}, "mode 'triple' is not a mode of this Space: pass one of score, pair, batch"),
    ("unknown setting", {"setting": "best"}, "setting 'best' is not a prompt setting: pass one of"),
    ("temperature not a number", {"temperature": "hot"}, "temperature must be a number from 0 to 1.5, got 'hot'"),
    ("samples over the maximum", {"samples": 50}, "samples must be a whole number from 1 to 5, got 50"),
    (
        "response count of 9",
        {"mode": "batch", "response_count": 9},
        "response_count must be a whole number from 1 to 8",
    ),
]


@pytest.mark.parametrize(("case", "change", "message"), BAD_API_INPUTS, ids=[row[0] for row in BAD_API_INPUTS])
def test_bad_api_inputs_get_our_words(client, png, tmp_path, case, change, message):
    files = {
        "text": lambda: (tmp_path / "notes.png").write_text("not an image") and tmp_path / "notes.png",
        "empty": lambda: (tmp_path / "empty.png").write_bytes(b"") or tmp_path / "empty.png",
        "bomb": lambda: bomb_png(tmp_path / "bomb.png"),
    }
    kwargs = {
        "image": handle_file(png),
        "mode": "pair",
        "instruction": "Which?",
        "response_1": "a",
        "response_2": "b",
        "judge": CUSTOM_JUDGE,
        "base_url": "http://127.0.0.1:9/v1",
        "model": "m",
    }
    for field, value in change.items():
        if field == "image":
            kwargs["image"] = handle_file(str(files[value]()))
        elif field == "more_images":
            kwargs["more_images"] = [handle_file(str(files[value]()))]
        else:
            kwargs[field] = value
    with pytest.raises(AppError) as caught:
        client.predict(**kwargs, api_name="/judge")
    text = str(caught.value)
    assert message in text, text
    assert "Could not preprocess" not in text and "/tmp/" not in text and "gradio" not in text.lower()


def test_a_pixel_bomb_is_refused_before_it_is_decoded(client, png, tmp_path):
    import resource

    bomb = bomb_png(tmp_path / "bomb.png")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB; the app runs in this process
    with pytest.raises(AppError, match="12000x12000 pixels"):
        client.predict(*judge_args(str(bomb), base_url="http://127.0.0.1:9/v1"), api_name="/judge")
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mb < 100, f"the bomb cost {grown_mb:.0f} MB: it was decoded"


def test_judges_side_by_side_through_the_api(client, server, png):
    server.reset()
    server.set_default(reply(verdict_json("B")))
    html, summary = client.predict(
        image=handle_file(png),
        mode="pair",
        instruction="Which?",
        response_1="a",
        response_2="b",
        judge=CUSTOM_JUDGE,
        base_url=server.base_url,
        model="judge-model",
        judges=[CUSTOM_JUDGE, "GPT-4o"],
        api_name="/compare",
    )
    assert summary["judges"][0]["verdict"] == "B" and "OPENAI_API_KEY" in summary["judges"][1]["error"]
    assert summary["panel_verdict"] == "B" and "Panel verdict" in html


def test_http_client_request_logs_are_silenced_so_no_url_password_reaches_the_log(server, caplog):
    import app
    from judges.backends.registry import create_backend
    from judges.types import ChatRequest, Message, TextPart

    app.configure_logging()
    server.reset()
    server.set_default(reply(verdict_json("A")))
    url = server.base_url.replace("http://", "http://user:hunter2-secret@")
    backend = create_backend("openai", "m", base_url=url, api_key_env=None)
    try:
        with caplog.at_level(logging.INFO):  # the root level; the quiet loggers keep their own
            for name in app.QUIET_LOGGERS:
                logging.getLogger(name).setLevel(logging.WARNING)
            backend.complete(ChatRequest((Message("user", (TextPart("hi"),)),)))
    finally:
        backend.close()
    assert server.chat_requests, "the request did not reach the server"
    assert "hunter2-secret" not in caplog.text and "HTTP Request" not in caplog.text


# ---------------------------------------------------------------------- image-pair: two images, no responses


def test_choosing_image_pair_hides_the_response_boxes_and_asks_for_image_a_and_image_b():
    import app

    demo = app.build_demo(Settings())
    on_mode = next(dep for dep in demo.fns.values() if dep.api_name == "judge_form_mode").fn
    image, more, instruction, _count, swap, _shuffles, *rest = on_mode("image-pair", 3)
    boxes = rest[:MAX_RESPONSES]
    assert all(box.visible is False for box in boxes)
    assert image.label == "Image A" and "Image B" in more.label and more.open is True
    assert instruction.label == "Text-to-image prompt" and swap.visible is True
    image, more, instruction, *_ = on_mode("pair", 3)
    assert image.label == "Image" and more.open is False and instruction.label == "Instruction"


def image_pair_inputs(server, a: str, more: list[str], **extra) -> dict:
    return {
        "image": handle_file(a),
        "mode": "image-pair",
        "instruction": "A crimson square.",
        "response_1": "",  # a required /judge input; image-pair takes no responses
        "judge": CUSTOM_JUDGE,
        "base_url": server.base_url,
        "model": "judge-model",
        "more_images": [handle_file(path) for path in more],
        **extra,
    }


def test_an_image_pair_is_judged_through_the_api_in_both_orders(client, server, png, tmp_path):
    server.reset()
    second = tmp_path / "navy.png"
    Image.new("RGB", (30, 20), "navy").save(second)
    red_url = None

    def prefers_crimson(request):
        # Both orders are sent at once: answer by content (the crimson PNG is the first upload).
        return reply(verdict_json("A" if request.image_urls[0] == red_url else "B", "A is crimson."))

    server.set_default(lambda request: reply(verdict_json("A")))
    client.predict(**image_pair_inputs(server, png, [str(second)]), api_name="/judge")
    red_url = server.chat_requests[0].image_urls[0]
    server.reset()
    server.set_default(prefers_crimson)
    verdict, _plot, _details, analysis, _raw, prompt, as_json = client.predict(
        **image_pair_inputs(server, png, [str(second)], swap=True), api_name="/judge"
    )
    assert "Image A wins" in verdict and analysis.endswith("A is crimson.") and "original order" in analysis
    assert as_json["mode"] == "image-pair" and as_json["verdict"] == "A" and as_json["swap"]["consistent"] is True
    assert "A crimson square." in prompt and "<image 1: " in prompt and "<image 2: " in prompt
    assert sorted(r.image_urls[0] == red_url for r in server.chat_requests) == [False, True]


def test_an_image_pair_with_one_image_says_where_the_second_goes(client, server, png):
    with pytest.raises(AppError, match="exactly 2 images"):
        client.predict(**image_pair_inputs(server, png, []), api_name="/judge")
