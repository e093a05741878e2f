"""leaderboard.ui.samples: the sample view's agreement flag reads both sides in one spelling."""

from __future__ import annotations

import pytest

from leaderboard.ui.samples import _agrees


@pytest.mark.parametrize(
    ("mode", "verdict", "human", "expected"),
    [
        # The regression: a tie was spelled "C" on one side and "tie" on the other, so it "disagreed".
        ("pair", "tie", "tie", "yes"),
        ("pair", "A", "tie", "no"),
        ("pair", "B", "B", "yes"),
        ("score", 4, "4", "yes"),
        ("score", 4.0, "4", "yes"),
        ("score", 3, "4", "no"),
        ("batch", "CADB", "CADB", "yes"),
        ("batch", "ACDB", "CADB", "no"),
        ("pair", None, "A", ""),
        ("pair", "A", "", ""),
        ("score", float("nan"), "4", ""),
    ],
)
def test_the_agreement_flag_compares_canonical_labels(mode, verdict, human, expected):
    assert _agrees(mode, verdict, human) == expected
