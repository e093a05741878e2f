"""The verify task's pure checks (judges/checks.py): the spec grammar, reading a judge's facts,
counts, spatial relations with the overlap margin, and the word-level text score."""

from __future__ import annotations

import time

import pytest

from judges.checks import (
    TEXT_PASS,
    Box,
    Facts,
    ObjectFacts,
    decide,
    describe,
    evaluate,
    object_names,
    parse_check,
    parse_checks,
    read_facts,
    text_score,
    verdict_of,
)
from judges.errors import BadInput


def test_the_grammar_reads_counts_relations_and_text():
    checks = parse_checks(["count:cat=2,dog=1", "left-of:cat,dog", 'text:"OPEN 24H"', "below: Red Ball , box"])
    assert [c.spec for c in checks] == [
        "count:cat=2",
        "count:dog=1",
        "left-of:cat,dog",
        "text:OPEN 24H",
        "below:red ball,box",
    ]
    assert checks[0].count == 2 and checks[2].objects == ("cat", "dog") and checks[3].text == "OPEN 24H"
    assert object_names(checks) == ("cat", "dog", "red ball", "box")
    assert describe(checks[:3]) == "An image showing exactly 2 cat; exactly 1 dog; a cat left of a dog."


def test_a_repeated_check_counts_once():
    assert len(parse_checks(["count:cat=2", "count:cat=2"])) == 1


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("", "needs at least one check"),
        ("count cat=2", "no ':'"),
        ("count:cat", "'cat' is not NAME=N"),
        ("count:cat=two", "'two' is not a whole number"),
        ("count:cat=1000", "not from 0 to 100"),
        ("left-of:cat", "takes two objects"),
        ("above:cat,cat", "the same"),
        ("near:cat,dog", "'near' is not a kind of check"),
        ("count:<script>=1", "is not an object name"),
        ("text:'!!!'", "no letters or digits"),
    ],
)
def test_bad_specs_name_the_spec_and_give_the_grammar(spec, message):
    with pytest.raises(BadInput, match=message) as caught:
        parse_checks([spec])
    if spec:
        assert repr(spec.strip())[:20] in str(caught.value) and "left-of:A,B" in str(caught.value)


def test_too_many_checks_are_refused():
    with pytest.raises(BadInput, match="At most 32"):
        parse_checks([f"count:o{i}=1" for i in range(40)])


def facts(**objects) -> Facts:
    return Facts(
        {n: ObjectFacts(n, len(boxes), tuple(Box(*b) for b in boxes)) for n, boxes in objects.items()}, text=""
    )


CAT_LEFT = (0.05, 0.4, 0.25, 0.6)
DOG_RIGHT = (0.7, 0.4, 0.9, 0.6)


@pytest.mark.parametrize(
    ("relation", "cat", "dog", "expected"),
    [
        ("left-of", CAT_LEFT, DOG_RIGHT, True),
        ("right-of", CAT_LEFT, DOG_RIGHT, False),
        ("right-of", DOG_RIGHT, CAT_LEFT, True),
        ("above", (0.4, 0.05, 0.6, 0.2), (0.4, 0.7, 0.6, 0.9), True),
        ("below", (0.4, 0.05, 0.6, 0.2), (0.4, 0.7, 0.6, 0.9), False),
        # Heavily overlapping boxes: centres 0.1 apart, margin 0.25 x (0.5 + 0.5) = 0.25: not "left of".
        ("left-of", (0.1, 0.1, 0.6, 0.6), (0.2, 0.1, 0.7, 0.6), False),
        # Mostly diagonal: the horizontal component of the direction is below 0.5.
        ("left-of", (0.0, 0.0, 0.1, 0.1), (0.2, 0.8, 0.3, 0.9), False),
    ],
)
def test_spatial_relations_between_box_centres_with_an_overlap_margin(relation, cat, dog, expected):
    (check,) = parse_check(f"{relation}:cat,dog")
    outcome = decide(check, facts(cat=[cat], dog=[dog]))
    assert outcome.passed is expected, outcome.evidence


