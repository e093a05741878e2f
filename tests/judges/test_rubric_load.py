"""Rubric presets, user rubrics (TOML/JSON text or file), their errors, and checklist grouping."""

from __future__ import annotations

import json

import pytest

from judges.errors import BadInput
from judges.rubrics import ARTIFACTS, JUDGE_ANYTHING, load_rubric, parse_checklist
from judges.rubrics.model import MAX_CRITERIA
from judges.tasks import get_task

KIND = get_task("rubric")

TOML = """
name = "caption quality"
overall_scale = [1, 10]

[[criteria]]
name = "Accuracy"
description = "Everything the caption says is in the image."
scale = [1, 5]
anchors = { 1 = "Mostly wrong.", 5 = "All correct." }

[[criteria]]
name = "detail level"
description = "Mentions the important objects."
min = 0
max = 3
"""


def test_the_presets():
    assert [c.name for c in JUDGE_ANYTHING.criteria] == [
        "relevance", "trustworthiness", "creativity", "clarity", "coherence", "completeness",
    ]  # fmt: skip
    assert all(
        (c.low, c.high) == (1, 5) and [s for s, _ in c.anchors] == [1, 2, 3, 4, 5] for c in JUDGE_ANYTHING.criteria
    )
    assert JUDGE_ANYTHING.overall == "judge" and (JUDGE_ANYTHING.overall_low, JUDGE_ANYTHING.overall_high) == (1, 5)
    assert [c.key for c in ARTIFACTS.criteria] == [
        "layout", "visual_fidelity", "motion", "feedback", "ux_clarity",
        "logic", "robustness", "engineering", "performance", "redundancy",
    ]  # fmt: skip
    assert all((c.low, c.high) == (0, 10) for c in ARTIFACTS.criteria)
    assert ARTIFACTS.overall == "sum" and (ARTIFACTS.overall_low, ARTIFACTS.overall_high) == (0, 100)
    assert load_rubric(None) is JUDGE_ANYTHING and load_rubric(" artifacts ") is ARTIFACTS


def test_a_toml_rubric_typed_in():
    rubric = load_rubric(TOML)
    assert rubric.name == "caption quality" and rubric.overall == "judge"
    assert (rubric.overall_low, rubric.overall_high) == (1, 10)
    accuracy, detail = rubric.criteria
    assert (accuracy.key, accuracy.low, accuracy.high, accuracy.anchors) == (
        "accuracy", 1, 5, ((1, "Mostly wrong."), (5, "All correct.")),
    )  # fmt: skip
    assert (detail.key, detail.low, detail.high) == ("detail_level", 0, 3)


def test_a_json_rubric_typed_in_and_a_summed_overall():
    text = json.dumps(
        {
            "overall": "sum",
            "criteria": [
                {"name": "a", "description": "x", "scale": [0, 4]},
                {"name": "b", "description": "y", "scale": {"min": 1, "max": 6}},
            ],
        }
    )
    rubric = load_rubric(text)
    assert rubric.overall == "sum" and (rubric.overall_low, rubric.overall_high) == (1, 10)
    assert load_rubric(json.dumps([{"name": "solo", "description": "one criterion"}])).criteria[0].scale == "1-5"


def test_a_rubric_file(tmp_path):
    toml = tmp_path / "captions.toml"
    toml.write_text(TOML, encoding="utf-8")
    assert load_rubric(str(toml)).name == "caption quality"
    as_json = tmp_path / "mine.json"
    as_json.write_text(json.dumps({"criteria": [{"name": "fit", "description": "fits"}]}), encoding="utf-8")
    assert load_rubric(str(as_json)).name == "mine"  # the file's name when the rubric names none


def test_a_path_is_not_read_on_a_public_space(tmp_path):
    toml = tmp_path / "captions.toml"
    toml.write_text(TOML, encoding="utf-8")
    with pytest.raises(BadInput, match="not read on a public Space"):
        load_rubric(str(toml), public=True)


