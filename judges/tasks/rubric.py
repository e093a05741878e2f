"""Task ``rubric``: judge one response (a score per criterion) or two (A / B / tie per criterion).

The rubric is a preset (``judge-anything``: six criteria 1-5 with an overall the judge gives;
``artifacts``: ten dimensions 0-10 summed to 0-100), a TOML/JSON file or TOML/JSON typed in; a
per-sample checklist adds hints under criteria. An artifact brings several images in order (or an
HTML/SVG file rendered locally to screenshots a second apart) and its source code.

The judge answers one JSON object with a comment before each criterion's verdict; every request
carries its JSON schema. Each criterion is checked on its own: a missing or off-scale one is
unscored with a reason, the others stand. The result's ``verdict`` is the overall (the judge's
overall score, the criteria's sum, or the judge's overall choice for two responses) and is set only
when every criterion and the overall were scored, so ``parsed`` means "every criterion parsed";
``details`` holds every criterion's verdict, comment, reason and probabilities, and the overall
as it stands on its own (``details["overall"]``).
"""

from __future__ import annotations

import html
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from judges.endpoints import on_public_space
from judges.errors import BadInput, JudgeError
from judges.images import ImageSource, load_image
from judges.jsonread import JsonRead
from judges.prompts import PromptSetting, Template
from judges.rubrics.artifact import CodeText, load_code
from judges.rubrics.combine import PartResult, View, combine_part
from judges.rubrics.load import DEFAULT_RUBRIC, Checklist, load_rubric, parse_checklist
from judges.rubrics.model import OVERALL, Rubric
from judges.rubrics.prompt import PROMPT_VERSION, SCHEMA_NAME, answer_schema, messages
from judges.rubrics.read import PartRead, answer_problem, expected_parts, read_answer
from judges.rubrics.verdicts import RubricVerdicts
from judges.tasks.base import BaseTask, InputSpec, Reorder, reorder_fields, unknown_inputs, verdict_block
from judges.tasks.structured import JsonAnswer, ask_json, copied_from, first_error, json_request, structured_result
from judges.types import (
    ChatRequest,
    ConsistencyOutcome,
    ImagePart,
    JudgeResult,
    Message,
    ParseResult,
    SwapOutcome,
    Task,
    text_problem,
)
from judges.verdicts import LETTERS, TIE, Verdict

if TYPE_CHECKING:
    from judges.judge import Judge


@dataclass(frozen=True)
class RubricTask:
    """One rubric judgment's input.

    Attributes:
        instruction: What was asked.
        responses: One or two responses (A, B).
        images: The images, in order (uploaded first, then rendered screenshots).
        image_description: A caption for text-only judges, or None.
        rubric: The criteria.
        checklist: Per-sample checklist items.
        code: The artifact's source code, or None.
        rendered: Facts about rendered screenshots (source, shots, blocked requests), or None.
    """

    instruction: str
    responses: tuple[str, ...]
    images: tuple[ImagePart, ...] = ()
    image_description: str | None = None
    rubric: Rubric = field(default_factory=lambda: load_rubric(DEFAULT_RUBRIC))
    checklist: Checklist = field(default_factory=Checklist)
    code: CodeText | None = None
    rendered: Mapping[str, Any] | None = None


_INPUTS = (
    InputSpec(
        "rubric",
        "Rubric",
        "judge-anything (six criteria 1-5), artifacts (ten dimensions 0-10, sum 0-100), a .toml/.json file, "
        "or TOML/JSON text with criteria (name, description, scale)",
        kind="text",
        default=DEFAULT_RUBRIC,
    ),
    InputSpec(
        "checklist",
        "Checklist",
        "a checklist item for this sample (repeat; 'criterion: item' groups it under that criterion)",
        kind="texts",
    ),
    InputSpec(
        "code",
        "Code",
        "the artifact's source code file, shown to the judge (long code is cut with a notice)",
        kind="file",
    ),
    InputSpec(
        "render",
        "Render HTML/SVG",
        "an HTML or SVG file rendered locally in headless Chromium to screenshots one second apart "
        "(network off; not on a public Space)",
        kind="file",
        public=False,
    ),
    InputSpec(
        "shots", "Screenshots", "how many screenshots rendering takes, one second apart (1-10)", kind="int", default=3
    ),
)