def test_every_box_pair_must_satisfy_a_relation_and_a_missing_box_fails():
    (check,) = parse_check("left-of:cat,dog")
    two_cats = facts(cat=[CAT_LEFT, (0.8, 0.1, 0.95, 0.2)], dog=[DOG_RIGHT])
    outcome = decide(check, two_cats)
    assert outcome.passed is False and "1 of 2 box pair(s) fail" in outcome.evidence
    assert decide(check, facts(cat=[CAT_LEFT], dog=[])).passed is False


def test_counts_are_exact_and_unreported_objects_are_unscored_not_failed():
    checks = parse_checks(["count:cat=2,dog=1"])
    outcomes = evaluate(checks, facts(cat=[CAT_LEFT, DOG_RIGHT]))
    assert [o.passed for o in outcomes] == [True, None]
    assert "did not report 'dog'" in outcomes[1].evidence
    assert verdict_of(outcomes)[0] is None and "1 check(s) unscored" in verdict_of(outcomes)[1]
    assert verdict_of(evaluate(checks, facts(cat=[CAT_LEFT], dog=[DOG_RIGHT])))[0] == "fail"
    assert verdict_of(evaluate(checks, facts(cat=[CAT_LEFT, DOG_RIGHT], dog=[DOG_RIGHT])))[0] == "pass"


@pytest.mark.parametrize(
    ("expected", "read", "score"),
    [
        ("OPEN 24H", "open 24h", 1.0),
        ("OPEN 24H", "Welcome! We are OPEN, 24h a day.", 1.0),
        ("OPEN 24H", "24H OPEN", 0.5),
        ("OPEN 24H", "closed", 0.0),
        ("the quick brown fox", "a quick brown fox jumps", 0.75),
        ("Café Müller", "CAFÉ müller", 1.0),
    ],
)
def test_text_score_is_the_word_level_longest_common_substring_over_the_expected_words(expected, read, score):
    assert text_score(expected, read) == pytest.approx(score)


def test_a_text_check_passes_at_the_threshold():
    (check,) = parse_check("text:the quick brown fox")
    assert TEXT_PASS == 0.75
    assert decide(check, Facts({}, "a quick brown fox")).passed is True
    assert decide(check, Facts({}, "quick fox")).passed is False
    assert decide(check, Facts({}, None)).passed is None


def test_reading_facts_validates_every_field_and_keeps_the_good_parts():
    value = {
        "objects": [
            {"name": " Cat ", "count": 2, "boxes": [[0.1, 0.1, 0.2, 0.2], [0.5, 0.5, 0.6, 0.6]]},
            {"name": "dog", "count": "one", "boxes": [[0.1, 0.1, 1.7, 0.2]]},
            {"name": "cat", "count": 9, "boxes": []},  # a second report of cat: the first is kept
            {"name": "bird", "count": 1, "boxes": []},  # not asked for
            "junk",
        ],
        "text": 42,
    }
    got = read_facts(value, ["cat", "dog"], want_text=True)
    assert got.objects["cat"].count == 2 and len(got.objects["cat"].boxes) == 2
    dog = got.objects["dog"]
    assert dog.count is None and not dog.boxes_ok and "'one'" in dog.problem and "within 0..1" in dog.problem
    assert "bird" not in got.objects and got.text is None
    checks = parse_checks(["count:dog=1", "left-of:cat,dog", "text:hi"])
    assert [o.passed for o in evaluate(checks, got)] == [None, None, None]


def test_hostile_facts_stay_bounded():
    value = {
        "objects": [{"name": "cat", "count": 1, "boxes": [[0, 0, 1, 1]] * 100_000}],
        "text": "word " * 1_000_000,
    }
    started = time.perf_counter()
    got = read_facts(value, ["cat"], want_text=True)
    score = text_score(" ".join(["word"] * 64), got.text or "")
    assert time.perf_counter() - started < 2.0
    assert len(got.objects["cat"].boxes) == 100 and len(got.text or "") == 2000 and score == 1.0
