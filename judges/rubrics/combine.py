"""Fold the answers of one rubric judgment (orders x samples) into one verdict per criterion.

Per criterion, as the Judge does for one-label tasks: samples of one order reduce by majority (a
score's tie goes to the value nearest the mean, a split A/B vote is a tie); with position swap the
swapped order's verdicts are mapped back to the original letters first, and a criterion whose two
orders disagree becomes a tie. A criterion unscored in one order takes the other order's verdict.
Probabilities per criterion are read, when the backend returned token log-probabilities, at the
token where the first answer in the original order wrote that criterion's verdict.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from judges.probabilities import distribution_from_alternatives, token_at
from judges.rubrics.read import Expect, PartRead
from judges.rubrics.verdicts import RubricVerdicts
from judges.types import Completion, VerdictDistribution
from judges.verdicts import TIE, TIE_TOKEN, Verdict

_SPACE = RubricVerdicts()


@dataclass(frozen=True)
class View:
    """One answer of a judgment.

    Attributes:
        order: The order the responses were shown in (``(1, 0)``: swapped).
        sample: The sample number within that order.
        reads: The parts read from the answer, or None when it held no usable object.
        problem: Why the whole answer is unusable ('' when ``reads`` is set).
        completion: The completion, for log-probabilities.
    """

    order: tuple[int, ...]
    sample: int
    reads: Mapping[str, PartRead] | None
    problem: str
    completion: Completion | None

    @property
    def identity(self) -> bool:
        """Whether the responses were shown in their original order."""
        return self.order == tuple(range(len(self.order)))


@dataclass(frozen=True)
class PartSwap:
    """One criterion judged in both orders (the swapped order's verdict mapped back)."""

    original: Verdict | None
    swapped: Verdict | None
    consistent: bool | None

    def to_dict(self) -> dict[str, object]:
        """JSON-ready."""
        return {"original": self.original, "swapped": self.swapped, "consistent": self.consistent}


@dataclass(frozen=True)
class PartResult:
    """One criterion (or the overall) over every answer of a judgment.

    Attributes:
        verdict: The combined verdict, or None (then ``reason`` says why).
        comment: The judge's comment from the first answer that scored the criterion.
        reason: Why unscored ('' when scored).
        swap: Both orders' verdicts, when both were judged.
        agreement: Share of the original order's samples that agree with the majority (samples > 1).
        probabilities: Verdict label -> probability, when token log-probabilities were given.
    """

    verdict: Verdict | None
    comment: str
    reason: str
    swap: PartSwap | None = None
    agreement: float | None = None
    probabilities: VerdictDistribution | None = None


def _mapped(view: View, key: str) -> Verdict | None:
    read = view.reads.get(key) if view.reads is not None else None
    if read is None or read.verdict is None:
        return None
    return read.verdict if view.identity else _SPACE.map_back(read.verdict, view.order)


def combine_part(views: Sequence[View], key: str, expected: Expect, *, swap: bool) -> PartResult:
    """One part's verdict over ``views`` (see the module docstring)."""
    original = [v for v in (_mapped(view, key) for view in views if view.identity) if v is not None]
    swapped = [v for v in (_mapped(view, key) for view in views if not view.identity) if v is not None]
    first = _SPACE.majority(original)
    verdict = first
    swap_info = None
    if swap:
        second = _SPACE.majority(swapped)
        consistent = None if first is None or second is None else first == second
        verdict = TIE if consistent is False else (first if first is not None else second)
        swap_info = PartSwap(first, second, consistent)
    samples = [view for view in views if view.identity]
    agreement = None
    if len(samples) > 1 and original:
        agreement = sum(v == first for v in original) / len(original)
    comment = ""
    for view in sorted(views, key=lambda v: (not v.identity, v.sample)):
        read = view.reads.get(key) if view.reads is not None else None
        if read is not None and read.comment and (read.ok or not comment):
            comment = read.comment
            if read.ok:
                break
    reason = ""
    if verdict is None and (expected.low is not None or expected.choice):
        reasons = []
        for view in views:
            read = view.reads.get(key) if view.reads is not None else None
            why = read.reason if read is not None else view.problem
            if why and why not in reasons:
                reasons.append(why)
        reason = "; ".join(reasons) or "no verdict"
    primary = next((view for view in views if view.identity and view.sample == 0), None)
    probabilities = _distribution(primary, key, expected, first) if primary is not None else None
    return PartResult(verdict, comment, reason, swap_info, agreement, probabilities)


def _labels(expected: Expect) -> tuple[str, ...] | None:
    if expected.choice:
        return ("A", "B", TIE_TOKEN)
    if expected.low is None or expected.high is None or expected.high > 9:
        return None  # two-digit scores span several tokens: no one token carries the verdict
    return tuple(str(v) for v in range(expected.low, expected.high + 1))


def verdict_offset(text: str, key: str, expected: Expect) -> int | None:
    """Where the verdict of ``key`` starts in a raw answer (nested or flat form), or None."""
    name = "winner" if expected.choice else "score"
    nested = re.compile(r'["\']' + re.escape(key) + r'["\']\s*:\s*\{')
    match = nested.search(text)
    if match:
        inner = re.compile(r'["\']' + name + r'["\']\s*:\s*["\']?')
        closing = text.find("}", match.end())
        found = inner.search(text, match.end(), closing if closing >= 0 else len(text))
        return found.end() if found else None
    flat = re.compile(r'["\']' + re.escape(key) + r"(?:_" + name + r')?["\']\s*:\s*["\']?')
    found = flat.search(text)
    return found.end() if found else None


def _distribution(view: View, key: str, expected: Expect, chosen: Verdict | None) -> VerdictDistribution | None:
    completion = view.completion
    labels = _labels(expected)
    if completion is None or not completion.tokens or labels is None:
        return None
    offset = verdict_offset(completion.text, key, expected)
    if offset is None:
        return None
    index = token_at(completion.tokens, completion.text, offset)
    if index is None:
        return None
    token = completion.tokens[index]
    alternatives = list(token.top) or [(token.token, token.logprob)]
    if all(alt != token.token for alt, _ in alternatives):
        alternatives.append((token.token, token.logprob))
    display = {TIE_TOKEN: TIE} if expected.choice else None
    chosen_token = None if chosen is None else (TIE_TOKEN if chosen == TIE else str(chosen))
    return distribution_from_alternatives(alternatives, labels, chosen=chosen_token, display=display)
