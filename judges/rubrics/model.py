"""What a rubric is: named criteria, each on its own whole-number scale, and how the overall is formed.

A rubric is data, never code: the presets (:mod:`judges.rubrics.presets`) and a user's TOML or JSON
(:mod:`judges.rubrics.load`) both become a :class:`Rubric` through :func:`rubric_from_data`, which
checks every field and says what to fix.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from judges.errors import BadInput

#: How a single response's overall score is formed: the judge writes it (``judge``), the criteria's
#: scores are added up (``sum``, ArtifactsBench's 0-100).
OverallRule = Literal["judge", "sum"]

#: The JSON key of the overall part of an answer; no criterion may use it.
OVERALL = "overall"
#: Bounds that keep a prompt and its schema small.
MAX_CRITERIA = 20
MAX_NAME_CHARS = 40
MAX_DESCRIPTION_CHARS = 2_000
MAX_SCALE_VALUE = 100
MAX_CHECKLIST_ITEMS = 50
MAX_CHECKLIST_CHARS = 500

_NAME = re.compile(r"[A-Za-z][A-Za-z0-9 _\-]*")


@dataclass(frozen=True)
class Criterion:
    """One criterion of a rubric.

    Attributes:
        name: What people read ("visual fidelity").
        description: What the criterion asks of a response.
        low: The lowest score.
        high: The highest score.
        anchors: Score -> what a response at that level looks like (optional, in order).
    """

    name: str
    description: str
    low: int = 1
    high: int = 5
    anchors: tuple[tuple[int, str], ...] = ()

    @property
    def key(self) -> str:
        """The JSON key the judge answers under: ``visual_fidelity``."""
        return key_of(self.name)

    @property
    def scale(self) -> str:
        """``1-5``: the scale in words."""
        return f"{self.low}-{self.high}"


@dataclass(frozen=True)
class Rubric:
    """Criteria and the overall rule.

    Attributes:
        name: The rubric's name (a preset's id, or the user's).
        criteria: In the order the judge answers them.
        overall: ``judge`` (the judge writes an overall score on ``overall_low..overall_high``) or
            ``sum`` (the criteria's scores added up; every criterion must be scored).
        overall_low: Lowest overall score (for ``sum``: the sum of the lows).
        overall_high: Highest overall score (for ``sum``: the sum of the highs).
        guidance: A line of judging advice shown before the criteria.
    """

    name: str
    criteria: tuple[Criterion, ...]
    overall: OverallRule = "judge"
    overall_low: int = 1
    overall_high: int = 5
    guidance: str = ""

    @property
    def names(self) -> tuple[str, ...]:
        """The criteria's names, in order."""
        return tuple(c.name for c in self.criteria)

    def criterion(self, name: str) -> Criterion | None:
        """The criterion called ``name`` (case, spaces and underscores ignored), or None."""
        wanted = key_of(name)
        return next((c for c in self.criteria if c.key == wanted), None)


def key_of(name: str) -> str:
    """A criterion name as a JSON key: lower case, runs of spaces and dashes as ``_``."""
    return re.sub(r"[\s\-]+", "_", name.strip().lower())


def _integer(value: object, what: str) -> int:
    if type(value) is int:
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    raise BadInput(f"{what} must be a whole number, got {value!r}.")


def _text(value: object, what: str, limit: int) -> str:
    if not isinstance(value, str) or not value.strip():
        raise BadInput(f"{what} must be a non-empty text.")
    if len(value) > limit:
        raise BadInput(f"{what} is {len(value):,} characters long; keep it under {limit:,}.")
    return " ".join(value.split())


def _scale(entry: Mapping[str, Any], where: str) -> tuple[int, int]:
    """(low, high) from ``scale = [1, 5]``, ``scale = {min = 1, max = 5}`` or ``min``/``max`` keys."""
    scale = entry.get("scale")
    if isinstance(scale, Sequence) and not isinstance(scale, str):
        if len(scale) != 2:
            raise BadInput(f"{where}: scale must be [min, max], got {scale!r}.")
        low, high = scale
    elif isinstance(scale, Mapping):
        low, high = scale.get("min", 1), scale.get("max", 5)
    elif scale is None:
        low, high = entry.get("min", 1), entry.get("max", 5)
    else:
        raise BadInput(f"{where}: scale must be [min, max] or {{min = ..., max = ...}}, got {scale!r}.")
    low, high = _integer(low, f"{where}: the scale's min"), _integer(high, f"{where}: the scale's max")
    if not 0 <= low < high <= MAX_SCALE_VALUE:
        raise BadInput(
            f"{where}: the scale must run from a min to a larger max within 0-{MAX_SCALE_VALUE}, got {low}-{high}."
        )
    return low, high


def _anchors(raw: object, low: int, high: int, where: str) -> tuple[tuple[int, str], ...]:
    if raw is None:
        return ()
    if not isinstance(raw, Mapping):
        raise BadInput(f"{where}: anchors must be a table of score = description, got {type(raw).__name__}.")
    out = []
    for level, text in raw.items():
        try:
            score = int(str(level).strip())
        except ValueError:
            raise BadInput(f"{where}: anchor {level!r} is not a score.") from None
        if not low <= score <= high:
            raise BadInput(f"{where}: anchor {score} is outside the scale {low}-{high}.")
        out.append((score, _text(text, f"{where}: anchor {score}", MAX_DESCRIPTION_CHARS)))
    return tuple(sorted(out))


def criterion_from_data(entry: object, index: int) -> Criterion:
    """One criterion from a table with ``name``, ``description`` and a scale.

    Raises:
        BadInput: Saying which criterion and which field to fix.
    """
    where = f"criterion {index + 1}"
    if not isinstance(entry, Mapping):
        raise BadInput(f"{where} must be a table with name, description and scale, got {type(entry).__name__}.")
    unknown = sorted(set(entry) - {"name", "description", "scale", "min", "max", "anchors"})
    if unknown:
        raise BadInput(
            f"{where} has unknown field(s) {', '.join(map(str, unknown))}; it takes name, description, scale (or min, max) and anchors."
        )
    name = _text(entry.get("name"), f"{where}: name", MAX_NAME_CHARS)
    if not _NAME.fullmatch(name):
        raise BadInput(f"{where}: name {name!r} must start with a letter and use letters, digits, spaces, _ or -.")
    where = f"criterion {name!r}"
    if key_of(name) == OVERALL:
        raise BadInput(f"{where}: 'overall' is the rubric's overall score; name the criterion otherwise.")
    description = _text(entry.get("description"), f"{where}: description", MAX_DESCRIPTION_CHARS)
    low, high = _scale(entry, where)
    return Criterion(name, description, low, high, _anchors(entry.get("anchors"), low, high, where))


def rubric_from_data(data: object, default_name: str = "custom") -> Rubric:
    """A rubric from parsed TOML/JSON: ``criteria`` (a list of tables) and optional ``name``,
    ``overall`` (``judge`` or ``sum``), ``overall_scale`` ([min, max], for ``judge``) and ``guidance``.

    Raises:
        BadInput: Saying what to fix.
    """
    if isinstance(data, list):
        data = {"criteria": data}
    if not isinstance(data, Mapping):
        raise BadInput("A rubric must be a table (TOML) or an object (JSON) with a list of criteria.")
    unknown = sorted(set(data) - {"name", "criteria", "overall", "overall_scale", "guidance"})
    if unknown:
        raise BadInput(
            f"The rubric has unknown field(s) {', '.join(map(str, unknown))}; it takes name, criteria, overall, overall_scale and guidance."
        )
    raw = data.get("criteria")
    if not isinstance(raw, list) or not raw:
        raise BadInput(
            "The rubric lists no criteria: give at least one [[criteria]] table with name, description and scale."
        )
    if len(raw) > MAX_CRITERIA:
        raise BadInput(f"The rubric has {len(raw)} criteria; at most {MAX_CRITERIA} are allowed.")
    criteria = tuple(criterion_from_data(entry, i) for i, entry in enumerate(raw))
    keys = [c.key for c in criteria]
    repeated = sorted({k for k in keys if keys.count(k) > 1})
    if repeated:
        raise BadInput(
            f"The rubric names criterion {', '.join(repeated)} more than once; give each criterion one name."
        )
    name = _text(data.get("name", default_name), "The rubric's name", MAX_NAME_CHARS)
    rule = data.get("overall", "judge")
    if rule not in ("judge", "sum"):
        raise BadInput(
            f"The rubric's overall must be 'judge' (the judge gives an overall score) or 'sum' (the criteria added up), got {rule!r}."
        )
    guidance = _text(data["guidance"], "The rubric's guidance", MAX_DESCRIPTION_CHARS) if "guidance" in data else ""
    if rule == "sum":
        if "overall_scale" in data:
            raise BadInput(
                "overall_scale goes with overall = 'judge'; a summed overall runs from the sum of the mins to the sum of the maxes."
            )
        return Rubric(name, criteria, "sum", sum(c.low for c in criteria), sum(c.high for c in criteria), guidance)
    low, high = _scale({"scale": data.get("overall_scale", [1, 5])}, "the overall")
    return Rubric(name, criteria, "judge", low, high, guidance)
