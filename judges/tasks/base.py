"""What a judge task is: its input, its prompt, its verdict shape, its order variations, its display.

A task kind owns its whole vocabulary. Everything outside the task modules (the Judge, the CLI, the
runner, stored runs, the leaderboard, the Judge tab) asks the task kind and never branches on its
name:

* input: :meth:`TaskKind.make_task` validates raw text and images into the task's frozen type;
* prompt: :meth:`TaskKind.render` fills the template's section for this task;
* verdict: :attr:`TaskKind.verdicts` (a :class:`~judges.verdicts.VerdictSpace`) holds the labels,
  the stored form, validity, human-label normalisation, mapping back from a reordered view and the
  majority rule; its ``kind`` tells the leaderboard which agreement metrics apply;
* parsing: :meth:`TaskKind.parse` reads a verdict out of a judge's text;
* order variations: :attr:`TaskKind.reorder` says whether the task supports position swap
  (``swap``), order shuffles (``shuffle``) or neither;
* display: :meth:`TaskKind.verdict_html`, :meth:`TaskKind.details_html` and
  :attr:`TaskKind.probability_axis`;
* extra inputs: :attr:`TaskKind.inputs` declares what a task takes beyond the instruction, responses
  and images (a rubric, checks, steps, a constitution, candidate images ...); the CLI turns each
  :class:`InputSpec` into a flag and the Judge tab into a field, and both hand the values to
  :meth:`TaskKind.make_task` as ``extra``.

Tasks whose verdict is one label go through the Judge's shared path (render, ask, parse, swap or
shuffle, majority). Tasks with a structured verdict (per-criterion scores, checks, steps, rules,
candidate scores) are :class:`Procedure` kinds too: the Judge hands them the whole judgment, and they
return one :class:`~judges.types.JudgeResult` per task with their parts in ``details``.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

from judges.errors import BadInput
from judges.images import ImageSource, load_image
from judges.parsing import parse_with
from judges.prompts import PromptSetting, Template, render_prompt
from judges.types import ImagePart, Message, ParseResult, Task, TextPart, text_problem
from judges.verdicts import LETTERS, Verdict, VerdictSpace

if TYPE_CHECKING:
    from judges.errors import JudgeError
    from judges.judge import Judge
    from judges.types import JudgeResult

#: What kind of value an extra input holds; the CLI and the Judge tab pick their widget from it.
InputKind = Literal["text", "texts", "file", "files", "choice", "int", "float", "flag"]


@dataclass(frozen=True)
class InputSpec:
    """One input a task takes beyond the instruction, the responses and the images.

    Attributes:
        name: The key in ``make_task``'s ``extra`` (and the CLI's ``--<name with dashes>`` flag).
        label: What the Judge tab shows.
        help: One line for ``--help`` and the field's info text.
        kind: ``text`` (one string), ``texts`` (repeatable flag; one per line in the UI), ``file``
            / ``files`` (paths), ``choice`` (one of ``choices``), ``int``, ``float`` or ``flag``.
        choices: The values of a ``choice`` input (its first is the default unless ``default`` is set).
        default: The value when not given (None: not given).
        public: Whether a visitor of a public Space may use it (rendering code locally may not).
    """

    name: str
    label: str
    help: str
    kind: InputKind = "text"
    choices: tuple[str, ...] = ()
    default: Any = None
    public: bool = True

    @property
    def flag(self) -> str:
        """The command-line flag: ``--mask-center`` for ``mask_center``."""
        return "--" + self.name.replace("_", "-")


@runtime_checkable
class Procedure(Protocol):
    """A task kind that runs its own judgment (several requests with a structured verdict).

    The Judge checks the options and the task, then calls :meth:`run`; everything else (which
    requests, in which order, how to read and combine them) is the task's.
    """

    def run(self, judge: Judge, tasks: Sequence[Any]) -> list[JudgeResult | JudgeError]:
        """Judge ``tasks`` with ``judge`` (its backend, options, setting and template).

        Returns:
            One slot per task: a JudgeResult (parsed or unscored, with ``details``), or the
            JudgeError that prevented any answer.
        """
        ...


#: Longest value the CLI's human output prints for one entry of a result's details.
DETAILS_LINE_CHARS = 160

#: How a task varies the order its responses are shown in, to measure and cancel position bias.
Reorder = Literal["none", "swap", "shuffle"]


class TaskKind(Protocol):
    """A judge task kind. The registry (:mod:`judges.tasks`) lists them; nothing branches on names.

    Attributes:
        name: The id used on the command line, in stored runs (``mode``) and in the API.
        title: What the UI shows.
        hint: A few words for the task selector ("rate one response 1-5").
        min_responses: Fewest responses a task takes.
        max_responses: Most responses a task takes.
        verdicts: The verdict shape.
        reorder: ``swap`` (both orders of two responses), ``shuffle`` (random orders) or ``none``.
        forward_verdict: Whether the verdict is one token, so a local judge can read it in one
            forward pass instead of generating.
        probability_axis: The axis title of the verdict-probability plot.
        prompt_section: The template section (``[modes.<section>]``) its prompt comes from; tasks
            that differ only in their verdict shape can share one.
        images_required: How many images a task must have (0: as the prompt setting asks; the
            image-pair task compares exactly two).
        inputs: Extra inputs beyond the instruction, responses and images (see :class:`InputSpec`).
        instruction_label: What the Judge tab calls the instruction box for this task ('' for the
            default, "Instruction").
        instruction_placeholder: The instruction box's placeholder ('' for the default).
    """

    @property
    def name(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def hint(self) -> str: ...
    @property
    def min_responses(self) -> int: ...
    @property
    def max_responses(self) -> int: ...
    @property
    def verdicts(self) -> VerdictSpace: ...
    @property
    def reorder(self) -> Reorder: ...
    @property
    def forward_verdict(self) -> bool: ...
    @property
    def probability_axis(self) -> str: ...
    @property
    def prompt_section(self) -> str: ...
    @property
    def images_required(self) -> int: ...
    @property
    def inputs(self) -> tuple[InputSpec, ...]: ...
    @property
    def instruction_label(self) -> str: ...
    @property
    def instruction_placeholder(self) -> str: ...

    def make_task(
        self,
        instruction: str,
        responses: Sequence[str],
        images: Sequence[ImageSource] = (),
        image_description: str | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> Task:
        """Validate raw input (``extra``: values of :attr:`inputs` by name) and build the task's type.

        Raises:
            BadInput: With a message saying what to fix.
        """
        ...

    def render(
        self, task: Task, template: Template, setting: PromptSetting, criteria: str | None = None
    ) -> tuple[Message, ...]:
        """The system and user messages for one judgment."""
        ...

    def parse(self, text: str, task: Task) -> ParseResult:
        """Read the verdict for ``task`` out of a judge's text."""
        ...

    def labels(self, task: Task) -> tuple[str, ...]:
        """The tokens a judge writes for its verdict (the first letter of a ranking)."""
        ...

    def reordered(self, task: Task, order: tuple[int, ...]) -> Task:
        """The task with its responses shown in ``order`` (position i shows response order[i])."""
        ...

    def verdict_html(self, verdict: Verdict, responses: Sequence[str]) -> str:
        """A parsed verdict as a small HTML block (classes ``verdict*`` of assets/app.css)."""
        ...

    def details_html(self, details: Mapping[str, Any]) -> str:
        """A result's ``details`` as HTML (a table of criteria, checks, steps ...); '' for none."""
        ...

    def details_lines(self, details: Mapping[str, Any]) -> list[str]:
        """A result's ``details`` as lines for the CLI's human output."""
        ...


