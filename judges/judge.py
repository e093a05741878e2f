"""The Judge: a backend, a mode and a prompt template, turned into verdicts.

One :meth:`Judge.judge_many` call renders every request it needs (each task, in each order, each
sample), sends them to the backend in one batch (concurrent for APIs, batched for local models),
parses the answers, re-asks once where the output held no valid verdict, and folds the views back
into one :class:`~judges.types.JudgeResult` per task.
"""

from __future__ import annotations

import hashlib
import logging
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

from judges.backends.base import Backend, LabelScorer
from judges.errors import BackendError, BadInput, ConfigError, JudgeError
from judges.probabilities import distribution_from_alternatives, distribution_from_tokens
from judges.prompts import DEFAULT_TEMPLATE, PromptSetting, check_images, get_setting, load_template
from judges.tasks import TASKS, Procedure, TaskKind, get_task
from judges.types import (
    ChatRequest,
    Completion,
    ConsistencyOutcome,
    JudgeResult,
    Message,
    ParseResult,
    Sampling,
    SwapOutcome,
    Task,
    TextPart,
    Usage,
    VerdictDistribution,
    sampling_problems,
    text_problem,
)
from judges.verdicts import Verdict, VerdictSpace

log = logging.getLogger(__name__)

#: Bounds of the repetition options: beyond them a judgment is hundreds of requests (and memory).
MAX_SAMPLES = 20
MAX_SHUFFLES = 20
MAX_REASKS = 5

#: The assistant text a forward-pass verdict continues from: the verdict token comes next.
FORWARD_PREFIX = '{"Analysis": "", "Judgement": "[['


@dataclass(frozen=True)
class JudgeOptions:
    """How to judge.

    Attributes:
        setting: One of the paper's prompt settings (see :data:`judges.prompts.SETTINGS`), resolved
            once where the name comes in (the CLI, the form, the runner); a name is still accepted.
        criteria: Extra criteria or a rubric written by the user.
        template: Prompt template name.
        sampling: Decoding parameters.
        swap: Pair mode: judge both orders and reconcile (an inconsistent pair becomes a tie).
        shuffles: Batch mode: judge this many extra random orders and aggregate with a Borda count.
        samples: Judge each order this many times; the majority verdict wins.
        max_reasks: How many times to ask again when an output holds no valid verdict.
        verdict_source: ``generate`` (analysis then verdict) or ``forward`` (read the verdict's
            token probabilities in one forward pass; local judges, score and pair modes).
        seed: Seeds the batch shuffles (and the sampling seed of repeated samples when set).
    """

    setting: PromptSetting | str = "no-cot"
    criteria: str | None = None
    template: str = DEFAULT_TEMPLATE
    sampling: Sampling = field(default_factory=Sampling)
    swap: bool = False
    shuffles: int = 0
    samples: int = 1
    max_reasks: int = 1
    verdict_source: Literal["generate", "forward"] = "generate"
    seed: int = 0


@dataclass(frozen=True)
class _View:
    """One request for one task: the order the responses are shown in, and the sample number."""

    task_index: int
    order: tuple[int, ...]
    sample: int

    @property
    def identity(self) -> bool:
        return self.order == tuple(range(len(self.order)))


@dataclass
class _Outcome:
    """What one view produced, updated by re-asks."""

    view: _View
    request: ChatRequest
    completion: Completion | None = None
    error: JudgeError | None = None
    parse: ParseResult | None = None
    attempts: int = 0
    latency_s: float = 0.0
    usage: Usage = field(default_factory=Usage)
    forward: dict[str, float] | None = None


