"""judges.ui.form and judges.ui.display: the Judge tab's logic without Gradio (form -> task -> judgment -> display)."""

from __future__ import annotations

import io
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from PIL import Image

from judges import BadInput, ConfigError, get_spec, judge_names
from judges.errors import MissingApiKey
from judges.settings import Settings
from judges.types import ConsistencyOutcome, JudgeResult, SwapOutcome, Usage, VerdictDistribution
from judges.ui.display import details_markdown, present_result, probability_figure, verdict_html, verdict_text
from judges.ui.form import (
    CUSTOM_JUDGE,
    INPUT_FIELDS,
    MAX_RESPONSES,
    JudgeForm,
    build_options,
    build_task,
    input_defaults,
    is_local_judge,
    judge_choices,
    judge_note,
    mode_choices,
    request_key,
    resolve_judge,
    response_count,
    response_label,
    run_judgment,
    select_responses,
    setting_choices,
)
from tests.support.openai_server import reply, serve_openai

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def png(tmp_path) -> Path:
    path = tmp_path / "image.png"
    Image.new("RGB", (48, 32), "teal").save(path)
    return path


def form(png, **changes) -> JudgeForm:
    base = JudgeForm(
        image=str(png),
        mode="pair",
        instruction="What vehicle is shown?",
        responses=("A red bus.", "A blue car.", *[""] * (MAX_RESPONSES - 2)),
        response_count=2,
        judge=CUSTOM_JUDGE,
        base_url="http://127.0.0.1:9/v1",
        model="judge-model",
    )
    return replace(base, **changes)


def result(mode="pair", verdict="A", **changes) -> JudgeResult:
    base = JudgeResult(
        mode=mode,
        judge="judge-model",
        verdict=verdict,
        parsed=verdict is not None,
        analysis="Looked at the bus.",
        raw_output='{"Judgement": "[[A]]"}',
        latency_s=1.234,
        usage=Usage(800, 60),
        setting="no-cot",
        template="mllm-judge@1.0",
    )
    return replace(base, **changes)


# ---------------------------------------------------------------------- choices


def test_choices_come_from_the_registries():
    assert [value for _, value in mode_choices()] == [
        "score",
        "pair",
        "batch",
        "image-pair",
        "rubric",
        "verify",
        "process",
        "safety",
        "relevance",
    ]
    values = [value for _, value in judge_choices()]
    assert values[:-1] == [*judge_names("api"), *judge_names("local")] and values[-1] == CUSTOM_JUDGE
    assert dict((v, k) for k, v in judge_choices())[judge_names("local")[0]].endswith("GPU")
    assert ("Analyze, then judge (default)", "no-cot") in setting_choices()
    assert is_local_judge(judge_names("local")[0]) and not is_local_judge(CUSTOM_JUDGE)


@pytest.mark.parametrize(
    ("mode", "requested", "count"),
    [("score", 5, 1), ("pair", 7, 2), ("batch", 4, 4), ("batch", 99, 8), ("batch", 0, 2)],
)
def test_response_count_per_mode(mode, requested, count):
    assert response_count(mode, requested) == count


def test_response_labels():
    assert response_label("score", 0) == "Response"
    assert [response_label("batch", i) for i in range(3)] == ["Response A", "Response B", "Response C"]


# ---------------------------------------------------------------------- form -> task and options


def test_form_from_api_inputs(png):
    values = [str(png), "batch", "Rank them.", "a", "b", "c", None, None, None, None, None, 3.0, CUSTOM_JUDGE]
    f = JudgeForm.from_inputs(values)
    assert f.mode == "batch" and f.response_count == 3 and f.judge == CUSTOM_JUDGE
    assert f.responses == ("a", "b", "c", "", "", "", "", "") and f.judged_responses == ["a", "b", "c"]
    assert (f.setting, f.temperature, f.samples, f.logprobs) == ("no-cot", 0.4, 1, False)  # defaults
    full = JudgeForm.from_inputs([*values, "http://x/v1", "m", "k", "no-figure", "d", "c", 0, 1, 2, 3, 1])
    assert (full.temperature, full.swap, full.shuffles, full.samples, full.logprobs) == (0.0, True, 2, 3, True)
    # The 25 fixed inputs, then one per task input (input_<name>), which grow with the tasks.
    from judges.ui.inputs import field_names

    assert INPUT_FIELDS[23:25] == ("logprobs", "more_images") and INPUT_FIELDS[25:] == field_names()
    defaults = input_defaults()
    assert [n for n in INPUT_FIELDS if n not in defaults] == ["image", "mode", "instruction", "response_1"]
    assert (defaults["response_8"], defaults["judge"], defaults["temperature"]) == ("", "", 0.4)
    with pytest.raises(BadInput, match=f"at most {len(INPUT_FIELDS)} inputs"):
        JudgeForm.from_inputs([None] * (len(INPUT_FIELDS) + 1))


