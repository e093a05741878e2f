"""What the Judge tab's form does, without Gradio: form values in, a judgment out.

:mod:`judges.ui.tab` only wires widgets to these functions, so everything a test wants to call lives
here: the choices of the selectors (from the task registry and the catalog), building a task and
options from raw form values, resolving the chosen judge and its key, and running the judgment.
Showing the result is :mod:`judges.ui.display`'s. Nothing here imports gradio, torch or
transformers at import time.
"""

from __future__ import annotations

import importlib.util
import math
import os
import shutil
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from judges.backends.catalog import JudgeSpec, build_backend, custom_spec, get_spec, judge_names
from judges.endpoints import check_custom_endpoint, on_public_space
from judges.errors import BadInput, ImageError
from judges.images import load_image
from judges.judge import Judge, JudgeOptions
from judges.prompts import SETTINGS, PromptSetting, check_images, get_setting
from judges.settings import Settings
from judges.tasks import TASKS, Procedure, get_task, task_inputs, task_label
from judges.types import ImagePart, JudgeResult, Sampling, Task
from judges.ui import inputs as task_fields
from judges.ui.views import (
    Reconciled,
    RecordingBackend,
    ViewRecord,
    prompt_text,
    reconciled_distribution,
    recorded_views,
)
from judges.verdicts import LETTERS

#: The judge-dropdown value for "bring your own OpenAI-compatible server".
CUSTOM_JUDGE = "Custom OpenAI-compatible endpoint"
#: Most response boxes the form has (batch mode's limit).
MAX_RESPONSES = max(kind.max_responses for kind in TASKS.values())
#: The judge a form without one falls back to when the Space holds none of the API keys.
DEFAULT_JUDGE = judge_names("api")[0]
#: The task the form opens on.
DEFAULT_TASK = "pair"
#: Bounds of the numeric options (the sliders use the same ones; the API is checked against them).
TEMPERATURE_RANGE = (0.0, 1.5)
MAX_SHUFFLES = 5
MAX_SAMPLES = 5


# --------------------------------------------------------------------------- form choices


def mode_choices() -> list[tuple[str, str]]:
    """(label, value) pairs for the mode selector, from the mode registry."""
    return [(task_label(name), name) for name in TASKS]


@dataclass(frozen=True)
class OptionsShown:
    """Which task-dependent controls the form shows for a task."""

    count: bool
    swap: bool
    shuffles: bool


def options_shown(mode: str) -> OptionsShown:
    """The controls that apply to ``mode``: the response count, position swap, order shuffles."""
    kind = get_task(mode)
    return OptionsShown(
        count=kind.min_responses != kind.max_responses,
        swap=kind.reorder == "swap",
        shuffles=kind.reorder == "shuffle",
    )


#: The image and instruction boxes' wording for tasks that judge responses about an image.
IMAGE_LABEL = "Image"
MORE_IMAGES_LABEL = "More images (when the instruction refers to several)"
INSTRUCTION_LABEL = "Instruction"
INSTRUCTION_PLACEHOLDER = "What the answering model was asked about the image"


@dataclass(frozen=True)
class InputBoxes:
    """What the image and instruction boxes say for a task, and whether "More images" opens.

    Attributes:
        image: The main image box's label.
        more_images: The "More images" accordion's label.
        more_open: Whether that accordion opens (a task that needs its images opens it).
        instruction: The instruction box's label.
        placeholder: The instruction box's placeholder.
    """

    image: str
    more_images: str
    more_open: bool
    instruction: str
    placeholder: str


def input_boxes(mode: str) -> InputBoxes:
    """The wording of the image and instruction boxes for ``mode``.

    A task that takes no text responses and a fixed number of images (``images_required``, as the
    image-pair task declares) compares those images: the main box holds the first, "More images"
    the others, and the instruction is the prompt they were generated from.
    """
    kind = get_task(mode)
    required = kind.images_required
    if kind.max_responses or not isinstance(required, int) or required < 2:
        return InputBoxes(
            IMAGE_LABEL,
            MORE_IMAGES_LABEL,
            False,
            kind.instruction_label or INSTRUCTION_LABEL,
            kind.instruction_placeholder or INSTRUCTION_PLACEHOLDER,
        )
    rest = "Image B" if required == 2 else f"Images B to {LETTERS[required - 1]}, in this order"
    return InputBoxes(
        image="Image A",
        more_images=f"{rest}: {kind.title} mode compares {required} images, so upload the rest here",
        more_open=True,
        instruction="Text-to-image prompt",
        placeholder="The prompt the images were generated from",
    )