class Judge:
    """A judge model used in one mode.

    Example:
        >>> judge = Judge(create_backend("openai", "gpt-4o"), "pair", JudgeOptions(swap=True))
        >>> result = judge.judge(PairTask("What is shown?", "A cat.", "A dog.", (image,)))
    """

    def __init__(
        self, backend: Backend, task: str | TaskKind, options: JudgeOptions | None = None, *, name: str | None = None
    ) -> None:
        self.backend = backend
        self.task = get_task(task) if isinstance(task, str) else task
        self.options = options or JudgeOptions()
        self.name = name or backend.name
        setting = self.options.setting
        self.setting = get_setting(setting) if isinstance(setting, str) else setting
        self.template = load_template(self.options.template)
        self._check_options()

    def _check_options(self) -> None:
        opts, caps = self.options, self.backend.capabilities
        problems = options_problems(opts)
        if problems:
            # Field names stay as written (``samples``, ``top_p``), so the message starts with one.
            raise ConfigError("; ".join(problems) + ". Change these options and try again.")
        if opts.swap and self.task.reorder != "swap":
            raise ConfigError(
                f"Position swap applies to {_supporting('swap')} only; use shuffles for {_supporting('shuffle')}."
            )
        if opts.shuffles and self.task.reorder != "shuffle":
            raise ConfigError(
                f"Order shuffles apply to {_supporting('shuffle')} only; use swap for {_supporting('swap')}."
            )
        if self.setting.sees_image and not caps.vision:
            raise ConfigError(f"{self.name} is a text-only judge: choose the no-figure or vision-expert setting.")
        if opts.verdict_source == "forward":
            if not isinstance(self.backend, LabelScorer) or not caps.label_scoring:
                raise ConfigError(
                    f"{self.name} cannot score verdict tokens in one forward pass; use verdict_source='generate'."
                )
            if not self.task.forward_verdict:
                raise ConfigError(
                    f"{self.task.title} mode's verdict is several tokens, so it needs generation: "
                    "use verdict_source='generate'."
                )

    # ------------------------------------------------------------------ public API

    def judge(self, task: Task) -> JudgeResult:
        """Judge one task.

        Raises:
            BadInput: The task does not fit the setting (no image for a vision setting ...).
            BackendError: The model could not be reached or answered nothing usable.
        """
        result = self.judge_many([task])[0]
        if isinstance(result, JudgeError):
            raise result
        return result

    def judge_many(self, tasks: Sequence[Task]) -> list[JudgeResult | JudgeError]:
        """Judge many tasks with as much parallelism as the backend offers.

        Returns:
            One slot per task, in order: a JudgeResult (parsed or unscored), or the JudgeError that
            prevented any answer (bad input, backend failure). Errors are not verdicts: a runner
            should retry them, not store them.
        """
        if isinstance(self.task, Procedure):
            # A structured task plans its own requests; it calls check_task on each task itself.
            return self.task.run(self, tasks)
        slots: list[JudgeResult | JudgeError | None] = [None] * len(tasks)
        outcomes: list[_Outcome] = []
        for index, task in enumerate(tasks):
            try:
                self.check_task(task)
                outcomes.extend(self._outcomes_for(index, task))
            except JudgeError as exc:
                slots[index] = exc
        if self.options.verdict_source == "forward":
            self._run_forward(tasks, outcomes)
        else:
            self._run_generate(tasks, outcomes)
        by_task: dict[int, list[_Outcome]] = {}
        for outcome in outcomes:
            by_task.setdefault(outcome.view.task_index, []).append(outcome)
        for index, views in by_task.items():
            slots[index] = self._combine(tasks[index], views)
        return slots  # type: ignore[return-value]

    # ------------------------------------------------------------------ building requests

    def check_task(self, task: Task) -> None:
        """Check a task fits the setting and the backend (images present, not too many).

        Raises:
            BadInput: Saying what to change.
        """
        check_images(self.setting, len(task.images))
        limit = self.backend.capabilities.max_images
        if self.setting.sees_image and limit is not None and len(task.images) > limit:
            raise BadInput(f"{self.name} accepts at most {limit} image(s) per request; remove some.")

    def _orders(self, task: Task) -> list[tuple[int, ...]]:
        n = len(task.responses)
        orders = [tuple(range(n))]
        if self.options.swap:
            orders.append((1, 0))
        if self.options.shuffles:
            # Seeded by the task's content, so a re-run (or a resumed run) shows the same orders.
            digest = hashlib.sha256("\x1f".join((task.instruction, *task.responses)).encode()).hexdigest()
            rng = random.Random(f"{self.options.seed}:{digest}")
            for _ in range(self.options.shuffles):
                order = list(range(n))
                rng.shuffle(order)
                orders.append(tuple(order))
        return orders

    def _outcomes_for(self, index: int, task: Task) -> list[_Outcome]:
        outcomes = []
        for order in self._orders(task):
            shown = self.task.reordered(task, order)
            messages = self.task.render(shown, self.template, self.setting, self.options.criteria)
            for sample in range(self.options.samples):
                sampling = self.options.sampling
                if sample and sampling.seed is not None:
                    sampling = replace(sampling, seed=sampling.seed + sample)
                outcomes.append(_Outcome(_View(index, order, sample), ChatRequest(messages, sampling)))
        return outcomes

    # ------------------------------------------------------------------ running

    def _run_generate(self, tasks: Sequence[Task], outcomes: list[_Outcome]) -> None:
        pending = outcomes
        for attempt in range(1 + self.options.max_reasks):
            if not pending:
                return
            requests = [o.request if attempt == 0 else _reask(o) for o in pending]
            answers = self.backend.complete_many(requests)
            retry = []
            for outcome, answer in zip(pending, answers, strict=True):
                outcome.attempts += 1
                if isinstance(answer, JudgeError):
                    # Keep an earlier usable answer; a failed re-ask does not erase it.
                    if outcome.completion is None:
                        outcome.error = answer
                    continue
                outcome.completion, outcome.error = answer, None
                outcome.latency_s += answer.latency_s
                outcome.usage = outcome.usage + (answer.usage or Usage())
                shown = self.task.reordered(tasks[outcome.view.task_index], outcome.view.order)
                outcome.parse = self.task.parse(answer.text, shown)
                if not outcome.parse.ok:
                    retry.append(outcome)
            if retry and attempt < self.options.max_reasks:
                log.info("re-asking %d judgment(s) whose output held no valid verdict", len(retry))
            pending = retry

    def _run_forward(self, tasks: Sequence[Task], outcomes: list[_Outcome]) -> None:
        if not outcomes:
            return
        scorer: LabelScorer = self.backend  # type: ignore[assignment]
        labels = self.task.labels(tasks[outcomes[0].view.task_index])
        started = time.perf_counter()
        try:
            rows = scorer.label_logprobs([o.request for o in outcomes], FORWARD_PREFIX, labels)
        except JudgeError as exc:
            for outcome in outcomes:
                outcome.error = exc
            return
        share = (time.perf_counter() - started) / len(outcomes)
        for outcome, row in zip(outcomes, rows, strict=True):
            best = max(row, key=lambda label: row[label])
            text = f"[[{best}]]"
            outcome.attempts = 1
            outcome.completion = Completion(text=text, model=self.backend.name, latency_s=share)
            outcome.latency_s = share
            outcome.parse = ParseResult(
                True,
                self.task.verdicts.from_token(best),
                "Verdict read from token probabilities in one forward pass (no analysis generated).",
                span=(2, 3),
            )
            outcome.forward = row

    # ------------------------------------------------------------------ combining views

    def _combine(self, task: Task, views: list[_Outcome]) -> JudgeResult | JudgeError:
        answered = [o for o in views if o.completion is not None]
        if not answered:
            return views[0].error or BackendError("The judge returned nothing.")
        primary = next((o for o in answered if o.view.identity), answered[0])
        completion = primary.completion
        if completion is None:  # unreachable: ``answered`` holds completions only; narrows the type
            return BackendError("The judge returned nothing.")
        space = self.task.verdicts
        mapped = [(o, _map_back(space, o.parse, o.view.order)) for o in answered]
        identity_verdicts = tuple(v for o, v in mapped if o.view.identity)

        swap = consistency = None
        verdict: Verdict | None = mapped[answered.index(primary)][1]
        if self.options.swap:
            original = space.majority([v for v in identity_verdicts if v is not None])
            swapped = space.majority([v for o, v in mapped if not o.view.identity and v is not None])
            consistent = None if original is None or swapped is None else original == swapped
            # Orders that disagree cancel out: a tie where the task offers one, else no verdict.
            reconciled = (
                space.majority([v for v in (original, swapped) if v is not None])
                if consistent is False
                else original or swapped
            )
            swap = SwapOutcome(_str_or_none(original), _str_or_none(swapped), consistent, _str_or_none(reconciled))
            verdict = reconciled
        if self.options.shuffles:
            consistency = _consistency(space, tuple(v for _, v in mapped), "shuffles")
            verdict = consistency.majority
        elif self.options.samples > 1:
            consistency = _consistency(space, identity_verdicts, "samples")
            if not self.options.swap:
                verdict = consistency.majority

        reason = ""
        if verdict is None:
            reasons = sorted({o.parse.reason for o in answered if o.parse and not o.parse.ok})
            if swap is not None and swap.consistent is False:
                reasons.append("the two orders disagree and this task offers no tie")
            reason = "; ".join(reasons) or "no valid verdict"
        return JudgeResult(
            mode=self.task.name,
            judge=self.name,
            verdict=verdict,
            parsed=verdict is not None,
            analysis=primary.parse.analysis if primary.parse else "",
            raw_output=completion.text,
            latency_s=round(sum(o.latency_s for o in answered), 4),
            reason=reason,
            probabilities=self._distribution(task, primary, completion),
            swap=swap,
            consistency=consistency,
            usage=sum((o.usage for o in answered), Usage()),
            attempts=sum(o.attempts for o in views),
            template=self.template.id,
            setting=self.setting.name,
        )

    def _distribution(self, task: Task, outcome: _Outcome, completion: Completion) -> VerdictDistribution | None:
        space = self.task.verdicts
        labels = self.task.labels(task)
        display = {token: str(space.from_token(token)) for token in labels}
        chosen = (
            space.token_of(outcome.parse.verdict)
            if outcome.parse and outcome.parse.ok and outcome.parse.verdict is not None
            else None
        )
        if outcome.forward is not None:
            return distribution_from_alternatives(
                list(outcome.forward.items()), labels, chosen=chosen, display=display, source="forward"
            )
        span = outcome.parse.span if outcome.parse and outcome.parse.ok else None
        return distribution_from_tokens(
            completion.tokens,
            completion.text,
            span[0] if span else None,
            labels,
            chosen=chosen,
            display=display,
        )


