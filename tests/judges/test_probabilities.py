"""Verdict distributions from token log-probabilities (hand-computed)."""

from __future__ import annotations

import math

import pytest

from judges.probabilities import distribution_from_alternatives, distribution_from_tokens, token_at
from judges.types import TokenLogprob

LABELS = ("1", "2", "3", "4", "5")


def test_token_at_walks_characters():
    tokens = [TokenLogprob(t, -0.1) for t in ("Score", ": ", "[[", "4", "]]")]
    text = "Score: [[4]]"
    assert token_at(tokens, text, text.index("4")) == 3
    assert token_at(tokens, "different text", 3) is None


def test_distribution_is_renormalised_over_labels():
    alts = [("4", math.log(0.6)), ("5", math.log(0.2)), (" the", math.log(0.1)), ("3", math.log(0.1))]
    dist = distribution_from_alternatives(alts, LABELS, chosen="4")
    assert dist.probabilities["4"] == pytest.approx(0.6 / 0.9)
    assert dist.probabilities["1"] == 0
    assert dist.mass == pytest.approx(0.9)
    assert dist.expected_score == pytest.approx((4 * 0.6 + 5 * 0.2 + 3 * 0.1) / 0.9)
    assert dist.confidence == pytest.approx(0.6 / 0.9)


def test_glued_tokens_count_for_their_label():
    # Tokenisers glue brackets and spaces to labels; " C" and "[[C" are the tie label.
    dist = distribution_from_alternatives(
        [(" A", math.log(0.5)), ("[[C", math.log(0.25)), ("B]]", math.log(0.25))],
        ("A", "B", "C"),
        chosen="C",
        display={"C": "tie"},
    )
    assert dist.probabilities == pytest.approx({"A": 0.5, "B": 0.25, "tie": 0.25})
    assert dist.expected_score is None and dist.confidence == pytest.approx(0.25)


def test_no_label_among_alternatives():
    assert distribution_from_alternatives([("hello", -0.1)], LABELS, chosen=None) is None


def test_from_tokens_falls_back_to_last_label_token():
    tokens = [
        TokenLogprob("[[", -0.1),
        TokenLogprob("2", math.log(0.7), (("2", math.log(0.7)), ("1", math.log(0.3)))),
        TokenLogprob("]]", -0.1),
    ]
    # The text does not match the tokens (a server that normalised whitespace): still found.
    dist = distribution_from_tokens(tokens, "[[ 2 ]]", 3, LABELS, chosen="2")
    assert dist.probabilities["2"] == pytest.approx(0.7)
    assert distribution_from_tokens(None, "x", 0, LABELS, chosen=None) is None
