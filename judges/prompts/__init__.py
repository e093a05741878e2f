"""Prompt templates (data files beside this module) and the paper's prompt settings.

A template is a TOML file: shared wording, the evaluation steps per setting, and per mode the
evaluation method and the verdict format. :func:`render_prompt` fills it for one task. Templates are
read on first use and cached; nothing is read at import time.
"""

from __future__ import annotations

import functools
import re
import string
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources

from judges.errors import BadInput, ConfigError

DEFAULT_TEMPLATE = "mllm-judge"


@dataclass(frozen=True)
class PromptSetting:
    """One of the paper's prompt settings.

    Attributes:
        name: The id used on the command line and stored in runs.
        label: What the UI shows.
        steps: Which evaluation steps (and JSON keys) the judge follows.
        sees_image: Whether the image is sent; False for text-only judges.
        uses_description: Whether a written image description replaces the image.
    """

    name: str
    label: str
    steps: str
    sees_image: bool = True
    uses_description: bool = False


SETTINGS: dict[str, PromptSetting] = {
    s.name: s
    for s in (
        PromptSetting("no-cot", "Analyze, then judge (default)", "no-cot"),
        PromptSetting("cot-figure", "Describe the figure first", "cot-figure"),
        PromptSetting("answer-first", "Judge answers the instruction first", "answer-first"),
        PromptSetting("cot-figure-answer-first", "Describe the figure, answer, then judge", "cot-figure-answer-first"),
        PromptSetting("no-figure", "No figure (text-only judge)", "no-cot", sees_image=False),
        PromptSetting(
            "vision-expert",
            "Vision expert (text-only judge + image description)",
            "no-cot",
            sees_image=False,
            uses_description=True,
        ),
    )
}


def get_setting(name: str) -> PromptSetting:
    """Look up a prompt setting by name.

    Raises:
        ConfigError: The name is unknown; the message lists the valid ones.
    """
    try:
        return SETTINGS[name]
    except KeyError:
        raise ConfigError(f"Unknown setting {name!r}. Choose one of: {', '.join(SETTINGS)}.") from None


def check_images(setting: PromptSetting, count: int) -> None:
    """The one image check: a setting that shows the image needs at least one.

    Raises:
        BadInput: No image for a setting that sends it.
    """
    if setting.sees_image and count == 0:
        raise BadInput(
            "No image: upload the image the instruction is about, or pick the no-figure or vision-expert setting."
        )


@dataclass(frozen=True)
class Template:
    """A parsed template file. ``data`` is the TOML document; see mllm_judge.toml for its keys."""

    name: str
    version: str
    data: dict

    @property
    def id(self) -> str:
        """``name@version``, as stored in runs."""
        return f"{self.name}@{self.version}"


def template_names() -> list[str]:
    """Names of the templates shipped beside this module."""
    files = resources.files(__package__).iterdir()
    return sorted(f.name.removesuffix(".toml").replace("_", "-") for f in files if f.name.endswith(".toml"))


@functools.cache
def load_template(name: str = DEFAULT_TEMPLATE) -> Template:
    """Read a template by name (``mllm-judge`` -> ``mllm_judge.toml``).

    Raises:
        ConfigError: No such template, or the file lacks a required key.
    """
    path = resources.files(__package__) / f"{name.replace('-', '_')}.toml"
    if not path.is_file():
        raise ConfigError(f"Unknown prompt template {name!r}. Available: {', '.join(template_names())}.")
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    missing = {"name", "version", "system", "user", "steps", "keys", "modes"} - data.keys()
    if missing:
        raise ConfigError(f"Template {name!r} lacks {', '.join(sorted(missing))}.")
    return Template(data["name"], data["version"], data)


# --------------------------------------------------------------------------- fencing user text

_FENCE_BREAKERS = re.compile(r"\[(?=The (?:Start|End) of)", re.IGNORECASE)


def fence(text: str) -> str:
    """Neutralise verdict markers and section markers inside user-written text.

    ``[[A]]`` becomes ``[ [A] ]`` and ``[The End of ...`` becomes ``(The End of ...``, so a response
    can neither close its own section nor hand the judge a ready-made verdict to echo.
    """
    text = text.replace("[[", "[ [").replace("]]", "] ]")
    return _FENCE_BREAKERS.sub("(", text)


# --------------------------------------------------------------------------- rendering


@dataclass(frozen=True)
class RenderedPrompt:
    """The system text and the user text of one judgment."""

    system: str
    user: str


def render_prompt(
    template: Template,
    mode: str,
    setting: PromptSetting,
    *,
    instruction: str,
    responses: Sequence[str],
    criteria: str | None = None,
    image_description: str | None = None,
) -> RenderedPrompt:
    """Fill a template for one task.

    Args:
        template: From :func:`load_template`.
        mode: The task's name: its section of the template (``[modes.<name>]``).
        setting: From :func:`get_setting`.
        instruction: The user's instruction (fenced before insertion).
        responses: One (score), two (pair) or 2..8 (batch) answers, lettered A, B, C ...
        criteria: Extra criteria or a rubric from the user, added to the evaluation method.
        image_description: Required by the vision-expert setting.

    Raises:
        BadInput: The vision-expert setting without a description.
        ConfigError: The template has no section for ``mode``.
    """
    data = template.data
    mode_data = data["modes"].get(mode)
    if mode_data is None:
        raise ConfigError(
            f"Prompt template {template.id} has no section for {mode!r}; add [modes.{mode}] to it, or set the "
            "task's prompt_section to a section it has."
        )
    letters = [chr(ord("A") + i) for i in range(len(responses))]
    fill = {
        "count": str(len(responses)),
        "letters": ", ".join(letters),
        "example": ", ".join(f"[[{x}]]" for x in letters[::-1]),
    }
    keys = data["keys"][setting.steps]
    setup_key = "vision-expert" if setting.uses_description else ("figure" if setting.sees_image else "no-figure")
    description = ""
    if setting.uses_description:
        written = (image_description or "").strip()
        if not written:
            raise BadInput("The vision-expert setting needs an image description. Write one, or pick another setting.")
        description = f"[The Start of Image Description]\n{fence(written)}\n[The End of Image Description]\n"
    user = string.Template(data["user"]).substitute(
        setup=data["setup"][setup_key],
        steps=data["steps"][setting.steps],
        method=string.Template(mode_data["method"]).substitute(fill),
        criteria=f"\nAlso apply these criteria from the user:\n{fence(criteria.strip())}\n" if criteria else "",
        keys=", ".join(f'"{k}"' for k in keys),
        key_notes="".join(data.get("key_notes", {}).get(k, "") for k in keys),
        format=string.Template(mode_data["format"]).substitute(fill),
        instruction=fence(instruction.strip()),
        description=description,
        responses=_responses_block(responses),
    )
    return RenderedPrompt(system=data["system"], user=user)


def _responses_block(responses: Sequence[str]) -> str:
    # A single answer is not lettered: the judge rates it, it does not compare it.
    if len(responses) == 1:
        return f"[The Start of Answer]\n{fence(responses[0].strip())}\n[The End of Answer]"
    blocks = []
    for i, text in enumerate(responses):
        letter = chr(ord("A") + i)
        blocks.append(f"[The Start of Answer {letter}]\n{fence(text.strip())}\n[The End of Answer {letter}]")
    return "\n".join(blocks)
