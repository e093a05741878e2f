"""A solution as steps, and ProJudge's error classes: the pure half of the ``process`` task.

Splitting (:func:`split_solution`): a JSON list of strings is taken as it is; free text is split on
"Step k" markers (``Step 1:``, ``**Step 2.**``, ``step 3)`` at a line's start) when it has at least
two, else on its non-empty lines. The split is reported back so a user can see and correct it.

Error classes (:data:`ERROR_TYPES`): ProJudge's seven, by name; :func:`error_type` also reads their
two-letter codes (NC, SC, VI, RE, KE, QU, NS) and spellings with ``_`` or ``-``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

from judges.errors import BadInput
from judges.types import text_problem

#: ProJudge's error classes: name -> (code, what it means, in our words).
ERROR_TYPES: dict[str, tuple[str, str]] = {
    "numerical calculation": ("NC", "an arithmetic or numeric evaluation mistake"),
    "symbolic calculation": ("SC", "a mistake manipulating formulas or symbols"),
    "visual interpretation": ("VI", "misreading the image (a value, a label, a shape, a position)"),
    "reasoning": ("RE", "an invalid inference or a wrong plan"),
    "knowledge": ("KE", "a wrong fact, law, formula or definition"),
    "question understanding": ("QU", "misreading what the question asks or gives"),
    "no solution": ("NS", "no attempt, or a step that gives no usable content"),
}
_BY_CODE = {code.lower(): name for name, (code, _) in ERROR_TYPES.items()}
#: Most steps a solution may have, and most characters per step.
MAX_STEPS = 200
MAX_STEP_CHARS = 4000
_MARKER = re.compile(r"^[ \t>*_#-]*step[ \t]*(\d{1,4})[ \t]*[:.)\]-]?[*_]*[ \t]*", re.IGNORECASE | re.MULTILINE)


@dataclass(frozen=True)
class Split:
    """A solution cut into steps.

    Attributes:
        steps: The steps' texts, in order.
        how: ``list`` (given as a list), ``step markers`` or ``lines``.
    """

    steps: tuple[str, ...]
    how: str


def error_type(raw: object) -> str | None:
    """The canonical class name of ``raw`` (a name, a code, any case), or None when it is none of them."""
    if not isinstance(raw, str):
        return None
    text = " ".join(raw.strip().lower().replace("_", " ").replace("-", " ").split())
    if text in ERROR_TYPES:
        return text
    return _BY_CODE.get(text)


def _checked(steps: Sequence[str], how: str) -> Split:
    cleaned = tuple(s.strip() for s in steps if s.strip())
    if not cleaned:
        raise BadInput("The solution has no steps: give a JSON list of steps, one step per line, or 'Step k:' markers.")
    if len(cleaned) > MAX_STEPS:
        raise BadInput(f"The solution has {len(cleaned)} steps; at most {MAX_STEPS} are judged at once: shorten it.")
    for number, step in enumerate(cleaned, start=1):
        if len(step) > MAX_STEP_CHARS:
            raise BadInput(f"Step {number} has {len(step):,} characters, more than {MAX_STEP_CHARS:,}: split it.")
        problem = text_problem(f"Step {number}", step)
        if problem:
            raise BadInput(problem + ".")
    return Split(cleaned, how)


def split_text(text: str) -> Split:
    """Free text cut on "Step k" markers (two or more), else on its non-empty lines."""
    marks = list(_MARKER.finditer(text))
    if len(marks) >= 2:
        ends = [m.start() for m in marks[1:]] + [len(text)]
        return _checked([text[m.end() : end] for m, end in zip(marks, ends, strict=True)], "step markers")
    return _checked(text.splitlines(), "lines")


def split_solution(value: object) -> Split:
    """Steps from a list of strings, a JSON list in a string, or free text.

    Raises:
        BadInput: No step, too many, or a step that is not text.
    """
    if isinstance(value, (list, tuple)):
        if not all(isinstance(s, str) for s in value):
            raise BadInput("Every step must be text: give the steps as a JSON list of strings.")
        return _checked(value, "list")
    if not isinstance(value, str):
        raise BadInput("Give the solution as a list of steps or as text.")
    stripped = value.strip()
    if stripped.startswith("["):
        try:
            parsed = json.loads(stripped)
        except ValueError:
            parsed = None
        if isinstance(parsed, list):
            return split_solution(parsed)
    return split_text(value)
