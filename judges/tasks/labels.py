"""Verdict spaces of the probe tasks: a fixed word (``safe`` / ``unsafe``) and a candidate number."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from judges.verdicts import HumanLabel, StoredVerdict, Verdict, VerdictKind, is_blank, most_common


@dataclass(frozen=True)
class Words:
    """One of a few fixed lower-case words; a split majority is no verdict."""

    words: tuple[str, ...] = ("unsafe", "safe")
    kind: VerdictKind = "choice"
    stored_type: type = str

    def tokens(self, n_responses: int) -> tuple[str, ...]:
        return self.words

    def from_token(self, token: str) -> Verdict:
        return token

    def token_of(self, verdict: Verdict) -> str:
        return str(verdict)

    def text(self, verdict: Verdict | None) -> str:
        return "—" if verdict is None else str(verdict)

    def to_stored(self, verdict: Verdict) -> StoredVerdict:
        return str(verdict)

    def stored_problem(self, value: object, n_responses: int | None = None) -> str:
        if value is None or value in self.words:
            return ""
        return f"verdict {value!r} is not one of {', '.join(self.words)}"

    def stored_label(self, value: StoredVerdict) -> str:
        return str(value)

    def normalise_human(self, raw: object, n_responses: int | None = None) -> HumanLabel:
        if is_blank(raw):
            return HumanLabel("", "no human label", "")
        text = str(raw).strip()
        if text.lower() in self.words:
            return HumanLabel(text.lower(), "", text)
        return HumanLabel("", f"human label {text!r} is not one of {', '.join(self.words)}", text)

    def map_back(self, verdict: Verdict, order: Sequence[int]) -> Verdict:
        return verdict

    def majority(self, verdicts: Sequence[Verdict]) -> Verdict | None:
        leaders = most_common(verdicts)
        return leaders[0] if len(leaders) == 1 else None


@dataclass(frozen=True)
class CandidateNumber:
    """The 1-based number of the best candidate; agreement with a known positive is Precision@1."""

    max_items: int = 50
    kind: VerdictKind = "choice"
    stored_type: type = int

    def tokens(self, n_responses: int) -> tuple[str, ...]:
        return tuple(str(i) for i in range(1, n_responses + 1))

    def from_token(self, token: str) -> Verdict:
        return int(token)

    def token_of(self, verdict: Verdict) -> str:
        return str(verdict)

    def text(self, verdict: Verdict | None) -> str:
        return "—" if verdict is None else f"candidate {verdict}"

    def to_stored(self, verdict: Verdict) -> StoredVerdict:
        return int(verdict)  # type: ignore[arg-type]

    def stored_problem(self, value: object, n_responses: int | None = None) -> str:
        if value is None:
            return ""
        high = n_responses or self.max_items
        if type(value) is not int or not 1 <= value <= high:
            return f"candidate number {value!r} is not a whole number 1..{high}"
        return ""

    def stored_label(self, value: StoredVerdict) -> str:
        return str(value)

    def normalise_human(self, raw: object, n_responses: int | None = None) -> HumanLabel:
        if is_blank(raw):
            return HumanLabel("", "no human label", "")
        text = str(raw).strip()
        high = n_responses or self.max_items
        if text.isdigit() and 1 <= int(text) <= high:
            return HumanLabel(str(int(text)), "", text)
        return HumanLabel("", f"human label {text!r} is not a candidate number 1..{high}", text)

    def map_back(self, verdict: Verdict, order: Sequence[int]) -> Verdict:
        return verdict

    def majority(self, verdicts: Sequence[Verdict]) -> Verdict | None:
        leaders = most_common(verdicts)
        return leaders[0] if len(leaders) == 1 else None
