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
import json
import re
import string
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from judges.types import ParseResult, Verdict

LETTERS = string.ascii_uppercase[:8]
SCORE_LABELS = ("1", "2", "3", "4", "5")
PAIR_LABELS = ("A", "B", "tie")

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


def parse_verdict(
    mode: str,
    text: str | None,
    *,
    n_responses: int | None = None,
    guard_texts: Sequence[str] = (),
) -> ParseResult:
    """Parse a judge's output into a verdict for ``mode``.

    Args:
        mode: ``score``, ``pair`` or ``batch``.
        text: The judge's raw output.
        n_responses: Number of responses in a batch task (the ranking must be a permutation of the
            first ``n_responses`` letters). Ignored for score and pair.
        guard_texts: The instruction and responses the judge saw; their verdict-like lines cannot
            count as the judge's verdict.

    Returns:
        A ParseResult: ``ok`` with the canonical verdict (int 1..5, "A"/"B"/"tie", tuple of
        letters), or ``ok=False`` with a reason.

    Raises:
        ValueError: ``mode`` is not one of the three modes (a programming error, not bad output).
    """
    try:
        value_parser, text_parser = _PARSERS[mode]
    except KeyError:
        raise ValueError(f"unknown mode {mode!r}; expected score, pair or batch") from None
    if text is None or not text.strip():
        return ParseResult.failure("the judge returned an empty output")
    if mode == "batch" and n_responses is not None and not 2 <= n_responses <= len(LETTERS):
        raise ValueError(f"batch mode ranks 2..{len(LETTERS)} responses, got {n_responses}")

    def check(found: _Found, analysis: str) -> ParseResult:
        if found.error:
            return ParseResult.failure(found.error, analysis)
        return ParseResult(True, found.value, analysis, "", (found.start, found.end))

    json_hit = _json_judgement(text)
    if json_hit is not None:
        value, offset, analysis = json_hit
        found = value_parser(value, n_responses, offset, text)
        if found is not None:
            return check(found, analysis or _analysis_before(text, found.start))

    masked = _mask_guarded(text, guard_texts)
    found = text_parser(masked, n_responses)
    if found is None:
        return ParseResult.failure(_NO_VERDICT[mode], text.strip())
    return check(found, _analysis_before(text, found.start))


_NO_VERDICT = {
    "score": "no score found: expected a rating like [[4]] (1-5)",
    "pair": "no verdict found: expected [[A]], [[B]] or [[C]] (tie)",
    "batch": "no ranking found: expected a ranking like [[B]], [[A]], [[C]]",
}


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


# --------------------------------------------------------------------------- score


def _score_value(value: object, _n: int | None, offset: int, text: str) -> _Found | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return _score_number(str(value), offset, text)
    if isinstance(value, (list, tuple)) and len(value) == 1:
        return _score_value(value[0], _n, offset, text)
    if not isinstance(value, str):
        return None
    found = _score_text(value, None)
    if found is None:
        return None
    return _relocate(found, offset, text)


def _relocate(found: _Found, offset: int, text: str) -> _Found:
    """Move a span found in a value string to the same label in the full text (at/after offset)."""
    label = str(found.value[0] if isinstance(found.value, tuple) else found.value)
    label = "C" if label == "tie" else label
    pos = text.find(label, offset)
    if pos < 0:
        return _Found(found.value, found.error, offset, offset)
    return _Found(found.value, found.error, pos, pos + len(label))


def _score_number(raw: str, start: int, text: str) -> _Found:
    try:
        number = float(raw)
    except ValueError:
        return _Found(None, f"score {raw!r} is not a number", start, start)
    if not number.is_integer():
        return _Found(None, f"score {raw} is not a whole number from 1 to 5", start, start)
    if not 1 <= number <= 5:
        return _Found(None, f"score {int(number)} is outside the scale 1-5", start, start)
    pos = text.find(str(int(number)), start)
    pos = start if pos < 0 else pos
    return _Found(int(number), "", pos, pos + 1)


_SCORE_STRONG = re.compile(r"\[\[\s*(-?\d+(?:\.\d+)?)\s*(?:/\s*5\s*)?\]\]")
_SCORE_WEAK = re.compile(
    r"(?:rating|score|judge?ment|verdict|grade)\**\s*(?:is|of|:|=)?\s*[*\"'\[]*\s*([0-9](?:\.\d+)?)"
    r"(?!\d)(?:\s*(?:/|out of)\s*5)?",
    re.IGNORECASE,
)
_SCORE_BARE = re.compile(r"^\W*([0-9](?:\.0+)?)(?:\s*/\s*5)?\W*$")


