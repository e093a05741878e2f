"""Read a JSON object out of a judge's answer, strictly when possible and leniently when not.

Judges asked for JSON often answer with almost-JSON: the object inside a Markdown fence, after a
sentence of preamble, with single quotes, Python's ``True``/``None``, a trailing comma, or cut off
by the token limit. :func:`read_object` accepts all of these. It first tries the strict parser on the
object's text; failing that, one linear pass rewrites the text into strict JSON (quotes, literals,
trailing commas, the unclosed tail) and parses that.

Hostile answers stay cheap: the input is capped at :data:`MAX_CHARS` before any work, the rewrite is
a single left-to-right pass with a bracket stack capped at :data:`MAX_DEPTH`, and the strict parser
runs at most twice. (The json-repair package does the same kind of repair, but it is quadratic on
some inputs, e.g. thousands of ``{'`` in a row, so it cannot face a judge's output.)
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

#: Longest answer read; judges' JSON verdicts are a few kilobytes.
MAX_CHARS = 200_000
#: Deepest nesting accepted; verdict objects nest two or three levels.
MAX_DEPTH = 32

_FENCE = re.compile(r"```[ \t]*(?:json|JSON|javascript)?[ \t]*\r?\n?")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_\-]*")
_NUMBER = re.compile(r"-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_LITERALS = {"true": "true", "false": "false", "null": "null", "True": "true", "False": "false", "None": "null"}
_CLOSER = {"{": "}", "[": "]"}


@dataclass(frozen=True)
class JsonRead:
    """The outcome of :func:`read_object`.

    Attributes:
        value: The object read, or None.
        repaired: Whether the text needed repair (fence, quotes, a truncated tail ...) to be read.
        truncated: Whether the object was cut off (brackets or a string closed by the repair).
        reason: Why no object could be read ('' when one was).
    """

    value: dict[str, Any] | None
    repaired: bool = False
    truncated: bool = False
    reason: str = ""


def read_object(text: str | None) -> JsonRead:
    """The first JSON object in ``text``, read strictly if possible, else repaired.

    Args:
        text: A judge's answer.

    Returns:
        A :class:`JsonRead`; ``value`` is None with a ``reason`` when no object can be read.
    """
    if not isinstance(text, str) or not text.strip():
        return JsonRead(None, reason="the answer is empty")
    text = text[:MAX_CHARS]
    fence = _FENCE.search(text)
    body = text[fence.end() :] if fence else text
    start = body.find("{")
    if start < 0:
        return JsonRead(None, reason="the answer holds no JSON object (no '{')")
    body = body[start:]
    try:
        value, _ = json.JSONDecoder().raw_decode(body)
    except (ValueError, RecursionError):
        pass
    else:
        if isinstance(value, dict):
            return JsonRead(value, repaired=fence is not None)
    rewritten, truncated, problem = _rewrite(body)
    if problem:
        return JsonRead(None, reason=problem)
    try:
        value = json.loads(rewritten)
    except (ValueError, RecursionError) as exc:
        return JsonRead(None, reason=f"the JSON object cannot be read even leniently ({_short(exc)})")
    if not isinstance(value, dict):
        return JsonRead(None, reason="the answer's JSON is not an object")
    return JsonRead(value, repaired=True, truncated=truncated)


def _short(exc: BaseException) -> str:
    return str(exc).split(":")[0][:80] or type(exc).__name__


def _rewrite(body: str) -> tuple[str, bool, str]:
    """Rewrite almost-JSON starting at ``{`` into strict JSON in one pass.

    Returns:
        (the strict text, whether the tail was closed by the repair, a problem or '').
    """
    out: list[str] = []
    stack: list[str] = []
    i, n = 0, len(body)
    while i < n:
        ch = body[i]
        if ch in "\"'":
            i, closed = _string(body, i, out)
            if not closed:
                return _close(out, stack), True, ""
            continue
        if ch in "{[":
            if len(stack) >= MAX_DEPTH:
                return "", False, f"the answer's JSON nests deeper than {MAX_DEPTH} levels"
            stack.append(_CLOSER[ch])
            out.append(ch)
        elif ch in "}]":
            if stack and stack[-1] == ch:
                _drop_trailing(out, ",")
                if out and out[-1] == ":":
                    out.append("null")
                out.append(stack.pop())
                if not stack:
                    return "".join(out), False, ""
            # A closer that closes nothing open is noise; skip it.
        elif ch == ",":
            # Doubled commas and a comma right after an opening bracket are noise.
            if out and out[-1] not in ",{[:":
                out.append(ch)
        elif ch == ":":
            out.append(ch)
        elif ch.isspace():
            pass
        else:
            number = _NUMBER.match(body, i)
            word = None if number else _WORD.match(body, i)
            if number:
                out.append(_number(number.group()))
                i = number.end()
                continue
            if word:
                token = word.group()
                out.append(_LITERALS.get(token) or json.dumps(token))
                i = word.end()
                continue
            # Any other character outside a string (a stray '=' or comment mark) is dropped.
        i += 1
    return _close(out, stack), True, ""


def _number(token: str) -> str:
    """A number token as strict JSON spells it (``1.`` -> ``1.0``, ``.5`` -> ``0.5``)."""
    if token.endswith("."):
        token += "0"
    if token.startswith("."):
        token = "0" + token
    elif token.startswith("-."):
        token = "-0" + token[1:]
    return token


def _string(body: str, i: int, out: list[str]) -> tuple[int, bool]:
    """Copy the string starting at ``body[i]`` into ``out`` as a strict JSON string.

    Returns:
        (the index after the string, whether it was closed in the text).
    """
    quote = body[i]
    pieces = ['"']
    i += 1
    n = len(body)
    while i < n:
        ch = body[i]
        if ch == "\\" and i + 1 < n:
            nxt = body[i + 1]
            pieces.append("'" if nxt == "'" else "\\" + nxt if nxt in '"\\/bfnrtu' else "\\\\" + nxt)
            i += 2
            continue
        if ch == quote:
            pieces.append('"')
            out.append("".join(pieces))
            return i + 1, True
        if ch == '"':
            pieces.append('\\"')
        elif ch == "\n":
            pieces.append("\\n")
        elif ch == "\r":
            pieces.append("\\r")
        elif ch == "\t":
            pieces.append("\\t")
        elif ord(ch) < 0x20:
            pieces.append(f"\\u{ord(ch):04x}")
        else:
            pieces.append(ch)
        i += 1
    if pieces[-1].endswith("\\") and not pieces[-1].endswith("\\\\"):
        pieces.pop()
    pieces.append('"')
    out.append("".join(pieces))
    return n, False


def _drop_trailing(out: list[str], token: str) -> None:
    if out and out[-1] == token:
        out.pop()


def _close(out: list[str], stack: list[str]) -> str:
    """Close what a truncated answer left open: a dangling comma or key, then every bracket."""
    _drop_trailing(out, ",")
    if out and out[-1] == ":":
        out.append("null")
    elif stack and stack[-1] == "}" and out and out[-1] not in "{," and _dangling_key(out):
        out.append(":null")
    return "".join(out) + "".join(reversed(stack))


def _dangling_key(out: list[str]) -> bool:
    """Whether the object's last member is a key without a value (``{"a": 1, "b"``)."""
    depth = 0
    members = 0
    for piece in reversed(out):
        if piece in ("}", "]"):
            depth += 1
        elif piece in ("{", "["):
            if depth == 0:
                return members % 2 == 1
            depth -= 1
        elif depth == 0 and piece == ":":
            return False
        elif depth == 0 and piece == ",":
            return True
        elif depth == 0:
            members += 1
    return False
