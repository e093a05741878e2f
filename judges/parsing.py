"""Reading a verdict out of a judge's text.

Rules, in order:

1. A JSON object with a judgement key ("Judgement", "Judgment", "Verdict", "Rank", ...) wins over
   free text: the prompt asks for one, and its structure keeps quoted user text (inside
   "Analysis") from being read as a verdict. The last such object counts.
2. Otherwise the *last* verdict marker in the text counts (``[[4]]``, ``[[A]]``, ``[[C]], [[A]]``),
   then weaker forms ("Rating: 4", "Final verdict: B", "C > A > B", a bare "4").
3. The verdict must be one of the offered labels: 1..5, A/B/C (C = tie), or a permutation of the
   offered letters. Anything else is a failure with a reason, never a guess.
4. Lines of the user's own texts (``guard_texts``) that carry verdict-like markers are blanked out of
   the output before free-text search, so a response that says "[[A]]" cannot vote for itself when
   the judge quotes it.
"""

from __future__ import annotations

import ast
import functools
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from judges.types import ParseResult
from judges.verdicts import LETTERS, TIE, TIE_TOKEN, Choice, Ranking, Scale, Verdict, VerdictSpace

_JUDGEMENT_KEYS = ("judgement", "judgment", "verdict", "final verdict", "rank", "ranking", "rating", "score")
_ANALYSIS_KEYS = ("analysis", "reasoning", "explanation", "rationale")
_MARKER = re.compile(r"\[\[|\]\]|judge?ment|verdict|rank", re.IGNORECASE)


@dataclass(frozen=True)
class _Found:
    """A candidate verdict: its canonical value (or an error) and where its label sits."""

    value: Verdict | None
    error: str
    start: int
    end: int


# --------------------------------------------------------------------------- public API


def parse_with(
    space: VerdictSpace,
    text: str | None,
    *,
    n_responses: int | None = None,
    guard_texts: Sequence[str] = (),
) -> ParseResult:
    """Parse a judge's output into a verdict of ``space``.

    Args:
        space: The verdict shape the task offers (:mod:`judges.verdicts`).
        text: The judge's raw output.
        n_responses: Number of responses in a ranking task (the ranking must be a permutation of
            the first ``n_responses`` letters). Ignored by other shapes.
        guard_texts: The instruction and responses the judge saw; their verdict-like lines cannot
            count as the judge's verdict.

    Returns:
        A ParseResult: ``ok`` with the canonical verdict (int on the scale, "A"/"B"/"tie", tuple
        of letters), or ``ok=False`` with a reason.

    Raises:
        ValueError: A ranking of a number of responses the space does not take (a programming
            error, not bad output), or a space no reader is registered for.
    """
    reader = _reader_for(space)
    if text is None or not text.strip():
        return ParseResult.failure("the judge returned an empty output")
    if isinstance(space, Ranking) and n_responses is not None and not space.min_items <= n_responses <= space.max_items:
        raise ValueError(f"a ranking takes {space.min_items}..{space.max_items} responses, got {n_responses}")

    def check(found: _Found, analysis: str) -> ParseResult:
        if found.error:
            return ParseResult.failure(found.error, analysis)
        return ParseResult(True, found.value, analysis, "", (found.start, found.end))

    json_hit = _json_judgement(text)
    if json_hit is not None:
        value, offset, analysis = json_hit
        found = reader.value(value, n_responses, offset, text)
        if found is not None:
            return check(found, analysis or _analysis_before(text, found.start))

    masked = _mask_guarded(text, guard_texts)
    found = reader.text(masked, n_responses)
    if found is None:
        return ParseResult.failure(reader.missing, text.strip())
    return check(found, _analysis_before(text, found.start))


# --------------------------------------------------------------------------- JSON judgement


