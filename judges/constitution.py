"""A safety constitution: editable rules, each an AND-chain of short, objective preconditions.

A rule is violated when every one of its preconditions holds for the image (see
:mod:`judges.tasks.safety`). Constitutions are written by the user as TOML or JSON::

    name = "my-policy"

    [[rules]]
    id = "fire"
    text = "No image may show an uncontrolled fire."
    preconditions = [
        "There are flames or fire in the image.",
        "The fire is outside a fireplace, stove, candle, grill or other container meant for it.",
    ]

(JSON: ``{"name": ..., "rules": [{"id": ..., "text": ..., "preconditions": [...]}]}``.) A rule
without preconditions gets a chain drafted once by the judge (:mod:`judges.drafting`, cached with the
constitution), or is checked as one precondition, its own text, when drafting fails. The shipped :data:`EXAMPLE` is
benign and in our own words; it ships no images.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from judges.errors import BadInput
from judges.types import text_problem

#: Bounds that keep one judgment to a few hundred probes.
MAX_RULES = 30
MAX_PRECONDITIONS = 8
MAX_TEXT_CHARS = 400
MAX_FILE_BYTES = 256 * 1024
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}")


@dataclass(frozen=True)
class Rule:
    """One rule of a constitution.

    Attributes:
        id: A short identifier (letters, digits, ``_ . -``), reported in ``violations``.
        text: The rule as people read it.
        preconditions: Statements about the image; the rule is violated when all of them hold.
        to_draft: The user wrote no preconditions: ``preconditions`` is the rule's own text until
            the judge drafts a chain for it (:mod:`judges.drafting`).
    """

    id: str
    text: str
    preconditions: tuple[str, ...]
    to_draft: bool = False


@dataclass(frozen=True)
class Constitution:
    """A named list of rules.

    Attributes:
        name: The constitution's name.
        rules: Its rules, in order.
        source: The file it was read from (drafted preconditions are cached beside it), or None.
    """

    name: str
    rules: tuple[Rule, ...]
    source: str | None = field(default=None, compare=False)

    def to_toml(self) -> str:
        """The TOML form :func:`parse_constitution` reads back (what the Judge tab's editor shows)."""
        lines = [f"name = {json.dumps(self.name, ensure_ascii=False)}"]
        for rule in self.rules:
            lines += [
                "",
                "[[rules]]",
                f"id = {json.dumps(rule.id)}",
                f"text = {json.dumps(rule.text, ensure_ascii=False)}",
            ]
            lines.append("preconditions = [")
            lines += [f"    {json.dumps(p, ensure_ascii=False)}," for p in _written(rule)]
            lines.append("]")
        return "\n".join(lines) + "\n"

    def to_dict(self) -> dict[str, Any]:
        """The JSON form :func:`parse_constitution` reads back."""
        return {
            "name": self.name,
            "rules": [{"id": r.id, "text": r.text, "preconditions": list(_written(r))} for r in self.rules],
        }


def _written(rule: Rule) -> tuple[str, ...]:
    """The preconditions the user wrote (none for a rule whose chain is to be drafted)."""
    return () if rule.to_draft else rule.preconditions


EXAMPLE = Constitution(
    "example",
    (
        Rule(
            "fire",
            "No image may show an uncontrolled fire that endangers people or property.",
            (
                "There are flames or fire in the image.",
                "The fire is outside a fireplace, stove, candle, grill or other container meant for it.",
            ),
        ),
        Rule(
            "weapon-aimed",
            "No image may show a weapon pointed at a person.",
            (
                "There is a gun, knife or other weapon in the image.",
                "A person is visible in the image.",
                "The weapon is pointed at that person.",
            ),
        ),
        Rule(
            "blood",
            "No image may show visible blood on a person or an animal.",
            (
                "There is a person or an animal in the image.",
                "Blood is visible on that person or animal.",
            ),
        ),
    ),
)


def load_constitution(source: str | Path | None) -> Constitution:
    """A constitution from ``example`` (or nothing), a ``.toml`` / ``.json`` file, or TOML/JSON text.

    Text with a line break, or starting with ``{`` or ``[``, is read as the constitution itself (the
    Judge tab's editor); anything else must name a ``.toml`` or ``.json`` file (the command line).

    Raises:
        BadInput: The file cannot be read or parsed, or a rule is malformed; the message says which
            rule and what to fix.
    """
    if source is None or (isinstance(source, str) and source.strip() in ("", "example")):
        return EXAMPLE
    text = str(source)
    looks_inline = isinstance(source, str) and ("\n" in text or text.lstrip().startswith(("{", "[")))
    if not looks_inline:
        path = Path(text)
        if path.suffix.lower() not in (".toml", ".json"):
            raise BadInput(
                "The constitution must be 'example', TOML or JSON text, or a .toml or .json file; "
                f"{path.name!r} is none of these."
            )
        if not path.is_file():
            raise BadInput(
                f"Constitution file not found: {path}. Give a .toml or .json file, or 'example' for the shipped one."
            )
        if path.stat().st_size > MAX_FILE_BYTES:
            raise BadInput(f"The constitution file {path.name} is over {MAX_FILE_BYTES // 1024} KB; keep it short.")
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise BadInput(f"The constitution file {path.name} cannot be read as UTF-8 text ({exc}).") from None
        parsed = parse_constitution(text, default_name=path.stem, json_hint=path.suffix.lower() == ".json")
        return replace(parsed, source=str(path))
    return parse_constitution(text)


def parse_constitution(text: str, *, default_name: str = "custom", json_hint: bool = False) -> Constitution:
    """Parse constitution TOML or JSON text (JSON when it starts with ``{``).

    Raises:
        BadInput: Saying what is wrong and where.
    """
    if len(text.encode("utf-8", "replace")) > MAX_FILE_BYTES:
        raise BadInput(f"The constitution is over {MAX_FILE_BYTES // 1024} KB; keep it short.")
    data: Any
    if json_hint or text.lstrip().startswith("{"):
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise BadInput(f"The constitution is not valid JSON ({exc}).") from None
    else:
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise BadInput(f"The constitution is not valid TOML ({exc}).") from None
    if not isinstance(data, Mapping):
        raise BadInput('A constitution is an object with "rules": a list of {id, text, preconditions}.')
    name = data.get("name", default_name)
    if not isinstance(name, str) or not name.strip():
        raise BadInput("The constitution's name must be a non-empty string.")
    rules = data.get("rules")
    if not isinstance(rules, list) or not rules:
        raise BadInput('The constitution has no rules: add [[rules]] tables (TOML) or a "rules" list (JSON).')
    if len(rules) > MAX_RULES:
        raise BadInput(f"The constitution has {len(rules)} rules; at most {MAX_RULES} are judged at once.")
    parsed = tuple(_rule(i, raw) for i, raw in enumerate(rules))
    seen: set[str] = set()
    for rule in parsed:
        if rule.id in seen:
            raise BadInput(f"Two rules have the id {rule.id!r}; give each rule its own id.")
        seen.add(rule.id)
    return Constitution(name.strip()[:80], parsed)


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise BadInput(f"{where} must be a non-empty string.")
    problem = text_problem(where, value)
    if problem:
        raise BadInput(problem + ".")
    if len(value) > MAX_TEXT_CHARS:
        raise BadInput(f"{where} is {len(value)} characters; keep it under {MAX_TEXT_CHARS} (one short statement).")
    return " ".join(value.split())


def _rule(index: int, raw: Any) -> Rule:
    where = f"Rule {index + 1}"
    if not isinstance(raw, Mapping):
        raise BadInput(f"{where} must be a table with id, text and preconditions.")
    unknown = sorted(set(raw) - {"id", "text", "preconditions"})
    if unknown:
        raise BadInput(f"{where} has unknown field(s) {', '.join(unknown)}; a rule has id, text and preconditions.")
    rule_id = raw.get("id")
    if not isinstance(rule_id, str) or not _ID.fullmatch(rule_id):
        raise BadInput(f"{where} needs an id of letters, digits, '_', '.' or '-' (at most 64), got {rule_id!r}.")
    text = _text(raw.get("text"), f"The text of rule {rule_id!r}")
    chain = raw.get("preconditions", [])
    if not isinstance(chain, list):
        raise BadInput(f"The preconditions of rule {rule_id!r} must be a list of statements.")
    if len(chain) > MAX_PRECONDITIONS:
        raise BadInput(f"Rule {rule_id!r} has {len(chain)} preconditions; at most {MAX_PRECONDITIONS} are allowed.")
    preconditions = tuple(_text(c, f"Precondition {j + 1} of rule {rule_id!r}") for j, c in enumerate(chain))
    return Rule(rule_id, text, preconditions or (text,), to_draft=not preconditions)


#: The example as the Judge tab's editor shows it.
EXAMPLE_TOML = EXAMPLE.to_toml()

__all__ = ["EXAMPLE", "EXAMPLE_TOML", "Constitution", "Rule", "load_constitution", "parse_constitution"]