def test_select_responses_takes_what_the_mode_needs():
    boxes = ["a", "b", "c", "d", "", "", "", ""]
    assert select_responses("score", boxes, 8) == ["a"]
    assert select_responses("pair", boxes, 8) == ["a", "b"]
    assert select_responses("batch", boxes, 4) == ["a", "b", "c", "d"]
    assert select_responses("batch", boxes, None) == ["a", "b", "c", "d"]  # inferred from the boxes
    assert select_responses("pair", [None, "b"], None) == ["", "b"]


@pytest.mark.parametrize(("count", "filled"), [(3, 4), (3, 2), (5, 4)])
def test_an_explicit_batch_count_that_disagrees_with_the_responses_names_both_numbers(count, filled):
    boxes = [*["x"] * filled, *[""] * (8 - filled)]
    with pytest.raises(BadInput, match=f"number of responses is {count}, but {filled} responses are filled in"):
        select_responses("batch", boxes, count)


@pytest.mark.parametrize("count", [1, 9])
def test_batch_count_out_of_range_is_a_readable_error(count):
    with pytest.raises(BadInput, match=f"Batch mode takes 2 to 8 responses, got {count}"):
        select_responses("batch", ["x"] * 8, count)


def test_build_task_pair(png):
    task = build_task(form(png))
    assert task.responses == ("A red bus.", "A blue car.")
    assert task.images[0].media_type == "image/png"


def test_build_task_with_several_images(png, tmp_path):
    second = tmp_path / "second.png"
    Image.new("RGB", (10, 20), "white").save(second)
    task = build_task(form(png, more_images=(str(second),)))
    assert [(i.width, i.height) for i in task.images][1] == (10, 20) and len(task.images) == 2
    only_more = build_task(form(png, image=None, more_images=(str(second),)))
    assert len(only_more.images) == 1
    assert JudgeForm.from_inputs(
        [str(png), "score", "Q", "a", *[""] * 7, 2, *[None] * 12, [str(second)]]
    ).more_images == (str(second),)


def test_build_task_without_image_says_so(png):
    with pytest.raises(BadInput, match="No image: upload the image"):
        build_task(form(png, image=None))
    # A text-only setting needs no image.
    assert build_task(form(png, image=None, setting="no-figure")).images == ()


def test_build_task_empty_response_and_instruction(png):
    with pytest.raises(BadInput, match="Response B is empty"):
        build_task(form(png, responses=("A red bus.", "  ")))
    with pytest.raises(BadInput, match="instruction is empty"):
        build_task(form(png, instruction=" "))


def test_build_task_keeps_the_description(png):
    task = build_task(form(png, image_description="  a red bus  ", setting="vision-expert"))
    assert task.image_description == "a red bus"


def test_build_options_drops_what_the_mode_cannot_use(png):
    score = build_options(form(png, mode="score", swap=True, shuffles=3, samples=0, criteria="  "))
    assert (score.swap, score.shuffles, score.samples, score.criteria) == (False, 0, 1, None)
    pair = build_options(form(png, swap=True, shuffles=3, temperature=0.0, criteria="Be strict."))
    assert (pair.swap, pair.shuffles, pair.sampling.temperature, pair.criteria) == (True, 0, 0.0, "Be strict.")
    batch = build_options(form(png, mode="batch", swap=True, shuffles=3, samples=2))
    assert (batch.swap, batch.shuffles, batch.samples) == (False, 3, 2)


def test_resolve_judge():
    assert resolve_judge("GPT-4o").model == "gpt-4o"
    custom = resolve_judge(CUSTOM_JUDGE, "http://localhost:8000/v1", "my-vlm", logprobs=True)
    assert (custom.model, custom.base_url, custom.capabilities.logprobs) == ("my-vlm", "http://localhost:8000/v1", True)
    with pytest.raises(ConfigError, match="must start with http"):
        resolve_judge(CUSTOM_JUDGE, "localhost:8000", "my-vlm")
    with pytest.raises(ConfigError, match="model name"):
        resolve_judge(CUSTOM_JUDGE, "http://localhost:8000/v1", " ")


