"""Verifiable checks of a generated image: the spec grammar, the facts a judge reports, and the code
that decides each check (GIR-Bench's stance: the judge grounds, programs verify).

Pure functions and frozen dataclasses: no requests, no images, no I/O. :mod:`judges.tasks.verify`
asks a judge for :class:`Facts` and hands them to :func:`evaluate`.

Spec grammar (one check per ``--check``; names are lower-cased, 1-40 letters, digits, spaces,
``-`` or ``_``):

* ``count:NAME=N[,NAME=N ...]``: exactly N of each object (one check per object);
* ``left-of:A,B``, ``right-of:A,B``, ``above:A,B``, ``below:A,B``: A's box centre is on that side
  of B's (image coordinates: y grows downwards);
* ``text:TEXT`` (quotes around TEXT optional): the image shows this text.

Decisions:

* **count**: the judge's count equals N exactly.
* **spatial**: every box of A and every box of B (boxes ``[x0, y0, x1, y1]`` normalised to 0..1)
  must satisfy the relation: along the relation's axis the centres are apart by more than
  :data:`OVERLAP_MARGIN` x the two boxes' summed sizes on that axis (so heavily overlapping boxes do
  not count as "left of"), and that axis dominates the direction between the centres (the unit
  vector's component along it is above :data:`DIRECTION_MIN`). An object with no box fails.
* **text**: both texts are lower-cased, punctuation becomes a space, and they are split into words;
  the score is the length of the longest run of consecutive words the two share, divided by the
  expected text's word count (1.0: the whole expected text was read in one piece). The check passes
  at :data:`TEXT_PASS` or above.

A check whose facts the judge did not give (an object it did not report, a malformed count or box,
no text field) is unscored (``passed`` None) with the reason as its evidence, never failed.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from judges.errors import BadInput

#: Spatial relations: name -> (axis, sign): A's centre minus B's centre along axis has this sign.
RELATIONS: dict[str, tuple[int, int]] = {
    "left-of": (0, -1),
    "right-of": (0, 1),
    "above": (1, -1),
    "below": (1, 1),
}
#: Share of the two boxes' summed sizes along the axis the centres must be apart by.
OVERLAP_MARGIN = 0.25
#: Least component, along the relation's axis, of the unit vector between the centres.
DIRECTION_MIN = 0.5
#: Least word-level longest-common-substring score for a text check to pass.
TEXT_PASS = 0.75
#: Bounds that keep a spec, and the judge's facts, small.
MAX_CHECKS = 32
MAX_COUNT = 100
MAX_BOXES = 100
MAX_TEXT_CHARS = 2000
MAX_EXPECTED_WORDS = 64
#: Slack on the 0..1 range of box coordinates (rounding by the judge).
BOX_SLACK = 1e-3

GRAMMAR = (
    "count:NAME=N[,NAME=N...] | left-of:A,B | right-of:A,B | above:A,B | below:A,B | text:TEXT "
    '(e.g. --check count:cat=2,dog=1 --check left-of:cat,dog --check text:"OPEN 24H")'
)
_NAME = re.compile(r"[a-z0-9][a-z0-9 _-]{0,39}")
_WORD = re.compile(r"[^\W_]+")

CheckKind = Literal["count", "relation", "text"]


@dataclass(frozen=True)
class Check:
    """One check of the spec.

    Attributes:
        kind: ``count``, ``relation`` or ``text``.
        spec: The check as written back to people (``count:cat=2``, ``left-of:cat,dog``, ``text:OPEN 24H``).
        objects: The object names it is about (one for count, two for a relation, none for text).
        count: The expected count (count checks).
        relation: The relation's name (relation checks).
        text: The expected text (text checks).
    """

    kind: CheckKind
    spec: str
    objects: tuple[str, ...] = ()
    count: int = 0
    relation: str = ""
    text: str = ""


@dataclass(frozen=True)
class Box:
    """A box in normalised image coordinates (0..1, y downwards)."""

    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def centre(self) -> tuple[float, float]:
        """The box's centre (x, y)."""
        return (self.x0 + self.x1) / 2, (self.y0 + self.y1) / 2

    @property
    def size(self) -> tuple[float, float]:
        """The box's width and height."""
        return self.x1 - self.x0, self.y1 - self.y0

    def to_list(self) -> list[float]:
        """``[x0, y0, x1, y1]`` rounded to 4 decimals, for details."""
        return [round(v, 4) for v in (self.x0, self.y0, self.x1, self.y1)]


