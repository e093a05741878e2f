"""Every request a judgment made, kept for the Judge tab: orders, samples, re-asks, the prompt.

A :class:`~judges.types.JudgeResult` carries the analysis, raw output and token probabilities of
its first request only. After a position swap, order shuffles or several samples that first view
can contradict the verdict (the verdict is a tie, yet the first order's plot shows A at 60 %). The
tab therefore wraps the backend in a :class:`RecordingBackend`, which keeps each request and its
answer, and rebuilds the views from them here:

* :func:`recorded_views`: one :class:`ViewRecord` per order and sample, with its verdict and its
  label distribution mapped back to the original letters (re-asks folded into their view);
* :func:`reconciled_distribution`: the mean of those mapped distributions, so the plot and the
  confidence describe the verdict that is shown;
* :func:`prompt_text`: the exact rendered prompt, text with image placeholders.

A view's order is read from its request and then checked by rendering that order again, so a view
whose order cannot be established is shown as such rather than mapped wrongly. No gradio here.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from judges.errors import JudgeError
from judges.probabilities import distribution_from_tokens
from judges.prompts import PromptSetting, Template
from judges.tasks.base import TaskKind
from judges.types import Capabilities, ChatRequest, Completion, ImagePart, Message, Task, TextPart, VerdictDistribution
from judges.verdicts import LETTERS, Verdict

# --------------------------------------------------------------------------- recording


@dataclass
class RecordingBackend:
    """A backend wrapper that keeps every request and answer, in order (thread-safe).

    Attributes:
        inner: The backend that answers.
        exchanges: ``(request, answer)`` pairs, in the order the requests were sent.
    """

    inner: Any
    exchanges: list[tuple[ChatRequest, Completion | JudgeError]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def name(self) -> str:
        """The wrapped backend's name."""
        return self.inner.name

    @property
    def capabilities(self) -> Capabilities:
        """The wrapped backend's capabilities."""
        return self.inner.capabilities

    def complete(self, request: ChatRequest) -> Completion:
        """Answer one request through the wrapped backend and record it."""
        answer = self.inner.complete(request)
        with self._lock:
            self.exchanges.append((request, answer))
        return answer

    def complete_many(self, requests: Sequence[ChatRequest]) -> list[Completion | JudgeError]:
        """Answer many requests through the wrapped backend and record them."""
        answers = list(self.inner.complete_many(requests))
        with self._lock:
            self.exchanges.extend(zip(requests, answers, strict=False))
        return answers

    def close(self) -> None:
        """Close the wrapped backend."""
        self.inner.close()


# --------------------------------------------------------------------------- views


@dataclass(frozen=True)
class ViewRecord:
    """One order and sample of a judgment, as the judge answered it.

    Attributes:
        order: Position i showed original response ``order[i]``; None when it could not be read.
        sample: 0-based sample number within its order.
        attempts: Requests made for this view (2 when the first output was re-asked).
        raw_output: The last answer's text ("" when every attempt failed).
        verdict: The view's verdict in the original letters, None when unscored.
        distribution: Label -> probability in the original letters, None when unknown.
        error: Why the view has no answer ("" when it has one).
    """

    order: tuple[int, ...] | None
    sample: int
    attempts: int
    raw_output: str
    verdict: Verdict | None
    distribution: dict[str, float] | None
    error: str = ""

    def describe(self, n_responses: int) -> str:
        """``original order, sample 1``, ``swapped order (B shown as A)``, ``order B, C, A``."""
        sample = f", sample {self.sample + 1}"
        if self.order is None:
            return f"order unknown{sample}"
        if n_responses < 2 or self.order == tuple(range(len(self.order))):
            return f"original order{sample}"
        shown = ", ".join(LETTERS[i] for i in self.order)
        return f"responses shown in the order {shown}{sample}"


def _shown_order(task: Task, request: ChatRequest) -> tuple[int, ...] | None:
    """The order a request shows the task's responses in, proposed from its text (checked later)."""
    n = len(task.responses)
    if n < 2:
        return ()
    text = "".join(part.text for message in request.messages for part in message.content if isinstance(part, TextPart))
    order: list[int] = []
    for letter in LETTERS[:n]:
        match = re.search(rf"\[The Start of Answer {letter}\]\n(.*?)\n\[The End of Answer {letter}\]", text, re.S)
        if match is None:
            return None
        shown = match.group(1)
        candidates = [i for i, r in enumerate(task.responses) if i not in order and _fenced(r) == shown]
        if not candidates:
            return None
        order.append(candidates[0])
    return tuple(order)


def _fenced(text: str) -> str:
    from judges.prompts import fence

    return fence(text.strip())


