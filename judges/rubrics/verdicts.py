"""The verdict shape of the rubric task's overall verdict: a score for one response, A / B / tie for two.

One run of the ``rubric`` task holds either kind of item, so this space accepts both stored forms
and tells them apart by the item's response count where it is known (an int for one response, a
letter or ``tie`` for two). Its ``kind`` is ``scale`` with the 1-5 values of the Judge Anything
overall, so the main leaderboard's label-free columns (coverage, parse failures) count single-response
runs; per-criterion and overall agreement with human labels is computed by
:mod:`leaderboard.metrics.criteria` from the judgments' ``details``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from judges.rubrics.model import MAX_CRITERIA, MAX_SCALE_VALUE
from judges.verdicts import TIE, TIE_TOKEN, Choice, HumanLabel, Scale, StoredVerdict, Verdict, VerdictKind

#: Highest overall a rubric can have (every criterion summed at its highest).
MAX_OVERALL = MAX_CRITERIA * MAX_SCALE_VALUE


@dataclass(frozen=True)
class RubricVerdicts:
    """A whole-number overall score (one response) or ``A`` / ``B`` / ``tie`` (two responses)."""

    low: int = 1
    high: int = 5
    kind: VerdictKind = "scale"
    stored_type: type = int
    choice: Choice = field(default_factory=Choice)

    @property
    def values(self) -> tuple[int, ...]:
        """The overall scale of the default preset (the leaderboard's scale metrics read it)."""
        return tuple(range(self.low, self.high + 1))

    def describe(self) -> str:
        """``1-5``."""
        return f"{self.low}-{self.high}"

    def tokens(self, n_responses: int) -> tuple[str, ...]:
        return self.choice.tokens(n_responses) if n_responses == 2 else tuple(str(v) for v in self.values)

    def from_token(self, token: str) -> Verdict:
        return int(token) if token.isdigit() else self.choice.from_token(token)

    def token_of(self, verdict: Verdict) -> str:
        return TIE_TOKEN if verdict == TIE else str(verdict)

    def text(self, verdict: Verdict | None) -> str:
        return "—" if verdict is None else str(verdict)

    def to_stored(self, verdict: Verdict) -> StoredVerdict:
        return verdict if isinstance(verdict, int) else str(verdict)

    def _score_problem(self, value: object) -> str:
        if type(value) is not int or not 0 <= value <= MAX_OVERALL:
            return f"rubric score {value!r} is not a whole number 0..{MAX_OVERALL}"
        return ""

    def stored_problem(self, value: object, n_responses: int | None = None) -> str:
        if value is None:
            return ""
        if n_responses == 2:
            return self.choice.stored_problem(value, 2)
        if n_responses is None and isinstance(value, str):
            return self.choice.stored_problem(value, 2)
        return self._score_problem(value)

    def stored_label(self, value: StoredVerdict) -> str:
        return str(value)

    def normalise_human(self, raw: object, n_responses: int | None = None) -> HumanLabel:
        if n_responses == 2:
            return self.choice.normalise_human(raw, 2)
        text = "" if raw is None else str(raw).strip()
        if not text:
            return HumanLabel("", "no human label", "")
        try:
            number = float(text)
        except ValueError:
            return HumanLabel("", f"human score {text!r} is not a number", text)
        if isinstance(raw, bool) or not number.is_integer() or not 0 <= number <= MAX_OVERALL:
            return HumanLabel("", f"human score {text!r} is not a whole number 0..{MAX_OVERALL}", text)
        return HumanLabel(str(int(number)), "", text)

    def map_back(self, verdict: Verdict, order: Sequence[int]) -> Verdict:
        return verdict if isinstance(verdict, int) else self.choice.map_back(verdict, order)

    def majority(self, verdicts: Sequence[Verdict]) -> Verdict | None:
        if verdicts and all(isinstance(v, int) for v in verdicts):
            return Scale().majority(verdicts)
        return self.choice.majority(verdicts)
