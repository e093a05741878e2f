"""The Space's "Judge" tab: upload an image, write responses, pick a judge, read the verdict.

Only widgets and wiring live here; every decision is made by :mod:`judges.ui.form` and
:mod:`judges.ui.display`. The main event is the public ``/judge`` API, whose inputs are, in order
(:data:`judges.ui.form.INPUT_FIELDS`)::

    image, mode, instruction, response_1 ... response_8, response_count,
    judge, base_url, model, api_key, setting, image_description, criteria,
    temperature, swap, shuffles, samples, logprobs, more_images,
    input_<name> for every task input (judges.ui.inputs), e.g. input_rubric, input_check

``response_count`` (2..8) is read in batch mode only (left out: the boxes up to the last filled
one); score uses the first box, pair the first two. The outputs are: verdict HTML, probability
plot, details Markdown, analysis Markdown, raw output, the rendered prompt, result JSON.

``/compare`` takes the same inputs followed by ``judges`` (see :mod:`judges.ui.compare`) and
returns the side-by-side HTML and a JSON summary.

Both events skip Gradio's preprocessing (``preprocess=False``): an upload arrives as Gradio's file
dict and is checked by :mod:`judges.images` from its header before anything decodes it, and every
other value is checked by :meth:`judges.ui.form.JudgeForm.from_inputs` in the form's words, so
neither a visitor nor an API caller ever sees Gradio's "Could not preprocess ..." (with the
server's temp path) or a slider's "Value 50 is greater than maximum value 5".
"""

from __future__ import annotations

import inspect
import logging
import traceback
from pathlib import Path
from typing import Any

import gradio as gr

from judges.errors import JudgeError, redact
from judges.settings import Settings
from judges.tasks import InputSpec, get_task, task_inputs
from judges.ui import inputs as task_fields
from judges.ui.compare import COMPARE_FIELDS, MAX_COMPARED, compare, compare_forms, comparison_html
from judges.ui.display import present_judgment, probability_figure
from judges.ui.form import (
    CUSTOM_JUDGE,
    DEFAULT_TASK,
    IMAGE_LABEL,
    INPUT_FIELDS,
    INSTRUCTION_LABEL,
    INSTRUCTION_PLACEHOLDER,
    MAX_RESPONSES,
    MAX_SAMPLES,
    MAX_SHUFFLES,
    MORE_IMAGES_LABEL,
    TEMPERATURE_RANGE,
    JudgeForm,
    default_judge,
    input_boxes,
    input_defaults,
    is_local_judge,
    judge_choices,
    judge_form,
    judge_note,
    key_label,
    mode_choices,
    options_shown,
    response_count,
    response_label,
    setting_choices,
)

log = logging.getLogger(__name__)

PLACEHOLDER = '<div class="verdict verdict-empty">The verdict will appear here.</div>'
UNEXPECTED = "Something went wrong while judging; the details were logged. Please try again in a moment."

#: (label, image file, mode, instruction, responses, count) for the Examples table.
EXAMPLES: tuple[tuple[str, str, str, str, tuple[str, ...], int], ...] = (
    (
        "Score · bar chart",
        "chart.png",
        "score",
        "Which quarter had the highest revenue, and how much more was it than the lowest quarter?",
        (
            "Q4 had the highest revenue, 21.3 million EUR. That is 8.9 million EUR more than the lowest "
            "quarter, Q1, with 12.4 million EUR.",
        ),
        2,  # the count slider's minimum; score mode reads one box whatever the count
    ),
    (
        "Pair · street scene",
        "street.png",
        "pair",
        "Describe this picture in two sentences.",
        (
            "A red bus drives along a road past a yellow house with a brown roof and a leafy tree. "
            "Green hills stretch behind them under an evening sky with a low sun.",
            "A yellow taxi is parked in front of a tall apartment block at night. Several people wait "
            "at a bus stop under bright street lights.",
        ),
        2,
    ),
    (
        "Batch · app screenshot",
        "signin.png",
        "batch",
        "The user says they cannot sign in. Based on the screenshot, what is going on and what should they do?",
        (
            "The banner says 'Incorrect password. 2 attempts left.' The email is filled in, so the password "
            "is the problem: re-type it carefully, or use 'Forgot password?' before the account locks.",
            "The app seems to be offline. Check the internet connection and reload the page.",
            "The password was wrong. They should reset it.",
            "There is an error on the page. Create a new account with 'Create one'.",
        ),
        4,
    ),
)