def _json_judgement(text: str) -> tuple[object, int, str] | None:
    """The last top-level JSON-ish object with a judgement key: (value, offset of the value, analysis).

    Objects nested inside a decoded object are not candidates of their own, so a "score" inside a
    judge's "details" never outvotes its "Judgement"; a judgement key nested one level down (a
    wrapper such as ``{"result": {...}}``) is still found.
    """
    best: tuple[object, int, str] | None = None
    decoder = json.JSONDecoder()
    position = 0
    while (start := text.find("{", position)) >= 0:
        obj, end = _decode_object(decoder, text, start)
        if not isinstance(obj, dict):
            position = start + 1
            continue
        position = end
        for candidate in (obj, *(v for v in obj.values() if isinstance(v, dict))):
            keys = {str(k).strip().lower(): k for k in candidate}
            jkey = next((keys[k] for k in _JUDGEMENT_KEYS if k in keys), None)
            if jkey is None:
                continue
            akey = next((keys[k] for k in _ANALYSIS_KEYS if k in keys), None)
            analysis = str(candidate[akey]).strip() if akey is not None else ""
            # Locate the value inside the object's text so that the verdict's span points at the label.
            key_pos = text.rfind(str(jkey), start, end)
            offset = key_pos + len(str(jkey)) if key_pos >= 0 else start
            best = (candidate[jkey], offset, analysis)
            break
    if best is None:
        best = _loose_judgement(text)
    return best


def _decode_object(decoder: json.JSONDecoder, text: str, start: int) -> tuple[object, int]:
    try:
        return decoder.raw_decode(text, start)
    except ValueError:
        pass
    # Judges often write Python-style dicts with single quotes; accept them without eval.
    depth, end = 0, -1
    for i in range(start, min(len(text), start + 20_000)):
        depth += {"{": 1, "}": -1}.get(text[i], 0)
        if depth == 0:
            end = i + 1
            break
    if end < 0:
        return None, start
    try:
        return ast.literal_eval(text[start:end]), end
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None, start


_LOOSE = re.compile(r'["\']?(?:judge?ment|verdict)["\']?\s*:\s*["\']?([^"\'\n}]+)', re.IGNORECASE)


def _loose_judgement(text: str) -> tuple[object, int, str] | None:
    """A broken JSON object (unclosed, unescaped quotes) still names its judgement key."""
    matches = list(_LOOSE.finditer(text))
    if not matches or "{" not in text[: matches[-1].start()]:
        return None
    last = matches[-1]
    return last.group(1).strip(), last.start(1), ""


# --------------------------------------------------------------------------- guarding user text


def _mask_guarded(text: str, guard_texts: Sequence[str]) -> str:
    """Blank out (same length, so offsets hold) quoted user lines that carry verdict markers."""
    for guard in guard_texts:
        for line in (guard or "").splitlines():
            line = line.strip()
            if len(line) >= 4 and _MARKER.search(line):
                text = text.replace(line, " " * len(line))
            # The whole marker alone is masked only with context, or the judge's own verdict would go.
            for marker in re.finditer(r"\[\[[^\[\]]{1,16}\]\]", line):
                if len(line) > len(marker.group()):
                    text = text.replace(f'"{marker.group()}"', " " * (len(marker.group()) + 2))
    return text


def _analysis_before(text: str, position: int) -> str:
    head = text[:position]
    cut = max(head.rfind("\n"), 0)
    return (head[:cut] if cut else "").strip() or text.strip()


# --------------------------------------------------------------------------- readers


class _Reader(Protocol):
    """How one verdict shape is read: from a JSON judgement value, or from free text."""

    missing: str

    def value(self, value: object, n: int | None, offset: int, text: str) -> _Found | None:
        """A verdict from the value of a JSON judgement key (None: not this shape at all)."""
        ...

    def text(self, text: str, n: int | None) -> _Found | None:
        """The last verdict written in free text (None: no verdict-like marker at all)."""
        ...


def _relocate(found: _Found, token: str, offset: int, text: str) -> _Found:
    """Move a span found in a value string to the same token in the full text (at/after offset)."""
    pos = text.find(token, offset)
    if pos < 0:
        return _Found(found.value, found.error, offset, offset)
    return _Found(found.value, found.error, pos, pos + len(token))


