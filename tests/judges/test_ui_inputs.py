"""The Judge tab's fields for task inputs: casting what a field or an API caller sends."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from judges.errors import BadInput
from judges.tasks import TASKS, InputSpec
from judges.tasks.score import ScoreKind
from judges.ui import inputs as fields

TEXT = InputSpec("rubric", "Rubric", "a rubric", kind="text")
TEXTS = InputSpec("check", "Checks", "checks", kind="texts")
FILE = InputSpec("code", "Code", "source", kind="file")
FILES = InputSpec("shots", "Screenshots", "images", kind="files")
CHOICE = InputSpec("preset", "Preset", "which", kind="choice", choices=("a", "b"))
INT = InputSpec("positive", "Positive", "index", kind="int")
FLAG = InputSpec("mask", "Mask", "mask the centre", kind="flag")
ON = InputSpec("solve", "Solve first", "solve", kind="flag", default=True)
LOCAL = InputSpec("render", "Render", "an HTML file", kind="file", public=False)


@pytest.mark.parametrize(
    ("spec", "value", "expected"),
    [
        (TEXT, "name = 'x'", "name = 'x'"),
        (TEXT, "   ", None),
        (TEXTS, "count:cat=2\n\n  left-of:cat,dog  \n", ["count:cat=2", "left-of:cat,dog"]),
        (TEXTS, ["a", " b "], ["a", "b"]),
        (TEXTS, "", None),
        (FILE, {"path": "/tmp/x.py", "orig_name": "x.py"}, "/tmp/x.py"),
        (FILES, [{"path": "/tmp/1.png"}, {"path": "/tmp/2.png"}], ["/tmp/1.png", "/tmp/2.png"]),
        (FILES, [], None),
        (CHOICE, "b", "b"),
        (INT, 3.0, 3),
        (INT, "4", 4),
        (FLAG, True, True),
        (FLAG, None, None),
    ],
)
def test_values_are_cast_to_what_the_task_takes(spec, value, expected):
    assert fields.cast(spec, value) == expected


@pytest.mark.parametrize(
    ("spec", "value", "message"),
    [
        (TEXT, 5, "Rubric must be text"),
        (TEXTS, {"a": 1}, "Checks must be text"),
        (FILE, {"orig_name": "x.py"}, "Code has no file"),
        (CHOICE, "c", "Preset must be one of a, b"),
        (INT, 2.5, "Positive must be a whole number"),
        (INT, "many", "Positive must be a whole number"),
        (FLAG, "yes", "Mask must be true or false"),
    ],
)
def test_a_wrong_value_names_the_field(spec, value, message):
    with pytest.raises(BadInput, match=message):
        fields.cast(spec, value)


@dataclass(frozen=True)
class _WithInputs(ScoreKind):
    name: str = "inputs-test"
    inputs: tuple[InputSpec, ...] = (TEXTS, FLAG, ON, LOCAL)


def test_only_the_selected_tasks_inputs_are_passed_and_local_ones_refused_on_a_public_space(monkeypatch):
    monkeypatch.setitem(TASKS, "inputs-test", _WithInputs())
    values = {"check": ["a"], "mask": False, "solve": False, "render": "/tmp/page.html", "rubric": "ignored"}
    # An unticked flag is left out unless it is on by default (then "off" is what the user chose).
    assert fields.extra_for("inputs-test", values, public=False) == {
        "check": ["a"],
        "solve": False,
        "render": "/tmp/page.html",
    }
    assert fields.shown_for("inputs-test") == {"check", "mask", "solve", "render"}
    with pytest.raises(BadInput, match="Render is not available on a public Space"):
        fields.extra_for("inputs-test", values, public=True)
    assert "render" not in fields.extra_for("inputs-test", {**values, "render": None}, public=True)
