"""The Space's "Judge" tab: upload an image, write responses, pick a judge, read the verdict.

Only widgets and wiring live here; every decision is made by :mod:`judges.ui.form` and
:mod:`judges.ui.display`. The main event is the public ``/judge`` API, whose inputs are, in order
(:data:`judges.ui.form.INPUT_FIELDS`)::

    image, mode, instruction, response_1 ... response_8, response_count,
    judge, base_url, model, api_key, setting, image_description, criteria,
    temperature, swap, shuffles, samples, logprobs, more_images

``response_count`` (2..8) is read in batch mode only; score uses the first box, pair the first two.
The outputs are: verdict HTML, probability plot, details Markdown, analysis Markdown, raw
output, result JSON.
"""

from __future__ import annotations

import inspect
import logging
import traceback
from pathlib import Path

import gradio as gr

from judges.errors import JudgeError, redact
from judges.settings import Settings
from judges.ui.display import present_result, probability_figure
from judges.ui.form import (
    CUSTOM_JUDGE,
    DEFAULT_JUDGE,
    DEFAULT_TASK,
    INPUT_FIELDS,
    MAX_RESPONSES,
    JudgeForm,
    input_defaults,
    is_local_judge,
    judge_choices,
    judge_note,
    mode_choices,
    options_shown,
    response_count,
    response_label,
    run_judgment,
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


def _api_signature() -> inspect.Signature:
    """Named parameters for ``/judge`` (shown by the API page and gradio_client), then progress.

    Optional inputs default to None, which gradio_client reads as "may be left out" and
    :meth:`JudgeForm.from_inputs` turns into the form's default.
    """
    kind, empty = inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.empty
    optional = input_defaults()
    names = [inspect.Parameter(name, kind, default=None if name in optional else empty) for name in INPUT_FIELDS]
    return inspect.Signature([*names, inspect.Parameter("progress", kind, default=gr.Progress())])


def build_judge_tab(settings: Settings, examples_dir: Path | None = None) -> None:
    """Render the Judge tab's components and events inside the current ``gr.Tab``.

    Args:
        settings: Space secrets and timeouts (secrets are never shown or returned).
        examples_dir: Folder with the example PNGs (``assets/examples``); None hides the examples.
    """
    with gr.Row(equal_height=False):
        with gr.Column(scale=5, min_width=340):
            image = gr.Image(
                label="Image",
                type="filepath",
                format="png",
                sources=["upload", "clipboard", "webcam"],
                height=280,
                elem_id="judge-image",
            )
            with gr.Accordion("More images (when the instruction refers to several)", open=False):
                more_images = gr.File(
                    label="Sent after the first image, in this order",
                    file_count="multiple",
                    file_types=["image"],
                    type="filepath",
                    elem_id="judge-more-images",
                )
            mode = gr.Radio(mode_choices(), value=DEFAULT_TASK, label="Mode", elem_id="judge-mode")
            instruction = gr.Textbox(
                label="Instruction",
                placeholder="What the answering model was asked about the image",
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
            rows, labels = _example_rows(examples_dir)
            if rows:
                gr.Examples(
                    rows,
                    inputs=[image, mode, instruction, *responses[:4], count],
                    label="Examples: click one to fill the form",
                    example_labels=labels,
                    api_name="load_judge_example",
                    api_visibility="private",
                )
        with gr.Column(scale=4, min_width=320):
            judge = gr.Dropdown(judge_choices(), value=DEFAULT_JUDGE, label="Judge", elem_id="judge-name")
            note = gr.Markdown(judge_note(DEFAULT_JUDGE, settings), elem_classes="judge-note")
            with gr.Group(visible=False) as custom:
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
                label="API key (optional)",
                type="password",
                placeholder="Used for this request only; never stored or logged",
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
                temperature = gr.Slider(0, 1.5, value=0.4, step=0.1, label="Temperature")
                swap = gr.Checkbox(
                    value=False, label="Position swap: judge both orders (inconsistent → tie)", visible=shown.swap
                )
                shuffles = gr.Slider(
                    0, 5, value=0, step=1, label="Extra shuffled orders (batch)", visible=shown.shuffles
                )
                samples = gr.Slider(1, 5, value=1, step=1, label="Samples per order (majority vote)")
            run = gr.Button("Judge", variant="primary", elem_id="judge-run")
            verdict = gr.HTML(PLACEHOLDER, elem_id="judge-verdict", min_height=60)
            plot = gr.Plot(visible=False, show_label=False, elem_id="judge-probabilities")
            details = gr.Markdown(elem_id="judge-details")
            with gr.Accordion("Analysis", open=True):
                analysis = gr.Markdown(elem_id="judge-analysis")
            with gr.Accordion("Raw output", open=False):
                raw = gr.Textbox(show_label=False, lines=6, max_lines=20, buttons=["copy"], elem_id="judge-raw")
                as_json = gr.JSON(label="Result as JSON")

    # -- form visibility: which boxes and options apply to the chosen mode and judge
    def on_mode(mode_value: str, count_value: float):
        n = response_count(mode_value, count_value)
        boxes = [gr.Textbox(visible=i < n, label=response_label(mode_value, i)) for i in range(MAX_RESPONSES)]
        applies = options_shown(mode_value)
        return [
            gr.Slider(visible=applies.count),
            gr.Checkbox(visible=applies.swap),
            gr.Slider(visible=applies.shuffles),
            *boxes,
        ]

    mode.change(
        on_mode,
        [mode, count],
        [count, swap, shuffles, *responses],
        api_name="judge_form_mode",
        api_visibility="private",
        queue=False,
    )
    count.change(
        lambda mode_value, count_value: [
            gr.Textbox(visible=i < response_count(mode_value, count_value)) for i in range(MAX_RESPONSES)
        ],
        [mode, count],
        responses,
        api_name="judge_form_count",
        api_visibility="private",
        queue=False,
    )

    def on_judge(name: str):
        is_custom = name == CUSTOM_JUDGE
        local = is_local_judge(name)
        return (
            judge_note(name, settings),
            gr.Group(visible=is_custom),
            gr.Textbox(visible=not local, label="API key" if is_custom else "API key (optional)"),
        )

    judge.change(on_judge, judge, [note, custom, api_key], api_name="judge_form_judge", api_visibility="private")

    # -- the judgment
    def on_run(*args):
        # Gradio calls with the inputs in INPUT_FIELDS order, then the Progress tracker that
        # __signature__ below declares (it only detects one among named positional parameters).
        *values, progress = args
        form = JudgeForm.from_inputs(values)
        progress(0.1, desc=f"Asking {form.model if form.judge == CUSTOM_JUDGE else form.judge}…")
        # The typed key and the Space's own secrets: none may reach the page or the log.
        secrets = [form.api_key, *settings.secrets()]
        try:
            result = run_judgment(form, settings)
            judged = form.judged_responses
        except JudgeError as exc:
            raise gr.Error(redact(str(exc), secrets), print_exception=False) from None
        except Exception:
            # The traceback may quote a request; redact before it reaches the log.
            log.error("unexpected error while judging:\n%s", redact(traceback.format_exc(), secrets))
            raise gr.Error(UNEXPECTED, print_exception=False) from None
        view = present_result(result, judged)
        figure = probability_figure(view.probabilities, result.mode)
        return (
            view.verdict_html,
            gr.Plot(value=figure, visible=figure is not None),
            view.details_md,
            view.analysis_md,
            view.raw_output,
            result.to_dict(),
        )

    # typeshed's function type does not declare __signature__, which inspect.signature honours.
    on_run.__signature__ = _api_signature()  # type: ignore[attr-defined]
    by_field = {
        "image": image,
        "mode": mode,
        "instruction": instruction,
        **{f"response_{i + 1}": box for i, box in enumerate(responses)},
        "response_count": count,
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
    }
    run.click(
        on_run,
        [by_field[name] for name in INPUT_FIELDS],
        [verdict, plot, details, analysis, raw, as_json],
        api_name="judge",
        api_description="Judge responses about an image (inputs in the order documented in judges/ui/tab.py).",
        concurrency_limit=4,
    )