@dataclass(frozen=True)
class ObjectFacts:
    """What the judge reported about one object.

    Attributes:
        name: The object's name as the spec spells it.
        count: How many the judge saw (None: missing or malformed).
        boxes: Its boxes that were well-formed.
        problem: What was wrong with the report ('' when nothing); checks needing the bad part are unscored.
    """

    name: str
    count: int | None
    boxes: tuple[Box, ...]
    problem: str = ""
    boxes_ok: bool = True


@dataclass(frozen=True)
class Facts:
    """The facts a judge reported about an image.

    Attributes:
        objects: Reported object name -> its facts (only names the spec asked about).
        text: The text the judge read (None when it gave none).
    """

    objects: Mapping[str, ObjectFacts]
    text: str | None


@dataclass(frozen=True)
class Outcome:
    """A decided (or unscored) check.

    Attributes:
        check: The check.
        passed: True, False, or None when unscored.
        evidence: What decided it, in words (or why it is unscored).
        score: The text score (text checks), else None.
    """

    check: Check
    passed: bool | None
    evidence: str
    score: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready form kept in a result's details."""
        out: dict[str, Any] = {"check": self.check.spec, "passed": self.passed, "evidence": self.evidence}
        if self.score is not None:
            out["score"] = round(self.score, 4)
        return out


# --------------------------------------------------------------------------- the spec


def _bad(spec: str, why: str) -> BadInput:
    shown = spec if len(spec) <= 80 else spec[:77] + "..."
    return BadInput(f"Check {shown!r}: {why}. Write checks as {GRAMMAR}.")


def _name(spec: str, raw: str) -> str:
    name = " ".join(raw.strip().lower().split())
    if not _NAME.fullmatch(name):
        raise _bad(spec, f"{raw.strip()!r} is not an object name (1-40 letters, digits, spaces, '-' or '_')")
    return name


def parse_check(spec: str) -> list[Check]:
    """The checks one spec string stands for (a count spec with several objects is one per object).

    Raises:
        BadInput: Naming the spec, what is wrong and the grammar.
    """
    if not isinstance(spec, str) or not spec.strip():
        raise _bad(str(spec or ""), "it is empty")
    text = spec.strip()
    kind, sep, body = text.partition(":")
    kind = kind.strip().lower()
    if not sep:
        raise _bad(text, "it has no ':' after the check's kind")
    if kind == "count":
        checks = []
        for part in body.split(","):
            name, eq, number = part.partition("=")
            if not eq:
                raise _bad(text, f"{part.strip()!r} is not NAME=N")
            try:
                count = int(number.strip())
            except ValueError:
                raise _bad(text, f"{number.strip()!r} is not a whole number") from None
            if not 0 <= count <= MAX_COUNT:
                raise _bad(text, f"the count {count} is not from 0 to {MAX_COUNT}")
            obj = _name(text, name)
            checks.append(Check("count", f"count:{obj}={count}", (obj,), count=count))
        return checks
    if kind in RELATIONS:
        names = body.split(",")
        if len(names) != 2:
            raise _bad(text, f"{kind} takes two objects, A,B (A {kind.replace('-', ' ')} B)")
        a, b = (_name(text, n) for n in names)
        if a == b:
            raise _bad(text, "the two objects are the same")
        return [Check("relation", f"{kind}:{a},{b}", (a, b), relation=kind)]
    if kind == "text":
        expected = body.strip()
        if len(expected) >= 2 and expected[0] == expected[-1] and expected[0] in "\"'":
            expected = expected[1:-1].strip()
        words = _words(expected)
        if not words:
            raise _bad(text, "the expected text has no letters or digits")
        if len(words) > MAX_EXPECTED_WORDS:
            raise _bad(text, f"the expected text has more than {MAX_EXPECTED_WORDS} words")
        return [Check("text", f"text:{expected}", text=expected)]
    raise _bad(text, f"{kind!r} is not a kind of check")


def parse_checks(specs: Sequence[str] | str | None) -> tuple[Check, ...]:
    """Every check of a spec list (one spec per string; a single string may hold one per line).

    Raises:
        BadInput: No check, a bad one, or more than :data:`MAX_CHECKS`.
    """
    if isinstance(specs, str):
        specs = specs.splitlines()
    given = [s for s in (specs or ()) if isinstance(s, str) and s.strip()]
    if not given:
        raise BadInput(f"Verify mode needs at least one check. Write checks as {GRAMMAR}.")
    checks: list[Check] = []
    for spec in given:
        checks.extend(parse_check(spec))
        if len(checks) > MAX_CHECKS:
            raise BadInput(f"At most {MAX_CHECKS} checks per image; split the spec.")
    unique = tuple(dict.fromkeys(checks))
    return unique


