"""The judge-task registry: the CLI, the runner, stored runs, the leaderboard and the Judge tab list
tasks from here and ask each task kind what they need; none of them branches on a task's name.

Adding a task kind is one module beside these (a :class:`~judges.tasks.base.TaskKind`) and one line
in ``_KINDS``.
"""

from __future__ import annotations

from collections.abc import Sequence

from judges.errors import ConfigError
from judges.parsing import parse_with
from judges.tasks.base import BaseTask, InputSpec, Procedure, Reorder, TaskKind
from judges.tasks.batch import BatchKind
from judges.tasks.image_pair import ImagePairKind
from judges.tasks.pair import PairKind
from judges.tasks.process import ProcessKind
from judges.tasks.relevance import RelevanceKind
from judges.tasks.rubric import RubricKind
from judges.tasks.safety import SafetyKind
from judges.tasks.score import ScoreKind
from judges.tasks.verify import VerifyKind
from judges.types import ParseResult

_KINDS: tuple[TaskKind, ...] = (
    ScoreKind(),
    PairKind(),
    BatchKind(),
    ImagePairKind(),
    RubricKind(),
    VerifyKind(),
    ProcessKind(),
    SafetyKind(),
    RelevanceKind(),
)

#: Task name -> task kind, in display order.
TASKS: dict[str, TaskKind] = {kind.name: kind for kind in _KINDS}


def get_task(name: str) -> TaskKind:
    """Look up a task kind by name.

    Raises:
        ConfigError: The name is unknown; the message lists the valid ones.
    """
    try:
        return TASKS[name]
    except (KeyError, TypeError):
        raise ConfigError(f"Unknown mode {name!r}. Choose one of: {', '.join(TASKS)}.") from None


def task_names() -> list[str]:
    """Registered task names, in display order."""
    return list(TASKS)


def task_inputs() -> dict[str, InputSpec]:
    """Every task's extra inputs by name, in registry order (tasks sharing an input declare it alike)."""
    specs: dict[str, InputSpec] = {}
    for kind in TASKS.values():
        for spec in kind.inputs:
            specs.setdefault(spec.name, spec)
    return specs


def task_label(name: str) -> str:
    """What selectors show for a task: ``Pair (A, B or tie)``."""
    kind = get_task(name)
    return f"{kind.title} ({kind.hint})"


def parse_verdict(
    task: str | TaskKind,
    text: str | None,
    *,
    n_responses: int | None = None,
    guard_texts: Sequence[str] = (),
) -> ParseResult:
    """Parse a judge's output into a verdict of ``task`` (a name or a kind).

    See :func:`judges.parsing.parse_with` for the rules.

    Raises:
        ValueError: ``task`` is not a registered task (a programming error, not bad output).
    """
    if isinstance(task, str):
        kind = TASKS.get(task)
        if kind is None:
            raise ValueError(f"unknown mode {task!r}; expected one of {', '.join(TASKS)}")
    else:
        kind = task
    return parse_with(kind.verdicts, text, n_responses=n_responses, guard_texts=guard_texts)


__all__ = [
    "TASKS",
    "BaseTask",
    "InputSpec",
    "Procedure",
    "Reorder",
    "TaskKind",
    "get_task",
    "task_inputs",
    "parse_verdict",
    "task_label",
    "task_names",
]
