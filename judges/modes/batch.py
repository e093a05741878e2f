"""Batch mode: rank 2..8 responses, lettered A, B, C ..., from best to worst."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from judges.images import ImageSource
from judges.modes.base import BaseMode
from judges.parsing import LETTERS
from judges.types import BatchTask, Task, Verdict


@dataclass(frozen=True)
class BatchMode(BaseMode):
    """N responses in, a full ranking (tuple of letters, best first) out."""

    name: str = "batch"
    title: str = "Batch"
    min_responses: int = 2
    max_responses: int = len(LETTERS)

    def make_task(
        self,
        instruction: str,
        responses: Sequence[str],
        images: Sequence[ImageSource] = (),
        image_description: str | None = None,
    ) -> BatchTask:
        instruction, responses = self._validate(instruction, responses)
        return BatchTask(instruction, responses, self._images(images), image_description)

    def labels(self, task: Task) -> tuple[str, ...]:
        # Token probabilities are read where the best response's letter is written.
        return tuple(LETTERS[: len(task.responses)])

    def label_to_verdict(self, label: str) -> Verdict:
        return label