def object_names(checks: Sequence[Check]) -> tuple[str, ...]:
    """The objects the checks are about, in first-mentioned order."""
    return tuple(dict.fromkeys(name for check in checks for name in check.objects))


def wants_text(checks: Sequence[Check]) -> bool:
    """Whether some check needs the text in the image."""
    return any(check.kind == "text" for check in checks)


def describe(checks: Sequence[Check]) -> str:
    """The spec in words, as a stand-in prompt for the free-form judge ("2 cat; cat left of dog")."""
    parts = []
    for check in checks:
        if check.kind == "count":
            parts.append(f"exactly {check.count} {check.objects[0]}")
        elif check.kind == "relation":
            parts.append(f"a {check.objects[0]} {check.relation.replace('-', ' ')} a {check.objects[1]}")
        else:
            parts.append(f'the text "{check.text}"')
    return "An image showing " + "; ".join(parts) + "."


# --------------------------------------------------------------------------- reading the judge's facts


def _box(raw: object, scale: float = 1.0) -> Box | None:
    if isinstance(raw, Mapping):
        raw = [raw.get(k) for k in ("x0", "y0", "x1", "y1")]
    if not isinstance(raw, (list, tuple)) or len(raw) != 4:
        return None
    values = []
    for v in raw:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            return None
        v = v / scale
        if not -BOX_SLACK <= v <= 1 + BOX_SLACK:
            return None
        values.append(min(1.0, max(0.0, float(v))))
    x0, y0, x1, y1 = values
    if x1 < x0 or y1 < y0:
        return None
    return Box(x0, y0, x1, y1)


def read_facts(value: Mapping[str, Any], names: Sequence[str], want_text: bool, scale: float = 1.0) -> Facts:
    """The facts in a judge's JSON object, for the objects ``names``.

    Box coordinates are divided by ``scale`` (1: fractions of the image; 1000: thousandths, as some
    grounding models write them) and must then lie within 0..1.

    The object's ``objects`` is a list of ``{name, count, boxes}``; names are matched lower-cased and
    with runs of spaces collapsed; a name reported twice keeps its first report. ``text`` is a string.
    Malformed parts are recorded as the object's ``problem`` and make only the checks that need them
    unscored.
    """
    wanted = set(names)
    found: dict[str, ObjectFacts] = {}
    raw_objects = value.get("objects")
    for entry in raw_objects[: 4 * MAX_CHECKS] if isinstance(raw_objects, list) else ():
        if not isinstance(entry, Mapping) or not isinstance(entry.get("name"), str):
            continue
        name = " ".join(entry["name"].strip().lower().split())
        if name not in wanted or name in found:
            continue
        problems = []
        count = entry.get("count")
        if type(count) is not int or not 0 <= count <= MAX_COUNT:
            problems.append(f"its count {count!r} is not a whole number from 0 to {MAX_COUNT}")
            count = None
        raw_boxes = entry.get("boxes")
        boxes: list[Box] = []
        boxes_ok = True
        if not isinstance(raw_boxes, list):
            problems.append("it has no list of boxes")
            boxes_ok = False
        else:
            for raw in raw_boxes[:MAX_BOXES]:
                box = _box(raw, scale)
                if box is None:
                    limit = "0..1" if scale == 1 else f"0..{scale:g}"
                    problems.append(f"box {str(raw)[:60]} is not [x0, y0, x1, y1] within {limit}")
                    boxes_ok = False
                    break
                boxes.append(box)
        found[name] = ObjectFacts(name, count, tuple(boxes), "; ".join(problems), boxes_ok)
    text = value.get("text")
    return Facts(found, text[:MAX_TEXT_CHARS] if isinstance(text, str) else None if want_text else "")


