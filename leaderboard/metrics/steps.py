"""Step-level agreement of a process judge (ProJudge) with labelled steps.

Labels are a JSONL file, one solution per line: ``{"item_id": "7", "steps": [{"correct": true},
{"correct": false, "error_type": "numerical calculation"}, ...]}`` (a step may also be written ``1``
/ ``0``; error types by name or two-letter code, see :mod:`judges.steps`). Predictions are the
``steps`` marks a ``process`` judgment keeps in its details (``correct``, ``error_type``,
``parsed``), by item id.

Metrics, over the labelled solutions that have a judgment (an unscored step counts as a miss, never
as a guess):

* ``step_accuracy``: share of labelled steps whose correct / wrong mark equals the label;
* ``error_type_accuracy``: share of labelled wrong steps (with a labelled class) the judge marked
  wrong with that class;
* ``erroneous_f1``: F1 of finding the wrong steps (positive = wrong): 2 TP / (2 TP + FP + FN), a
  missed or unscored wrong step being a FN;
* ``first_error_accuracy``: share of solutions whose first wrong step (0 when none) the judge got
  exactly, its verdict counting as wrong when it is not determined;
* ``coverage``: share of labelled steps with a scored mark.

A metric with nothing to count (no wrong step labelled, say) is None, not 0.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from judges.steps import error_type


@dataclass(frozen=True)
class StepLabel:
    """One labelled step: correct or not, and the class of a wrong one (None when not labelled)."""

    correct: bool
    error_type: str | None = None


@dataclass(frozen=True)
class StepMetrics:
    """Step-level metrics of one judge over labelled solutions (see the module docstring)."""

    cases: int
    steps: int
    wrong_steps: int
    missing_cases: int
    coverage: float | None
    step_accuracy: float | None
    error_type_accuracy: float | None
    erroneous_f1: float | None
    first_error_accuracy: float | None

    def to_dict(self) -> dict[str, Any]:
        """The metrics as a JSON-ready dict, rounded to 4 decimals."""
        return {k: round(v, 4) if isinstance(v, float) else v for k, v in self.__dict__.items()}


def _label(raw: object) -> StepLabel | None:
    if isinstance(raw, bool) or (isinstance(raw, int) and raw in (0, 1)):
        return StepLabel(bool(raw))
    if isinstance(raw, Mapping) and isinstance(raw.get("correct"), (bool, int)) and raw["correct"] in (0, 1):
        correct = bool(raw["correct"])
        return StepLabel(correct, None if correct else error_type(raw.get("error_type")))
    return None


def read_step_labels(path: str | Path) -> tuple[dict[str, tuple[StepLabel, ...]], list[str]]:
    """Labelled solutions from a JSONL file; bad lines are skipped and reported, never fatal.

    Returns:
        ``(labels by item id, problems as "file:line: reason")``; a repeated item id keeps its first line.
    """
    path = Path(path)
    labels: dict[str, tuple[StepLabel, ...]] = {}
    problems: list[str] = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            where = f"{path.name}:{number}"
            try:
                row = json.loads(line)
            except ValueError:
                problems.append(f"{where}: not JSON")
                continue
            if not isinstance(row, Mapping) or not isinstance(row.get("steps"), list) or "item_id" not in row:
                problems.append(f"{where}: expected an object with item_id and a steps list")
                continue
            steps = [_label(s) for s in row["steps"]]
            if not steps or any(s is None for s in steps):
                problems.append(f"{where}: every step must be true/false, 1/0 or {{correct, error_type}}")
                continue
            item = str(row["item_id"])
            if item in labels:
                problems.append(f"{where}: item {item} repeated (first kept)")
                continue
            labels[item] = tuple(s for s in steps if s is not None)
    return labels, problems


def marks_from_judgments(lines: Iterable[Mapping[str, Any]]) -> dict[str, list[Mapping[str, Any]]]:
    """Item id -> its step marks, from judgment lines (``judgments.jsonl`` rows or result dicts with
    ``item_id`` and ``details.steps``); lines without marks are left out."""
    out: dict[str, list[Mapping[str, Any]]] = {}
    for line in lines:
        details = line.get("details")
        steps = details.get("steps") if isinstance(details, Mapping) else None
        if "item_id" in line and isinstance(steps, list):
            out.setdefault(str(line["item_id"]), [m for m in steps if isinstance(m, Mapping)])
    return out


def _first_wrong(flags: Sequence[bool | None]) -> int | None:
    """1-based first False, 0 for none, None when an undecided step comes first."""
    for number, flag in enumerate(flags, start=1):
        if flag is None:
            return None
        if flag is False:
            return number
    return 0


def _share(hits: int, total: int) -> float | None:
    return hits / total if total else None


def step_metrics(
    marks: Mapping[str, Sequence[Mapping[str, Any]]], labels: Mapping[str, Sequence[StepLabel]]
) -> StepMetrics:
    """Compare a judge's step marks with the labels (see the module docstring for the definitions)."""
    steps = wrong = scored = agree = typed = typed_right = tp = fp = fn = first_right = cases = 0
    for item, gold in labels.items():
        predicted = marks.get(item)
        if predicted is None:
            continue
        cases += 1
        flags: list[bool | None] = []
        for index, label in enumerate(gold):
            mark = predicted[index] if index < len(predicted) else {}
            parsed = mark.get("parsed") is True and isinstance(mark.get("correct"), bool)
            said: bool | None = mark["correct"] if parsed else None
            flags.append(said)
            steps += 1
            scored += parsed
            agree += said is label.correct
            if not label.correct:
                wrong += 1
                tp += said is False
                fn += said is not False
                if label.error_type is not None:
                    typed += 1
                    typed_right += said is False and error_type(mark.get("error_type")) == label.error_type
            else:
                fp += said is False
        first_right += _first_wrong(flags) == _first_wrong([g.correct for g in gold])
    f1_base = 2 * tp + fp + fn
    return StepMetrics(
        cases=cases,
        steps=steps,
        wrong_steps=wrong,
        missing_cases=len(labels) - cases,
        coverage=_share(scored, steps),
        step_accuracy=_share(agree, steps),
        error_type_accuracy=_share(typed_right, typed),
        erroneous_f1=2 * tp / f1_base if f1_base else None,
        first_error_accuracy=_share(first_right, cases),
    )
