"""judges.verdicts and judges.tasks: one spelling per verdict, and tasks that carry their vocabulary."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from judges import ConfigError, Judge, JudgeOptions, create_backend, get_task, task_names
from judges.tasks import TASKS, parse_verdict
from judges.tasks.pair import PairKind
from judges.types import Capabilities
from judges.verdicts import TIE, TIE_TOKEN, Choice, Ranking, Scale, borda
from tests.support.openai_server import reply, serve_openai


def test_a_tie_is_written_c_and_stored_shown_and_labelled_tie():
    choice = Choice()
    assert choice.tokens(2) == ("A", "B", TIE_TOKEN)
    assert choice.from_token(TIE_TOKEN) == TIE and choice.token_of(TIE) == TIE_TOKEN
    assert choice.to_stored(TIE) == TIE and choice.stored_problem(TIE) == ""
    assert choice.normalise_human("C").label == TIE == choice.normalise_human("tie").label
    assert "not 'A', 'B' or 'tie'" in choice.stored_problem("C")
    assert parse_verdict("pair", '{"Judgement": "[[C]]"}').verdict == TIE


@pytest.mark.parametrize(
    ("space", "verdict", "order", "expected"),
    [
        (Choice(), "A", (1, 0), "B"),
        (Choice(), TIE, (1, 0), TIE),
        (Ranking(), ("A", "C", "B"), (2, 0, 1), ("C", "B", "A")),
        (Scale(), 4, (0,), 4),
    ],
)
def test_a_verdict_on_reordered_responses_maps_back_to_the_original_letters(space, verdict, order, expected):
    assert space.map_back(verdict, order) == expected


def test_majorities_follow_each_shape():
    assert Scale().majority([4, 4, 2]) == 4
    assert Scale().majority([1, 5, 3, 3, 5]) == 3  # tie between 3 and 5: nearest the mean (3.4)
    assert Choice().majority(["A", "B"]) == TIE  # a split vote is a tie
    assert Choice().majority([]) is None
    assert Ranking().majority([("A", "B", "C"), ("B", "A", "C"), ("A", "C", "B")]) == ("A", "B", "C")
    assert borda([("B", "A")]) == ("B", "A")


@pytest.mark.parametrize(
    ("space", "raw", "label", "issue"),
    [
        (Scale(), "4", "4", ""),
        (Scale(), 4.0, "4", ""),
        (Scale(), True, "", "is not 1-5"),
        (Scale(), "6", "", "whole number 1-5"),
        (Choice(), "b", "B", ""),
        (Choice(), "D", "", "not A, B or C (tie)"),
        (Ranking(), "cadb", "CADB", ""),
        (Ranking(), "CAB", "", "ranks 3 of 4"),
        (Ranking(), None, "", "no human label"),
    ],
)
def test_human_labels_are_normalised_by_the_verdict_shape(space, raw, label, issue):
    got = space.normalise_human(raw, 4)
    assert got.label == label
    assert issue in got.issue and bool(got.issue) == bool(issue)


def test_a_scale_other_than_one_to_five_sets_the_parser_and_validity():
    ten = Scale(0, 10)
    assert ten.tokens(1)[-1] == "10" and ten.stored_problem(10) == "" and ten.stored_problem(11)
    from judges.parsing import parse_with

    assert parse_with(ten, "Rating: [[10]]").verdict == 10
    assert parse_with(ten, "[[0]]").verdict == 0
    failed = parse_with(ten, "[[12]]")
    assert not failed.ok and "outside the scale 0-10" in failed.reason


def test_every_registered_task_declares_its_vocabulary():
    assert task_names() == [
        "score",
        "pair",
        "batch",
        "image-pair",
        "rubric",
        "verify",
        "process",
        "safety",
        "relevance",
    ]
    for kind in TASKS.values():
        assert kind.hint and kind.title and kind.probability_axis
        assert kind.reorder in ("none", "swap", "shuffle")
        assert kind.verdicts.kind in ("scale", "choice", "ranking")
        assert 0 <= kind.min_responses <= kind.max_responses


def test_a_task_without_a_template_section_is_told_how_to_add_one():
    @dataclass(frozen=True)
    class Unprompted(PairKind):
        name: str = "unprompted"

    from judges.prompts import get_setting, load_template

    task = Unprompted().make_task("Which?", ["a", "b"])
    with pytest.raises(ConfigError, match=r"add \[modes.unprompted\]"):
        Unprompted().render(task, load_template(), get_setting("no-figure"))


def test_unknown_task_names_list_the_registered_ones():
    with pytest.raises(ConfigError, match="score, pair, batch"):
        get_task("rank")


@dataclass(frozen=True)
class _VerdictOnlyPair(PairKind):
    """A new task kind made from a verdict shape: no branch elsewhere needs to know its name."""

    name: str = "pair-no-tie"
    title: str = "Pair without tie"
    hint: str = "A or B"
    prompt_section: str = "pair"
    verdicts: Choice = field(default_factory=lambda: Choice(tie=False))


def test_a_new_task_kind_runs_through_the_judge_without_touching_it():
    kind = _VerdictOnlyPair()
    task = kind.make_task("Which is right?", ["yes", "no"], [])
    options = JudgeOptions(setting="no-figure", max_reasks=0, swap=True)
    with serve_openai() as server:
        backend = create_backend(
            "openai", "judge-model", base_url=server.base_url, capabilities=Capabilities(), max_retries=0, timeout_s=5
        )

        def prefers_no(request):
            # The judge always picks the answer "no", wherever it is shown: consistent across orders.
            prompt = request.raw.decode()
            no_first = prompt.index("Answer A]\\nno") if "Answer A]\\nno" in prompt else -1
            return reply('{"Analysis": "no is right.", "Judgement": "[[%s]]"}' % ("A" if no_first >= 0 else "B"))

        server.script(prefers_no, prefers_no)
        result = Judge(backend, kind, options).judge(task)
        assert result.verdict == "B" and result.mode == "pair-no-tie" and result.swap.consistent
        # Always "A" is inconsistent; with no tie on offer the verdict is unscored, not a tie.
        server.script(reply('{"Judgement": "[[A]]"}'), reply('{"Judgement": "[[A]]"}'))
        split = Judge(backend, kind, options).judge(task)
        assert split.swap.consistent is False and split.verdict is None and "orders disagree" in split.reason
        # Its shape offers no tie, so a written C is not a verdict.
        server.script(reply('{"Judgement": "[[C]]"}'), reply('{"Judgement": "[[C]]"}'))
        unscored = Judge(backend, kind, options).judge(task)
        assert not unscored.parsed and "is not one of A, B" in unscored.reason
