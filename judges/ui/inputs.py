"""The Judge tab's fields for the tasks' extra inputs (a rubric, checks, steps, a constitution ...).

Each task declares its extra inputs as :class:`~judges.tasks.InputSpec` values; the tab shows one
field per input of the selected task, and the ``/judge`` API takes each as ``input_<name>`` after the
fixed inputs. This module turns what a field or an API caller sends into the value
:meth:`~judges.tasks.TaskKind.make_task` takes, in the form's words when it cannot. No gradio here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from judges.errors import BadInput
from judges.tasks import InputSpec, get_task, task_inputs

#: The ``/judge`` API names the task inputs ``input_<name>``.
PREFIX = "input_"


def field_names() -> tuple[str, ...]:
    """The API names of every task input, in registry order."""
    return tuple(PREFIX + name for name in task_inputs())


def shown_for(mode: str) -> frozenset[str]:
    """The names of the inputs the task ``mode`` takes (its fields are the visible ones)."""
    return frozenset(spec.name for spec in get_task(mode).inputs)


def _upload(spec: InputSpec, value: Any) -> str:
    if isinstance(value, Mapping):
        value = value.get("path")
    if not isinstance(value, str) or not value:
        raise BadInput(f"{spec.label} has no file in it: upload the file again.")
    return value


def _lines(spec: InputSpec, value: Any) -> list[str]:
    if isinstance(value, str):
        items = value.splitlines()
    elif isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        items = list(value)
    else:
        raise BadInput(f"{spec.label} must be text (one item per line) or a list of texts.")
    return [item.strip() for item in items if item.strip()]


def _number(spec: InputSpec, value: Any, whole: bool) -> int | float:
    try:
        number = float(value) if not isinstance(value, bool) else math.nan
    except (TypeError, ValueError):
        number = math.nan
    if not math.isfinite(number) or (whole and not number.is_integer()):
        raise BadInput(f"{spec.label} must be {'a whole number' if whole else 'a number'}, got {value!r}.")
    return int(number) if whole else number


def cast(spec: InputSpec, value: Any) -> Any:
    """A field's or API caller's value as the task takes it; None when the field was left empty.

    Raises:
        BadInput: A value of the wrong kind, naming the field.
    """
    if value is None or (isinstance(value, str) and not value.strip() and spec.kind != "text"):
        return None
    kind = spec.kind
    if kind == "text":
        if not isinstance(value, str):
            raise BadInput(f"{spec.label} must be text, got {type(value).__name__}.")
        return value if value.strip() else None
    if kind == "texts":
        return _lines(spec, value) or None
    if kind == "file":
        return _upload(spec, value)
    if kind == "files":
        items = value if isinstance(value, list | tuple) else [value]
        return [_upload(spec, item) for item in items if item is not None] or None
    if kind == "choice":
        if value not in spec.choices:
            raise BadInput(f"{spec.label} must be one of {', '.join(spec.choices)}, got {value!r}.")
        return value
    if kind == "flag":
        if isinstance(value, bool):
            return value
        raise BadInput(f"{spec.label} must be true or false, got {value!r}.")
    return _number(spec, value, whole=kind == "int")


def extra_for(mode: str, values: Mapping[str, Any], *, public: bool) -> dict[str, Any]:
    """The ``extra`` inputs for ``mode`` from cast form values; inputs of other tasks are ignored.

    Args:
        mode: The selected task.
        values: Input name -> cast value (None: left empty).
        public: Whether this is a public Space, where inputs marked not public are refused.

    Raises:
        BadInput: An input a public Space does not offer was filled in.
    """
    extra: dict[str, Any] = {}
    for spec in get_task(mode).inputs:
        value = values.get(spec.name)
        if value is None or (value is False and not spec.default):
            continue
        if public and not spec.public:
            raise BadInput(f"{spec.label} is not available on a public Space; run the app yourself to use it.")
        extra[spec.name] = value
    return extra
