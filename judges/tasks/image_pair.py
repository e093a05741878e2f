"""Task ``image-pair``: which of two generated images matches a text-to-image prompt better (A, B or tie).

This is the task of MJ-Bench: the input is a prompt and exactly two images, with no text answers.
The two images are what position swap reorders, and the judge sees each one behind its own label
("Image A:", "Image B:") so the letters it writes cannot be mistaken for the upload order. The
template section ``[modes.image-pair]`` brings its own system and user wording, because the shared
wording speaks of answers about one image.
"""

from __future__ import annotations

import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from judges.errors import BadInput, ConfigError
from judges.images import ImageSource, load_image
from judges.prompts import PromptSetting, Template, fence
from judges.tasks.base import BaseTask, Reorder, reorder_fields, unknown_inputs, verdict_block
from judges.types import ImagePairTask, Message, Part, Task, TextPart, text_problem
from judges.verdicts import LETTERS, TIE, Choice, Verdict

#: How many images the task compares.
IMAGES = 2


@dataclass(frozen=True)
class ImagePairKind(BaseTask):
    """A prompt and two images in, "A", "B" or "tie" out; position swap judges both image orders."""

    name: str = "image-pair"
    title: str = "Image pair"
    hint: str = "which image fits the prompt: A, B or tie"
    min_responses: int = 0
    max_responses: int = 0
    verdicts: Choice = field(default_factory=Choice)
    reorder: Reorder = "swap"
    forward_verdict: bool = True
    probability_axis: str = "Verdict"
    #: How many images the task takes; the CLI and the Judge tab ask for this many.
    images_required: int = IMAGES

    def make_task(
        self,
        instruction: str,
        responses: Sequence[str],
        images: Sequence[ImageSource] = (),
        image_description: str | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> Task:
        """Validate a prompt and two images into an :class:`~judges.types.ImagePairTask`.

        Raises:
            BadInput: An empty prompt, text responses (this task judges images), or not exactly two
                usable images.
        """
        unknown_inputs(self, extra)
        if not isinstance(instruction, str) or not instruction.strip():
            raise BadInput("The prompt is empty. Write the text-to-image prompt both images were generated from.")
        problem = text_problem("The prompt", instruction)
        if problem:
            raise BadInput(problem + ".")
        if any(isinstance(r, str) and r.strip() for r in responses):
            raise BadInput(
                f"{self.title} mode judges two images, not text responses: remove the responses and give the "
                "two images as image A and image B."
            )
        given = [image for image in images if image is not None]
        if len(given) != IMAGES:
            raise BadInput(
                f"{self.title} mode compares exactly {IMAGES} images (A, then B), got {len(given)}: "
                "give one image for each candidate."
            )
        return ImagePairTask(instruction, tuple(load_image(image) for image in given))

    def render(
        self, task: Task, template: Template, setting: PromptSetting, criteria: str | None = None
    ) -> tuple[Message, ...]:
        """The system text, then a user turn with each image behind its label and the prompt last.

        Raises:
            ConfigError: A setting that does not show the images, or one the template has no steps
                for in this task's section.
        """
        section = template.data["modes"].get(self.prompt_section or self.name)
        if section is None:
            raise ConfigError(
                f"Prompt template {template.id} has no section for {self.name!r}; add [modes.{self.name}] to it."
            )
        steps = section.get("steps", {})
        if not setting.sees_image or setting.steps not in steps:
            usable = ", ".join(steps) or "none"
            raise ConfigError(
                f"{self.title} mode needs a setting that shows the judge both images and has steps for this task; "
                f"setting {setting.name!r} does not. Choose one of: {usable}."
            )
        keys = template.data["keys"][setting.steps]
        notes = {**template.data.get("key_notes", {}), **section.get("key_notes", {})}
        user = string.Template(section["user"]).substitute(
            steps=steps[setting.steps],
            method=section["method"],
            criteria=f"\nAlso apply these criteria from the user:\n{fence(criteria.strip())}\n" if criteria else "",
            keys=", ".join(f'"{k}"' for k in keys),
            key_notes="".join(notes.get(k, "") for k in keys),
            format=section["format"],
            instruction=fence(task.instruction.strip()),
        )
        parts: list[Part] = []
        for label, image in zip(task.responses, task.images, strict=True):
            parts += [TextPart(f"{label}:"), image]
        return (
            Message("system", (TextPart(section["system"]),)),
            Message("user", (*parts, TextPart(user))),
        )

    def reordered(self, task: Task, order: tuple[int, ...]) -> Task:
        # The images are what the judge compares, so they are what a swap reorders.
        return reorder_fields(task, order, images=tuple(task.images[i] for i in order))

    def verdict_html(self, verdict: Verdict, responses: Sequence[str]) -> str:
        if verdict == TIE:
            main, sub = "Tie", "Both images match the prompt equally well."
        else:
            letter = str(verdict) if str(verdict) in LETTERS else "?"
            main, sub = f"Image {letter} wins", f"Image {letter} matches the prompt better."
        return verdict_block("pair", "Winner", main, f'<div class="verdict-sub">{sub}</div>')
