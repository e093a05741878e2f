"""The lenient JSON reader: what judges really write, and what hostile outputs cost."""

from __future__ import annotations

import time

import pytest

from judges.jsonread import MAX_DEPTH, read_object


@pytest.mark.parametrize(
    ("text", "value", "repaired", "truncated"),
    [
        ('{"score": 4, "comment": "fine"}', {"score": 4, "comment": "fine"}, False, False),
        ('Here is my verdict: {"score": 4} and that is all.', {"score": 4}, False, False),
        ('```json\n{"score": 4}\n```', {"score": 4}, True, False),
        ("```\n{'score': 4, 'ok': True, 'why': None}\n```", {"score": 4, "ok": True, "why": None}, True, False),
        ("{'comment': 'it\\'s clear', 'score': 3}", {"comment": "it's clear", "score": 3}, True, False),
        ('{"a": [1, 2,], "b": 2,}', {"a": [1, 2], "b": 2}, True, False),
        ('{score: 5, comment: "bare keys"}', {"score": 5, "comment": "bare keys"}, True, False),
        ('{"comment": "cut off here', {"comment": "cut off here"}, True, True),
        ('{"a": {"score": 2}, "b": {"score": ', {"a": {"score": 2}, "b": {"score": None}}, True, True),
        ('{"a": 1, "b"', {"a": 1, "b": None}, True, True),
        ('{"x": "line one\nline two"}', {"x": "line one\nline two"}, True, False),
        ('{"n": .5, "m": 2.}', {"n": 0.5, "m": 2.0}, True, False),
        ('{"q": "say \\"hi\\""}', {"q": 'say "hi"'}, False, False),
        ("{'q': 'say \"hi\"'}", {"q": 'say "hi"'}, True, False),
    ],
)
def test_reads_what_judges_write(text, value, repaired, truncated):
    read = read_object(text)
    assert read.reason == ""
    assert read.value == value
    assert (read.repaired, read.truncated) == (repaired, truncated)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty"),
        (None, "empty"),
        ("The first answer is better.", "no JSON object"),
        ("[1, 2, 3]", "no JSON object"),
        ("{" * (MAX_DEPTH + 5), f"deeper than {MAX_DEPTH}"),
    ],
)
def test_says_why_nothing_could_be_read(text, reason):
    read = read_object(text)
    assert read.value is None and reason in read.reason


@pytest.mark.parametrize("unit", ["{'", '{"a":', "[", '"', '{"a": 1,', "\\", "{a", "}", "],", "{'a':'"], ids=repr)
def test_hostile_outputs_stay_linear(unit):
    """Ten times the input costs about ten times the time, never a hundred (quadratic)."""

    def cost(n: int) -> float:
        text = "{" + unit * n
        best = float("inf")
        for _ in range(3):
            started = time.perf_counter()
            read_object(text)
            best = min(best, time.perf_counter() - started)
        return best

    small, large = cost(2_000), cost(20_000)
    assert large < max(small, 1e-4) * 40, (small, large)
    assert large < 0.5