# ---------------------------------------------------------------------- helpers


def options_problems(options: JudgeOptions) -> list[str]:
    """Every out-of-bounds option, each as a sentence fragment naming it ([] when all is well).

    Checked before any request is built, so an absurd value ends in one clear message instead
    of a crash or an allocation of a billion requests.
    """

    def whole(value: object, low: int, high: int) -> bool:
        return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high

    problems = []
    if not whole(options.samples, 1, MAX_SAMPLES):
        problems.append(f"samples must be a whole number from 1 to {MAX_SAMPLES}, got {options.samples!r}")
    if not whole(options.shuffles, 0, MAX_SHUFFLES):
        problems.append(f"shuffles must be a whole number from 0 to {MAX_SHUFFLES}, got {options.shuffles!r}")
    if not whole(options.max_reasks, 0, MAX_REASKS):
        problems.append(f"max_reasks must be a whole number from 0 to {MAX_REASKS}, got {options.max_reasks!r}")
    problems += sampling_problems(options.sampling)
    if options.criteria is not None:
        problems += [p for p in [text_problem("criteria", options.criteria)] if p]
    return problems


def _supporting(reorder: str) -> str:
    names = [kind.name for kind in TASKS.values() if kind.reorder == reorder]
    return " or ".join(f"{name} mode" for name in names) or "a task that supports it"


