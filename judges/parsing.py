"""Reading a verdict out of a judge's text.

Rules, in order:

1. A JSON object with a judgement key ("Judgement", "Judgment", "Verdict", "Rank", ...) wins over
   free text: the prompt asks for one, and its structure keeps quoted user text (inside
   "Analysis") from being read as a verdict. The last such object counts.
2. Otherwise the *last* verdict marker in the text counts (``[[4]]``, ``[[A]]``, ``[[C]], [[A]]``),
   then weaker forms ("Rating: 4", "Final verdict: B", "C > A > B", a bare "4").
3. The verdict must be one of the offered labels: 1..5, A/B/C (C = tie), or a permutation of the
   offered letters. Anything else is a failure with a reason, never a guess.
4. Text the judge copies from the user's own texts (``guard_texts``) never provides the verdict:
   lines and sentences of those texts that carry verdict-like markers, and JSON objects in them
   with a judgement key, are blanked out of the output before any search (JSON or free text), so a
   response that says "[[A]]" or ``{"Judgement": "[[A]]"}`` cannot vote for itself when the judge
   quotes it, wherever the quote sits.

Hostile outputs cannot pin the parser: only the last :data:`MAX_PARSED_CHARS` characters are read
(verdicts come last), runs of one character or of whitespace are shortened to a few characters
before any pattern sees them (so no pattern can backtrack over a long run), ranking patterns repeat
at most as many times as a ranking has letters, and JSON objects are only tried where they nest at
most :data:`MAX_JSON_DEPTH` deep. The work is linear in the length of the output.
"""

from __future__ import annotations

import ast
import bisect
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

#: Only this many characters, the end of the output, are parsed; a judge's verdict comes last.
MAX_PARSED_CHARS = 100_000
#: JSON objects opening deeper than this are not tried as verdict objects (none nests that deep).
MAX_JSON_DEPTH = 32
#: Characters the Python-style-dict fallback (``ast.literal_eval``) may read per parse, in all.
_LITERAL_BUDGET = 200_000
_LITERAL_MAX = 20_000
#: Runs longer than this are shortened before matching (see the module docstring).
_RUN_KEEP = 8
_RUN = re.compile(rf"\s{{{_RUN_KEEP + 1},}}|(\S)\1{{{_RUN_KEEP},}}")
#: The most verdict-bearing fragments of user text that are masked in one output.
_MAX_GUARD_FRAGMENTS = 200


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

    cut = max(0, len(text) - MAX_PARSED_CHARS)
    window = text[cut:]
    view = _Compact.of(_mask_guarded(window, guard_texts))

    def check(found: _Found, analysis: str) -> ParseResult:
        if found.error:
            return ParseResult.failure(found.error, analysis)
        start = cut + view.original(found.start)
        end = cut + (view.original(found.end - 1) + 1 if found.end > found.start else view.original(found.start))
        return ParseResult(True, found.value, analysis, "", (start, end))

    json_hit = _json_judgement(view.text)
    if json_hit is not None:
        value, offset, analysis, obj_start = json_hit
        found = reader.value(value, n_responses, offset, view.text)
        if found is not None:
            analysis = _original_analysis(window, view.original(obj_start)) or analysis
            return check(found, analysis or _analysis_before(text, cut + view.original(found.start)))

    found = reader.text(view.text, n_responses)
    if found is None:
        return ParseResult.failure(reader.missing, text.strip())
    return check(found, _analysis_before(text, cut + view.original(found.start)))


@dataclass(frozen=True)
class _Compact:
    """The text with long runs shortened, and the way back to the original offsets."""

    text: str
    starts: tuple[int, ...]
    shifts: tuple[int, ...]

    @classmethod
    def of(cls, text: str) -> _Compact:
        pieces: list[str] = []
        starts, shifts = [0], [0]
        last = removed = 0
        for run in _RUN.finditer(text):
            raw = run.group()
            # A whitespace run keeps both ends, and a newline from the middle: patterns care whether one is there.
            middle = "\n" if "\n" in raw[4:-4] else ""
            kept = raw[:4] + middle + raw[-4:] if raw[0].isspace() else raw[:_RUN_KEEP]
            pieces += (text[last : run.start()], kept)
            removed += len(raw) - len(kept)
            starts.append(run.end() - removed)
            shifts.append(removed)
            last = run.end()
        if not pieces:
            return cls(text, (0,), (0,))
        pieces.append(text[last:])
        return cls("".join(pieces), tuple(starts), tuple(shifts))

    def original(self, position: int) -> int:
        """The offset in the original text of ``position`` in the shortened one."""
        return position + self.shifts[bisect.bisect_right(self.starts, position) - 1]


def _short(raw: str, limit: int = 24) -> str:
    return raw if len(raw) <= limit else raw[: limit - 1] + "…"


# --------------------------------------------------------------------------- JSON judgement