def test_custom_endpoints_never_receive_space_secrets(png, monkeypatch):
    # A visitor's URL must not get the Space's key, neither from Settings nor from the environment.
    secret = "sk-space-secret-0000000000"
    monkeypatch.setenv("OPENAI_API_KEY", secret)
    verdict = '{"Analysis": "x", "Judgement": "[[A]]"}'
    with serve_openai(default=reply(verdict)) as server:
        custom = form(png, judge=CUSTOM_JUDGE, base_url=server.base_url, model="my-vlm")
        run_judgment(custom, Settings(openai_api_key=secret))
        run_judgment(replace(custom, api_key=" sk-mine-1234567890 "), Settings(openai_api_key=secret))
        sent = [r.headers.get("authorization") for r in server.chat_requests]
    assert secret not in " ".join(sent)
    assert sent[-1] == "Bearer sk-mine-1234567890"
    assert request_key("") is None and request_key(" sk-mine ") == "sk-mine"


def test_builtin_judge_uses_its_secret_unless_a_key_is_typed(png):
    seen = []

    def factory(spec, settings, *, api_key=None, **options):
        seen.append(api_key)
        raise MissingApiKey("stop here")

    for typed in ("", "sk-typed-123456"):
        with pytest.raises(MissingApiKey):
            run_judgment(form(png, judge="GPT-4o", api_key=typed), Settings(), factory=factory)
    assert seen == [None, "sk-typed-123456"]


def test_form_repr_hides_the_key(png):
    assert "sk-hidden" not in repr(form(png, api_key="sk-hidden-123456"))


# ---------------------------------------------------------------------- running a judgment


def test_run_judgment_against_a_loopback_server(png):
    with serve_openai() as server:
        server.script(
            reply(
                '{"Analysis": "Rises steadily.", "Judgement": "[[4]]"}',
                alternatives={"4": [("4", -0.2), ("5", -1.8), ("3", -3.0)]},
            )
        )
        f = form(png, mode="score", base_url=server.base_url, api_key="sk-typed-key-1234", logprobs=True)
        out = run_judgment(f, Settings(max_retries=0))
        assert server.chat_requests[0].headers["authorization"] == "Bearer sk-typed-key-1234"
    assert out.verdict == 4 and out.probabilities is not None
    view = present_result(out, ["It rises."])
    assert "4<span" in view.verdict_html and "Good" in view.verdict_html
    assert set(view.probabilities) == {"1", "2", "3", "4", "5"}
    fig = probability_figure(view.probabilities, "score")
    assert list(fig.data[0].x) == ["1", "2", "3", "4", "5"]


# ---------------------------------------------------------------------- display


def test_verdict_html_per_mode():
    score = verdict_html(result("score", 3))
    assert "★★★☆☆" in score and "Average" in score and "width:60%" in score
    pair = verdict_html(result("pair", "B"), ["first", "second <b>bold</b>"])
    assert "Response B wins" in pair and "second &lt;b&gt;bold&lt;/b&gt;" in pair
    assert "Tie" in verdict_html(result("pair", "tie"), ["a", "b"])
    batch = verdict_html(result("batch", ("C", "A", "B")), ["one", "two", "three"])
    assert "C &gt; A &gt; B" in batch
    assert batch.index("three") < batch.index("one") < batch.index("two")


def test_unscored_says_why():
    html = verdict_html(result(verdict=None, reason="no [[...]] verdict <found>"))
    assert "Unscored: no [[...]] verdict &lt;found&gt;" in html


def test_details_markdown_swap_consistency_and_facts():
    dist = VerdictDistribution({"A": 0.7, "B": 0.2, "tie": 0.1}, confidence=0.7)
    text = details_markdown(
        result(
            verdict="tie",
            probabilities=dist,
            swap=SwapOutcome("A", "B", False, "tie"),
            consistency=ConsistencyOutcome(("A", "A", None), "A", 1.0, "samples"),
            attempts=4,
        )
    )
    assert "original order → A, swapped order → B (**inconsistent**" in text
    assert "over 3 samples: 100% agree with A (A, A, unscored)" in text
    assert "Confidence** in the verdict's label: 70%" in text
    assert "1.23 s · 800 prompt + 60 completion tokens · 4 requests" in text


def test_probability_figure_absent_without_probabilities():
    assert probability_figure(None, "pair") is None
    assert probability_figure({}, "pair") is None
    fig = probability_figure(VerdictDistribution({"A": 0.6, "B": 0.3, "tie": 0.1}), "pair")
    assert list(fig.data[0].y) == [0.6, 0.3, 0.1]