def judge_choices() -> list[tuple[str, str]]:
    """(label, value) pairs for the judge dropdown: API judges, local judges, then the custom endpoint."""
    api = [(f"{name} · API", name) for name in judge_names("api")]
    local = [(f"{name} · GPU", name) for name in judge_names("local")]
    return [*api, *local, (CUSTOM_JUDGE, CUSTOM_JUDGE)]


def is_local_judge(name: str) -> bool:
    """Whether ``name`` is a catalog judge that runs on this machine (needs no key, wants a GPU)."""
    return name != CUSTOM_JUDGE and name in judge_names("local")


def setting_choices() -> list[tuple[str, str]]:
    """(label, value) pairs for the prompt-setting dropdown."""
    return [(s.label, s.name) for s in SETTINGS.values()]


def response_count(mode: str, requested: float | None = None) -> int:
    """How many response boxes a mode shows.

    Args:
        mode: score, pair or batch.
        requested: Batch mode's slider value; ignored by the fixed-size modes.
    """
    spec = get_task(mode)
    if spec.min_responses == spec.max_responses:
        return spec.min_responses
    wanted = spec.min_responses if requested is None else int(requested)
    return max(spec.min_responses, min(spec.max_responses, wanted))


def response_label(mode: str, index: int) -> str:
    """The label of response box ``index`` (0-based) in ``mode``."""
    return "Response" if get_task(mode).max_responses == 1 else f"Response {LETTERS[index]}"


# --------------------------------------------------------------------------- form -> judgment


@dataclass(frozen=True)
class JudgeForm:
    """The Judge tab's values, in the order of the ``/judge`` API.

    Attributes:
        image: Path (or PIL image / bytes) of the uploaded image, None when there is none.
        mode: score, pair or batch.
        instruction: What the answering model was asked.
        responses: The response boxes (all of them; only the first ``response_count`` are used).
        response_count: Number of responses in batch mode (score uses 1, pair 2); None: as many as
            the boxes hold, up to the last filled one.
        judge: A catalog name or :data:`CUSTOM_JUDGE`; "" for the Space's default
            (:func:`default_judge`).
        base_url: Custom endpoint's base URL.
        model: Custom endpoint's model name.
        api_key: Key typed by the user; used for this request only.
        setting: Prompt setting name.
        image_description: Caption for the vision-expert setting.
        criteria: Extra criteria from the user.
        temperature: Sampling temperature.
        swap: Pair mode: judge both orders.
        shuffles: Batch mode: extra shuffled orders.
        samples: Samples per order (majority vote).
        logprobs: Custom endpoint: ask for token log-probabilities (verdict probabilities).
        more_images: Further images the instruction refers to, sent after ``image``.
        task_inputs: The selected task's extra inputs by name (see :mod:`judges.ui.inputs`); the
            API takes each as ``input_<name>``.
    """

    image: Any
    mode: str
    instruction: str
    responses: tuple[str, ...]
    response_count: int | None = None
    judge: str = ""
    base_url: str = ""
    model: str = ""
    api_key: str = ""
    setting: str = "no-cot"
    image_description: str = ""
    criteria: str = ""
    temperature: float = 0.4
    swap: bool = False
    shuffles: int = 0
    samples: int = 1
    logprobs: bool = False
    more_images: tuple[Any, ...] = ()
    task_inputs: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        # The key must never reach a log line through a repr.
        return f"JudgeForm(mode={self.mode!r}, judge={self.judge!r}, setting={self.setting!r})"

    @classmethod
    def from_inputs(cls, values: Sequence[Any]) -> JudgeForm:
        """Build a form from the ``/judge`` inputs in API order (see :data:`INPUT_FIELDS`).

        Missing trailing values and ``None`` take the field defaults, so an API caller may stop
        after the fields it cares about. The tab's events skip Gradio's own preprocessing, so every
        value is checked here, in the words of the form (an upload arrives as Gradio's file dict).

        Raises:
            BadInput: More values than the API has inputs, or a value of the wrong kind or out of
                range; the message names the field and what it takes.
        """
        if len(values) > len(INPUT_FIELDS):
            raise BadInput(f"/judge takes at most {len(INPUT_FIELDS)} inputs, got {len(values)}.")
        named = {k: v for k, v in zip(INPUT_FIELDS, values, strict=False) if v is not None}
        responses = tuple(_text("response", named.pop(f"response_{i + 1}", "")) for i in range(MAX_RESPONSES))
        specs = task_inputs()
        extra = {
            name: task_fields.cast(specs[name], named.pop(task_fields.PREFIX + name))
            for name in specs
            if task_fields.PREFIX + name in named
        }
        casts = {k: _CASTS.get(k, _as_text)(k, v) for k, v in named.items()}
        defaults = {"mode": DEFAULT_TASK, "instruction": "", "image": None}
        return cls(responses=responses, task_inputs=extra, **{**defaults, **casts})

    @property
    def prompt_setting(self) -> PromptSetting:
        """The chosen prompt setting, resolved once here at the edge.

        Raises:
            ConfigError: An unknown setting name.
        """
        return get_setting(self.setting or "no-cot")

    @property
    def judged_responses(self) -> list[str]:
        """The responses the mode judges (see :func:`select_responses`)."""
        return select_responses(self.mode, self.responses, self.response_count)