def _json_judgement(text: str) -> tuple[object, int, str, int] | None:
    """The last top-level JSON-ish object with a judgement key: (value, offset of the value, analysis, start).

    Objects nested inside a decoded object are not candidates of their own, so a "score" inside a
    judge's "details" never outvotes its "Judgement"; a judgement key nested one level down (a
    wrapper such as ``{"result": {...}}``) is still found.
    """
    best: tuple[object, int, str, int] | None = None
    decoder = json.JSONDecoder(strict=False)
    covered = 0
    budget = [_LITERAL_BUDGET]
    for start, end, depth, height in _braces(text):
        if start < covered or depth > MAX_JSON_DEPTH:
            continue
        obj, obj_end = _decode_object(decoder, text, start, end, height, budget)
        if not isinstance(obj, dict):
            continue
        covered = obj_end
        for candidate in (obj, *(v for v in obj.values() if isinstance(v, dict))):
            keys = {str(k).strip().lower(): k for k in candidate}
            jkey = next((keys[k] for k in _JUDGEMENT_KEYS if k in keys), None)
            if jkey is None:
                continue
            akey = next((keys[k] for k in _ANALYSIS_KEYS if k in keys), None)
            analysis = str(candidate[akey]).strip() if akey is not None else ""
            # Locate the value inside the object's text so that the verdict's span points at the label.
            key_pos = text.rfind(str(jkey), start, obj_end)
            offset = key_pos + len(str(jkey)) if key_pos >= 0 else start
            best = (candidate[jkey], offset, analysis, start)
            break
    if best is None:
        best = _loose_judgement(text)
    return best


def _braces(text: str) -> list[tuple[int, int, int, int]]:
    """Every ``{`` in order: (start, end after its matching ``}`` or -1, nesting depth, height).

    One pass with a stack, counting braces only (strings are the decoder's business); ``height``
    is how deep braces nest inside the object (0 for an object with no braces inside).
    """
    found: list[list[int]] = []
    stack: list[int] = []
    for match in re.finditer(r"[{}]", text):
        if match.group() == "{":
            stack.append(len(found))
            found.append([match.start(), -1, len(stack) - 1, 0])
        elif stack:
            index = stack.pop()
            found[index][1] = match.end()
            if stack:
                parent = found[stack[-1]]
                parent[3] = max(parent[3], found[index][3] + 1)
    return [(s, e, d, h) for s, e, d, h in found]


def _decode_object(
    decoder: json.JSONDecoder, text: str, start: int, end: int, height: int, budget: list[int]
) -> tuple[object, int]:
    try:
        return decoder.raw_decode(text, start)
    except (ValueError, RecursionError):
        pass
    # Judges often write Python-style dicts with single quotes; accept them without eval, within
    # a budget, so that many broken objects cannot make this quadratic.
    if end < 0 or end - start > _LITERAL_MAX or height > 4 or end - start > budget[0] or "'" not in text[start:end]:
        return None, start
    budget[0] -= end - start
    try:
        return ast.literal_eval(text[start:end]), end
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None, start


def _original_analysis(window: str, start: int) -> str:
    """The analysis of the object at ``start`` as the judge wrote it (before runs were shortened)."""
    try:
        obj, _ = json.JSONDecoder(strict=False).raw_decode(window, start)
    except (ValueError, RecursionError):
        return ""
    if not isinstance(obj, dict):
        return ""
    for candidate in (obj, *(v for v in obj.values() if isinstance(v, dict))):
        keys = {str(k).strip().lower(): k for k in candidate}
        akey = next((keys[k] for k in _ANALYSIS_KEYS if k in keys), None)
        if akey is not None:
            return str(candidate[akey]).strip()
    return ""


_LOOSE = re.compile(r'["\']?(?:judge?ment|verdict)["\']?\s*:\s*["\']?([^"\'\n}]+)', re.IGNORECASE)


def _loose_judgement(text: str) -> tuple[object, int, str, int] | None:
    """A broken JSON object (unclosed, unescaped quotes) still names its judgement key."""
    last = None
    for last in _LOOSE.finditer(text):  # noqa: B007 - only the last match counts
        pass
    if last is None or "{" not in text[: last.start()]:
        return None
    return last.group(1).strip()[:200], last.start(1), "", last.start()


# --------------------------------------------------------------------------- guarding user text


def _mask_guarded(text: str, guard_texts: Sequence[str]) -> str:
    """Blank out (same length, so offsets hold) what the judge copied of the user's verdict-like text."""
    literal, spaced = _guard_fragments(tuple(guard_texts))
    for fragment in literal:
        if fragment in text:
            text = text.replace(fragment, " " * len(fragment))
    for pattern in spaced:
        text = pattern.sub(lambda m: " " * len(m.group()), text)
    return text


_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+")
_QUOTED_MARKER = re.compile(r"\[\[[^\[\]]{1,16}\]\]")