def test_a_path_is_not_read_on_a_public_space_through_the_task(tmp_path, monkeypatch):
    toml = tmp_path / "captions.toml"
    toml.write_text(TOML, encoding="utf-8")
    monkeypatch.setenv("SPACE_ID", "someone/space")
    with pytest.raises(BadInput, match="public Space"):
        KIND.make_task("Caption it.", ["A cat."], extra={"rubric": str(toml)})
    assert KIND.make_task("Caption it.", ["A cat."], extra={"rubric": TOML}).rubric.name == "caption quality"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("judge-everything", "Unknown rubric 'judge-everything'"),
        ("[[criteria]]\nname = 'a'\n", "description must be a non-empty text"),
        ("criteria = []", "lists no criteria"),
        ("[[criteria]]\nname='a'\ndescription='b'\nscale=[5, 1]", "must run from a min to a larger max"),
        ("[[criteria]]\nname='a'\ndescription='b'\nscale=[0, 1000]", "within 0-100"),
        ("[[criteria]]\nname='a'\ndescription='b'\nscale=[1.5, 4]", "whole number"),
        ("[[criteria]]\nname='overall'\ndescription='b'", "'overall' is the rubric's overall"),
        ("[[criteria]]\nname='a b'\ndescription='b'\n[[criteria]]\nname='A-B'\ndescription='c'", "more than once"),
        ("[[criteria]]\nname='a'\ndescription='b'\nweight=2", "unknown field(s) weight"),
        ("[[criteria]]\nname='a'\ndescription='b'\nanchors={9='x'}", "outside the scale"),
        ("overall='mean'\n[[criteria]]\nname='a'\ndescription='b'", "'judge'"),
        ("overall='sum'\noverall_scale=[1,5]\n[[criteria]]\nname='a'\ndescription='b'", "overall_scale goes with"),
        ("[[criteria]]\nname='1st'\ndescription='b'", "must start with a letter"),
        ("{not json", "not valid JSON"),
        ("name = = 'x'", "not valid TOML"),
    ],
)
def test_bad_rubrics_say_what_to_fix(text, message):
    with pytest.raises(BadInput, match=message.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")):
        load_rubric(text)


def test_too_many_criteria():
    many = [{"name": f"c{i}", "description": "d"} for i in range(MAX_CRITERIA + 1)]
    with pytest.raises(BadInput, match=f"at most {MAX_CRITERIA}"):
        load_rubric(json.dumps({"criteria": many}))


def test_checklist_items_group_under_criteria_by_name():
    checklist = parse_checklist(
        ["Clarity: no jargon", "relevance: answers the question", "Note: the image is dark", "clarity: short"],
        JUDGE_ANYTHING,
    )
    assert checklist.by_criterion == (("relevance", ("answers the question",)), ("clarity", ("no jargon", "short")))
    assert checklist.general == ("Note: the image is dark",)
    assert parse_checklist("visual fidelity: red button\nmotion: spins", ARTIFACTS).to_dict() == {
        "visual fidelity": ["red button"],
        "motion": ["spins"],
    }
    assert parse_checklist(None, ARTIFACTS).empty


def test_bad_checklists():
    with pytest.raises(BadInput, match="at most"):
        parse_checklist([f"item {i}" for i in range(60)], JUDGE_ANYTHING)
    with pytest.raises(BadInput, match="characters long"):
        parse_checklist(["x" * 600], JUDGE_ANYTHING)


def test_task_inputs_are_declared_for_the_cli_and_the_ui():
    specs = {spec.name: spec for spec in KIND.inputs}
    assert list(specs) == ["rubric", "checklist", "code", "render", "shots"]
    assert specs["render"].public is False and specs["shots"].kind == "int" and specs["checklist"].kind == "texts"
    with pytest.raises(BadInput, match="does not take"):
        KIND.make_task("Q?", ["A."], extra={"steps": "1"})
    # The Judge tab always sends the shots field's default; without render it means nothing.
    assert KIND.make_task("Q?", ["A."], extra={"shots": 3}).rendered is None
    with pytest.raises(BadInput, match="takes 1 to 2 responses"):
        KIND.make_task("Q?", ["a", "b", "c"])


def test_a_bad_code_file_is_refused(tmp_path):
    with pytest.raises(BadInput, match="does not exist"):
        KIND.make_task("Q?", ["A."], extra={"code": str(tmp_path / "none.js")})
    binary = tmp_path / "app.js"
    binary.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(BadInput, match="not UTF-8"):
        KIND.make_task("Q?", ["A."], extra={"code": str(binary)})
