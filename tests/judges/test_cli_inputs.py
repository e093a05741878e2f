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