def test_verdict_text():
    assert verdict_text(("B", "A")) == "B > A"
    assert verdict_text(None) == "—"
    assert verdict_text(5) == "5"


# ---------------------------------------------------------------------- judge notes


def test_judge_notes():
    api = judge_note("GPT-4o", Settings())
    assert "no `OPENAI_API_KEY` secret" in api
    assert "uses this space's `openai_api_key` secret" in judge_note("GPT-4o", Settings(openai_api_key="sk-x")).lower()
    local = judge_names("local")[0]
    assert "No GPU" in judge_note(local, Settings(), gpu=lambda: False)
    assert "No GPU" not in judge_note(local, Settings(), gpu=lambda: True)
    assert get_spec(local).notes in judge_note(local, Settings(), gpu=lambda: True)
    assert "never stored or logged" in judge_note(CUSTOM_JUDGE, Settings())


def test_gpu_check_does_not_import_torch_without_a_driver():
    if Path("/proc/driver/nvidia").exists():
        pytest.skip("this machine has an NVIDIA driver")
    code = "import sys, judges.ui.form as p; print(p.gpu_available(), 'torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_the_form_and_display_import_nothing_heavy():
    code = (
        "import sys, judges.ui.form, judges.ui.display\n"
        "print(sorted(m for m in ('torch', 'transformers', 'openai', 'gradio', 'plotly') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "[]"


def test_png_bytes_are_accepted(png):
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(buffer, format="PNG")
    assert build_task(form(png, image=buffer.getvalue())).images[0].width == 8


# ---------------------------------------------------------------------- API values in our words


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("mode", "triple", "mode 'triple' is not a mode of this Space: pass one of score, pair, batch"),
        ("setting", "best", "setting 'best' is not a prompt setting: pass one of no-cot"),
        ("temperature", "hot", "temperature must be a number from 0 to 1.5, got 'hot'"),
        ("temperature", "nan", "temperature must be a number from 0 to 1.5"),
        ("samples", 50, "samples must be a whole number from 1 to 5, got 50"),
        ("shuffles", 2.5, "shuffles must be a whole number from 0 to 5, got 2.5"),
        ("response_count", 9, "response_count must be a whole number from 1 to 8, got 9"),
        ("swap", "maybe", "swap must be true or false, got 'maybe'"),
        ("instruction", 12, "instruction must be text, got int"),
        ("image", {"url": "x"}, "image has no file in it: upload the image again"),
    ],
)
def test_bad_api_values_name_the_field_and_what_it_takes(png, field, value, message):
    values = dict.fromkeys(INPUT_FIELDS)
    values.update({"image": str(png), "mode": "pair", "instruction": "Q", "response_1": "a", "response_2": "b"})
    values[field] = value
    with pytest.raises(BadInput, match=message.replace("(", r"\(").replace(")", r"\)")):
        JudgeForm.from_inputs([values[name] for name in INPUT_FIELDS])


def test_gradio_file_dicts_are_read_as_paths(png):
    f = JudgeForm.from_inputs([{"path": str(png), "meta": {"_type": "gradio.FileData"}}, "score", "Q", "a"])
    assert f.image == str(png)
    assert build_task(f).images[0].width == 48


def test_an_unusable_image_names_its_box(png, tmp_path):
    text = tmp_path / "notes.png"
    text.write_text("not an image")
    with pytest.raises(BadInput, match="^Image: notes.png is not an image"):
        build_task(form(png, image=str(text)))
    with pytest.raises(BadInput, match="^More images, file 1: notes.png is not an image"):
        build_task(form(png, more_images=(str(text),)))


def test_the_default_judge_is_one_the_space_can_run():
    from judges.ui.form import default_judge, key_label

    assert default_judge(Settings()) == CUSTOM_JUDGE
    assert default_judge(Settings(openai_api_key="sk-x")) == "GPT-4o"
    assert default_judge(Settings(gemini_api_key="g")) == "Gemini-2.5-Flash"
    assert key_label("GPT-4o", Settings()) == "OPENAI_API_KEY (required: this Space has none, paste yours)"
    assert key_label("GPT-4o", Settings(openai_api_key="sk-x")) == "OPENAI_API_KEY (optional: this Space has one)"
    assert "HF_TOKEN" in key_label("Gemma-3-27B (HF Inference Providers)", Settings())
