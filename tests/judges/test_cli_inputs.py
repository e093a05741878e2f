"""Task inputs on the command line: one flag per InputSpec, checked against the chosen mode."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from judges.cli import _extra_of, build_parser, main
from judges.errors import ConfigError
from judges.tasks import TASKS, InputSpec
from judges.tasks.score import ScoreKind


@dataclass(frozen=True)
class _WithInputs(ScoreKind):
    name: str = "inputs-cli-test"
    inputs: tuple[InputSpec, ...] = (
        InputSpec("check", "Checks", "a check", kind="texts"),
        InputSpec("shots", "Shots", "how many", kind="int", default=3),
        InputSpec("mask_center", "Mask", "mask the centre", kind="flag"),
    )


@pytest.fixture
def with_inputs(monkeypatch):
    monkeypatch.setitem(TASKS, "inputs-cli-test", _WithInputs())


def test_each_input_becomes_a_flag_and_reaches_the_task(with_inputs):
    args = build_parser().parse_args(
        ["judge", "--mode", "inputs-cli-test", "--judge", "x", "--instruction", "i", "--check", "a", "--check", "b"]
        + ["--shots", "5", "--mask-center"]
    )
    assert _extra_of(args, TASKS["inputs-cli-test"]) == {"check": ["a", "b"], "shots": 5, "mask_center": True}


def test_a_flag_of_another_task_is_refused_by_name(with_inputs):
    args = build_parser().parse_args(["judge", "--mode", "score", "--judge", "x", "--instruction", "i", "--shots", "2"])
    with pytest.raises(ConfigError, match="--shots does not apply to --mode score"):
        _extra_of(args, TASKS["score"])


def test_the_refusal_is_one_error_line(with_inputs, capsys):
    code = main(
        ["judge", "--mode", "score", "--judge", "GPT-4o-mini", "--instruction", "i", "--response", "r"]
        + ["--check", "c"]
    )
    assert code == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["error: --check does not apply to --mode score; drop it."]


def test_human_output_cuts_long_detail_values_and_json_keeps_them():
    overlay = "data:image/png;base64," + "A" * 50_000
    lines = TASKS["score"].details_lines({"checks": [{"check": "count:cat=2", "passed": True}], "overlay_png": overlay})
    assert lines[0].startswith("checks:") and "count:cat=2" in lines[0]
    assert len(lines[1]) < 250 and "characters; see --json" in lines[1]


def test_a_choice_input_lists_its_choices_on_the_command_line(monkeypatch):
    spec = InputSpec("preset", "Preset", "which preset", kind="choice", choices=("small", "large"))

    @dataclass(frozen=True)
    class _Choosing(ScoreKind):
        name: str = "choice-cli-test"
        inputs: tuple[InputSpec, ...] = (spec,)

    monkeypatch.setitem(TASKS, "choice-cli-test", _Choosing())
    with pytest.raises(SystemExit):
        build_parser().parse_args(["judge", "--mode", "choice-cli-test", "--judge", "x", "--preset", "huge"])
    args = build_parser().parse_args(["judge", "--mode", "choice-cli-test", "--judge", "x", "--preset", "large"])
    assert _extra_of(args, TASKS["choice-cli-test"]) == {"preset": "large"}