def _text(name: str, value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise BadInput(f"{name} must be text, got {type(value).__name__}.")
    return value


def _as_text(name: str, value: Any) -> Any:
    return _text(name, value)


def _as_mode(name: str, value: Any) -> str:
    if not isinstance(value, str) or value not in TASKS:
        raise BadInput(f"mode {value!r} is not a mode of this Space: pass one of {', '.join(TASKS)}.")
    return value


def _as_setting(name: str, value: Any) -> str:
    if not isinstance(value, str) or value not in SETTINGS:
        raise BadInput(f"setting {value!r} is not a prompt setting: pass one of {', '.join(SETTINGS)}.")
    return value


def _number(name: str, value: Any, low: float, high: float, *, whole: bool) -> float:
    kind = "a whole number" if whole else "a number"
    try:
        number = float(value) if not isinstance(value, bool) else float("nan")
    except (TypeError, ValueError):
        number = float("nan")
    if not math.isfinite(number) or (whole and not number.is_integer()):
        raise BadInput(f"{name} must be {kind} from {low:g} to {high:g}, got {value!r}.")
    if not low <= number <= high:
        raise BadInput(f"{name} must be {kind} from {low:g} to {high:g}, got {value!r}. Pass a value in that range.")
    return number


def _as_count(name: str, value: Any) -> int:
    low = min(kind.min_responses for kind in TASKS.values() if kind.min_responses != kind.max_responses)
    return int(_number(name, value, low, MAX_RESPONSES, whole=True))


def _as_bool(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise BadInput(f"{name} must be true or false, got {value!r}.")


def _upload(name: str, value: Any) -> Any:
    """An upload as a path: Gradio's file dict (``{"path": ...}``), a path, PIL image or bytes."""
    if isinstance(value, dict):
        path = value.get("path")
        if not isinstance(path, str) or not path:
            raise BadInput(f"{name} has no file in it: upload the image again.")
        return path
    return value


def _as_images(name: str, value: Any) -> tuple[Any, ...]:
    items = value if isinstance(value, (list, tuple)) else (value,)
    return tuple(_upload(name, item) for item in items if item is not None)


_CASTS: dict[str, Callable[[str, Any], Any]] = {
    "image": _upload,
    "mode": _as_mode,
    "setting": _as_setting,
    "response_count": _as_count,
    "temperature": lambda n, v: _number(n, v, *TEMPERATURE_RANGE, whole=False),
    "swap": _as_bool,
    "shuffles": lambda n, v: int(_number(n, v, 0, MAX_SHUFFLES, whole=True)),
    "samples": lambda n, v: int(_number(n, v, 1, MAX_SAMPLES, whole=True)),
    "logprobs": _as_bool,
    "more_images": _as_images,
}


def input_defaults() -> dict[str, Any]:
    """Defaults of the optional ``/judge`` inputs (the first four inputs are required)."""
    from dataclasses import MISSING, fields

    defaults: dict[str, Any] = {f"response_{i + 1}": "" for i in range(1, MAX_RESPONSES)}
    defaults.update({f.name: f.default for f in fields(JudgeForm) if f.default is not MISSING})
    defaults.update({task_fields.PREFIX + name: spec.default for name, spec in task_inputs().items()})
    return {name: defaults[name] for name in INPUT_FIELDS if name in defaults}


#: The ``/judge`` API's inputs, in order: what :meth:`JudgeForm.from_inputs` reads.
INPUT_FIELDS: tuple[str, ...] = (
    "image",
    "mode",
    "instruction",
    *(f"response_{i + 1}" for i in range(MAX_RESPONSES)),
    "response_count",
    "judge",
    "base_url",
    "model",
    "api_key",
    "setting",
    "image_description",
    "criteria",
    "temperature",
    "swap",
    "shuffles",
    "samples",
    "logprobs",
    "more_images",
    *task_fields.field_names(),
)


def select_responses(mode: str, responses: Sequence[str | None], count: float | None) -> list[str]:
    """The responses a mode judges: the first one, the first two, or the first ``count`` (batch).

    Without a count, batch mode takes the boxes up to the last filled one, so an API caller need not
    count; an explicit count must match them.

    Raises:
        BadInput: Batch mode asked for a count outside the mode's range, or for a count that
            disagrees with the responses given (the message names both numbers).
    """
    spec = get_task(mode)
    texts = [r or "" for r in responses]
    if spec.min_responses == spec.max_responses:
        return texts[: spec.min_responses]
    filled = max((i + 1 for i, text in enumerate(texts) if text.strip()), default=0)
    wanted = max(filled, spec.min_responses) if count is None else int(count)
    if not spec.min_responses <= wanted <= min(spec.max_responses, len(texts)):
        raise BadInput(f"{spec.title} mode takes {spec.min_responses} to {spec.max_responses} responses, got {wanted}.")
    if count is not None and filled not in (0, wanted):
        given = "1 response is" if filled == 1 else f"{filled} responses are"
        raise BadInput(
            f"The number of responses is {wanted}, but {given} filled in (the last is Response "
            f"{LETTERS[filled - 1]}). Set the number to {filled}, or fill in or clear responses to match."
        )
    return texts[:wanted]


def build_task(form: JudgeForm) -> Task:
    """Validate the form and build the mode's task.

    Raises:
        BadInput: Missing image (for a setting that shows it), empty instruction or response,
            wrong response count, or an unusable image.
    """
    kind = get_task(form.mode)
    images = [_checked(form.image, "Image")] if form.image is not None else []
    images += [_checked(image, f"More images, file {i + 1}") for i, image in enumerate(form.more_images)]
    if not isinstance(kind, Procedure):
        # A structured task decides itself which images it needs (a process problem may have none).
        check_images(form.prompt_setting, len(images))
    responses = select_responses(form.mode, form.responses, form.response_count)
    description = (form.image_description or "").strip() or None
    extra = task_fields.extra_for(form.mode, form.task_inputs, public=on_public_space(os.environ))
    return kind.make_task(form.instruction or "", responses, images, description, extra)


def _checked(image: Any, box: str) -> ImagePart:
    """An upload validated by :func:`judges.images.load_image` (header first), its box named in any error."""
    try:
        return load_image(image)
    except ImageError as exc:
        raise ImageError(f"{box}: {exc}") from None


def build_options(form: JudgeForm) -> JudgeOptions:
    """Judge options from the form; options that do not apply to the mode are dropped, not errors."""
    reorder = get_task(form.mode).reorder
    return JudgeOptions(
        setting=form.prompt_setting,
        criteria=(form.criteria or "").strip() or None,
        sampling=Sampling(temperature=float(form.temperature)),
        swap=bool(form.swap) and reorder == "swap",
        shuffles=int(form.shuffles or 0) if reorder == "shuffle" else 0,
        samples=max(1, int(form.samples or 1)),
    )


def default_judge(settings: Settings) -> str:
    """The judge a first visit opens on: the first API judge whose key this Space holds, else the custom endpoint.

    A judge the Space cannot run would fail the very first click, so a Space without any of the
    keys opens on the endpoint form instead.
    """
    for name in judge_names("api"):
        if settings.key_for(get_spec(name).api_key_env):
            return name
    return CUSTOM_JUDGE


def key_label(name: str, settings: Settings) -> str:
    """The key box's label: which key the chosen judge needs, and whether the Space already holds it."""
    if name == CUSTOM_JUDGE:
        return "API key of your endpoint (if it asks for one)"
    spec = get_spec(name)
    if spec.api_key_env is None:
        return "API key (this judge needs none)"
    if settings.key_for(spec.api_key_env):
        return f"{spec.api_key_env} (optional: this Space has one)"
    return f"{spec.api_key_env} (required: this Space has none, paste yours)"


def resolve_judge(name: str, base_url: str = "", model: str = "", *, logprobs: bool = False) -> JudgeSpec:
    """The catalog entry for ``name``, or a custom-endpoint spec.

    Args:
        name: A catalog name or :data:`CUSTOM_JUDGE` ("" means :data:`DEFAULT_JUDGE`; the tab
            resolves "" with :func:`default_judge` first).
        base_url: The custom endpoint's base URL.
        model: The custom endpoint's model name.
        logprobs: Whether the custom endpoint returns token log-probabilities.

    Raises:
        ConfigError: Unknown name, or a custom endpoint without a model or a valid URL, or one a
            public Space must not call (see :mod:`judges.endpoints`).
    """
    if name == CUSTOM_JUDGE:
        spec = custom_spec(model or "", base_url or "", logprobs=logprobs)
        check_custom_endpoint(spec.base_url or "", public=on_public_space(os.environ))
        return spec
    return get_spec(name or DEFAULT_JUDGE)


def request_key(typed: str | None) -> str | None:
    """The API key typed for this one request, or None to use the judge's own source.

    A built-in judge without a typed key uses its Space secret; a custom endpoint is built with no
    key variable (:func:`judges.backends.catalog.custom_spec`), so it never receives a secret.
    """
    return (typed or "").strip() or None


BackendFactory = Callable[..., Any]
#: Called with a stage's description and the fraction done (the tab's progress bar).
StageCallback = Callable[[str, float], None]


@dataclass(frozen=True)
class Judgment:
    """A judgment with everything the tab shows beyond the result.

    Attributes:
        result: The judge's result.
        responses: The judged responses, in the original order.
        views: One record per order and sample (see :mod:`judges.ui.views`).
        reconciled: The views' distributions combined in the original letters, or None.
        prompt: The first request's rendered prompt, images as placeholders.
    """

    result: JudgeResult
    responses: tuple[str, ...]
    views: tuple[ViewRecord, ...]
    reconciled: Reconciled | None
    prompt: str


def _no_stage(description: str, done: float) -> None:
    return None


def judge_form(
    form: JudgeForm,
    settings: Settings,
    *,
    factory: BackendFactory = build_backend,
    on_stage: StageCallback = _no_stage,
) -> Judgment:
    """Judge one form and keep every request it made: validate, build the backend, judge, release.

    Args:
        form: The form values.
        settings: Supplies Space secrets for built-in judges and timeouts.
        factory: Backend builder, ``build_backend`` unless a test swaps it.
        on_stage: Told each stage (checking, loading or connecting, asking) as it starts.

    Raises:
        JudgeError: A subclass whose message says what to fix (bad input, missing key,
            unreachable endpoint ...).
    """
    on_stage("Checking the inputs", 0.02)
    task = build_task(form)
    options = build_options(form)
    spec = resolve_judge(form.judge or default_judge(settings), form.base_url, form.model, logprobs=form.logprobs)
    extra = {"device": "auto"} if spec.kind == "local" else {}
    if spec.kind == "local":
        on_stage(f"Downloading and loading {spec.model} (the first use can take minutes)", 0.1)
    else:
        on_stage(f"Connecting to {spec.name}", 0.1)
    backend = RecordingBackend(factory(spec, settings, api_key=request_key(form.api_key), **extra))
    try:
        judge = Judge(backend, form.mode, options, name=spec.name)  # type: ignore[arg-type]
        views = len(judge_orders(form)) * options.samples
        wait = "" if spec.kind == "local" else f", up to {settings.request_timeout_s:g} s each"
        on_stage(f"Waiting for {spec.name}: {views} request{'s' if views != 1 else ''}{wait}", 0.3)
        result = judge.judge(task)
    finally:
        backend.close()
    kind = get_task(form.mode)
    first = backend.exchanges[0][0].messages if backend.exchanges else ()
    if isinstance(kind, Procedure):
        # A structured task's requests are its own (criteria, checks, probes), not orders of one
        # verdict, so there are no views to rebuild; its result carries its parts in ``details``.
        return Judgment(result, tuple(task.responses), (), None, prompt_text(first))
    records = recorded_views(kind, task, backend.exchanges, judge.template, judge.setting, options.criteria)
    return Judgment(
        result=result,
        responses=tuple(task.responses),
        views=tuple(records),
        reconciled=reconciled_distribution(kind, task, records, result.verdict),
        prompt=prompt_text(first),
    )


def judge_orders(form: JudgeForm) -> list[int]:
    """How many orders the form's options judge (1, 2 with a swap, 1 + shuffles)."""
    options = build_options(form)
    return list(range(1 + int(options.swap) + options.shuffles))


def run_judgment(form: JudgeForm, settings: Settings, *, factory: BackendFactory = build_backend) -> JudgeResult:
    """Judge one form and return the result only (see :func:`judge_form`).

    Raises:
        JudgeError: A subclass whose message says what to fix.
    """
    return judge_form(form, settings, factory=factory).result


# --------------------------------------------------------------------------- judge notes


def gpu_available() -> bool:
    """Whether a CUDA GPU can be used, importing torch only when a GPU is plausibly there.

    ZeroGPU Spaces attach a GPU per call, so they count as having one. Elsewhere, a machine without
    the NVIDIA driver has no GPU, and torch (slow to import, ~0.5 GB) is not loaded to find out.
    """
    if os.environ.get("SPACES_ZERO_GPU"):
        return True
    if "torch" not in sys.modules and not (Path("/proc/driver/nvidia").exists() or shutil.which("nvidia-smi")):
        return False
    if importlib.util.find_spec("torch") is None:
        return False
    import torch

    return bool(torch.cuda.is_available())


def judge_note(name: str, settings: Settings, *, gpu: Callable[[], bool] = gpu_available) -> str:
    """One Markdown paragraph about the chosen judge: what it needs and whether this Space has it."""
    if name == CUSTOM_JUDGE:
        return (
            "Any server speaking OpenAI's chat-completions protocol (vLLM, Ollama, a provider router). "
            "Give its base URL and model name. Your key is sent with this request only; it is never "
            "stored or logged."
        )
    spec = get_spec(name)
    parts = [f"**{spec.name}** · `{spec.model}`"]
    if spec.notes:
        parts.append(spec.notes)
    if spec.kind == "local":
        if not gpu():
            parts.append(
                "⚠️ No GPU on this machine: the model would run on the CPU, taking minutes per judgment "
                "after a long first load. Use an API judge, or duplicate the Space on GPU hardware."
            )
        if "torchvision" in spec.notes.lower() and importlib.util.find_spec("torchvision") is None:
            parts.append("⚠️ torchvision is not installed here, so this judge cannot load.")
    elif settings.key_for(spec.api_key_env):
        parts.append(f"Uses this Space's `{spec.api_key_env}` secret unless you paste your own key.")
    else:
        parts.append(f"This Space has no `{spec.api_key_env}` secret: paste your own key to use this judge.")
    return " ".join(parts)
