"""Task ``relevance``: score how well each of up to 50 candidates matches a query (UniME-V2).

The query is a text and/or an image; each candidate is a text, an image, or both (the i-th text
with the i-th image). Per candidate the judge is asked whether it matches the query, the query and
the candidate in separate blocks, and the candidate's score is ``P(yes)`` at the first answer token
(:mod:`judges.probe`). All candidates' probes go to the backend together.

Output (``details``): ``scores`` in candidate order, ``ranking`` (candidate numbers, best first).
Candidates are numbered from **1**, on the command line (``--positive 1`` is the first candidate)
and in every output field. With a known positive ``K``:

* ``false_negatives``: the other candidates scoring above ``s_pos - beta`` (``beta`` default 0.01);
  likely positives too, to drop from a negative set;
* ``hard_negatives``: the ``hard_negatives`` (default 10) best-scoring remaining negatives;
* ``positive_rank``, ``reciprocal_rank`` and ``hit_at_1`` for Recall@1 / MRR over many queries.

The verdict is the number of the best candidate, so agreement with a positive label is Precision@1.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from judges.errors import BackendError, BadInput, JudgeError
from judges.images import ImageSource, load_image
from judges.probe import ProbeAnswer, prober_for
from judges.prompts import fence
from judges.tasks.base import BaseTask, InputSpec, Reorder, number_input, snippet, unknown_inputs, verdict_block
from judges.tasks.labels import CandidateNumber
from judges.types import ImagePart, JudgeResult, Message, Part, Task, TextPart, Usage, VerdictDistribution, text_problem
from judges.verdicts import Verdict

if TYPE_CHECKING:
    from judges.judge import Judge

MAX_CANDIDATES = 50
DEFAULT_BETA = 0.01
DEFAULT_HARD_NEGATIVES = 10

PROBE_SYSTEM = (
    "You judge whether a candidate matches a query (answers it, shows it or describes it). "
    "Answer with one word: Yes or No."
)


@dataclass(frozen=True)
class RelevanceTask:
    """A query and its candidates.

    Attributes:
        instruction: The query text ('' when the query is an image alone).
        images: The query image (none or one).
        candidate_texts: Candidate texts (empty when the candidates are images alone).
        candidate_images: Candidate images (empty, or as many as the texts).
        positive: The known positive's 1-based number, or None.
        beta: Margin of the false-negative filter.
        hard_negatives: How many hard negatives to report.
    """

    instruction: str
    images: tuple[ImagePart, ...] = ()
    candidate_texts: tuple[str, ...] = ()
    candidate_images: tuple[ImagePart, ...] = ()
    positive: int | None = None
    beta: float = DEFAULT_BETA
    hard_negatives: int = DEFAULT_HARD_NEGATIVES
    image_description: str | None = None

    @property
    def size(self) -> int:
        """How many candidates there are."""
        return max(len(self.candidate_texts), len(self.candidate_images))

    @property
    def responses(self) -> tuple[str, ...]:
        """What is judged: the candidate texts, or ``candidate image K`` for image-only candidates."""
        if self.candidate_texts:
            return self.candidate_texts
        return tuple(f"candidate image {i}" for i in range(1, self.size + 1))


def mine(
    scores: Sequence[float | None], positive: int, beta: float = DEFAULT_BETA, k: int = DEFAULT_HARD_NEGATIVES
) -> tuple[list[int], list[int]]:
    """``(false_negatives, hard_negatives)`` as 1-based candidate numbers, given the 1-based positive.

    A negative scoring above ``s_pos - beta`` is a likely false negative; the ``k`` best-scoring
    other negatives (ties by candidate order) are the hard negatives. Unscored candidates are in
    neither list. Nothing is mined when the positive itself is unscored.
    """
    s_pos = scores[positive - 1]
    if s_pos is None:
        return [], []
    negatives = [(i + 1, s) for i, s in enumerate(scores) if i + 1 != positive and s is not None]
    false = [number for number, s in negatives if s > s_pos - beta]
    rest = sorted(((number, s) for number, s in negatives if number not in false), key=lambda pair: -pair[1])
    return false, [number for number, _ in rest[:k]]


def ranking_of(scores: Sequence[float | None]) -> list[int]:
    """Scored candidates' 1-based numbers, best first (ties by candidate order)."""
    scored = [(i + 1, s) for i, s in enumerate(scores) if s is not None]
    return [number for number, _ in sorted(scored, key=lambda pair: -pair[1])]


