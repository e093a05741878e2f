"""Batch mode: rank 2..8 responses, lettered A, B, C ..., from best to worst."""

from __future__ import annotations

from dataclasses import dataclass

from judges.modes.base import BaseMode
from judges.parsing import LETTERS
from judges.types import BatchTask, ImagePart, Task, Verdict


@dataclass(frozen=True)
class BatchMode(BaseMode):
    """N responses in, a full ranking (tuple of letters, best first) out."""

    name: str = "batch"
    title: str = "Batch"
    min_responses: int = 2
    max_responses: int = len(LETTERS)

    def _build(
        self, instruction: str, responses: tuple[str, ...], images: tuple[ImagePart, ...], description: str | None
    ) -> BatchTask:
        return BatchTask(instruction, responses, images, description)

    def labels(self, task: Task) -> tuple[str, ...]:
        # Token probabilities are read where the best response's letter is written.
        return tuple(LETTERS[: len(task.responses)])

    def label_to_verdict(self, label: str) -> Verdict:
        return label
