"""Pair mode: choose the better of two responses, A or B, or call a tie (written [[C]])."""

from __future__ import annotations

from dataclasses import dataclass

from judges.modes.base import BaseMode
from judges.types import ImagePart, PairTask, Task, Verdict


@dataclass(frozen=True)
class PairMode(BaseMode):
    """Two responses in, "A", "B" or "tie" out."""

    name: str = "pair"
    title: str = "Pair"
    min_responses: int = 2
    max_responses: int = 2

    def _build(
        self, instruction: str, responses: tuple[str, ...], images: tuple[ImagePart, ...], description: str | None
    ) -> PairTask:
        return PairTask(instruction, responses[0], responses[1], images, description)

    def labels(self, task: Task) -> tuple[str, ...]:
        return ("A", "B", "C")

    def label_to_verdict(self, label: str) -> Verdict:
        return "tie" if label == "C" else label