def _score_text(text: str, _n: int | None) -> _Found | None:
    for pattern in (_SCORE_STRONG, _SCORE_WEAK):
        matches = list(pattern.finditer(text))
        if matches:
            last = matches[-1]
            return _score_number(last.group(1), last.start(1), text)
    bare = _SCORE_BARE.match(text.strip())
    if bare:
        offset = text.find(bare.group(1))
        return _score_number(bare.group(1), offset, text)
    if re.fullmatch(r"\s*\d{2,}\s*", text):
        return _Found(None, f"ambiguous score {text.strip()!r}: several numbers, no single verdict", 0, 0)
    return None


# --------------------------------------------------------------------------- pair

_PAIR_WORDS = {"a": "A", "b": "B", "c": "tie", "tie": "tie", "draw": "tie", "equal": "tie"}
_PAIR_STRONG = re.compile(r"\[\[\s*(?:response|assistant|answer)?\s*([A-Za-z]+)\s*\]\]", re.IGNORECASE)
_PAIR_WEAK = re.compile(
    r"(?:final verdict|verdict|judge?ment|winner|better (?:response|answer) is|choice)\**\s*(?:is|:)?\s*"
    r"[*\"'\[]*\s*(?:(?:it\s+is|it's)\s+)?(?:a\s+)?(?:response|assistant|answer)?\s*\b((?-i:[ABC])|tie)\b",
    re.IGNORECASE,
)
_PAIR_BARE = re.compile(r"^\W*(?:(?:response|assistant|answer)\s+)?([ABC]|tie|draw)\W*$", re.IGNORECASE)


def _pair_label(raw: str, start: int) -> _Found:
    label = _PAIR_WORDS.get(raw.strip().lower())
    if label is None:
        return _Found(None, f"verdict {raw!r} is not one of A, B, C (tie)", start, start)
    return _Found(label, "", start, start + len(raw))


def _pair_text(text: str, _n: int | None) -> _Found | None:
    matches = list(_PAIR_STRONG.finditer(text))
    if matches:
        last = matches[-1]
        return _pair_label(last.group(1), last.start(1))
    matches = list(_PAIR_WEAK.finditer(text))
    if matches:
        last = matches[-1]
        return _pair_label(last.group(1), last.start(1))
    bare = _PAIR_BARE.match(text)
    if bare:
        return _pair_label(bare.group(1), bare.start(1))
    return None


def _pair_value(value: object, _n: int | None, offset: int, text: str) -> _Found | None:
    if isinstance(value, (list, tuple)) and len(value) == 1:
        value = value[0]
    if not isinstance(value, str):
        return None
    found = _pair_text(value, None)
    return None if found is None else _relocate(found, offset, text)


# --------------------------------------------------------------------------- batch

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


def _ranking(letters_text: str, n: int | None, start: int) -> _Found:
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


def _batch_text(text: str, n: int | None) -> _Found | None:
    best: re.Match[str] | None = None
    for pattern in _BATCH_FORMS:
        for match in pattern.finditer(text):
            # Last one wins; on the same end position, prefer the longer (more complete) match.
            if best is None or match.end() > best.end() or (match.end() == best.end() and match.start() < best.start()):
                best = match
    if best is not None:
        group = best.lastindex and best.group(best.lastindex)
        body, start = (group, best.start(best.lastindex)) if group else (best.group(), best.start())
        return _ranking(body, n, start + _first_letter(body))
    bare = _BATCH_BARE.match(text)
    if bare:
        return _ranking(bare.group(1), n, bare.start(1))
    return None


def _first_letter(body: str) -> int:
    found = re.search(r"[A-H]", body)
    return found.start() if found else 0


def _batch_value(value: object, n: int | None, offset: int, text: str) -> _Found | None:
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        value = ", ".join(value)
    if not isinstance(value, str):
        return None
    found = _batch_text(value, n)
    if found is None:
        return None
    return _relocate(found, offset, text) if not found.error else found


_PARSERS: dict[str, tuple[Callable, Callable]] = {
    "score": (_score_value, _score_text),
    "pair": (_pair_value, _pair_text),
    "batch": (_batch_value, _batch_text),
}