class _ScaleReader:
    """Whole numbers on a :class:`~judges.verdicts.Scale`: ``[[4]]``, ``Rating: 4/5``, a bare ``4``."""

    def __init__(self, scale: Scale) -> None:
        self.scale = scale
        top = re.escape(str(scale.high))
        digits = f"[0-9]{{1,{len(str(scale.high))}}}"
        self.strong = re.compile(rf"\[\[\s*(-?\d+(?:\.\d+)?)\s*(?:/\s*{top}\s*)?\]\]")
        self.weak = re.compile(
            rf"(?:rating|score|judge?ment|verdict|grade)\**\s*(?:is|of|:|=)?\s*[*\"'\[]*\s*({digits}(?:\.\d+)?)"
            rf"(?!\d)(?:\s*(?:/|out of)\s*{top})?",
            re.IGNORECASE,
        )
        self.bare = re.compile(rf"^\W*({digits}(?:\.0+)?)(?:\s*/\s*{top})?\W*$")
        self.run_on = re.compile(rf"\s*\d{{{len(str(scale.high)) + 1},}}\s*")
        self.missing = f"no score found: expected a rating like [[4]] ({scale.describe()})"

    def number(self, raw: str, start: int, text: str) -> _Found:
        scale = self.scale
        try:
            number = float(raw)
        except ValueError:
            return _Found(None, f"score {raw!r} is not a number", start, start)
        if not number.is_integer():
            return _Found(None, f"score {raw} is not a whole number from {scale.low} to {scale.high}", start, start)
        if not scale.low <= number <= scale.high:
            return _Found(None, f"score {int(number)} is outside the scale {scale.describe()}", start, start)
        token = str(int(number))
        pos = text.find(token, start)
        pos = start if pos < 0 else pos
        return _Found(int(number), "", pos, pos + len(token))

    def value(self, value: object, n: int | None, offset: int, text: str) -> _Found | None:
        if isinstance(value, bool):
            return None
        if isinstance(value, (int, float)):
            return self.number(str(value), offset, text)
        if isinstance(value, (list, tuple)) and len(value) == 1:
            return self.value(value[0], n, offset, text)
        if not isinstance(value, str):
            return None
        found = self.text(value, None)
        if found is None:
            return None
        return _relocate(found, str(found.value), offset, text)

    def text(self, text: str, n: int | None) -> _Found | None:
        for pattern in (self.strong, self.weak):
            matches = list(pattern.finditer(text))
            if matches:
                last = matches[-1]
                return self.number(last.group(1), last.start(1), text)
        bare = self.bare.match(text.strip())
        if bare:
            return self.number(bare.group(1), text.find(bare.group(1)), text)
        if self.run_on.fullmatch(text):
            return _Found(None, f"ambiguous score {text.strip()!r}: several numbers, no single verdict", 0, 0)
        return None


_CHOICE_WORDS = {"tie": TIE, "draw": TIE, "equal": TIE}


class _ChoiceReader:
    """Letters of a :class:`~judges.verdicts.Choice`: ``[[B]]``, ``Final verdict: A``, ``[[C]]`` (tie)."""

    def __init__(self, choice: Choice) -> None:
        self.choice = choice
        self.tokens = choice.tokens(len(choice.options))
        letters = "".join(self.tokens)
        self.strong = re.compile(r"\[\[\s*(?:response|assistant|answer)?\s*([A-Za-z]+)\s*\]\]", re.IGNORECASE)
        self.weak = re.compile(
            r"(?:final verdict|verdict|judge?ment|winner|better (?:response|answer) is|choice)\**\s*(?:is|:)?\s*"
            rf"[*\"'\[]*\s*(?:(?:it\s+is|it's)\s+)?(?:a\s+)?(?:response|assistant|answer)?\s*\b((?-i:[{letters}])|tie)\b",
            re.IGNORECASE,
        )
        self.bare = re.compile(rf"^\W*(?:(?:response|assistant|answer)\s+)?([{letters}]|tie|draw)\W*$", re.IGNORECASE)
        offered = ", ".join(f"[[{t}]]" for t in choice.options)
        self.missing = (
            f"no verdict found: expected {offered} or [[{TIE_TOKEN}]] (tie)"
            if choice.tie
            else (f"no verdict found: expected {offered}")
        )
        listed = ", ".join(choice.options) + (f", {TIE_TOKEN} (tie)" if choice.tie else "")
        self.not_offered = f"is not one of {listed}"

    def label(self, raw: str, start: int) -> _Found:
        word = raw.strip()
        upper = word.upper()
        label: str | None = None
        if upper in self.tokens:
            label = str(self.choice.from_token(upper))
        elif self.choice.tie:
            label = _CHOICE_WORDS.get(word.lower())
        if label is None:
            return _Found(None, f"verdict {raw!r} {self.not_offered}", start, start)
        return _Found(label, "", start, start + len(raw))

    def value(self, value: object, n: int | None, offset: int, text: str) -> _Found | None:
        if isinstance(value, (list, tuple)) and len(value) == 1:
            value = value[0]
        if not isinstance(value, str):
            return None
        found = self.text(value, None)
        if found is None:
            return None
        return _relocate(found, self.choice.token_of(found.value) if found.value else "", offset, text)

    def text(self, text: str, n: int | None) -> _Found | None:
        for pattern in (self.strong, self.weak):
            matches = list(pattern.finditer(text))
            if matches:
                last = matches[-1]
                return self.label(last.group(1), last.start(1))
        bare = self.bare.match(text)
        if bare:
            return self.label(bare.group(1), bare.start(1))
        return None


