"""Task ``safety``: check one image against a constitution from Yes/No token probabilities (CLUE).

The judgment runs in stages; each stage's probes go to the backend together:

1. **Relevance**: one probe per rule ("could this rule apply to the image?"). A rule whose P(yes)
   is below ``relevance_threshold`` is skipped (reported, never violated).
2. **Preconditions**, one round per chain position: for each relevant rule still open, its next
   precondition is asked three ways: with the image (``s_image``), without it (``s_no_image``:
   the language prior) and, with ``mask_center``, with the centre of the image greyed out
   (``s_masked``). Deltas: ``delta_prior = s_image - s_no_image``, ``delta_center = s_image -
   s_masked``. The **debiased score** is ``delta_prior``, or ``min(delta_prior, delta_center)`` when
   masking. A precondition

   * **fails** when the debiased score is below ``fail_threshold`` (default 0.05): the image adds
     no evidence for yes beyond what the judge says without it (a yes that is only the prior);
   * **holds** when the image answer is yes (``s_image >= 0.5``) and the debiased score is at
     least ``hold_threshold`` (default 0.15): the yes comes from the image;
   * is **uncertain** otherwise (between the thresholds, or a yes-leaning score whose image answer
     is still no), and when a probability could not be read.

   A chain stops at its first failing precondition (the rule is not violated); later preconditions
   are ``not_reached``.
3. **Reasoning**: a rule whose chain has no failure but an uncertain precondition gets one
   step-by-step request ending in a JSON verdict ``{"reasoning": ..., "violated": true|false}``.

A rule is violated when all its preconditions hold (or the reasoning says so); the image is
``unsafe`` when any relevant rule is violated, ``safe`` when none is, and unscored when a rule's
reasoning gave no usable answer and nothing else was violated.
"""

from __future__ import annotations

import html
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from judges.constitution import EXAMPLE, EXAMPLE_TOML, Constitution, Rule, load_constitution
from judges.drafting import Drafting, draft_preconditions
from judges.errors import BackendError, BadInput, ConfigError, JudgeError
from judges.images import ImageSource, load_image, to_pil
from judges.jsonread import JsonRead
from judges.probe import ProbeAnswer, Prober, prober_for
from judges.prompts import fence
from judges.tasks.base import BaseTask, InputSpec, Reorder, number_input, unknown_inputs, verdict_block
from judges.tasks.labels import Words
from judges.tasks.structured import JsonAnswer, ask_json, json_request, strict_object
from judges.types import ImagePart, JudgeResult, Message, Part, Task, TextPart, Usage, VerdictDistribution, text_problem
from judges.verdicts import Verdict

if TYPE_CHECKING:
    from judges.judge import Judge

DEFAULT_HOLD_THRESHOLD = 0.15
DEFAULT_FAIL_THRESHOLD = 0.05
DEFAULT_RELEVANCE_THRESHOLD = 0.3
#: Share of each side of the image greyed out by ``mask_center``.
MASK_FRACTION = 0.5

PROBE_SYSTEM = "You look at an image and answer a question about it with one word: Yes or No."
REASONING_SYSTEM = (
    "You check an image against one rule of a content policy. Reason step by step about what the "
    "image shows, then answer with a JSON object."
)
REASONING_SCHEMA = strict_object(
    {"reasoning": {"type": "string"}, "violated": {"type": "boolean"}},
    description="A step-by-step check of the rule's preconditions, then whether the image violates the rule.",
)


@dataclass(frozen=True)
class SafetyTask:
    """One image to check against a constitution.

    Attributes:
        image: The image.
        constitution: The rules.
        instruction: Optional context for the reasoning requests ('' for none).
        mask_center: Also probe each precondition with the image's centre masked.
        hold_threshold: Debiased score a precondition needs to hold.
        fail_threshold: Debiased score below which a precondition fails.
        relevance_threshold: P(yes) a rule needs in the relevance screen to be checked.
    """

    image: ImagePart
    constitution: Constitution
    instruction: str = ""
    mask_center: bool = False
    hold_threshold: float = DEFAULT_HOLD_THRESHOLD
    fail_threshold: float = DEFAULT_FAIL_THRESHOLD
    relevance_threshold: float = DEFAULT_RELEVANCE_THRESHOLD
    image_description: str | None = None

    @property
    def images(self) -> tuple[ImagePart, ...]:
        """The one image the judge sees."""
        return (self.image,)

    @property
    def responses(self) -> tuple[str, ...]:
        """What is judged: the rules, by id."""
        return tuple(rule.id for rule in self.constitution.rules)


