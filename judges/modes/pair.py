"""Pair mode: choose the better of two responses, A or B, or call a tie (written [[C]])."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from judges.images import ImageSource
from judges.modes.base import BaseMode
from judges.types import PairTask, Task, Verdict


@dataclass(frozen=True)
class PairMode(BaseMode):
    """Two responses in, "A", "B" or "tie" out."""

    name: str = "pair"
    title: str = "Pair"
    min_responses: int = 2
    max_responses: int = 2

    def make_task(
        self,
        instruction: str,
        responses: Sequence[str],
        images: Sequence[ImageSource] = (),
        image_description: str | None = None,
    ) -> PairTask:
        instruction, responses = self._validate(instruction, responses)
        return PairTask(instruction, responses[0], responses[1], self._images(images), image_description)

    def labels(self, task: Task) -> tuple[str, ...]:
        return ("A", "B", "C")

    def label_to_verdict(self, label: str) -> Verdict:
        return "tie" if label == "C" else label