@dataclass(frozen=True)
class RubricKind(BaseTask):
    """One or two responses in; per-criterion verdicts and an overall out (a Procedure)."""

    name: str = "rubric"
    title: str = "Rubric"
    hint: str = "per-criterion scores, or A / B / tie per criterion"
    min_responses: int = 1
    max_responses: int = 2
    verdicts: RubricVerdicts = field(default_factory=RubricVerdicts)
    reorder: Reorder = "swap"
    forward_verdict: bool = False
    probability_axis: str = "Overall"
    inputs: tuple[InputSpec, ...] = _INPUTS

    # ------------------------------------------------------------------ input

    def make_task(
        self,
        instruction: str,
        responses: Sequence[str],
        images: Sequence[ImageSource] = (),
        image_description: str | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> Task:
        """Validate the input into a :class:`RubricTask`.

        Raises:
            BadInput: A bad instruction, response count or image, an unknown or malformed rubric,
                a bad checklist or code file, or rendering refused or failed.
        """
        instruction, texts = self._validate(instruction, responses)
        unknown_inputs(self, extra)
        extra = dict(extra or {})
        if image_description is not None:
            problem = text_problem("The image description", image_description)
            if problem:
                raise BadInput(problem + ".")
        public = on_public_space(os.environ)
        rubric = load_rubric(extra.get("rubric"), public=public)
        checklist = parse_checklist(extra.get("checklist"), rubric)
        code = load_code(extra["code"]) if extra.get("code") else None
        parts = [load_image(image) for image in images if image is not None]
        rendered = None
        if extra.get("render"):
            from judges.render import DEFAULT_SHOTS, screenshots

            shots = extra.get("shots")
            shot = screenshots(extra["render"], DEFAULT_SHOTS if shots is None else shots)
            parts += [load_image(png) for png in shot.images]
            rendered = {
                "source": shot.source,
                "shots": len(shot.images),
                "interval_s": shot.interval_s,
                "blocked_requests": shot.blocked,
            }
        return RubricTask(instruction, texts, tuple(parts), image_description, rubric, checklist, code, rendered)

    def reordered(self, task: Task, order: tuple[int, ...]) -> Task:
        return reorder_fields(task, order, responses=tuple(task.responses[i] for i in order))

    # ------------------------------------------------------------------ prompt

    def render(
        self, task: Task, template: Template, setting: PromptSetting, criteria: str | None = None
    ) -> tuple[Message, ...]:
        """The messages of the first request (original order); the template is not used."""
        return self._messages(_as_rubric_task(task), setting, criteria)

    def _messages(self, task: RubricTask, setting: PromptSetting, notes: str | None) -> tuple[Message, ...]:
        return messages(
            instruction=task.instruction,
            responses=task.responses,
            images=task.images,
            rubric=task.rubric,
            checklist=task.checklist,
            code=task.code,
            image_description=task.image_description,
            setting=setting,
            notes=notes,
        )

    def parse(self, text: str, task: Task) -> ParseResult:
        """The overall verdict of one answer (the Procedure path reads every criterion instead)."""
        from judges.jsonread import read_object

        rubric_task = _as_rubric_task(task)
        read = read_object(text)
        if read.value is None:
            return ParseResult.failure(read.reason)
        reads = read_answer(read.value, rubric_task.rubric, len(task.responses))
        verdict, reason = _overall(rubric_task.rubric, len(task.responses), _results_of(reads))
        return ParseResult(True, verdict) if verdict is not None else ParseResult.failure(reason)

    # ------------------------------------------------------------------ judging

    def run(self, judge: Judge, tasks: Sequence[Any]) -> list[JudgeResult | JudgeError]:
        """Judge every task: all orders and samples of all tasks in one ``complete_many`` batch."""
        options = judge.options
        slots: list[JudgeResult | JudgeError | None] = [None] * len(tasks)
        plan: list[tuple[int, tuple[int, ...], int]] = []
        requests: list[ChatRequest] = []
        accepts = []
        guards: list[tuple[str, ...]] = []
        for index, raw in enumerate(tasks):
            try:
                task = _as_rubric_task(raw)
                judge.check_task(task)
                n = len(task.responses)
                if options.swap and n != 2:
                    raise BadInput("Position swap needs two responses; give a second response or turn swap off.")
            except JudgeError as exc:
                slots[index] = exc
                continue
            schema = answer_schema(task.rubric, n)
            orders = [tuple(range(n))] + ([(1, 0)] if options.swap else [])
            guard = (
                task.instruction,
                *task.responses,
                *([task.code.text] if task.code is not None else []),
                *task.checklist.general,
                *(item for _, items in task.checklist.by_criterion for item in items),
                *([options.criteria] if options.criteria else []),
            )
            for order in orders:
                shown = _as_rubric_task(self.reordered(task, order))
                msgs = self._messages(shown, judge.setting, options.criteria)
                for sample in range(options.samples):
                    sampling = options.sampling
                    if sample and sampling.seed is not None:
                        sampling = replace(sampling, seed=sampling.seed + sample)
                    plan.append((index, order, sample))
                    requests.append(json_request(msgs, schema, SCHEMA_NAME, sampling))
                    accepts.append(_accept_for(task.rubric, n))
                    guards.append(guard)
        answers = ask_json(judge, requests, accepts, guard_texts=guards) if requests else []
        by_task: dict[int, list[tuple[tuple[int, ...], int, JsonAnswer]]] = {}
        for (index, order, sample), answer in zip(plan, answers, strict=True):
            by_task.setdefault(index, []).append((order, sample, answer))
        for index, entries in by_task.items():
            slots[index] = self._result(judge, _as_rubric_task(tasks[index]), entries, _guards_of(plan, guards, index))
        return slots  # type: ignore[return-value]

    def _result(
        self,
        judge: Judge,
        task: RubricTask,
        entries: list[tuple[tuple[int, ...], int, JsonAnswer]],
        guard: tuple[str, ...],
    ) -> JudgeResult | JudgeError:
        answers = [answer for _, _, answer in entries]
        error = first_error(answers)
        if error is not None:
            return error
        n = len(task.responses)
        views = [_view(order, sample, answer, task.rubric, n, guard) for order, sample, answer in entries]
        expected = expected_parts(task.rubric, n)
        swap = judge.options.swap
        parts = {key: combine_part(views, key, exp, swap=swap) for key, exp in expected.items()}
        names = {c.key: c.name for c in task.rubric.criteria}
        scales = {c.key: None if n == 2 else c.scale for c in task.rubric.criteria}
        criteria = {names[key]: _part_dict(parts[key], scales[key]) for key in names}
        overall_verdict, overall_reason = _overall(task.rubric, n, parts)
        overall_part = parts[OVERALL]
        overall = {
            "verdict": overall_verdict,
            "comment": overall_part.comment,
            "parsed": overall_verdict is not None,
            "reason": overall_reason,
            "rule": "judge" if n == 2 else task.rubric.overall,
            "scale": None if n == 2 else f"{task.rubric.overall_low}-{task.rubric.overall_high}",
        }
        unscored = [name for name, c in criteria.items() if not c["parsed"]]
        all_parsed = not unscored and overall_verdict is not None
        reasons = [f"{name}: {criteria[name]['reason']}" for name in unscored]
        if overall_verdict is None:
            reasons.append(f"overall: {overall_reason}")
        details: dict[str, Any] = {
            "rubric": task.rubric.name,
            "prompt": PROMPT_VERSION,
            "responses": n,
            "criteria": criteria,
            "overall": overall,
            "all_parsed": all_parsed,
            "checklist": task.checklist.to_dict() or None,
            "code": task.code.to_dict() if task.code is not None else None,
            "rendered": dict(task.rendered) if task.rendered is not None else None,
        }
        result = structured_result(
            judge,
            answers,
            verdict=overall_verdict if all_parsed else None,
            details=details,
            reason="; ".join(reasons),
            analysis=overall_part.comment,
        )
        swap_outcome = None
        if swap and overall_part.swap is not None:
            info = overall_part.swap
            swap_outcome = SwapOutcome(
                _str(info.original), _str(info.swapped), info.consistent, _str(overall_part.verdict)
            )
        consistency = None
        if judge.options.samples > 1:
            verdicts = tuple(
                _overall(task.rubric, n, _results_of(v.reads))[0] if v.reads is not None else None
                for v in views
                if v.identity
            )
            parsed = [v for v in verdicts if v is not None]
            majority = self.verdicts.majority(parsed) if parsed else None
            agreement = sum(v == majority for v in parsed) / len(parsed) if parsed else None
            consistency = ConsistencyOutcome(verdicts, majority, agreement, "samples")
        # The rubric prompt is this task's own, not the template's: the result names its version.
        return replace(
            result,
            probabilities=overall_part.probabilities,
            swap=swap_outcome,
            consistency=consistency,
            template=PROMPT_VERSION,
        )

    # ------------------------------------------------------------------ display

    def verdict_html(self, verdict: Verdict, responses: Sequence[str]) -> str:
        if verdict == TIE:
            return verdict_block(
                "pair", "Overall", "Tie", '<div class="verdict-sub">Neither response is better overall.</div>'
            )
        if isinstance(verdict, str) and verdict in LETTERS:
            return verdict_block("pair", "Overall", f"Response {html.escape(verdict)} wins")
        return verdict_block("score", "Overall", html.escape(str(verdict)))

    def details_html(self, details: Mapping[str, Any]) -> str:
        """The criteria as a table: criterion, verdict (or why unscored), comment; then the overall."""
        criteria = details.get("criteria")
        if not isinstance(criteria, Mapping):
            return ""
        rows = []
        for name, part in criteria.items():
            if not isinstance(part, Mapping):
                continue
            rows.append(_row(str(name), part))
        overall = details.get("overall")
        if isinstance(overall, Mapping):
            rows.append(_row("overall", overall, strong=True))
        notes = []
        code = details.get("code")
        if isinstance(code, Mapping) and code.get("truncated"):
            notes.append(f'<p class="details-note">{html.escape(str(code.get("notice", "")))}</p>')
        rendered = details.get("rendered")
        if isinstance(rendered, Mapping):
            notes.append(
                f'<p class="details-note">Rendered {html.escape(str(rendered.get("source", "")))} to '
                f"{html.escape(str(rendered.get('shots', '')))} screenshots, network off "
                f"({html.escape(str(rendered.get('blocked_requests', 0)))} requests blocked).</p>"
            )
        head = (
            f'<table class="details details-rubric"><caption>Rubric {html.escape(str(details.get("rubric", "")))}</caption>'
            "<thead><tr><th>criterion</th><th>verdict</th><th>comment</th></tr></thead><tbody>"
        )
        return head + "".join(rows) + "</tbody></table>" + "".join(notes)

    def details_lines(self, details: Mapping[str, Any]) -> list[str]:
        """The criteria as readable lines for the command line's human output."""
        lines = [f"rubric:   {details.get('rubric')}"]
        criteria = details.get("criteria") or {}
        width = max((len(str(name)) for name in criteria), default=7)
        for name, part in list(criteria.items()) + [("overall", details.get("overall") or {})]:
            shown = _verdict_text(part)
            comment = str(part.get("comment") or "")
            lines.append(f"  {str(name):<{width}}  {shown:<12} {comment}")
        code = details.get("code")
        if isinstance(code, Mapping) and code.get("truncated"):
            lines.append(f"code:     {code.get('notice')}")
        rendered = details.get("rendered")
        if isinstance(rendered, Mapping):
            lines.append(f"rendered: {rendered.get('source')} -> {rendered.get('shots')} screenshots, network off")
        return lines


# ---------------------------------------------------------------------- helpers


def _as_rubric_task(task: Task) -> RubricTask:
    if isinstance(task, RubricTask):
        return task
    # Another task type (a plain pair or score task, say): judged with the default rubric.
    return RubricTask(task.instruction, tuple(task.responses), tuple(task.images), task.image_description)


def _guards_of(
    plan: Sequence[tuple[int, tuple[int, ...], int]], guards: Sequence[tuple[str, ...]], index: int
) -> tuple[str, ...]:
    """The guard texts of task ``index`` (the same for all its requests)."""
    return next((guard for (i, _, _), guard in zip(plan, guards, strict=True) if i == index), ())


def _accept_for(rubric: Rubric, n: int) -> Callable[[JsonRead], str]:
    def accept(read: JsonRead) -> str:
        return answer_problem(read_answer(read.value or {}, rubric, n), rubric, n)

    return accept


def _view(
    order: tuple[int, ...], sample: int, answer: JsonAnswer, rubric: Rubric, n: int, guard: tuple[str, ...]
) -> View:
    completion = answer.completion
    read = answer.read
    if completion is None or read is None or read.value is None:
        problem = (read.reason if read is not None else "") or (str(answer.error) if answer.error else "no answer")
        return View(order, sample, None, problem, completion)
    if copied_from(completion.text, guard):
        return View(
            order, sample, None, "the JSON object repeats text written by the user instead of judging", completion
        )
    return View(order, sample, read_answer(read.value, rubric, n), "", completion)


def _results_of(reads: Mapping[str, PartRead]) -> dict[str, PartResult]:
    return {key: PartResult(read.verdict, read.comment, read.reason) for key, read in reads.items()}


def _overall(rubric: Rubric, n: int, parts: Mapping[str, PartResult]) -> tuple[Verdict | None, str]:
    """The overall verdict and, when None, why: the judge's overall, or the criteria's sum."""
    if n == 2 or rubric.overall == "judge":
        part = parts[OVERALL]
        return part.verdict, part.reason
    scores = [parts[c.key].verdict for c in rubric.criteria]
    missing = [c.name for c, score in zip(rubric.criteria, scores, strict=True) if not isinstance(score, int)]
    if missing:
        return None, f"the overall is the sum of every criterion, and {', '.join(missing)} is unscored"
    return sum(score for score in scores if isinstance(score, int)), ""


def _part_dict(part: PartResult, scale: str | None) -> dict[str, Any]:
    dist = part.probabilities
    return {
        "verdict": part.verdict,
        "comment": part.comment,
        "parsed": part.verdict is not None,
        "reason": part.reason,
        "scale": scale,
        "probabilities": dict(dist.probabilities) if dist is not None else None,
        "swap": part.swap.to_dict() if part.swap is not None else None,
        "agreement": part.agreement,
    }


def _str(verdict: object) -> str | None:
    return None if verdict is None else str(verdict)


def _verdict_text(part: Mapping[str, Any]) -> str:
    verdict = part.get("verdict")
    if verdict is None:
        return f"unscored ({part.get('reason') or 'no verdict'})" if part.get("reason") else "—"
    scale = part.get("scale")
    return (
        f"{verdict} / {scale.split('-')[-1]}" if isinstance(scale, str) and isinstance(verdict, int) else str(verdict)
    )


def _row(name: str, part: Mapping[str, Any], *, strong: bool = False) -> str:
    verdict = part.get("verdict")
    if verdict is None:
        reason = part.get("reason") or ""
        cell = f'<span class="details-unscored">unscored</span> {html.escape(str(reason))}' if reason else "—"
    else:
        cell = html.escape(_verdict_text(part))
    label = f"<strong>{html.escape(name)}</strong>" if strong else html.escape(name)
    return f"<tr><td>{label}</td><td>{cell}</td><td>{html.escape(str(part.get('comment') or ''))}</td></tr>"