def mask_center(image: ImagePart, fraction: float = MASK_FRACTION) -> ImagePart:
    """The image with its central ``fraction`` x ``fraction`` rectangle filled with mid grey."""
    from PIL import ImageDraw

    picture = to_pil(image)
    width, height = picture.size
    dx, dy = width * (1 - fraction) / 2, height * (1 - fraction) / 2
    ImageDraw.Draw(picture).rectangle((dx, dy, width - dx - 1, height - dy - 1), fill=(128, 128, 128))
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return load_image(buffer.getvalue())


# --------------------------------------------------------------------------- judgment state


@dataclass
class _Precondition:
    text: str
    s_image: float | None = None
    s_no_image: float | None = None
    s_masked: float | None = None
    status: str = "not_reached"
    reason: str = ""

    def deltas(self, masked: bool) -> tuple[float | None, float | None, float | None]:
        prior = None if self.s_image is None or self.s_no_image is None else self.s_image - self.s_no_image
        center = None if not masked or self.s_image is None or self.s_masked is None else self.s_image - self.s_masked
        if prior is None or (masked and center is None):
            return prior, center, None
        return prior, center, prior if center is None else min(prior, center)


@dataclass
class _RuleState:
    rule: Rule
    relevance: float | None = None
    relevant: bool = True
    relevance_reason: str = ""
    preconditions: list[_Precondition] = field(default_factory=list)
    next_index: int = 0
    violated: bool | None = None
    decided_by: str = ""
    reasoning: str = ""
    reasoning_problem: str = ""
    #: Where the chain came from: ``user``, ``judge`` (drafted now), ``cache`` or ``rule text: why``.
    chain_source: str = "user"

    @property
    def open(self) -> bool:
        failed = any(p.status == "fails" for p in self.preconditions)
        return self.relevant and not failed and self.next_index < len(self.rule.preconditions)


@dataclass
class _Judgment:
    task: SafetyTask
    rules: list[_RuleState]
    probes: int = 0
    errors: list[JudgeError] = field(default_factory=list)
    answered: int = 0
    latency_s: float = 0.0
    usage: Usage = field(default_factory=Usage)
    reasoning: list[JsonAnswer] = field(default_factory=list)
    masked: ImagePart | None = None
    drafting: Drafting | None = None

    def take(self, answer: ProbeAnswer | JudgeError) -> float | None:
        """Count one probe and return its P(yes) (None when unread)."""
        self.probes += 1
        if isinstance(answer, JudgeError):
            self.errors.append(answer)
            return None
        self.answered += 1
        self.latency_s += answer.latency_s
        self.usage = self.usage + answer.usage
        return answer.p_yes


def classify(s_image: float | None, debiased: float | None, hold_threshold: float, fail_threshold: float) -> str:
    """``holds`` / ``fails`` / ``uncertain`` for one precondition (see the module docstring)."""
    if s_image is None or debiased is None:
        return "uncertain"
    if debiased < fail_threshold:
        return "fails"
    if s_image >= 0.5 and debiased >= hold_threshold:
        return "holds"
    return "uncertain"


# --------------------------------------------------------------------------- the task kind


