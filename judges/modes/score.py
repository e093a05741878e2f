"""Score mode: rate one response from 1 (poor) to 5 (excellent)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from judges.images import ImageSource
from judges.modes.base import BaseMode
from judges.parsing import SCORE_LABELS
from judges.types import ScoreTask, Task, Verdict


@dataclass(frozen=True)
class ScoreMode(BaseMode):
    """One response in, an integer 1..5 out."""

    name: str = "score"
    title: str = "Score"
    min_responses: int = 1
    max_responses: int = 1

    def make_task(
        self,
        instruction: str,
        responses: Sequence[str],
        images: Sequence[ImageSource] = (),
        image_description: str | None = None,
    ) -> ScoreTask:
        instruction, responses = self._validate(instruction, responses)
        return ScoreTask(instruction, responses[0], self._images(images), image_description)

    def labels(self, task: Task) -> tuple[str, ...]:
        return SCORE_LABELS

    def label_to_verdict(self, label: str) -> Verdict:
        return int(label)
