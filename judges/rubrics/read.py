"""Read one rubric answer: a verdict and a comment per criterion, each checked on its own.

A criterion that is missing, or whose verdict is off its scale or not a verdict at all, is unscored
with a reason; the others stand. The reader takes the schema's nested form
(``{"clarity": {"comment": ..., "score": 4}}``) and the flat forms judges also write
(``"clarity_score": 4, "clarity_comment": ...`` or ``"clarity": 4``), with scores as numbers or
numeric strings (``"8"``, ``"8/10"``). It reads at most :data:`MAX_READ_CHARS` of a comment.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from judges.rubrics.model import OVERALL, Rubric, key_of
from judges.rubrics.prompt import SCORE_KEY, WINNER_KEY
from judges.verdicts import TIE, Verdict

#: Longest comment kept per criterion.
MAX_READ_CHARS = 4_000
#: Most top-level keys of an answer read (a rubric has at most 21).
MAX_KEYS = 1_000

_NUMBER = re.compile(r"\s*(-?\d{1,6})(?:\.0+)?\s*(?:/\s*\d{1,6}\s*)?")
_COMMENT_KEYS = ("comment", "reason", "reasoning", "analysis", "explanation")
_SCORE_KEYS = (SCORE_KEY, "rating", "value", "verdict")
_WINNER_KEYS = (WINNER_KEY, "choice", "verdict", "better")


@dataclass(frozen=True)
class PartRead:
    """One criterion (or the overall) as read from one answer.

    Attributes:
        verdict: A score, ``A``/``B``/``tie``, or None when unscored.
        comment: The judge's comment ('' when none).
        reason: Why the verdict is None ('' when it is not).
    """

    verdict: Verdict | None
    comment: str = ""
    reason: str = ""

    @property
    def ok(self) -> bool:
        """Whether a verdict was read."""
        return self.verdict is not None


@dataclass(frozen=True)
class Expect:
    """What one part expects: a score on low..high, a winner (``choice``), or only a comment."""

    low: int | None
    high: int | None
    choice: bool = False


def expected_parts(rubric: Rubric, n_responses: int) -> dict[str, Expect]:
    """Answer key -> what it must hold, in answer order (criteria, then ``overall``)."""
    pair = n_responses == 2
    parts = {c.key: Expect(c.low, c.high, pair) for c in rubric.criteria}
    if pair or rubric.overall == "judge":
        parts[OVERALL] = Expect(rubric.overall_low, rubric.overall_high, pair)
    else:
        parts[OVERALL] = Expect(None, None)
    return parts


def _lookup(value: Mapping[str, Any], key: str) -> tuple[bool, Any]:
    # ``value`` is normalised by read_answer (keys as key_of spells them), so this is one dict lookup.
    if key in value:
        return True, value[key]
    return False, None


def normalised(value: Mapping[str, Any]) -> dict[str, Any]:
    """The answer's top-level keys as :func:`key_of` spells them ("Visual Fidelity" -> ``visual_fidelity``);
    the first of two spellings wins, and at most :data:`MAX_KEYS` keys are read."""
    out: dict[str, Any] = {}
    for index, (k, v) in enumerate(value.items()):
        if index >= MAX_KEYS:
            break
        if isinstance(k, str):
            out.setdefault(key_of(k[:200]), v)
    return out


def _comment(raw: object) -> str:
    return raw[:MAX_READ_CHARS].strip() if isinstance(raw, str) else ""


def _entry(value: Mapping[str, Any], key: str, expected: Expect) -> tuple[bool, Any, str]:
    """(found, the raw verdict, the comment) for ``key`` in nested or flat form."""
    verdict_names = _WINNER_KEYS if expected.choice else _SCORE_KEYS
    found, entry = _lookup(value, key)
    if found and isinstance(entry, Mapping):
        comment = next((_comment(entry[k]) for k in _COMMENT_KEYS if k in entry), "")
        for name in verdict_names:
            if name in entry:
                return True, entry[name], comment
        return True, None, comment
    comment = next((_comment(v) for k in _COMMENT_KEYS for f, v in [_lookup(value, f"{key}_{k}")] if f), "")
    if found:
        return True, entry, comment
    for name in verdict_names:
        flat_found, flat = _lookup(value, f"{key}_{name}")
        if flat_found:
            return True, flat, comment
    return False, None, comment


def _score(raw: object, low: int, high: int) -> tuple[int | None, str]:
    number: int | None = None
    if type(raw) is int:
        number = raw
    elif isinstance(raw, float) and raw.is_integer():
        number = int(raw)
    elif isinstance(raw, str):
        match = _NUMBER.fullmatch(raw[:40])
        number = int(match.group(1)) if match else None
    if number is None:
        return None, f"its score {_shown(raw)} is not a whole number"
    if not low <= number <= high:
        return None, f"its score {number} is off its scale {low}-{high}"
    return number, ""


def _winner(raw: object) -> tuple[str | None, str]:
    text = raw.strip().upper() if isinstance(raw, str) else ""
    if text in ("A", "B"):
        return text, ""
    if text in ("C", "TIE", "EQUAL"):
        return TIE, ""
    return None, f"its winner {_shown(raw)} is not A, B or C (tie)"


def _shown(raw: object) -> str:
    text = repr(raw)
    return text if len(text) <= 40 else text[:37] + "..."


def read_part(value: Mapping[str, Any], key: str, expected: Expect) -> PartRead:
    """One part of an answer, checked against what it must hold."""
    found, raw, comment = _entry(value, key, expected)
    if expected.low is None and not expected.choice:
        return PartRead(None, comment, "")  # a comment-only part: nothing to score
    if not found:
        return PartRead(None, comment, "missing from the answer")
    if raw is None:
        return PartRead(None, comment, f"no {'winner' if expected.choice else 'score'} given")
    if expected.choice:
        winner, problem = _winner(raw)
        return PartRead(winner, comment, problem)
    assert expected.high is not None and expected.low is not None
    score, problem = _score(raw, expected.low, expected.high)
    return PartRead(score, comment, problem)


def read_answer(value: Mapping[str, Any], rubric: Rubric, n_responses: int) -> dict[str, PartRead]:
    """Every part of one answer (criteria by key, then ``overall``), each read on its own."""
    keys = normalised(value)
    return {key: read_part(keys, key, expected) for key, expected in expected_parts(rubric, n_responses).items()}


def answer_problem(reads: Mapping[str, PartRead], rubric: Rubric, n_responses: int) -> str:
    """Why an answer is not complete ('' when every part that needs a verdict has one)."""
    expected = expected_parts(rubric, n_responses)
    names = {c.key: c.name for c in rubric.criteria} | {OVERALL: OVERALL}
    problems = [
        f"{names[key]}: {read.reason}"
        for key, read in reads.items()
        if not read.ok and (expected[key].low is not None or expected[key].choice)
    ]
    return "; ".join(problems)