# --------------------------------------------------------------------------- deciding


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def text_score(expected: str, read: str) -> float:
    """Word-level longest common substring of ``read`` and ``expected``, over ``expected``'s words.

    Both are lower-cased and split on anything that is not a letter or a digit. Quadratic in the
    word counts, which the spec (:data:`MAX_EXPECTED_WORDS`) and :data:`MAX_TEXT_CHARS` bound.
    """
    want, got = _words(expected), _words(read[:MAX_TEXT_CHARS])
    if not want:
        return 0.0
    best = 0
    previous = [0] * (len(got) + 1)
    for w in want:
        current = [0] * (len(got) + 1)
        for j, g in enumerate(got, start=1):
            if w == g:
                current[j] = previous[j - 1] + 1
                best = max(best, current[j])
        previous = current
    return best / len(want)


def _relation(check: Check, a: ObjectFacts, b: ObjectFacts) -> tuple[bool, str]:
    axis, sign = RELATIONS[check.relation]
    failures = []
    for i, box_a in enumerate(a.boxes):
        for j, box_b in enumerate(b.boxes):
            (ax, ay), (bx, by) = box_a.centre, box_b.centre
            delta = ((ax - bx) * sign, (ay - by) * sign)
            along = delta[axis]
            length = math.hypot(*delta)
            margin = OVERLAP_MARGIN * (box_a.size[axis] + box_b.size[axis])
            direction = along / length if length > 0 else 0.0
            if along <= margin or direction <= DIRECTION_MIN:
                failures.append(
                    f"{a.name} #{i + 1} at ({ax:.2f}, {ay:.2f}) vs {b.name} #{j + 1} at ({bx:.2f}, {by:.2f}): "
                    f"apart {along:.2f} along the axis (needs > {margin:.2f}), direction {direction:.2f} (needs > "
                    f"{DIRECTION_MIN})"
                )
    pairs = len(a.boxes) * len(b.boxes)
    if failures:
        return False, f"{len(failures)} of {pairs} box pair(s) fail: " + "; ".join(failures[:3])
    centres = ", ".join(f"({x:.2f}, {y:.2f})" for x, y in (box.centre for box in a.boxes))
    others = ", ".join(f"({x:.2f}, {y:.2f})" for x, y in (box.centre for box in b.boxes))
    return True, f"{a.name} at {centres} is {check.relation.replace('-', ' ')} {b.name} at {others}"


def decide(check: Check, facts: Facts) -> Outcome:
    """Decide one check from the judge's facts (unscored when the facts it needs are missing)."""
    if check.kind == "text":
        if facts.text is None:
            return Outcome(check, None, "the judge gave no text field")
        score = text_score(check.text, facts.text)
        read = facts.text if len(facts.text) <= 120 else facts.text[:119] + "…"
        return Outcome(
            check, score >= TEXT_PASS, f"read {read!r}: score {score:.2f} (passes at {TEXT_PASS})", score=score
        )
    reported = [facts.objects.get(name) for name in check.objects]
    for name, obj in zip(check.objects, reported, strict=True):
        if obj is None:
            return Outcome(check, None, f"the judge did not report {name!r}")
    if check.kind == "count":
        obj = reported[0]
        assert obj is not None
        if obj.count is None:
            return Outcome(check, None, f"{obj.name}: {obj.problem}")
        return Outcome(
            check, obj.count == check.count, f"the judge counted {obj.count} {obj.name} (expected {check.count})"
        )
    a, b = reported
    assert a is not None and b is not None
    for obj in (a, b):
        if not obj.boxes_ok:
            return Outcome(check, None, f"{obj.name}: {obj.problem}")
    missing = [obj.name for obj in (a, b) if not obj.boxes]
    if missing:
        return Outcome(check, False, f"no box for {' and '.join(missing)}: the relation cannot hold")
    passed, evidence = _relation(check, a, b)
    return Outcome(check, passed, evidence)


def evaluate(checks: Sequence[Check], facts: Facts) -> list[Outcome]:
    """Decide every check."""
    return [decide(check, facts) for check in checks]


def verdict_of(outcomes: Sequence[Outcome]) -> tuple[str | None, str]:
    """The verification's verdict: ``pass`` when every check passed, ``fail`` when one failed.

    Returns:
        ``(verdict, reason)``: the verdict is None, with the reason, when no check failed but some
        are unscored (the outcome is then not known).
    """
    if any(o.passed is False for o in outcomes):
        return "fail", ""
    unscored = [o for o in outcomes if o.passed is None]
    if unscored:
        return None, f"{len(unscored)} check(s) unscored: " + "; ".join(
            f"{o.check.spec}: {o.evidence}" for o in unscored[:3]
        )
    return "pass", ""