_SEP = r"\s*(?:,|>|;|->|\bthen\b|\s)\s*"
_BATCH_FORMS = (
    # [[C]], [[A]], [[B]]  (also separated by > or spaces)
    re.compile(rf"\[\[\s*[A-H]\s*\]\](?:{_SEP}\[\[\s*[A-H]\s*\]\])+"),
    # Rank: [[A], [C], [D], [B]]   /   Rank: [C, B, D, A]   /   [[C, A, B]]
    re.compile(rf"\[\[?\s*[A-H]\s*\]?(?:{_SEP}\[?\s*[A-H]\s*\]?)+\s*\]\]?"),
    # C > A > B
    re.compile(r"\b[A-H]\b(?:\s*>\s*\b[A-H]\b)+"),
    # Rank: CADB   /   Ranking is C, A, B
    re.compile(r"(?:rank(?:ing)?|judge?ment|order)\W{0,4}(?:is\s*)?\b([A-H](?:[\s,]*[A-H]\b)+)", re.IGNORECASE),
    re.compile(r"(?:rank(?:ing)?|judge?ment|order)\W{0,4}(?:is\s*)?\b([A-H]{2,8})\b", re.IGNORECASE),
)
_BATCH_BARE = re.compile(r"^\W*([A-H](?:[\s,>]*[A-H]){1,7})\W*$")


class _RankingReader:
    """Rankings of lettered responses: ``[[C]], [[A]], [[B]]``, ``C > A > B``, ``Rank: CAB``."""

    missing = "no ranking found: expected a ranking like [[B]], [[A]], [[C]]"

    def __init__(self, ranking: Ranking) -> None:
        self.ranking = ranking

    @staticmethod
    def letters(letters_text: str, n: int | None, start: int) -> _Found:
        letters = tuple(re.findall(r"[A-H]", letters_text))
        expected = LETTERS[: n or len(letters)]
        if sorted(letters) != sorted(expected):
            shown = "".join(letters)
            if len(set(letters)) != len(letters):
                why = "repeats a letter"
            elif len(letters) < len(expected):
                why = f"ranks {len(letters)} of {len(expected)} responses"
            else:
                why = f"is not a permutation of {', '.join(expected)}"
            return _Found(None, f"ranking {shown!r} {why}", start, start)
        return _Found(letters, "", start, start + 1)

    def text(self, text: str, n: int | None) -> _Found | None:
        best: re.Match[str] | None = None
        for pattern in _BATCH_FORMS:
            for match in pattern.finditer(text):
                # Last one wins; on the same end position, prefer the longer (more complete) match.
                if (
                    best is None
                    or match.end() > best.end()
                    or (match.end() == best.end() and match.start() < best.start())
                ):
                    best = match
        if best is not None:
            group = best.group(best.lastindex) if best.lastindex else None
            body, start = (group, best.start(best.lastindex or 0)) if group else (best.group(), best.start())
            return self.letters(body, n, start + _first_letter(body))
        bare = _BATCH_BARE.match(text)
        if bare:
            return self.letters(bare.group(1), n, bare.start(1))
        return None

    def value(self, value: object, n: int | None, offset: int, text: str) -> _Found | None:
        if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
            value = ", ".join(value)
        if not isinstance(value, str):
            return None
        found = self.text(value, n)
        if found is None:
            return None
        if found.error:
            return found
        return _relocate(found, self.ranking.token_of(found.value) if found.value else "", offset, text)


def _first_letter(body: str) -> int:
    found = re.search(r"[A-H]", body)
    return found.start() if found else 0


#: Verdict shape -> its reader. A new shape registers its reader here.
_READERS: dict[type, Callable[[Any], _Reader]] = {Scale: _ScaleReader, Choice: _ChoiceReader, Ranking: _RankingReader}


@functools.cache
def _reader_for(space: VerdictSpace) -> _Reader:
    try:
        make = _READERS[type(space)]
    except KeyError:
        raise ValueError(f"no verdict reader for {type(space).__name__}; register one in judges.parsing") from None
    return make(space)