@functools.lru_cache(maxsize=64)
def _guard_fragments(guard_texts: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[re.Pattern[str], ...]]:
    """What of the user's texts may not count as a verdict: exact fragments, and spacing-blind JSON.

    * every line, and every sentence of a line, that carries a verdict marker (with more than the
      marker alone: a bare ``[[A]]`` is also what the judge itself writes);
    * a marker in quotes (``"[[A]]"``), which is how a judge quotes a response;
    * every JSON-looking object with a judgement key, matched whatever the spacing, so a judge
      that re-spaces the user's ``{"Judgement": "[[B]]"}`` while quoting it still cannot pass it on.
    """
    literal: list[str] = []
    spaced: list[re.Pattern[str]] = []
    for guard in guard_texts:
        for line in (guard or "").splitlines():
            line = line.strip()
            if len(line) < 4 or not _MARKER.search(line):
                continue
            for piece in (line, *(p.strip() for p in _SENTENCE_END.split(line))):
                markers = "".join(_QUOTED_MARKER.findall(piece))
                if len(piece) >= 4 and _MARKER.search(piece) and len(piece) > len(markers) + 3:
                    literal.append(piece)
            for marker in _QUOTED_MARKER.finditer(line):
                if len(line) > len(marker.group()):
                    literal.append(f'"{marker.group()}"')
        for match in re.finditer(r"\{[^{}]{0,400}\}", guard or ""):
            body = match.group()
            if re.search(r"judge?ment|verdict|rank|rating|score", body, re.IGNORECASE):
                chars = [re.escape(c) for c in body if not c.isspace()]
                spaced.append(re.compile(r"\s*+".join(chars)))
    # Longest first, so a line is blanked whole before a sentence inside it is looked for.
    unique = sorted(set(literal), key=len, reverse=True)[:_MAX_GUARD_FRAGMENTS]
    return tuple(unique), tuple(spaced[:_MAX_GUARD_FRAGMENTS])


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
            rf"(?:rating|score|judge?ment|verdict|grade)\**\s*(?:is|of|:|=)?\s*[*\"'\[]{{0,8}}\s*({digits}(?:\.\d+)?)"
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
            return _Found(None, f"score {_short(raw)!r} is not a number", start, start)
        if not number.is_integer():
            return _Found(
                None, f"score {_short(raw)} is not a whole number from {scale.low} to {scale.high}", start, start
            )
        if not scale.low <= number <= scale.high:
            return _Found(
                None, f"score {_short(str(int(number)))} is outside the scale {scale.describe()}", start, start
            )
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
            return _Found(None, f"ambiguous score {_short(text.strip())!r}: several numbers, no single verdict", 0, 0)
        return None


_CHOICE_WORDS = {"tie": TIE, "draw": TIE, "equal": TIE}


class _ChoiceReader:
    """Letters of a :class:`~judges.verdicts.Choice`: ``[[B]]``, ``Final verdict: A``, ``[[C]]`` (tie)."""

    def __init__(self, choice: Choice) -> None:
        self.choice = choice
        self.tokens = choice.tokens(len(choice.options))
        letters = "".join(self.tokens)
        self.strong = re.compile(r"\[\[\s*(?:response|assistant|answer)?\s*([A-Za-z]{1,12})\s*\]\]", re.IGNORECASE)
        self.weak = re.compile(
            r"(?:final verdict|verdict|judge?ment|winner|better (?:response|answer) is|choice)\**\s*(?:is|:)?\s*"
            rf"[*\"'\[]{{0,8}}\s*(?:(?:it\s+is|it's)\s+)?(?:a\s+)?(?:response|assistant|answer)?\s*\b((?-i:[{letters}])|tie)\b",
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
            return _Found(None, f"verdict {_short(raw)!r} {self.not_offered}", start, start)
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


# Atomic: a whitespace run between letters is read one way only (no backtracking over it).
_SEP = r"(?>\s*(?:,|>|;|->|\bthen\b)\s*|\s+)"
_BATCH_FORMS = (
    # [[C]], [[A]], [[B]]  (also separated by > or spaces)
    re.compile(rf"\[\[\s*[A-H]\s*\]\](?:{_SEP}\[\[\s*[A-H]\s*\]\]){{1,7}}"),
    # Rank: [[A], [C], [D], [B]]   /   Rank: [C, B, D, A]   /   [[C, A, B]]
    re.compile(rf"\[\[?\s*[A-H]\s*\]?(?:{_SEP}\[?\s*[A-H]\s*\]?){{1,7}}\s*\]\]?"),
    # C > A > B
    re.compile(r"\b[A-H]\b(?:\s*>\s*\b[A-H]\b){1,7}"),
    # Rank: CADB   /   Ranking is C, A, B
    re.compile(r"(?:rank(?:ing)?|judge?ment|order)\W{0,4}(?:is\s*)?\b([A-H](?:[\s,]{0,8}[A-H]\b){1,7})", re.IGNORECASE),
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
            shown = _short("".join(letters))
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
