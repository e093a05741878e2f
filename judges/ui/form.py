"""What the Judge tab's form does, without Gradio: form values in, a judgment out.

:mod:`judges.ui.tab` only wires widgets to these functions, so everything a test wants to call lives
here: the choices of the selectors (from the task registry and the catalog), building a task and
options from raw form values, resolving the chosen judge and its key, and running the judgment.
Showing the result is :mod:`judges.ui.display`'s. Nothing here imports gradio, torch or
transformers at import time.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from judges.backends.catalog import JudgeSpec, build_backend, custom_spec, get_spec, judge_names
from judges.endpoints import check_custom_endpoint, on_public_space
from judges.errors import BadInput
from judges.judge import Judge, JudgeOptions
from judges.prompts import SETTINGS, PromptSetting, check_images, get_setting
from judges.settings import Settings
from judges.tasks import TASKS, get_task, task_label
from judges.types import JudgeResult, Sampling, Task
from judges.verdicts import LETTERS

#: The judge-dropdown value for "bring your own OpenAI-compatible server".
CUSTOM_JUDGE = "Custom OpenAI-compatible endpoint"
#: Most response boxes the form has (batch mode's limit).
MAX_RESPONSES = max(kind.max_responses for kind in TASKS.values())
DEFAULT_JUDGE = judge_names("api")[0]
#: The task the form opens on.
DEFAULT_TASK = "pair"


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
        response_count: Number of responses in batch mode (score uses 1, pair 2).
        judge: A catalog name or :data:`CUSTOM_JUDGE`.
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
    """

    image: Any
    mode: str
    instruction: str
    responses: tuple[str, ...]
    response_count: int = 2
    judge: str = DEFAULT_JUDGE
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

    def __repr__(self) -> str:
        # The key must never reach a log line through a repr.
        return f"JudgeForm(mode={self.mode!r}, judge={self.judge!r}, setting={self.setting!r})"

    @classmethod
    def from_inputs(cls, values: Sequence[Any]) -> JudgeForm:
        """Build a form from the ``/judge`` inputs in API order (see :data:`INPUT_FIELDS`).

        Missing trailing values and ``None`` take the field defaults, so an API caller may stop
        after the fields it cares about.

        Raises:
            BadInput: More values than the API has inputs.
        """
        if len(values) > len(INPUT_FIELDS):
            raise BadInput(f"/judge takes at most {len(INPUT_FIELDS)} inputs, got {len(values)}.")
        named = {k: v for k, v in zip(INPUT_FIELDS, values, strict=False) if v is not None}
        responses = tuple(named.pop(f"response_{i + 1}", "") or "" for i in range(MAX_RESPONSES))
        casts: dict[str, Callable[[Any], Any]] = {"response_count": int, "temperature": float, "swap": bool, "shuffles": int, "samples": int,
                 "logprobs": bool, "more_images": _as_tuple}  # fmt: skip
        fields = {k: casts.get(k, lambda v: v)(v) for k, v in named.items()}
        return cls(responses=responses, **{"mode": DEFAULT_TASK, "instruction": "", "image": None, **fields})

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


def _as_tuple(value: Any) -> tuple[Any, ...]:
    return tuple(value) if isinstance(value, (list, tuple)) else (value,)


def input_defaults() -> dict[str, Any]:
    """Defaults of the optional ``/judge`` inputs (the first four inputs are required)."""
    from dataclasses import MISSING, fields

    defaults = {f"response_{i + 1}": "" for i in range(1, MAX_RESPONSES)}
    defaults.update({f.name: f.default for f in fields(JudgeForm) if f.default is not MISSING})
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
)


def select_responses(mode: str, responses: Sequence[str | None], count: float | None) -> list[str]:
    """The responses a mode judges: the first one, the first two, or the first ``count`` (batch).

    Raises:
        BadInput: Batch mode asked for a count outside the mode's range.
    """
    spec = get_task(mode)
    texts = [r or "" for r in responses]
    if spec.min_responses == spec.max_responses:
        return texts[: spec.min_responses]
    wanted = spec.min_responses if count is None else int(count)
    if not spec.min_responses <= wanted <= min(spec.max_responses, len(texts)):
        raise BadInput(f"{spec.title} mode takes {spec.min_responses} to {spec.max_responses} responses, got {wanted}.")
    return texts[:wanted]


def build_task(form: JudgeForm) -> Task:
    """Validate the form and build the mode's task.

    Raises:
        BadInput: Missing image (for a setting that shows it), empty instruction or response,
            wrong response count, or an unusable image.
    """
    kind = get_task(form.mode)
    images = [image for image in (form.image, *form.more_images) if image is not None]
    check_images(form.prompt_setting, len(images))
    responses = select_responses(form.mode, form.responses, form.response_count)
    description = (form.image_description or "").strip() or None
    return kind.make_task(form.instruction or "", responses, images, description)


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


def resolve_judge(name: str, base_url: str = "", model: str = "", *, logprobs: bool = False) -> JudgeSpec:
    """The catalog entry for ``name``, or a custom-endpoint spec.

    Args:
        name: A catalog name or :data:`CUSTOM_JUDGE`.
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


def run_judgment(form: JudgeForm, settings: Settings, *, factory: BackendFactory = build_backend) -> JudgeResult:
    """Judge one form: validate, build the backend for this request only, judge, release.

    Args:
        form: The form values.
        settings: Supplies Space secrets for built-in judges and timeouts.
        factory: Backend builder, ``build_backend`` unless a test swaps it.

    Raises:
        JudgeError: A subclass whose message says what to fix (bad input, missing key,
            unreachable endpoint ...).
    """
    task = build_task(form)
    options = build_options(form)
    spec = resolve_judge(form.judge, form.base_url, form.model, logprobs=form.logprobs)
    extra = {"device": "auto"} if spec.kind == "local" else {}
    backend = factory(spec, settings, api_key=request_key(form.api_key), **extra)
    try:
        return Judge(backend, form.mode, options, name=spec.name).judge(task)
    finally:
        backend.close()


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
