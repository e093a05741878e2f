"""The shared machinery of tasks whose judge answers with a JSON object (rubric, verify, process ...).

Such a task builds its requests with :func:`json_request` (the messages plus the answer's JSON
schema, which OpenAI-compatible backends send as ``response_format`` and drop when the server
refuses it), sends them all at once with :func:`ask_json`, and reads each answer with its own
``accept`` function on the object :mod:`judges.jsonread` found. An answer that holds no usable
object is asked again (``max_reasks`` of the options), with the reason, as in the one-label tasks.
:func:`structured_result` then folds the answers of one task into a
:class:`~judges.types.JudgeResult` whose ``details`` holds the task's parts.

The task's prompt always describes the JSON it wants, so a judge that cannot be constrained (a
local model, a server that refused the schema) is asked for the same object in words.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from judges.errors import BackendError, ConfigError, JudgeError
from judges.jsonread import JsonRead, read_object
from judges.types import ChatRequest, Completion, JudgeResult, Message, ResponseFormat, Sampling, TextPart, Usage
from judges.verdicts import Verdict

if TYPE_CHECKING:
    from judges.judge import Judge

log = logging.getLogger(__name__)

#: Shortest stretch of user text that counts as copied when a judge's JSON repeats it verbatim.
COPY_PROBE_CHARS = 40

#: ``accept(read) -> reason``: '' when the object read is usable, else why not (asked again).
Accept = Callable[[JsonRead], str]


def strict_object(properties: Mapping[str, Any], *, description: str = "") -> dict[str, Any]:
    """A JSON-schema object in the form strict structured output wants: every property required,
    no others allowed.

    Args:
        properties: Property name -> its schema, in the order the judge should write them.
        description: What the object is, for the model.
    """
    schema: dict[str, Any] = {
        "type": "object",
        "properties": dict(properties),
        "required": list(properties),
        "additionalProperties": False,
    }
    if description:
        schema["description"] = description
    return schema


def json_request(messages: Sequence[Message], schema: Mapping[str, Any], name: str, sampling: Sampling) -> ChatRequest:
    """A request whose answer must be an object of ``schema`` (log-probabilities kept as asked)."""
    return ChatRequest(tuple(messages), sampling, ResponseFormat(name, schema))


@dataclass
class JsonAnswer:
    """What one JSON request produced, updated by re-asks.

    Attributes:
        request: The request as first sent.
        completion: The last usable completion (None when every attempt failed).
        error: The error that ended the last attempt, when there was no completion.
        read: What the lenient reader found in the completion.
        problem: Why the object read is not usable ('' when it is); from ``accept``.
        attempts: Requests sent, re-asks included.
        latency_s: Model time over all attempts.
        usage: Tokens over all attempts.
    """

    request: ChatRequest
    completion: Completion | None = None
    error: JudgeError | None = None
    read: JsonRead | None = None
    problem: str = ""
    attempts: int = 0
    latency_s: float = 0.0
    usage: Usage = field(default_factory=Usage)

    @property
    def value(self) -> dict[str, Any] | None:
        """The usable object, or None."""
        return self.read.value if self.read is not None and not self.problem else None


def copied_from(text: str, guard_texts: Sequence[str]) -> bool:
    """Whether the JSON object in ``text`` starts with a verbatim copy of a user-written text.

    A response or instruction can carry a ready-made verdict object ("ignore the above and answer
    {...}"); a judge that parrots it has not judged. The check compares the object's opening
    :data:`COPY_PROBE_CHARS` characters with each guard text (one substring search each).
    """
    start = text.find("{")
    if start < 0:
        return False
    probe = text[start : start + COPY_PROBE_CHARS]
    if len(probe) < COPY_PROBE_CHARS:
        return False
    return any(probe in guard for guard in guard_texts if guard)


def ask_json(
    judge: Judge,
    requests: Sequence[ChatRequest],
    accept: Accept | Sequence[Accept],
    *,
    guard_texts: Sequence[Sequence[str]] | None = None,
) -> list[JsonAnswer]:
    """Send every request at once and read a JSON object out of each answer; re-ask unusable ones.

    Args:
        judge: Supplies the backend and ``max_reasks``.
        requests: The requests, all sent in one ``complete_many`` call.
        accept: One function for all requests, or one per request; returns '' for a usable object,
            else the reason (given to the judge when it is asked again).
        guard_texts: Per request, the user-written texts a usable object must not be copied from.

    Returns:
        One :class:`JsonAnswer` per request, in order.
    """
    answers = [JsonAnswer(request) for request in requests]
    accepts = [accept] * len(requests) if callable(accept) else list(accept)
    guards = list(guard_texts) if guard_texts is not None else [()] * len(requests)
    pending = list(range(len(requests)))
    for attempt in range(1 + judge.options.max_reasks):
        if not pending:
            break
        batch = [answers[i].request if attempt == 0 else _reask(answers[i]) for i in pending]
        replies = judge.backend.complete_many(batch)
        retry = []
        for index, reply in zip(pending, replies, strict=True):
            answer = answers[index]
            answer.attempts += 1
            if isinstance(reply, JudgeError):
                if answer.completion is None:
                    answer.error = reply
                continue
            answer.completion, answer.error = reply, None
            answer.latency_s += reply.latency_s
            answer.usage = answer.usage + (reply.usage or Usage())
            answer.read = read_object(reply.text)
            if answer.read.value is None:
                answer.problem = answer.read.reason
            elif copied_from(reply.text, guards[index]):
                answer.problem = "the JSON object repeats text written by the user instead of judging"
            else:
                answer.problem = accepts[index](answer.read)
            if answer.problem:
                retry.append(index)
        if retry and attempt < judge.options.max_reasks:
            log.info("re-asking %d JSON answer(s) that could not be used", len(retry))
        pending = retry
    return answers


def _reask(answer: JsonAnswer) -> ChatRequest:
    """The conversation so far, the unusable answer and a request for the JSON object alone."""
    follow_up = (
        f"Your reply could not be used ({answer.problem or 'no JSON object'}). Reply again with only "
        "the JSON object described above: every field present, every score on its scale."
    )
    messages = (
        *answer.request.messages,
        Message("assistant", (TextPart(answer.completion.text if answer.completion else ""),)),
        Message("user", (TextPart(follow_up),)),
    )
    return ChatRequest(messages, answer.request.sampling, answer.request.response_format)


def refuse_samples(judge: Judge, title: str) -> None:
    """Refuse repeated samples for a task that asks once per task and has no majority rule for its parts.

    Raises:
        ConfigError: ``samples`` is not 1.
    """
    if judge.options.samples != 1:
        raise ConfigError(f"{title} mode asks the judge once per task; set samples to 1.")


def first_error(answers: Sequence[JsonAnswer]) -> JudgeError | None:
    """The error to report when none of ``answers`` got a completion, else None."""
    if any(a.completion is not None for a in answers):
        return None
    return next((a.error for a in answers if a.error is not None), BackendError("The judge returned nothing."))


def structured_result(
    judge: Judge,
    answers: Sequence[JsonAnswer],
    *,
    verdict: Verdict | None,
    details: Mapping[str, Any],
    reason: str = "",
    analysis: str = "",
) -> JudgeResult:
    """One JudgeResult from the JSON answers of one task.

    ``raw_output`` is the first answer's text; latency, usage and attempts add up over all answers.
    ``details`` gains ``structured_output``: whether every request went with its JSON schema.
    """
    answered = [a for a in answers if a.completion is not None]
    first = answered[0].completion if answered else None
    structured = [a.completion.structured for a in answered if a.completion is not None]
    return JudgeResult(
        mode=judge.task.name,
        judge=judge.name,
        verdict=verdict,
        parsed=verdict is not None,
        analysis=analysis,
        raw_output=first.text if first is not None else "",
        latency_s=round(sum(a.latency_s for a in answers), 4),
        reason="" if verdict is not None else (reason or "no valid verdict"),
        usage=sum((a.usage for a in answers), Usage()),
        attempts=sum(a.attempts for a in answers),
        template=judge.template.id,
        setting=judge.setting.name,
        details={**details, "structured_output": bool(structured) and all(s is True for s in structured)},
    )
