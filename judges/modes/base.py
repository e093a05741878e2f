"""What a judging mode is: its input type, how it renders a prompt, how it reads a verdict."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from judges.errors import BadInput
from judges.images import ImageSource, load_image
from judges.parsing import parse_verdict
from judges.prompts import PromptSetting, Template, render_prompt
from judges.types import ImagePart, Message, ParseResult, Task, TextPart, Verdict


class JudgeMode(Protocol):
    """A judging mode. The UI and the runner list modes through the registry, never by name.

    Attributes:
        name: ``score``, ``pair`` or ``batch``.
        title: What the UI shows.
        min_responses: Fewest responses a task takes.
        max_responses: Most responses a task takes.
    """

    name: str
    title: str
    min_responses: int
    max_responses: int

    def make_task(
        self,
        instruction: str,
        responses: Sequence[str],
        images: Sequence[ImageSource] = (),
        image_description: str | None = None,
    ) -> Task:
        """Validate raw input and build the mode's task type. Raises BadInput with a clear message."""
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
        """The tokens a judge writes for its verdict (the first letter of a ranking in batch mode)."""
        ...

    def label_to_verdict(self, label: str) -> Verdict:
        """Map a verdict token ("4", "C") to the canonical verdict (4, "tie")."""
        ...


@dataclass(frozen=True)
class BaseMode:
    """Behaviour shared by the three modes; each subclass sets its name and response limits."""

    name: str
    title: str
    min_responses: int
    max_responses: int

    def _validate(self, instruction: str, responses: Sequence[str]) -> tuple[str, tuple[str, ...]]:
        if not (instruction or "").strip():
            raise BadInput("The instruction is empty. Write what the answering model was asked.")
        responses = tuple(r if isinstance(r, str) else "" for r in responses)
        if not self.min_responses <= len(responses) <= self.max_responses:
            wanted = (
                str(self.min_responses)
                if self.min_responses == self.max_responses
                else f"{self.min_responses} to {self.max_responses}"
            )
            raise BadInput(f"{self.title} mode takes {wanted} responses, got {len(responses)}.")
        for i, text in enumerate(responses):
            if not text.strip():
                which = "The response" if len(responses) == 1 else f"Response {chr(ord('A') + i)}"
                raise BadInput(f"{which} is empty. Paste the answer to judge, or remove the box.")
        return instruction, responses

    def make_task(
        self,
        instruction: str,
        responses: Sequence[str],
        images: Sequence[ImageSource] = (),
        image_description: str | None = None,
    ) -> Task:
        """Validate raw input and build the mode's task type.

        Raises:
            BadInput: Empty instruction or response, a response count the mode does not take, or
                an image that cannot be used.
        """
        instruction, responses = self._validate(instruction, responses)
        images = tuple(load_image(image) for image in images if image is not None)
        return self._build(instruction, responses, images, image_description)

    def _build(
        self, instruction: str, responses: tuple[str, ...], images: tuple[ImagePart, ...], description: str | None
    ) -> Task:
        raise NotImplementedError

    def render(
        self, task: Task, template: Template, setting: PromptSetting, criteria: str | None = None
    ) -> tuple[Message, ...]:
        prompt = render_prompt(
            template,
            self.name,
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
        return parse_verdict(
            self.name,
            text,
            n_responses=len(task.responses),
            guard_texts=(task.instruction, *task.responses),
        )
