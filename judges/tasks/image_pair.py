"""Task ``image-pair``: which of two generated images matches a text-to-image prompt better (A, B or tie).

This is the task of MJ-Bench: the input is a prompt and exactly two images, with no text answers.
The two images are what position swap reorders, and the judge sees each one behind its own label
("Image A:", "Image B:") so the letters it writes cannot be mistaken for the upload order. The
template section ``[modes.image-pair]`` brings its own system and user wording, because the shared
wording speaks of answers about one image.

With the ``rating`` input (MJ-Bench's protocol), the judge also rates each image from 0 to 10
(``"Rating A"``, ``"Rating B"`` in its JSON) and the verdict follows from the ratings, not from its
``Judgement``: the higher rated image wins and equal ratings are a tie. A swapped view's ratings
are of the images as shown, so swap and samples work unchanged. An answer without two valid
ratings is unscored (and re-asked) with the reason.
"""

from __future__ import annotations

import math
import re
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from judges.errors import BadInput, ConfigError
from judges.images import ImageSource, load_image
from judges.jsonread import read_object
from judges.prompts import PromptSetting, Template, fence
from judges.tasks.base import BaseTask, InputSpec, Reorder, reorder_fields, unknown_inputs, verdict_block
from judges.tasks.structured import copied_from
from judges.types import ImagePairTask, Message, ParseResult, Part, Task, TextPart, text_problem
from judges.verdicts import LETTERS, TIE, Choice, Verdict

#: How many images the task compares.
IMAGES = 2
#: The rating scale of the ``rating`` input (MJ-Bench's 0-10).
RATING_LOW, RATING_HIGH = 0, 10
#: How much of an answer the rating reader looks at (the ratings come before the verdict, near the end).
MAX_RATING_CHARS = 100_000
RATING_NOTE = (
    "\n\nAlso rate how well each image matches the prompt, from 0 (not at all) to 10 (perfectly): add the keys "
    '"Rating A" and "Rating B" (whole numbers from 0 to 10) to your JSON object, before "Judgement". Your verdict '
    "must follow from the ratings: the image with the higher rating wins, and equal ratings are a tie ([[C]])."
)
_RATING_KEY = re.compile(r"(?:rating|score)[ _-]*(?:of[ _-]*)?(?:image[ _-]*)?([ab])", re.IGNORECASE)
_RATING_TEXT = re.compile(
    r"(?:rating|score)[ _-]*(?:of[ _-]*)?(?:image[ _-]*)?([AB])\W{0,6}?(\d{1,3}(?:\.\d+)?)", re.IGNORECASE
)


@dataclass(frozen=True)
class RatedImagePairTask(ImagePairTask):
    """An image pair whose judge also rates each image 0-10; the verdict follows from the ratings."""

    rating: bool = True


def _rating(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = float(value.strip().split("/")[0])
        except ValueError:
            return None
    if isinstance(value, (int, float)) and math.isfinite(value) and float(value).is_integer():
        number = int(value)
        return number if RATING_LOW <= number <= RATING_HIGH else None
    return None


def read_ratings(text: str, guard_texts: Sequence[str] = ()) -> tuple[dict[str, int], str]:
    """The two ratings in a judge's answer: ``({"A": 7, "B": 4}, "")``, or ``({}, reason)``.

    The JSON object's ``"Rating A"`` / ``"Rating B"`` keys (also ``rating_a``, ``Score of image B`` ...)
    are read first; without an object, the last ``Rating A: 7`` written in the text counts. An object
    copied from the prompt is not the judge's.
    """
    text = text[-MAX_RATING_CHARS:] if isinstance(text, str) else ""
    found: dict[str, object] = {}
    read = read_object(text)
    if read.value is not None:
        if copied_from(text, guard_texts):
            return {}, "the ratings repeat text written by the user instead of judging"
        for key, value in read.value.items():
            match = _RATING_KEY.fullmatch(str(key).strip())
            if match:
                found.setdefault(match[1].upper(), value)
    if len(found) < 2:
        for match in _RATING_TEXT.finditer(text):
            found[match[1].upper()] = match[2]
    ratings = {letter: _rating(found.get(letter)) for letter in ("A", "B")}
    bad = [f"Rating {k} is {str(found.get(k))[:20]!r}" for k, v in ratings.items() if v is None]
    if bad:
        return {}, "; ".join(bad) + f", not a whole number from {RATING_LOW} to {RATING_HIGH}"
    return {k: v for k, v in ratings.items() if v is not None}, ""


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
    inputs: tuple[InputSpec, ...] = (
        InputSpec(
            "rating",
            "Rate each image 0-10",
            "the judge also rates each image from 0 to 10 and the verdict follows from the ratings (equal = tie)",
            kind="flag",
        ),
    )

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
        parts = tuple(load_image(image) for image in given)
        if (extra or {}).get("rating"):
            return RatedImagePairTask(instruction, parts)
        return ImagePairTask(instruction, parts)

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
        if isinstance(task, RatedImagePairTask):
            head, marker, prompt = user.rpartition("[The Start of Prompt]")
            user = f"{head.rstrip()}{RATING_NOTE}\n\n{marker}{prompt}" if marker else user + RATING_NOTE
        parts: list[Part] = []
        for label, image in zip(task.responses, task.images, strict=True):
            parts += [TextPart(f"{label}:"), image]
        return (
            Message("system", (TextPart(section["system"]),)),
            Message("user", (*parts, TextPart(user))),
        )

    def parse(self, text: str, task: Task) -> ParseResult:
        """The judge's verdict; with ratings, the verdict the two ratings give (equal: a tie)."""
        result = super().parse(text, task)
        if not isinstance(task, RatedImagePairTask):
            return result
        ratings, reason = read_ratings(text, (task.instruction,))
        if reason:
            return ParseResult(False, reason=reason)
        a, b = ratings["A"], ratings["B"]
        verdict = "A" if a > b else "B" if b > a else TIE
        note = f"Ratings: Image A {a}/{RATING_HIGH}, Image B {b}/{RATING_HIGH}."
        return ParseResult(True, verdict, f"{note} {result.analysis}".strip())

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
