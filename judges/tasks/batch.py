"""Task ``batch``: rank 2..8 responses, lettered A, B, C ..., from best to worst."""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field

from judges.tasks.base import BaseTask, Reorder, reorder_fields, snippet, verdict_block
from judges.types import BatchTask, ImagePart, Task
from judges.verdicts import LETTERS, Ranking, Verdict, letters_of


@dataclass(frozen=True)
class BatchKind(BaseTask):
    """N responses in, a full ranking (tuple of letters, best first) out; shuffles vary the order."""

    name: str = "batch"
    title: str = "Batch"
    hint: str = "rank 2-8 responses"
    min_responses: int = 2
    max_responses: int = len(LETTERS)
    verdicts: Ranking = field(default_factory=Ranking)
    reorder: Reorder = "shuffle"
    # A full ranking is several tokens: it needs generation.
    forward_verdict: bool = False
    probability_axis: str = "Ranked first"

    def _build(
        self, instruction: str, responses: tuple[str, ...], images: tuple[ImagePart, ...], description: str | None
    ) -> BatchTask:
        return BatchTask(instruction, responses, images, description)

    def reordered(self, task: Task, order: tuple[int, ...]) -> Task:
        return reorder_fields(task, order, responses=tuple(task.responses[i] for i in order))

    def verdict_html(self, verdict: Verdict, responses: Sequence[str]) -> str:
        items = []
        for letter in letters_of(verdict):
            index = LETTERS.index(letter)
            quote = html.escape(snippet(responses[index], 70)) if index < len(responses) else ""
            items.append(f"<li><b>{letter}</b> <span>{quote}</span></li>")
        main = html.escape(self.verdicts.text(verdict))
        return verdict_block("batch", "Ranking, best first", main, f'<ol class="verdict-ranking">{"".join(items)}</ol>')
