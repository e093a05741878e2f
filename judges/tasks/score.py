"""Task ``score``: rate one response on a scale, 1 (poor) to 5 (excellent)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from judges.tasks.base import BaseTask, Reorder, verdict_block
from judges.types import ImagePart, ScoreTask
from judges.verdicts import Scale, Verdict

#: Words under the stars, for the 1-5 scale the benchmark uses.
SCORE_WORDS = {1: "Poor", 2: "Fair", 3: "Average", 4: "Good", 5: "Excellent"}


@dataclass(frozen=True)
class ScoreKind(BaseTask):
    """One response in, an integer 1..5 out."""

    name: str = "score"
    title: str = "Score"
    hint: str = "rate one response 1-5"
    min_responses: int = 1
    max_responses: int = 1
    verdicts: Scale = field(default_factory=Scale)
    reorder: Reorder = "none"
    forward_verdict: bool = True
    probability_axis: str = "Score"

    def _build(
        self, instruction: str, responses: tuple[str, ...], images: tuple[ImagePart, ...], description: str | None
    ) -> ScoreTask:
        return ScoreTask(instruction, responses[0], images, description)

    def verdict_html(self, verdict: Verdict, responses: Sequence[str]) -> str:
        scale = self.verdicts
        score = int(verdict)  # type: ignore[arg-type]
        filled = score - scale.low + 1
        stars = "★" * filled + "☆" * (scale.high - score)
        word = SCORE_WORDS.get(score, "") if (scale.low, scale.high) == (1, 5) else ""
        width = round(100 * filled / (scale.high - scale.low + 1))
        main = (
            f'{score}<span class="verdict-of">/{scale.high}</span> '
            f'<span class="verdict-stars" aria-label="{score} of {scale.high} stars">{stars}</span>'
        )
        body = f'<div class="verdict-sub">{word}</div><div class="verdict-bar"><div style="width:{width}%"></div></div>'
        return verdict_block("score", "Score", main, body)