def recorded_views(
    kind: TaskKind,
    task: Task,
    exchanges: Sequence[tuple[ChatRequest, Completion | JudgeError]],
    template: Template,
    setting: PromptSetting,
    criteria: str | None,
) -> list[ViewRecord]:
    """Rebuild the views of one judgment from its recorded exchanges.

    A request whose messages extend an earlier request's (a re-ask) belongs to that earlier view.

    Args:
        kind: The task kind.
        task: The judged task (original order).
        exchanges: What :class:`RecordingBackend` kept.
        template: The prompt template the judge used.
        setting: The prompt setting the judge used.
        criteria: The user's criteria the judge used.
    """
    groups: list[tuple[ChatRequest, list[Completion | JudgeError]]] = []
    for request, answer in exchanges:
        owner = next((g for g in groups if _is_reask_of(request, g[0], g[1])), None)
        if owner is not None:
            owner[1].append(answer)
        else:
            groups.append((request, [answer]))
    views: list[ViewRecord] = []
    samples: dict[tuple[int, ...] | None, int] = {}
    for request, answers in groups:
        n = len(task.responses)
        # Without a readable proposal (responses that are not text blocks, such as two images), only
        # the original and the reversed order are tried; nothing is mapped unless one renders.
        proposals = (_shown_order(task, request), tuple(range(n)), tuple(range(n))[::-1])
        sent = tuple(request.messages)
        order = next(
            (
                o
                for o in proposals
                if o is not None and kind.render(kind.reordered(task, o), template, setting, criteria) == sent
            ),
            None,
        )
        sample = samples.get(order, 0)
        samples[order] = sample + 1
        views.append(_view(kind, task, order, sample, answers))
    return views


def _is_reask_of(request: ChatRequest, first: ChatRequest, answers: list[Completion | JudgeError]) -> bool:
    """Whether ``request`` re-asks the view begun by ``first``: its conversation plus the view's last answer."""
    n = len(first.messages)
    if len(request.messages) <= n or request.messages[:n] != first.messages:
        return False
    last = next((a for a in reversed(answers) if isinstance(a, Completion)), None)
    said = "".join(p.text for p in request.messages[n].content if isinstance(p, TextPart))
    return last is not None and said == last.text


def _view(
    kind: TaskKind, task: Task, order: tuple[int, ...] | None, sample: int, answers: list[Completion | JudgeError]
) -> ViewRecord:
    completions = [a for a in answers if isinstance(a, Completion)]
    if not completions:
        error = next((str(a) for a in answers if isinstance(a, JudgeError)), "no answer")
        return ViewRecord(order, sample, len(answers), "", None, None, error)
    # The Judge keeps an earlier usable answer when a re-ask fails; the last completion is the one used.
    completion = completions[-1]
    if order is None:
        return ViewRecord(None, sample, len(answers), completion.text, None, None)
    identity = tuple(range(len(order)))
    shown = kind.reordered(task, order) if order and order != identity else task
    parse = kind.parse(completion.text, shown)
    space = kind.verdicts
    verdict = None
    if parse.ok and parse.verdict is not None:
        verdict = parse.verdict if not order or order == identity else space.map_back(parse.verdict, order)
    distribution = None
    if parse.ok and parse.span is not None:
        labels = kind.labels(shown)
        try:
            dist = distribution_from_tokens(
                completion.tokens, completion.text, parse.span[0], labels, chosen=None, display=None
            )
        except (TypeError, ValueError, OverflowError):
            dist = None  # token data we cannot read: probabilities unknown, the verdict stands
        if dist is not None:
            distribution = _mapped(kind, dist, order)
    return ViewRecord(order, sample, len(answers), completion.text, verdict, distribution)


def _mapped(kind: TaskKind, dist: VerdictDistribution, order: tuple[int, ...]) -> dict[str, float]:
    """A shown-order token distribution in the original order's display labels ("A", "tie", "4")."""
    space = kind.verdicts
    out: dict[str, float] = {}
    for token, p in dist.probabilities.items():
        verdict = space.from_token(token)
        if order and order != tuple(range(len(order))):
            verdict = space.map_back(verdict, order)
        label = str(space.from_token(space.token_of(verdict)))
        out[label] = out.get(label, 0.0) + float(p)
    return out


@dataclass(frozen=True)
class Reconciled:
    """The verdict distribution of a whole judgment.

    Attributes:
        probabilities: Label -> mean probability over the views that reported one, in the
            original letters and in the labels' display order.
        views: How many views contributed.
        total: How many views the judgment had.
        confidence: The probability of the final verdict's label (its first letter for a ranking).
        expected_score: The mean of a numeric scale under ``probabilities``, else None.
    """

    probabilities: dict[str, float]
    views: int
    total: int
    confidence: float | None
    expected_score: float | None


def reconciled_distribution(
    kind: TaskKind, task: Task, views: Sequence[ViewRecord], verdict: Verdict | None
) -> Reconciled | None:
    """Combine the views' mapped distributions (their mean), or None when no view has one."""
    known = [v.distribution for v in views if v.distribution]
    if not known:
        return None
    space = kind.verdicts
    labels = [str(space.from_token(token)) for token in kind.labels(task)]
    mean = {label: sum(d.get(label, 0.0) for d in known) / len(known) for label in labels}
    total = sum(mean.values())
    if total > 0:
        mean = {label: p / total for label, p in mean.items()}
    confidence = None
    if verdict is not None:
        confidence = mean.get(str(space.from_token(space.token_of(verdict))))
    expected = None
    if labels and all(label.isdigit() for label in labels):
        expected = sum(int(label) * p for label, p in mean.items())
    return Reconciled(mean, len(known), len(views), confidence, expected)


# --------------------------------------------------------------------------- the prompt


def prompt_text(messages: Sequence[Message]) -> str:
    """A rendered conversation as plain text, images as ``<image 1: 64x40 image/png>`` placeholders."""
    blocks = []
    count = 0
    for message in messages:
        parts = []
        for part in message.content:
            if isinstance(part, ImagePart):
                count += 1
                parts.append(f"<image {count}: {part.width}x{part.height} {part.media_type}>")
            elif isinstance(part, TextPart):
                parts.append(part.text)
        blocks.append(f"### {message.role}\n" + "\n".join(parts))
    return "\n\n".join(blocks)