def _example_rows(examples_dir: Path | None) -> tuple[list[list], list[str]]:
    if examples_dir is None:
        return [], []
    rows, labels = [], []
    for label, image, mode, instruction, responses, count in EXAMPLES:
        path = examples_dir / image
        if not path.is_file():
            continue
        padded = [*responses, *[""] * (4 - len(responses))]
        rows.append([str(path), mode, instruction, *padded, count])
        labels.append(label)
    return rows, labels


def _api_signature(fields: tuple[str, ...] = INPUT_FIELDS) -> inspect.Signature:
    """Named parameters for ``/judge`` or ``/compare`` (shown by the API page and gradio_client), then progress.

    Optional inputs default to None, which gradio_client reads as "may be left out" and
    :meth:`JudgeForm.from_inputs` turns into the form's default.
    """
    kind, empty = inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.empty
    optional = {*input_defaults(), "judges"}
    names = [inspect.Parameter(name, kind, default=None if name in optional else empty) for name in fields]
    return inspect.Signature([*names, inspect.Parameter("progress", kind, default=gr.Progress())])


#: Scrolls the verdict into view when it arrives (on a phone it is below the form).
SHOW_VERDICT_JS = (
    "() => { const el = document.getElementById('judge-verdict');"
    " if (el) el.scrollIntoView({behavior: 'smooth', block: 'nearest'}); }"
)


def _failure(exc: BaseException, secrets: list[str]) -> gr.Error:
    """A readable gr.Error for a JudgeError; anything else is logged (redacted) and stays generic."""
    if isinstance(exc, JudgeError):
        return gr.Error(redact(str(exc), secrets), print_exception=False)
    # The traceback may quote a request; redact before it reaches the log.
    log.error("unexpected error while judging:\n%s", redact(traceback.format_exc(), secrets))
    return gr.Error(UNEXPECTED, print_exception=False)


def _input_widget(spec: InputSpec, visible: bool) -> gr.components.Component:
    """The field for one task input, chosen by its kind."""
    common: dict[str, Any] = {
        "label": spec.label,
        "visible": visible,
        "elem_id": f"judge-input-{spec.name.replace('_', '-')}",
    }
    if spec.kind in ("text", "texts"):
        info = spec.help + (" One per line." if spec.kind == "texts" else "")
        return gr.Textbox(value=spec.default or "", info=info, lines=3, max_lines=16, **common)
    if spec.kind in ("file", "files"):
        return gr.File(file_count="single" if spec.kind == "file" else "multiple", type="filepath", **common)
    if spec.kind == "choice":
        return gr.Dropdown(list(spec.choices), value=spec.default or spec.choices[0], info=spec.help, **common)
    if spec.kind == "flag":
        return gr.Checkbox(value=bool(spec.default), info=spec.help, **common)
    return gr.Number(value=spec.default, precision=0 if spec.kind == "int" else None, info=spec.help, **common)


def _input_visible(spec: InputSpec, mode: str, public: bool) -> bool:
    """A task input's field shows for the tasks that take it, and never on a public Space when it is local-only."""
    return spec.name in task_fields.shown_for(mode) and (spec.public or not public)


