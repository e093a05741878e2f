"""The verdict vocabulary: the shapes a verdict can take, and the one spelling of each.

Every judge task answers with a verdict of one *shape*, a :class:`VerdictSpace`:

* :class:`Scale`: a whole number on a bounded scale (``score``: 1..5).
* :class:`Choice`: one of a few letters, optionally with a tie (``pair``: A, B or tie).
* :class:`Ranking`: a full ranking of lettered responses, best first (``batch``).

A space is the one home of its spelling. It knows the token a judge writes (a tie is written ``C``
in the prompt, because a letter is one token for every tokenizer), the canonical in-memory verdict
(``"tie"``), the stored JSON form, which values are valid, how a human label from a data set is
normalised, how a verdict on reordered responses maps back to the original letters, and how
several verdicts are reduced to one. The leaderboard chooses its agreement metrics by a space's
:attr:`~VerdictSpace.kind`, so a new task that answers A / B / tie gets the pair metrics for free.

This module is pure vocabulary: no parsing (see :mod:`judges.parsing`), no prompts, no I/O.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol, TypeAlias

#: Response letters, in the order responses are shown. Eight is the most a ranking takes.
LETTERS = "ABCDEFGH"
#: The canonical tie, as stored in runs, labels and results.
TIE = "tie"
#: What the prompt asks a judge to write for a tie.
TIE_TOKEN = "C"

#: A canonical verdict: an int on a scale, a letter or "tie", or letters best first.
Verdict: TypeAlias = int | str | tuple[str, ...]
#: A verdict as stored in a run's JSON line: an int, a letter or "tie", or a ranking string "CADB".
StoredVerdict: TypeAlias = int | str
#: Which family of agreement metrics applies to a space.
VerdictKind: TypeAlias = Literal["scale", "choice", "ranking"]


@dataclass(frozen=True)
class HumanLabel:
    """A human label normalised for joining with verdicts.

    Attributes:
        label: The canonical label as text ("4", "A", "tie", "CADB"), or "" when unusable.
        issue: Why the label cannot be used ("" when it can).
        raw: The label as the data had it.
    """

    label: str
    issue: str
    raw: str


class VerdictSpace(Hashable, Protocol):
    """What every verdict shape provides. See the module docstring."""

    @property
    def kind(self) -> VerdictKind:
        """Which family of agreement metrics applies."""
        ...

    @property
    def stored_type(self) -> type:
        """The JSON type of a stored verdict (``int`` or ``str``)."""
        ...

    def tokens(self, n_responses: int) -> tuple[str, ...]:
        """The verdict tokens a judge writes (for a ranking, the letter ranked first)."""
        ...

    def from_token(self, token: str) -> Verdict:
        """The verdict a single token stands for ("4" -> 4, "C" -> "tie", "B" -> "B")."""
        ...

    def token_of(self, verdict: Verdict) -> str:
        """The token a judge writes for ``verdict`` (for a ranking, its first letter)."""
        ...

    def text(self, verdict: Verdict | None) -> str:
        """A verdict for people: ``4``, ``A``, ``tie``, ``C > A > B``, or a dash for none."""
        ...

    def to_stored(self, verdict: Verdict) -> StoredVerdict:
        """The JSON form a run stores."""
        ...

    def stored_problem(self, value: object, n_responses: int | None = None) -> str:
        """Why a stored value is not a valid verdict ("" when it is, or when it is null)."""
        ...

    def stored_label(self, value: StoredVerdict) -> str:
        """A valid stored verdict as a label string, comparable with :class:`HumanLabel` labels."""
        ...

    def normalise_human(self, raw: object, n_responses: int | None = None) -> HumanLabel:
        """A human label from a data set in canonical form, or flagged as unusable."""
        ...

    def map_back(self, verdict: Verdict, order: Sequence[int]) -> Verdict:
        """A verdict given on responses shown in ``order`` in terms of the original letters."""
        ...

    def majority(self, verdicts: Sequence[Verdict]) -> Verdict | None:
        """One verdict for several (samples, orders); None for none."""
        ...


def most_common(verdicts: Sequence[Verdict]) -> list[Verdict]:
    """The verdicts given most often, in first-seen order (several on a split vote; none for none)."""
    if not verdicts:
        return []
    counts = Counter(verdicts)
    top = max(counts.values())
    return [v for v, c in counts.items() if c == top]


def is_blank(raw: object) -> bool:
    """Whether a human label is missing (None or only whitespace)."""
    return raw is None or (isinstance(raw, str) and not raw.strip())


# --------------------------------------------------------------------------- scale


@dataclass(frozen=True)
class Scale:
    """A whole number from ``low`` to ``high``; majority ties go to the value nearest the mean."""

    low: int = 1
    high: int = 5
    kind: VerdictKind = "scale"
    stored_type: type = int

    @property
    def values(self) -> tuple[int, ...]:
        """Every value on the scale, lowest first."""
        return tuple(range(self.low, self.high + 1))

    def describe(self) -> str:
        """``1-5``: the scale as the prompt and messages name it."""
        return f"{self.low}-{self.high}"

    def tokens(self, n_responses: int) -> tuple[str, ...]:
        return tuple(str(v) for v in self.values)

    def from_token(self, token: str) -> Verdict:
        return int(token)

    def token_of(self, verdict: Verdict) -> str:
        return str(verdict)

    def text(self, verdict: Verdict | None) -> str:
        return "—" if verdict is None else str(verdict)

    def to_stored(self, verdict: Verdict) -> StoredVerdict:
        return int(verdict)  # type: ignore[arg-type]

    def stored_problem(self, value: object, n_responses: int | None = None) -> str:
        if value is None:
            return ""
        if type(value) is not int or not self.low <= value <= self.high:
            return f"score verdict {value!r} is not an integer {self.low}..{self.high}"
        return ""

    def stored_label(self, value: StoredVerdict) -> str:
        return str(value)

    def normalise_human(self, raw: object, n_responses: int | None = None) -> HumanLabel:
        if is_blank(raw):
            return HumanLabel("", "no human label", "")
        text = str(raw).strip()
        if isinstance(raw, bool):
            return HumanLabel("", f"human score {text!r} is not {self.describe()}", text)
        try:
            number = float(text)
        except ValueError:
            return HumanLabel("", f"human score {text!r} is not a number", text)
        if not number.is_integer() or not self.low <= number <= self.high:
            return HumanLabel("", f"human score {text!r} is not a whole number {self.describe()}", text)
        return HumanLabel(str(int(number)), "", text)

    def map_back(self, verdict: Verdict, order: Sequence[int]) -> Verdict:
        return verdict  # one response: the order cannot change what a score means

    def majority(self, verdicts: Sequence[Verdict]) -> Verdict | None:
        leaders = most_common(verdicts)
        if len(leaders) <= 1:
            return leaders[0] if leaders else None
        mean = statistics.fmean(int(v) for v in verdicts)  # type: ignore[arg-type]
        return min(leaders, key=lambda v: (abs(int(v) - mean), int(v)))  # type: ignore[arg-type]


# --------------------------------------------------------------------------- choice


@dataclass(frozen=True)
class Choice:
    """One of ``options`` (letters), or a tie when ``tie`` is set; a split majority is a tie (or none)."""

    options: tuple[str, ...] = ("A", "B")
    tie: bool = True
    kind: VerdictKind = "choice"
    stored_type: type = str

    @property
    def labels(self) -> tuple[str, ...]:
        """Canonical verdicts in display order: the letters, then "tie"."""
        return (*self.options, TIE) if self.tie else self.options

    def tokens(self, n_responses: int) -> tuple[str, ...]:
        return (*self.options, TIE_TOKEN) if self.tie else self.options

    def from_token(self, token: str) -> Verdict:
        return TIE if self.tie and token == TIE_TOKEN else token

    def token_of(self, verdict: Verdict) -> str:
        return TIE_TOKEN if verdict == TIE else str(verdict)

    def text(self, verdict: Verdict | None) -> str:
        return "—" if verdict is None else str(verdict)

    def to_stored(self, verdict: Verdict) -> StoredVerdict:
        return str(verdict)

    def stored_problem(self, value: object, n_responses: int | None = None) -> str:
        if value is None or value in self.labels:
            return ""
        return f"pair verdict {value!r} is not {_or_list(self.labels)}"

    def stored_label(self, value: StoredVerdict) -> str:
        return str(value)

    def normalise_human(self, raw: object, n_responses: int | None = None) -> HumanLabel:
        if is_blank(raw):
            return HumanLabel("", "no human label", "")
        text = str(raw).strip()
        upper = text.upper()
        if upper in self.options:
            return HumanLabel(upper, "", text)
        if self.tie and upper in (TIE_TOKEN, TIE.upper()):
            return HumanLabel(TIE, "", text)
        offered = ", ".join(self.options) + (f" or {TIE_TOKEN} (tie)" if self.tie else "")
        return HumanLabel("", f"human verdict {text!r} is not {offered}", text)

    def map_back(self, verdict: Verdict, order: Sequence[int]) -> Verdict:
        if verdict == TIE:
            return verdict
        return LETTERS[order[LETTERS.index(str(verdict))]]

    def majority(self, verdicts: Sequence[Verdict]) -> Verdict | None:
        leaders = most_common(verdicts)
        if len(leaders) <= 1:
            return leaders[0] if leaders else None
        # A split vote is a tie, or undecided where the task offers no tie.
        return TIE if self.tie else None


def _or_list(labels: Sequence[str]) -> str:
    quoted = [repr(label) for label in labels]
    return ", ".join(quoted[:-1]) + f" or {quoted[-1]}" if len(quoted) > 1 else quoted[0]


# --------------------------------------------------------------------------- ranking

_RANKING_TEXT = re.compile(r"[A-H]+")


@dataclass(frozen=True)
class Ranking:
    """A full ranking of ``min_items``..``max_items`` lettered responses, best first (Borda majority)."""

    min_items: int = 2
    max_items: int = len(LETTERS)
    kind: VerdictKind = "ranking"
    stored_type: type = str

    def tokens(self, n_responses: int) -> tuple[str, ...]:
        # Token probabilities are read where the best response's letter is written.
        return tuple(LETTERS[:n_responses])

    def from_token(self, token: str) -> Verdict:
        return token

    def token_of(self, verdict: Verdict) -> str:
        return verdict[0] if isinstance(verdict, tuple) else str(verdict)[:1]

    def text(self, verdict: Verdict | None) -> str:
        if verdict is None:
            return "—"
        return " > ".join(verdict) if isinstance(verdict, tuple | list) else " > ".join(str(verdict))

    def to_stored(self, verdict: Verdict) -> StoredVerdict:
        return "".join(verdict) if isinstance(verdict, tuple | list) else str(verdict)

    def stored_problem(self, value: object, n_responses: int | None = None) -> str:
        if value is None:
            return ""
        lo, hi = self.min_items, self.max_items
        if not isinstance(value, str) or not re.fullmatch(rf"[A-H]{{{lo},{hi}}}", value):
            return f"batch verdict {value!r} is not a string of {lo}-{hi} letters A-H"
        return ranking_problem(value, n_responses)

    def stored_label(self, value: StoredVerdict) -> str:
        return str(value)

    def normalise_human(self, raw: object, n_responses: int | None = None) -> HumanLabel:
        if is_blank(raw):
            return HumanLabel("", "no human label", "")
        text = str(raw).strip()
        letters = text.upper()
        if not _RANKING_TEXT.fullmatch(letters):
            return HumanLabel("", f"human ranking {text!r} is not a string of letters A-H", text)
        problem = ranking_problem(letters, n_responses)
        if problem:
            return HumanLabel("", f"human ranking {problem}", text)
        return HumanLabel(letters, "", text)

    def map_back(self, verdict: Verdict, order: Sequence[int]) -> Verdict:
        return tuple(LETTERS[order[LETTERS.index(letter)]] for letter in letters_of(verdict))

    def majority(self, verdicts: Sequence[Verdict]) -> Verdict | None:
        if not verdicts:
            return None
        return borda([letters_of(v) for v in verdicts])


def letters_of(verdict: Verdict) -> tuple[str, ...]:
    """A ranking's letters, best first, whether held as a tuple or as a stored string."""
    return tuple(verdict) if isinstance(verdict, tuple) else tuple(str(verdict))


def ranking_problem(ranking: str, n_responses: int | None) -> str:
    """Why a ranking string is not a full ranking of ``n_responses`` answers ('' when it is).

    Args:
        ranking: Letters best-first, e.g. "CADB".
        n_responses: How many responses were ranked; None to check only for repeats.

    Returns:
        An empty string, or a short reason such as ``'CABD' ranks D but the item has 3 responses``.
    """
    if len(set(ranking)) != len(ranking):
        return f"{ranking!r} repeats a letter"
    if n_responses is None:
        return ""
    expected = set(LETTERS[:n_responses])
    extra = sorted(set(ranking) - expected)
    if extra:
        return f"{ranking!r} ranks {''.join(extra)} but the item has {n_responses} responses"
    if len(ranking) < n_responses:
        return f"{ranking!r} ranks {len(ranking)} of {n_responses} responses"
    return ""


def borda(rankings: Sequence[tuple[str, ...]]) -> tuple[str, ...]:
    """Aggregate rankings: each response scores (n - position) per ranking; highest total first."""
    points: Counter[str] = Counter()
    for ranking in rankings:
        for position, letter in enumerate(ranking):
            points[letter] += len(ranking) - position
    return tuple(sorted(points, key=lambda letter: (-points[letter], letter)))
