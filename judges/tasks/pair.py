"""Task ``pair``: choose the better of two responses, A or B, or call a tie (the judge writes [[C]])."""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field

from judges.tasks.base import BaseTask, Reorder, reorder_fields, snippet, verdict_block
from judges.types import ImagePart, PairTask, Task
from judges.verdicts import LETTERS, TIE, Choice, Verdict


@dataclass(frozen=True)
class PairKind(BaseTask):
    """Two responses in, "A", "B" or "tie" out; position swap judges both orders."""

    name: str = "pair"
    title: str = "Pair"
    hint: str = "A, B or tie"
    min_responses: int = 2
    max_responses: int = 2
    verdicts: Choice = field(default_factory=Choice)
    reorder: Reorder = "swap"
    forward_verdict: bool = True
    probability_axis: str = "Verdict"

    def _build(
        self, instruction: str, responses: tuple[str, ...], images: tuple[ImagePart, ...], description: str | None
    ) -> PairTask:
        return PairTask(instruction, responses[0], responses[1], images, description)

    def reordered(self, task: Task, order: tuple[int, ...]) -> Task:
        shown = tuple(task.responses[i] for i in order)
        return reorder_fields(task, order, response_a=shown[0], response_b=shown[1])

    def verdict_html(self, verdict: Verdict, responses: Sequence[str]) -> str:
        if verdict == TIE:
            main, sub = "Tie", "Neither response is better."
        else:
            index = LETTERS.index(str(verdict))
            quote = snippet(responses[index]) if index < len(responses) else ""
            main, sub = f"Response {verdict} wins", html.escape(quote)
        return verdict_block("pair", "Winner", main, f'<div class="verdict-sub">{sub}</div>')