def _str_or_none(verdict: Verdict | None) -> str | None:
    return None if verdict is None else str(verdict)


def _map_back(space: VerdictSpace, parse: ParseResult | None, order: tuple[int, ...]) -> Verdict | None:
    """A view's verdict in terms of the original letters (None when the view was unscored)."""
    if parse is None or not parse.ok or parse.verdict is None:
        return None
    if order == tuple(range(len(order))):
        return parse.verdict
    return space.map_back(parse.verdict, order)


def _consistency(space: VerdictSpace, verdicts: tuple[Verdict | None, ...], kind: str) -> ConsistencyOutcome:
    parsed = [v for v in verdicts if v is not None]
    majority = space.majority(parsed)
    agreement = sum(v == majority for v in parsed) / len(parsed) if parsed else None
    return ConsistencyOutcome(verdicts, majority, agreement, kind)  # type: ignore[arg-type]


def _reask(outcome: _Outcome) -> ChatRequest:
    """The original conversation, the unusable answer, and a short request for a valid verdict."""
    reason = outcome.parse.reason if outcome.parse else "no verdict"
    follow_up = (
        f"Your reply could not be used ({reason}). Reply again with only the JSON object, "
        'and put the verdict in "Judgement" in the requested format.'
    )
    messages = (
        *outcome.request.messages,
        Message("assistant", (TextPart(outcome.completion.text if outcome.completion else ""),)),
        Message("user", (TextPart(follow_up),)),
    )
    return ChatRequest(messages, outcome.request.sampling)