@dataclass(frozen=True)
class BaseTask:
    """Behaviour shared by the response-judging tasks; each subclass sets its vocabulary."""

    name: str
    title: str
    hint: str
    min_responses: int
    max_responses: int
    verdicts: VerdictSpace
    reorder: Reorder = "none"
    forward_verdict: bool = True
    probability_axis: str = "Verdict"
    prompt_section: str = ""
    images_required: int = 0
    inputs: tuple[InputSpec, ...] = ()
    instruction_label: str = ""
    instruction_placeholder: str = ""

    def _validate(self, instruction: str, responses: Sequence[str]) -> tuple[str, tuple[str, ...]]:
        if not isinstance(instruction, str) or not instruction.strip():
            raise BadInput("The instruction is empty. Write what the answering model was asked.")
        texts = tuple(r if isinstance(r, str) else "" for r in responses)
        if not self.min_responses <= len(texts) <= self.max_responses:
            noun = "response" if self.max_responses == 1 else "responses"
            raise BadInput(f"{self.title} mode takes {self.response_range()} {noun}, got {len(texts)}.")
        problem = text_problem("The instruction", instruction)
        if problem:
            raise BadInput(problem + ".")
        for i, text in enumerate(texts):
            which = "The response" if len(texts) == 1 else f"Response {LETTERS[i]}"
            if not text.strip():
                raise BadInput(f"{which} is empty. Paste the answer to judge, or remove the box.")
            problem = text_problem(which, text)
            if problem:
                raise BadInput(problem + ".")
        return instruction, texts

    def response_range(self) -> str:
        """``2`` or ``2 to 8``: how many responses the task takes, in words."""
        if self.min_responses == self.max_responses:
            return str(self.min_responses)
        return f"{self.min_responses} to {self.max_responses}"

    def make_task(
        self,
        instruction: str,
        responses: Sequence[str],
        images: Sequence[ImageSource] = (),
        image_description: str | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> Task:
        """Validate raw input and build the task's type (these tasks take no ``extra`` inputs).

        Raises:
            BadInput: Empty instruction or response, a response count the task does not take, or
                an image that cannot be used.
        """
        instruction, texts = self._validate(instruction, responses)
        unknown_inputs(self, extra)
        if image_description is not None:
            problem = text_problem("The image description", image_description)
            if problem:
                raise BadInput(problem + ".")
        parts = tuple(load_image(image) for image in images if image is not None)
        return self._build(instruction, texts, parts, image_description)

    def _build(
        self, instruction: str, responses: tuple[str, ...], images: tuple[ImagePart, ...], description: str | None
    ) -> Task:
        raise NotImplementedError

    def render(
        self, task: Task, template: Template, setting: PromptSetting, criteria: str | None = None
    ) -> tuple[Message, ...]:
        prompt = render_prompt(
            template,
            self.prompt_section or self.name,
            setting,
            instruction=task.instruction,
            responses=task.responses,
            criteria=criteria,
            image_description=task.image_description,
        )
        images = task.images if setting.sees_image else ()
        return (
            Message("system", (TextPart(prompt.system),)),
            Message("user", (*images, TextPart(prompt.user))),
        )

    def parse(self, text: str, task: Task) -> ParseResult:
        return parse_with(
            self.verdicts,
            text,
            n_responses=len(task.responses),
            guard_texts=(task.instruction, *task.responses),
        )

    def labels(self, task: Task) -> tuple[str, ...]:
        return self.verdicts.tokens(len(task.responses))

    def reordered(self, task: Task, order: tuple[int, ...]) -> Task:
        return task  # one response: nothing to reorder

    def verdict_html(self, verdict: Verdict, responses: Sequence[str]) -> str:
        raise NotImplementedError

    def details_html(self, details: Mapping[str, Any]) -> str:
        return ""

    def details_lines(self, details: Mapping[str, Any]) -> list[str]:
        """One ``key: value`` line per entry; long values (an overlay image) are cut, ``--json`` has them whole."""
        import json

        lines = []
        for key, value in details.items():
            text = json.dumps(value, ensure_ascii=False)
            if len(text) > DETAILS_LINE_CHARS:
                text = text[: DETAILS_LINE_CHARS - 1] + f"… ({len(text):,} characters; see --json)"
            lines.append(f"{key + ':':<9} {text}")
        return lines


def unknown_inputs(kind: TaskKind, extra: Mapping[str, Any] | None) -> None:
    """Refuse inputs ``kind`` does not declare (a typo, or an input meant for another task).

    Raises:
        BadInput: Naming the inputs and the ones the task takes.
    """
    unknown = sorted(set(extra or {}) - {spec.name for spec in kind.inputs})
    if unknown:
        takes = ", ".join(spec.name for spec in kind.inputs) or "none"
        raise BadInput(f"{kind.title} mode does not take {', '.join(unknown)} (its extra inputs: {takes}).")


def number_input(extra: Mapping[str, Any], name: str, default: Any, low: float, high: float, kind: type = float) -> Any:
    """A numeric task input from ``extra``: ``default`` when absent, else a number within [low, high].

    Raises:
        BadInput: Not a number (a bool is not one), not whole when ``kind`` is int, or out of range.
    """
    value = extra.get(name)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float) or (kind is int and not float(value).is_integer()):
        raise BadInput(
            f"{name} must be a {'whole ' if kind is int else ''}number from {low:g} to {high:g}, got {value!r}."
        )
    if not low <= value <= high:
        raise BadInput(f"{name} must be from {low:g} to {high:g}, got {value!r}.")
    return kind(value)


def reorder_fields(task: Task, order: tuple[int, ...], **fields: object) -> Task:
    """``dataclasses.replace`` for a reordered task, or the task itself for the identity order."""
    return task if order == tuple(range(len(order))) else replace(task, **fields)  # type: ignore[type-var]


def snippet(text: str, limit: int = 90) -> str:
    """One line of at most ``limit`` characters, for quoting a response under its verdict."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def verdict_block(kind: str, kicker: str, main: str, body: str = "") -> str:
    """The shared frame of a verdict's HTML: a kicker line, the verdict, then task-specific parts."""
    return (
        f'<div class="verdict verdict-{kind}"><div class="verdict-kicker">{html.escape(kicker)}</div>'
        f'<div class="verdict-main">{main}</div>{body}</div>'
    )