def build_judge_tab(settings: Settings, examples_dir: Path | None = None) -> None:
    """Render the Judge tab's components and events inside the current ``gr.Tab``.

    Args:
        settings: Space secrets and timeouts (secrets are never shown or returned).
        examples_dir: Folder with the example PNGs (``assets/examples``); None hides the examples.
    """
    first_judge = default_judge(settings)
    # The examples come first, above the fold; they are filled in once their inputs exist.
    examples_slot = gr.Column(elem_id="judge-examples")
    with gr.Row(equal_height=False):
        with gr.Column(scale=5, min_width=320):
            # The events below skip preprocessing, so this box never decodes an upload: when it did,
            # a 12000x12000 1-bit PNG cost 687 MB before judges.images could refuse it.
            image = gr.Image(
                label=IMAGE_LABEL,
                type="filepath",
                sources=["upload", "clipboard", "webcam"],
                height=260,
                elem_id="judge-image",
            )
            with gr.Accordion(MORE_IMAGES_LABEL, open=False) as more_box:
                more_images = gr.File(
                    label="Sent after the first image, in this order",
                    file_count="multiple",
                    file_types=["image"],
                    type="filepath",
                    elem_id="judge-more-images",
                )
            mode = gr.Radio(mode_choices(), value=DEFAULT_TASK, label="Mode", elem_id="judge-mode")
            instruction = gr.Textbox(
                label=INSTRUCTION_LABEL,
                placeholder=INSTRUCTION_PLACEHOLDER,
                lines=2,
                elem_id="judge-instruction",
            )
            shown = options_shown(DEFAULT_TASK)
            count = gr.Slider(
                2,
                MAX_RESPONSES,
                value=3,
                step=1,
                label="Number of responses",
                visible=shown.count,
                elem_id="judge-count",
            )
            # The API's response_count: None (infer it from the boxes) unless the slider was used for
            # batch mode. The slider cannot be the input itself: its initial 3 would become the
            # API default, and five given responses would be ranked as three.
            count_value = gr.Number(value=None, visible=False, precision=0, elem_id="judge-count-value")
            n_default = response_count(DEFAULT_TASK)
            responses = [
                gr.Textbox(
                    label=response_label(DEFAULT_TASK, i) if i < n_default else f"Response {chr(65 + i)}",
                    lines=3,
                    max_lines=12,
                    visible=i < n_default,
                    elem_id=f"judge-response-{i + 1}",
                )
                for i in range(MAX_RESPONSES)
            ]
            public = settings.public_space
            specs = list(task_inputs().values())
            extras = [_input_widget(spec, _input_visible(spec, DEFAULT_TASK, public)) for spec in specs]
        with gr.Column(scale=4, min_width=320):
            judge = gr.Dropdown(judge_choices(), value=first_judge, label="Judge", elem_id="judge-name")
            note = gr.Markdown(judge_note(first_judge, settings), elem_classes="judge-note", elem_id="judge-note")
            with gr.Group(visible=first_judge == CUSTOM_JUDGE) as custom:
                base_url = gr.Textbox(
                    label="Base URL", placeholder="http://localhost:8000/v1", elem_id="judge-base-url"
                )
                model = gr.Textbox(label="Model name", placeholder="Qwen/Qwen2.5-VL-7B-Instruct", elem_id="judge-model")
                logprobs = gr.Checkbox(
                    value=False,
                    label="The endpoint returns token log-probabilities (shows verdict probabilities)",
                    elem_id="judge-logprobs",
                )
            api_key = gr.Textbox(
                label=key_label(first_judge, settings),
                type="password",
                placeholder="Used for this request only; never stored or logged",
                visible=not is_local_judge(first_judge),
                elem_id="judge-api-key",
            )
            with gr.Accordion("Options", open=False):
                setting = gr.Dropdown(setting_choices(), value="no-cot", label="Prompt setting (from the paper)")
                description = gr.Textbox(
                    label="Image description",
                    info="Used by the vision-expert setting: a text-only judge reads this instead of the image.",
                    lines=2,
                )
                criteria = gr.Textbox(label="Your criteria", info="Added to the judge's evaluation method.", lines=2)
                temperature = gr.Slider(*TEMPERATURE_RANGE, value=0.4, step=0.1, label="Temperature")
                swap = gr.Checkbox(
                    value=False, label="Position swap: judge both orders (inconsistent → tie)", visible=shown.swap
                )
                shuffles = gr.Slider(
                    0, MAX_SHUFFLES, value=0, step=1, label="Extra shuffled orders (batch)", visible=shown.shuffles
                )
                samples = gr.Slider(1, MAX_SAMPLES, value=1, step=1, label="Samples per order (majority vote)")
            with gr.Row():
                run = gr.Button("Judge", variant="primary", elem_id="judge-run", scale=3)
                stop = gr.Button("Stop", variant="stop", visible=False, elem_id="judge-stop", scale=1)
            verdict = gr.HTML(PLACEHOLDER, elem_id="judge-verdict", min_height=60)
            plot = gr.Plot(visible=False, show_label=False, elem_id="judge-probabilities")
            details = gr.Markdown(elem_id="judge-details")
            with gr.Accordion("Analysis", open=True):
                analysis = gr.Markdown(elem_id="judge-analysis")
            with gr.Accordion("Raw output", open=False):
                raw = gr.Textbox(show_label=False, lines=6, max_lines=20, buttons=["copy"], elem_id="judge-raw")
                as_json = gr.JSON(label="Result as JSON")
            with gr.Accordion("Prompt sent to the judge", open=False):
                prompt = gr.Textbox(
                    show_label=False,
                    lines=6,
                    max_lines=24,
                    buttons=["copy"],
                    placeholder="The exact prompt of the first request appears here after a judgment.",
                    elem_id="judge-prompt",
                )
    with gr.Accordion("Compare judges side by side", open=False, elem_id="judge-compare-box"):
        gr.Markdown(
            "Run two or more judges on the input above at once. A key typed above goes to the judge "
            "chosen above only; the others use this Space's secrets.",
            elem_classes="judge-note",
        )
        with gr.Row():
            compared = gr.Dropdown(
                judge_choices(),
                value=[],
                multiselect=True,
                max_choices=MAX_COMPARED,
                label=f"Judges to compare (2 to {MAX_COMPARED})",
                elem_id="judge-compare-judges",
                scale=4,
            )
            compare_run = gr.Button("Compare", variant="secondary", elem_id="judge-compare-run", scale=1)
        comparison = gr.HTML(elem_id="judge-comparison")
        comparison_json = gr.JSON(label="Comparison as JSON", visible=False)

    rows, labels = _example_rows(examples_dir)
    if rows:
        with examples_slot:
            gr.Examples(
                rows,
                inputs=[image, mode, instruction, *responses[:4], count],
                label="Examples: click one to fill the form",
                example_labels=labels,
                api_name="load_judge_example",
                api_visibility="private",
            )

    results = [verdict, plot, details, analysis, raw, prompt, as_json]

    def cleared() -> list:
        return [PLACEHOLDER, gr.Plot(value=None, visible=False), "", "", "", "", None]

    # -- form visibility: which boxes and options apply to the chosen mode and judge
    def on_mode(mode_value: str, slider: float):
        n = response_count(mode_value, slider)
        boxes = [gr.Textbox(visible=i < n, label=response_label(mode_value, i)) for i in range(MAX_RESPONSES)]
        applies = options_shown(mode_value)
        kind = get_task(mode_value)
        say = input_boxes(mode_value)
        return [
            gr.Image(label=say.image),
            gr.Accordion(label=say.more_images, open=say.more_open),
            gr.Textbox(label=say.instruction, placeholder=say.placeholder),
            # The slider spans the selected task's response range (batch 2-8, rubric 1-2).
            gr.Slider(visible=True, minimum=kind.min_responses, maximum=kind.max_responses, value=n)
            if applies.count
            else gr.Slider(visible=False),
            gr.Checkbox(visible=applies.swap),
            gr.Slider(visible=applies.shuffles),
            *boxes,
            *cleared(),  # a batch ranking must not stay up after switching to pair
            "",
            n if applies.count else None,
            *(gr.update(visible=_input_visible(spec, mode_value, public)) for spec in specs),
        ]

    mode.change(
        on_mode,
        [mode, count],
        [image, more_box, instruction, count, swap, shuffles, *responses, *results, comparison, count_value, *extras],
        api_name="judge_form_mode",
        api_visibility="private",
        queue=False,
    )

    def on_count(mode_value: str, slider: float):
        n = response_count(mode_value, slider)
        clears = options_shown(mode_value).count
        # Boxes hidden by a smaller count are emptied, so hidden text never disagrees with the count.
        boxes = [
            gr.Textbox(visible=i < n) if i < n or not clears else gr.Textbox(visible=False, value="")
            for i in range(MAX_RESPONSES)
        ]
        return [*boxes, n if clears else None]

    count.change(
        on_count,
        [mode, count],
        [*responses, count_value],
        api_name="judge_form_count",
        api_visibility="private",
        queue=False,
    )

    def on_judge(name: str):
        return (
            judge_note(name, settings),
            gr.Group(visible=name == CUSTOM_JUDGE),
            gr.Textbox(visible=not is_local_judge(name), label=key_label(name, settings)),
        )

    judge.change(on_judge, judge, [note, custom, api_key], api_name="judge_form_judge", api_visibility="private")

    # -- the judgment
    def on_run(*args):
        # Gradio calls with the inputs in INPUT_FIELDS order, then the Progress tracker that
        # __signature__ below declares (it only detects one among named positional parameters).
        *values, progress = args
        # The typed key and the Space's own secrets: none may reach the page or the log.
        secrets = [*settings.secrets()]
        try:
            form = JudgeForm.from_inputs(values)
            secrets.append(form.api_key)
            judgment = judge_form(form, settings, on_stage=lambda text, done: progress(done, desc=text))
            view = present_judgment(judgment)
            figure = probability_figure(view.probabilities, judgment.result.mode, view.plot_title)
        except Exception as exc:  # noqa: BLE001 - every failure becomes a readable message
            raise _failure(exc, secrets) from None
        return (
            view.verdict_html,
            gr.Plot(value=figure, visible=figure is not None),
            view.details_md,
            view.analysis_md,
            view.raw_output,
            view.prompt,
            judgment.result.to_dict(),
        )

    # typeshed's function type does not declare __signature__, which inspect.signature honours.
    on_run.__signature__ = _api_signature()  # type: ignore[attr-defined]
    by_field = {
        "image": image,
        "mode": mode,
        "instruction": instruction,
        **{f"response_{i + 1}": box for i, box in enumerate(responses)},
        "response_count": count_value,
        "judge": judge,
        "base_url": base_url,
        "model": model,
        "api_key": api_key,
        "setting": setting,
        "image_description": description,
        "criteria": criteria,
        "temperature": temperature,
        "swap": swap,
        "shuffles": shuffles,
        "samples": samples,
        "logprobs": logprobs,
        "more_images": more_images,
        **{task_fields.PREFIX + spec.name: widget for spec, widget in zip(specs, extras, strict=True)},
        "judges": compared,
    }
    started = run.click(
        lambda: [*cleared(), gr.Button(visible=True)],
        None,
        [*results, stop],
        api_name="judge_start",
        api_visibility="private",
        queue=False,
    )
    judging = started.then(
        on_run,
        [by_field[name] for name in INPUT_FIELDS],
        results,
        api_name="judge",
        api_description="Judge responses about an image (inputs in the order documented in judges/ui/tab.py).",
        concurrency_limit=4,
        preprocess=False,
    )
    judging.success(None, js=SHOW_VERDICT_JS, api_name="judge_show", api_visibility="private")
    judging.then(lambda: gr.Button(visible=False), None, stop, api_name="judge_done", api_visibility="private")
    stop.click(
        lambda: gr.Button(visible=False),
        None,
        stop,
        cancels=[judging],
        api_name="judge_stop",
        api_visibility="private",
        queue=False,
    )

    # -- side by side
    def on_compare(*args):
        *values, progress = args
        secrets = [*settings.secrets()]
        try:
            forms = compare_forms(values)
            secrets.append(forms[0].api_key)
            progress(0.1, desc=f"Asking {len(forms)} judges at once, up to {settings.request_timeout_s:g} s each")
            result = compare(forms, settings)
        except Exception as exc:  # noqa: BLE001 - every failure becomes a readable message
            raise _failure(exc, secrets) from None
        return comparison_html(result), result.to_dict()

    on_compare.__signature__ = _api_signature(COMPARE_FIELDS)  # type: ignore[attr-defined]
    compare_run.click(
        lambda: "", None, comparison, api_name="compare_start", api_visibility="private", queue=False
    ).then(
        on_compare,
        [by_field[name] for name in COMPARE_FIELDS],
        [comparison, comparison_json],
        api_name="compare",
        api_description="Several judges on the same input: the /judge inputs, then judges (a list of names).",
        concurrency_limit=2,
        preprocess=False,
    )
