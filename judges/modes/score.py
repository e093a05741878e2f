"""Score mode: rate one response from 1 (poor) to 5 (excellent)."""

from __future__ import annotations

from dataclasses import dataclass

from judges.modes.base import BaseMode
from judges.parsing import SCORE_LABELS
from judges.types import ImagePart, ScoreTask, Task, Verdict


@dataclass(frozen=True)
class ScoreMode(BaseMode):
    """One response in, an integer 1..5 out."""

    name: str = "score"
    title: str = "Score"
    min_responses: int = 1
    max_responses: int = 1

    def _build(
        self, instruction: str, responses: tuple[str, ...], images: tuple[ImagePart, ...], description: str | None
    ) -> ScoreTask:
        return ScoreTask(instruction, responses[0], images, description)

    def labels(self, task: Task) -> tuple[str, ...]:
        return SCORE_LABELS

    def label_to_verdict(self, label: str) -> Verdict:
        return int(label)