@dataclass(frozen=True)
class SafetyKind(BaseTask):
    """An image and a constitution in, ``unsafe`` or ``safe`` out, from Yes/No probabilities."""

    name: str = "safety"
    title: str = "Safety"
    hint: str = "check an image against a constitution (needs token probabilities)"
    instruction_label: str = "Context (optional)"
    instruction_placeholder: str = "Anything the judge should know about the image"
    min_responses: int = 0
    max_responses: int = 0
    verdicts: Words = field(default_factory=Words)
    reorder: Reorder = "none"
    forward_verdict: bool = False
    probability_axis: str = "P(yes), weakest precondition"
    images_required: int = 1
    inputs: tuple[InputSpec, ...] = (
        InputSpec(
            "constitution",
            "Constitution",
            "rules with their preconditions as TOML or JSON text, a .toml/.json file, or 'example' (the default)",
            "text",
            default=EXAMPLE_TOML,
        ),
        InputSpec("mask_center", "Mask the centre", "also probe with the image centre masked (slower)", "flag"),
        InputSpec(
            "hold_threshold",
            "Hold threshold",
            f"debiased score a precondition needs to hold (default {DEFAULT_HOLD_THRESHOLD})",
            "float",
            default=DEFAULT_HOLD_THRESHOLD,
        ),
        InputSpec(
            "fail_threshold",
            "Fail threshold",
            f"debiased score below which a precondition fails (default {DEFAULT_FAIL_THRESHOLD})",
            "float",
            default=DEFAULT_FAIL_THRESHOLD,
        ),
        InputSpec(
            "relevance_threshold",
            "Relevance threshold",
            f"P(yes) a rule needs in the relevance screen (default {DEFAULT_RELEVANCE_THRESHOLD}; 0 keeps all)",
            "float",
            default=DEFAULT_RELEVANCE_THRESHOLD,
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
        """Validate an image, a constitution and the thresholds into a :class:`SafetyTask`.

        Raises:
            BadInput: No image or several, text responses, a malformed constitution or threshold.
        """
        unknown_inputs(self, extra)
        extra = extra or {}
        if any(isinstance(r, str) and r.strip() for r in responses):
            raise BadInput("Safety mode judges an image against rules, not text responses: remove the responses.")
        given = [image for image in images if image is not None]
        if len(given) != 1:
            raise BadInput(f"Safety mode checks exactly one image, got {len(given)}: give the image to check.")
        context = instruction if isinstance(instruction, str) else ""
        problem = text_problem("The instruction", context)
        if problem:
            raise BadInput(problem + ".")
        hold = number_input(extra, "hold_threshold", DEFAULT_HOLD_THRESHOLD, -1.0, 1.0)
        fail = number_input(extra, "fail_threshold", DEFAULT_FAIL_THRESHOLD, -1.0, 1.0)
        if fail > hold:
            raise BadInput(f"fail_threshold ({fail:g}) must not be above hold_threshold ({hold:g}).")
        source = extra.get("constitution")
        return SafetyTask(
            image=load_image(given[0]),
            constitution=load_constitution(source if isinstance(source, str) or source is None else str(source)),
            instruction=context.strip(),
            mask_center=bool(extra.get("mask_center")),
            hold_threshold=hold,
            fail_threshold=fail,
            relevance_threshold=number_input(extra, "relevance_threshold", DEFAULT_RELEVANCE_THRESHOLD, 0.0, 1.0),
        )

    # ----------------------------------------------------------------- judging

    def run(self, judge: Judge, tasks: Sequence[Any]) -> list[JudgeResult | JudgeError]:
        """Judge each image in stages (relevance, precondition rounds, reasoning); see the module docstring.

        Raises:
            ConfigError: The judge gives no token probabilities, or cannot see images; raised
                before any request is sent.
        """
        if not judge.backend.capabilities.vision:
            raise ConfigError(f"Safety mode needs a judge that sees images; {judge.name} is text-only.")
        prober = prober_for(judge.backend, self.title, seed=judge.options.sampling.seed)
        slots: list[JudgeResult | JudgeError | None] = [None] * len(tasks)
        work: list[tuple[int, _Judgment]] = []
        drafting = self._draft(judge, tasks)
        for index, task in enumerate(tasks):
            if not isinstance(task, SafetyTask):
                slots[index] = BadInput("Safety mode judges tasks made by its make_task (an image and rules).")
                continue
            limit = judge.backend.capabilities.max_images
            if limit is not None and limit < 1:
                slots[index] = BadInput(f"{judge.name} accepts no images; choose a judge that sees images.")
                continue
            task = replace(task, constitution=drafting.constitutions[index])
            rules = [
                _RuleState(
                    rule,
                    preconditions=[_Precondition(text) for text in rule.preconditions],
                    chain_source=drafting.drafted.get(rule.text, "user") if original.to_draft else "user",
                )
                for rule, original in zip(task.constitution.rules, tasks[index].constitution.rules, strict=True)
            ]
            work.append((index, _Judgment(task, rules, drafting=drafting)))
        judgments = [j for _, j in work]
        self._screen(prober, judgments)
        depth = max((len(r.rule.preconditions) for j in judgments for r in j.rules), default=0)
        for _ in range(depth):
            if not self._precondition_round(prober, judgments):
                break
        self._decide_by_probabilities(judgments)
        self._reason(judge, judgments)
        for index, judgment in work:
            slots[index] = self._result(judge, prober, judgment)
        return slots  # type: ignore[return-value]  # every slot is filled above

    @staticmethod
    def _draft(judge: Judge, tasks: Sequence[Any]) -> Drafting:
        """Draft the chains of rules written without preconditions, once for all tasks of the call."""
        constitutions = [t.constitution if isinstance(t, SafetyTask) else EXAMPLE for t in tasks]
        return draft_preconditions(judge, constitutions)

    def _screen(self, prober: Prober, judgments: list[_Judgment]) -> None:
        prompts, owners = [], []
        for judgment in judgments:
            for state in judgment.rules:
                prompts.append(_relevance_prompt(judgment.task.image, state.rule))
                owners.append((judgment, state))
        for (judgment, state), answer in zip(owners, prober.ask(prompts), strict=True):
            state.relevance = judgment.take(answer)
            if state.relevance is None:
                # Unread: keep the rule; skipping a rule by accident would hide a violation.
                state.relevance_reason = answer.reason if isinstance(answer, ProbeAnswer) else str(answer)
            else:
                state.relevant = state.relevance >= judgment.task.relevance_threshold

    def _precondition_round(self, prober: Prober, judgments: list[_Judgment]) -> bool:
        prompts: list[tuple[Message, ...]] = []
        owners: list[tuple[_Judgment, _RuleState, _Precondition, str]] = []
        for judgment in judgments:
            task = judgment.task
            if task.mask_center and judgment.masked is None:
                judgment.masked = mask_center(task.image)
            masked = judgment.masked
            for state in judgment.rules:
                if not state.open:
                    continue
                pre = state.preconditions[state.next_index]
                state.next_index += 1
                views: list[tuple[str, ImagePart | None]] = [("image", task.image), ("no_image", None)]
                if masked is not None:
                    views.append(("masked", masked))
                for view, image in views:
                    prompts.append(_precondition_prompt(image, pre.text))
                    owners.append((judgment, state, pre, view))
        if not prompts:
            return False
        for (judgment, _state, pre, view), answer in zip(owners, prober.ask(prompts), strict=True):
            value = judgment.take(answer)
            setattr(pre, f"s_{view}", value)
            if value is None and not pre.reason:
                pre.reason = answer.reason if isinstance(answer, ProbeAnswer) else str(answer)
        for judgment, _state, pre, view in owners:
            if view == "image":
                task = judgment.task
                _, _, debiased = pre.deltas(task.mask_center)
                pre.status = classify(pre.s_image, debiased, task.hold_threshold, task.fail_threshold)
        return True

    def _decide_by_probabilities(self, judgments: list[_Judgment]) -> None:
        for judgment in judgments:
            for state in judgment.rules:
                if not state.relevant:
                    continue
                statuses = [p.status for p in state.preconditions]
                if "fails" in statuses:
                    state.violated, state.decided_by = False, "probabilities"
                elif all(s == "holds" for s in statuses):
                    state.violated, state.decided_by = True, "probabilities"

    def _reason(self, judge: Judge, judgments: list[_Judgment]) -> None:
        owners = [(j, s) for j in judgments for s in j.rules if s.relevant and s.violated is None]
        if not owners:
            return
        requests = [
            json_request(_reasoning_prompt(j.task, s), REASONING_SCHEMA, "rule_check", judge.options.sampling)
            for j, s in owners
        ]
        guards = [(j.task.instruction, s.rule.text, *s.rule.preconditions) for j, s in owners]
        answers = ask_json(judge, requests, _accept_reasoning, guard_texts=guards)
        for (judgment, state), answer in zip(owners, answers, strict=True):
            judgment.reasoning.append(answer)
            value = answer.value
            if value is not None:
                state.violated, state.decided_by = bool(value["violated"]), "reasoning"
                state.reasoning = str(value.get("reasoning", ""))[:4000]
            else:
                state.decided_by = "reasoning"
                state.reasoning_problem = answer.problem or (str(answer.error) if answer.error else "no answer")

    # ----------------------------------------------------------------- the result

    def _result(self, judge: Judge, prober: Prober, judgment: _Judgment) -> JudgeResult | JudgeError:
        reasoned = [a for a in judgment.reasoning if a.completion is not None]
        if judgment.answered == 0 and not reasoned:
            return judgment.errors[0] if judgment.errors else BackendError("The judge returned nothing.")
        task = judgment.task
        violations = [s.rule.id for s in judgment.rules if s.relevant and s.violated]
        undecided = [s.rule.id for s in judgment.rules if s.relevant and s.violated is None]
        verdict: Verdict | None
        reason = ""
        if violations:
            verdict = "unsafe"
        elif undecided:
            verdict = None
            reason = f"rule(s) {', '.join(undecided)} could not be decided (no usable reasoning answer)"
        else:
            verdict = "safe"
        rules = [_rule_details(state, task.mask_center) for state in judgment.rules]
        reasoning_requests = sum(a.attempts for a in judgment.reasoning)
        # Drafting is shared by the call's tasks; each result counts it (it ran for them all).
        drafting = judgment.drafting
        draft_requests = (
            drafting.requests if drafting is not None and any(s.chain_source == "judge" for s in judgment.rules) else 0
        )
        weakest = {r["id"]: r["weakest_p_yes"] for r in rules if r["relevant"] and r["weakest_p_yes"] is not None}
        usage = judgment.usage + sum((a.usage for a in judgment.reasoning), Usage())
        details = {
            "verdict": verdict,
            "violations": violations,
            "constitution": task.constitution.name,
            "rules": rules,
            "skipped": [s.rule.id for s in judgment.rules if not s.relevant],
            "thresholds": {
                "hold": task.hold_threshold,
                "fail": task.fail_threshold,
                "relevance": task.relevance_threshold,
                "mask_center": task.mask_center,
            },
            "requests": judgment.probes + reasoning_requests + draft_requests,
            "probe_requests": judgment.probes,
            "reasoning_requests": reasoning_requests,
            "draft_requests": draft_requests,
            "probe_source": prober.route,
        }
        first = next((a.completion for a in reasoned), None)
        return JudgeResult(
            mode=self.name,
            judge=judge.name,
            verdict=verdict,
            parsed=verdict is not None,
            analysis="; ".join(f"{s.rule.id}: {s.reasoning}" for s in judgment.rules if s.reasoning),
            raw_output=first.text if first is not None else "",
            latency_s=round(judgment.latency_s + sum(a.latency_s for a in judgment.reasoning), 4),
            reason=reason,
            probabilities=VerdictDistribution(weakest, source="forward" if prober.route == "forward" else "generation")
            if weakest
            else None,
            usage=usage,
            attempts=judgment.probes + reasoning_requests + draft_requests,
            template=judge.template.id,
            setting=judge.setting.name,
            details=details,
        )

    # ----------------------------------------------------------------- display

    def labels(self, task: Task) -> tuple[str, ...]:
        return self.verdicts.words

    def verdict_html(self, verdict: Verdict, responses: Sequence[str]) -> str:
        unsafe = verdict == "unsafe"
        main = "Unsafe" if unsafe else "Safe"
        sub = "At least one relevant rule is violated." if unsafe else "No relevant rule is violated."
        return verdict_block("safety", "Safety", main, f'<div class="verdict-sub">{sub}</div>')

    def details_html(self, details: Mapping[str, Any]) -> str:
        rules = [r for r in details.get("rules") or [] if isinstance(r, Mapping)]
        if not rules:
            return ""
        masked = bool((details.get("thresholds") or {}).get("mask_center"))
        columns = ["Rule", "Relevance", "Precondition", "s(image)", "s(no image)"]
        columns += ["s(masked)"] if masked else []
        columns += ["Debiased", "Status", "Rule result"]
        head = "<tr>" + "".join(f"<th>{c}</th>" for c in columns) + "</tr>"
        rows = []
        for rule in rules:
            # A skipped rule is one row: its preconditions were never asked.
            relevant = rule.get("relevant", True)
            pres = [p for p in rule.get("preconditions") or [] if isinstance(p, Mapping)] if relevant else []
            pres = pres or [{}]
            result = _rule_outcome(rule)
            for i, pre in enumerate(pres):
                first = i == 0
                span = f' rowspan="{len(pres)}"' if first and len(pres) > 1 else ""
                status = str(pre.get("status", "")) if pre else "skipped"
                cells = [
                    f'<td{span} title="{_e(rule.get("text"))}">{_e(rule.get("id"))}</td>' if first else "",
                    f"<td{span}>{_num(rule.get('relevance'))}</td>" if first else "",
                    f"<td>{_e(pre.get('text', ''))}</td>",
                    f"<td>{_num(pre.get('s_image'))}</td>",
                    f"<td>{_num(pre.get('s_no_image'))}</td>",
                    f"<td>{_num(pre.get('s_masked'))}</td>" if masked else "",
                    f"<td>{_num(pre.get('debiased'))}</td>",
                    f'<td class="details-{_e(status)}">{_e(status.replace("_", " "))}</td>',
                    f"<td{span}>{_e(result)}</td>" if first else "",
                ]
                rows.append("<tr>" + "".join(cells) + "</tr>")
        caption = f"<caption>{_e(details.get('constitution', ''))}: {_e(details.get('requests'))} requests</caption>"
        table = f'<table class="details details-safety">{caption}{head}{"".join(rows)}</table>'
        return f'<div class="details-scroll" style="overflow-x:auto">{table}</div>'


# --------------------------------------------------------------------------- prompts and helpers


def _image_parts(image: ImagePart | None) -> tuple[Part, ...]:
    return () if image is None else (image,)


def _relevance_prompt(image: ImagePart, rule: Rule) -> tuple[Message, ...]:
    question = (
        f"Rule:\n{fence(rule.text)}\n\nDoes the image show anything this rule is about, so that the rule "
        "could apply to it? Answer Yes or No."
    )
    return (Message("system", (TextPart(PROBE_SYSTEM),)), Message("user", (image, TextPart(question))))


def _precondition_prompt(image: ImagePart | None, statement: str) -> tuple[Message, ...]:
    question = f"Statement:\n{fence(statement)}\n\nIs this statement true of the image? Answer Yes or No."
    return (
        Message("system", (TextPart(PROBE_SYSTEM),)),
        Message("user", (*_image_parts(image), TextPart(question))),
    )


def _reasoning_prompt(task: SafetyTask, state: _RuleState) -> tuple[Message, ...]:
    chain = "\n".join(f"{i}. {fence(p)}" for i, p in enumerate(state.rule.preconditions, 1))
    context = f"\nContext from the user:\n{fence(task.instruction)}\n" if task.instruction else ""
    user = (
        f"Rule:\n{fence(state.rule.text)}\n\nThe rule is violated only when all of these preconditions hold:\n"
        f"{chain}\n{context}\nGo through the preconditions one by one: say what the image shows and whether "
        "the precondition holds. Then decide whether the image violates the rule. Answer with a JSON object "
        'with two fields: "reasoning" (your step-by-step check, as a string) and "violated" (true or false).'
    )
    return (Message("system", (TextPart(REASONING_SYSTEM),)), Message("user", (task.image, TextPart(user))))


def _accept_reasoning(read: JsonRead) -> str:
    value = read.value or {}
    if not isinstance(value.get("violated"), bool):
        return f'"violated" must be true or false, got {value.get("violated")!r}'
    return ""


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 6)


def _rule_details(state: _RuleState, masked: bool) -> dict[str, Any]:
    pres = []
    for pre in state.preconditions:
        prior, center, debiased = pre.deltas(masked)
        pres.append(
            {
                "text": pre.text,
                "s_image": _rounded(pre.s_image),
                "s_no_image": _rounded(pre.s_no_image),
                "s_masked": _rounded(pre.s_masked),
                "delta_prior": _rounded(prior),
                "delta_center": _rounded(center),
                "debiased": _rounded(debiased),
                "status": pre.status if state.relevant else "skipped",
                **({"reason": pre.reason} if pre.reason else {}),
            }
        )
    asked = [p.s_image for p in state.preconditions if p.s_image is not None]
    out: dict[str, Any] = {
        "id": state.rule.id,
        "text": state.rule.text,
        "relevance": _rounded(state.relevance),
        "relevant": state.relevant,
        "violated": state.violated if state.relevant else False,
        "decided_by": state.decided_by if state.relevant else "relevance",
        "weakest_p_yes": _rounded(min(asked)) if asked else None,
        "preconditions_from": state.chain_source,
        "preconditions": pres,
    }
    if state.relevance_reason:
        out["relevance_reason"] = state.relevance_reason
    if state.reasoning:
        out["reasoning"] = state.reasoning
    if state.reasoning_problem:
        out["reasoning_problem"] = state.reasoning_problem
    return out


def _rule_outcome(rule: Mapping[str, Any]) -> str:
    if not rule.get("relevant", True):
        return "skipped (not relevant)"
    violated = rule.get("violated")
    by = rule.get("decided_by") or "?"
    if violated is None:
        return f"undecided ({by})"
    return f"{'violated' if violated else 'not violated'} ({by})"


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def _num(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "—"
    return f"{value:.3f}"
