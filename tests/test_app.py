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
from tests.support.openai_server import reply, serve_openai

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
    verdict, plot, details, analysis, raw, as_json = outputs
    assert "Response A wins" in verdict and "A red bus." in verdict
    assert plot["value"]["type"] == "plotly" if "value" in plot else plot["type"] == "plotly"
    assert analysis == "Response A matches the picture."
    assert '"[[A]]"' in raw and as_json["verdict"] == "A"
    assert "judge-model" in details and "tokens" in details
    # The typed key went to the endpoint, and nowhere else.
    sent = server.chat_requests
    assert sent and all(r.headers["authorization"] == f"Bearer {KEY}" for r in sent)
    assert KEY not in json.dumps(outputs, default=str)
    assert sent[0].image_urls[0].startswith("data:image/png;base64,")


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
        # Three responses asked for, two given: the count slider and the boxes disagree.
        ({"mode": "batch", "count": 3}, "Response C is empty"),
        # The slider refuses counts outside 2..8 before our code runs.
        ({"mode": "batch", "count": 1}, "less than minimum value 2"),
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
    def explode(form, settings):
        raise RuntimeError(f"internal detail with {form.api_key}")

    monkeypatch.setattr("judges.ui.tab.run_judgment", explode)
    with caplog.at_level(logging.ERROR, logger="judges.ui.tab"), pytest.raises(AppError) as caught:
        client.predict(*judge_args(png, api_key=KEY, base_url="http://127.0.0.1:9/v1"), api_name="/judge")
    assert "Something went wrong while judging" in str(caught.value)
    assert "internal detail" not in str(caught.value)
    assert "internal detail with ***" in caplog.text and KEY not in caplog.text


@pytest.mark.parametrize(
    ("mode", "metric"),
    [("score", "pearson"), ("pair", "accuracy_without_tie"), ("batch", "normalized_levenshtein")],
)
def test_leaderboard_table_for_each_mode(client, mode, metric):
    table, caption, csv_path = client.predict(mode, api_name="/leaderboard")
    headers, data = table["headers"], table["data"]
    assert headers[:2] == ["Judge", "Average"] and "95% CI" in headers
    assert len(data) >= 2 and any(str(r[0]).endswith("[paper]") for r in data)
    assert f"**{metric}**" in caption
    lines = Path(csv_path).read_text().splitlines()
    assert lines[0].split(",")[:2] == ["Judge", "Average"] and len(lines) == len(data) + 1


def test_leaderboard_filters_through_the_api(client):
    table, _caption, _csv = client.predict(
        "pair", "accuracy_with_tie", [], ["reported in paper"], [], ["Run"], api_name="/leaderboard"
    )
    assert table["headers"] == ["Judge", "Average", "Run"]
    assert {r[2] for r in table["data"]} == {"paper"}


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
    assert row["Judge"] == "Api-Judge [unverified]" and row["Provenance"] == PROVENANCE_UNVERIFIED
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
    assert rows_by_run(submit_client, "score")["written-score-run"]["Judge"] == "Disk-Judge"