@dataclass(frozen=True)
class RelevanceKind(BaseTask):
    """A query and candidates in, P(yes) per candidate and a ranking out."""

    name: str = "relevance"
    title: str = "Relevance"
    hint: str = "score up to 50 candidates against a query (needs token probabilities)"
    instruction_label: str = "Query"
    instruction_placeholder: str = "What the candidates should match"
    min_responses: int = 0
    # Candidates are not response boxes: up to 50 texts come from the ``candidate`` input (one per
    # line in the Judge tab) and, on the command line, from --response as well.
    max_responses: int = 0
    verdicts: CandidateNumber = field(default_factory=CandidateNumber)
    reorder: Reorder = "none"
    forward_verdict: bool = False
    probability_axis: str = "P(yes) per candidate"
    inputs: tuple[InputSpec, ...] = (
        InputSpec(
            "candidate",
            "Candidates",
            f"a candidate text (repeat, up to {MAX_CANDIDATES}; one per line in the UI); --response adds candidates too",
            "texts",
        ),
        InputSpec(
            "candidate_image",
            "Candidate images",
            "a candidate image (repeat; with --response, the i-th image goes with the i-th text)",
            "files",
        ),
        InputSpec("positive", "Positive", "the known positive's number, 1 = first candidate", "int"),
        InputSpec(
            "beta",
            "Beta",
            f"false-negative margin: s_neg > s_pos - beta (default {DEFAULT_BETA})",
            "float",
            default=DEFAULT_BETA,
        ),
        InputSpec(
            "hard_negatives",
            "Hard negatives",
            f"how many hard negatives to report (default {DEFAULT_HARD_NEGATIVES})",
            "int",
            default=DEFAULT_HARD_NEGATIVES,
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
        """Validate a query and its candidates into a :class:`RelevanceTask`.

        Raises:
            BadInput: No query, no candidates or too many, an empty candidate, text and image
                counts that differ, a positive out of range.
        """
        unknown_inputs(self, extra)
        extra = extra or {}
        query = instruction if isinstance(instruction, str) else ""
        given = [image for image in images if image is not None]
        if len(given) > 1:
            raise BadInput(
                f"The query takes at most one image, got {len(given)}; give candidates with --candidate-image."
            )
        if not query.strip() and not given:
            raise BadInput("The query is empty: give its text (the instruction), its image, or both.")
        more = extra.get("candidate") or []
        written = [*responses, *([more] if isinstance(more, str) else more)]
        for label, text in (("The query", query), *((f"Candidate {i}", t) for i, t in enumerate(written, 1))):
            problem = text_problem(label, text) if isinstance(text, str) else ""
            if problem:
                raise BadInput(problem + ".")
        texts = tuple(r.strip() if isinstance(r, str) else "" for r in written)
        raw_images = extra.get("candidate_image") or []
        if isinstance(raw_images, str | bytes):
            raw_images = [raw_images]
        candidate_images = tuple(load_image(image) for image in raw_images if image is not None)
        if texts and candidate_images and len(texts) != len(candidate_images):
            raise BadInput(
                f"{len(texts)} candidate texts and {len(candidate_images)} candidate images: give one image per "
                "text (the i-th image goes with the i-th text), or only texts, or only images."
            )
        size = max(len(texts), len(candidate_images))
        if not 1 <= size <= MAX_CANDIDATES:
            raise BadInput(f"Relevance mode takes 1 to {MAX_CANDIDATES} candidates, got {size}.")
        empty = [i for i, t in enumerate(texts, 1) if not t]
        if empty and not candidate_images:
            raise BadInput(f"Candidate {empty[0]} is empty. Write the candidate text, or remove it.")
        positive = number_input(extra, "positive", None, 1, size, int)
        return RelevanceTask(
            instruction=query.strip(),
            images=tuple(load_image(image) for image in given),
            candidate_texts=texts,
            candidate_images=candidate_images,
            positive=positive,
            beta=number_input(extra, "beta", DEFAULT_BETA, 0.0, 1.0),
            hard_negatives=number_input(extra, "hard_negatives", DEFAULT_HARD_NEGATIVES, 0, MAX_CANDIDATES, int),
        )

    # ----------------------------------------------------------------- judging

    def run(self, judge: Judge, tasks: Sequence[Any]) -> list[JudgeResult | JudgeError]:
        """Probe every candidate of every task in one batch, then rank and mine.

        Raises:
            ConfigError: The judge gives no token probabilities; raised before any request is sent.
        """
        prober = prober_for(judge.backend, self.title, seed=judge.options.sampling.seed)
        caps = judge.backend.capabilities
        slots: list[JudgeResult | JudgeError | None] = [None] * len(tasks)
        prompts: list[tuple[Message, ...]] = []
        owners: list[tuple[int, int]] = []
        for index, task in enumerate(tasks):
            if not isinstance(task, RelevanceTask):
                slots[index] = BadInput("Relevance mode judges tasks made by its make_task (a query and candidates).")
                continue
            per_request = len(task.images) + (1 if task.candidate_images else 0)
            if per_request and not caps.vision:
                slots[index] = BadInput(f"{judge.name} is text-only: give text queries and text candidates.")
                continue
            if caps.max_images is not None and per_request > caps.max_images:
                slots[index] = BadInput(
                    f"{judge.name} accepts at most {caps.max_images} image(s) per request; this query needs "
                    f"{per_request} (query image and candidate image)."
                )
                continue
            for number in range(1, task.size + 1):
                prompts.append(candidate_prompt(task, number))
                owners.append((index, number))
        answers = prober.ask(prompts)
        by_task: dict[int, list[ProbeAnswer | JudgeError]] = {}
        for (index, _), answer in zip(owners, answers, strict=True):
            by_task.setdefault(index, []).append(answer)
        for index, task_answers in by_task.items():
            slots[index] = self._result(judge, prober.route, tasks[index], task_answers)
        return slots  # type: ignore[return-value]  # every slot is filled above

    def _result(
        self, judge: Judge, route: str, task: RelevanceTask, answers: list[ProbeAnswer | JudgeError]
    ) -> JudgeResult | JudgeError:
        read = [a for a in answers if isinstance(a, ProbeAnswer)]
        if not read:
            errors = [a for a in answers if isinstance(a, JudgeError)]
            return errors[0] if errors else BackendError("The judge returned nothing.")
        details = relevance_details(task, answers)
        details["probe_source"] = route
        ranking = details["ranking"]
        verdict: Verdict | None = ranking[0] if ranking else None
        scores = details["scores"]
        probs = {str(i): s for i, s in enumerate(scores, 1) if s is not None}
        return JudgeResult(
            mode=self.name,
            judge=judge.name,
            verdict=verdict,
            parsed=verdict is not None,
            analysis="Scores read from Yes/No token probabilities (no analysis generated).",
            raw_output="",
            latency_s=round(sum(a.latency_s for a in read), 4),
            reason="" if verdict is not None else "; ".join(sorted(set(details["reasons"].values()))) or "no score",
            probabilities=VerdictDistribution(probs, source="forward" if route == "forward" else "generation")
            if probs
            else None,
            usage=sum((a.usage for a in read), Usage()),
            attempts=len(answers),
            template=judge.template.id,
            setting=judge.setting.name,
            details=details,
        )

    # ----------------------------------------------------------------- display

    def labels(self, task: Task) -> tuple[str, ...]:
        return self.verdicts.tokens(len(task.responses))

    def verdict_html(self, verdict: Verdict, responses: Sequence[str]) -> str:
        number = int(verdict) if isinstance(verdict, int) else 0
        quoted = responses[number - 1] if 1 <= number <= len(responses) else ""
        sub = f'<div class="verdict-sub">{html.escape(snippet(quoted))}</div>' if quoted else ""
        return verdict_block("relevance", "Best match", f"Candidate {number}", sub)

    def details_html(self, details: Mapping[str, Any]) -> str:
        scores = details.get("scores")
        if not isinstance(scores, list) or not scores:
            return ""
        ranking = details.get("ranking") or []
        rank = {number: i for i, number in enumerate(ranking, 1) if isinstance(number, int)}
        false_negatives = set(details.get("false_negatives") or [])
        hard = set(details.get("hard_negatives") or [])
        positive = details.get("positive")
        labels = details.get("candidates") or []
        rows = []
        for number, score in enumerate(scores, 1):
            role = (
                "positive"
                if number == positive
                else "likely false negative"
                if number in false_negatives
                else "hard negative"
                if number in hard
                else ""
            )
            label = labels[number - 1] if number - 1 < len(labels) else ""
            shown = f"{score:.4f}" if isinstance(score, int | float) and not isinstance(score, bool) else "—"
            rows.append(
                f"<tr><td>{number}</td><td>{html.escape(snippet(str(label), 70))}</td><td>{shown}</td>"
                f"<td>{rank.get(number, '—')}</td><td>{html.escape(role)}</td></tr>"
            )
        head = "<tr><th>#</th><th>Candidate</th><th>P(yes)</th><th>Rank</th><th>Role</th></tr>"
        table = f'<table class="details details-relevance">{head}{"".join(rows)}</table>'
        return f'<div class="details-scroll" style="overflow-x:auto">{table}</div>'


def relevance_details(task: RelevanceTask, answers: Sequence[ProbeAnswer | JudgeError]) -> dict[str, Any]:
    """The ``details`` of one query: scores, ranking, reasons and, given a positive, the mining."""
    scores: list[float | None] = []
    reasons: dict[str, str] = {}
    for number, answer in enumerate(answers, 1):
        if isinstance(answer, JudgeError):
            scores.append(None)
            reasons[str(number)] = str(answer).splitlines()[0] if str(answer) else type(answer).__name__
        else:
            scores.append(None if answer.p_yes is None else round(answer.p_yes, 6))
            if answer.p_yes is None:
                reasons[str(number)] = answer.reason
    ranking = ranking_of(scores)
    details: dict[str, Any] = {
        "scores": scores,
        "ranking": ranking,
        "candidates": list(task.responses),
        "masses": [None if isinstance(a, JudgeError) or a.mass is None else round(a.mass, 6) for a in answers],
        "reasons": reasons,
        "requests": len(answers),
    }
    if task.positive is not None:
        false, hard = mine(scores, task.positive, task.beta, task.hard_negatives)
        position = ranking.index(task.positive) + 1 if task.positive in ranking else None
        details.update(
            positive=task.positive,
            beta=task.beta,
            false_negatives=false,
            hard_negatives=hard,
            positive_rank=position,
            reciprocal_rank=None if position is None else round(1 / position, 6),
            hit_at_1=None if position is None else position == 1,
        )
    return details


def candidate_prompt(task: RelevanceTask, number: int) -> tuple[Message, ...]:
    """The yes/no probe for candidate ``number`` (1-based): the query block, then the candidate's."""
    query: list[Part] = [TextPart("[Query]\n")]
    query += list(task.images)
    if task.instruction:
        query.append(TextPart(fence(task.instruction) + "\n"))
    candidate: list[Part] = [TextPart("[Candidate]\n")]
    if task.candidate_images:
        candidate.append(task.candidate_images[number - 1])
    if task.candidate_texts and task.candidate_texts[number - 1]:
        candidate.append(TextPart(fence(task.candidate_texts[number - 1]) + "\n"))
    question = TextPart("\nDoes the candidate match the query? Answer Yes or No.")
    return (Message("system", (TextPart(PROBE_SYSTEM),)), Message("user", (*query, *candidate, question)))


__all__ = ["MAX_CANDIDATES", "RelevanceKind", "RelevanceTask", "mine", "ranking_of", "relevance_details"]
