"""Preconditions drafted by the judge for constitution rules that have none (CLUE's first step).

A rule written as one sentence ("No image may show smoke from a building.") is turned once into a
short AND-chain of objective statements about the image, which the safety task then probes one by
one. Drafts are cached: in memory for the process, and, when the constitution came from a file, in
a file beside it (``<constitution>.drafts.json``), keyed by the judge and the rule's text, so a rule
is drafted once per judge and a reviewer can read (and copy into the constitution) what was drafted.

All rules to draft in one call go to the backend together (one JSON request each, with its schema).
A rule whose draft fails keeps its own text as its one precondition, with the reason, so nothing is
lost and the judgment goes on.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from judges.constitution import MAX_PRECONDITIONS, MAX_TEXT_CHARS, Constitution, Rule
from judges.jsonread import JsonRead
from judges.prompts import fence
from judges.tasks.structured import ask_json, json_request, strict_object
from judges.types import Message, TextPart, Usage

if TYPE_CHECKING:
    from judges.judge import Judge

log = logging.getLogger(__name__)

#: Most preconditions a draft may hold (a chain is short: each link is one probe per image).
MAX_DRAFTED = min(4, MAX_PRECONDITIONS)
#: Largest drafts file read back; anything bigger is ignored (and rewritten).
MAX_DRAFTS_FILE_BYTES = 512 * 1024

SYSTEM = (
    "You help check images against a content policy. You turn one rule into a few short statements "
    "about an image, each of which a person can answer yes or no by looking at the image alone."
)
SCHEMA = strict_object(
    {"preconditions": {"type": "array", "items": {"type": "string"}}},
    description="Objective statements about the image; the rule is violated exactly when all of them are true.",
)

_memory: dict[tuple[str, str], tuple[str, ...]] = {}
_lock = threading.Lock()


@dataclass(frozen=True)
class Drafting:
    """What drafting did for one call.

    Attributes:
        constitutions: The constitutions with every rule's chain filled in, in the order given.
        drafted: ``rule text -> where its chain came from``: ``judge`` (drafted now), ``cache``
            (drafted before), or ``rule text`` (drafting failed; the reason follows after ``: ``).
        requests: Requests sent (re-asks included).
        usage: Tokens spent.
        latency_s: Model time.
    """

    constitutions: tuple[Constitution, ...]
    drafted: dict[str, str]
    requests: int = 0
    usage: Usage = Usage()
    latency_s: float = 0.0


def drafts_file(constitution: Constitution) -> Path | None:
    """Where a file constitution's drafts are cached (None for one typed in or the example)."""
    return None if constitution.source is None else Path(constitution.source + ".drafts.json")


def _read_file(path: Path | None) -> dict[str, dict[str, list[str]]]:
    if path is None or not path.is_file():
        return {}
    try:
        if path.stat().st_size > MAX_DRAFTS_FILE_BYTES:
            return {}
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {
        judge: {text: chain for text, chain in rules.items() if _valid_chain(chain)}
        for judge, rules in data.items()
        if isinstance(judge, str) and isinstance(rules, dict)
    }


def _write_file(path: Path, data: dict[str, dict[str, list[str]]]) -> None:
    """Replace the drafts file atomically; a full disk or a read-only folder only costs the cache."""
    try:
        fd, tmp = tempfile.mkstemp(prefix=".drafts-", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(data, out, ensure_ascii=False, indent=1, sort_keys=True)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        log.warning("could not cache drafted preconditions in %s: %s", path.name, exc.strerror or exc)


def _valid_chain(chain: Any) -> bool:
    return (
        isinstance(chain, list)
        and 1 <= len(chain) <= MAX_DRAFTED
        and all(isinstance(c, str) and c.strip() and len(c) <= MAX_TEXT_CHARS for c in chain)
    )


def _accept(read: JsonRead) -> str:
    chain = (read.value or {}).get("preconditions")
    if not _valid_chain(chain):
        return (
            f'"preconditions" must be a list of 1 to {MAX_DRAFTED} short statements '
            f"(at most {MAX_TEXT_CHARS} characters each)"
        )
    return ""


def _prompt(rule: Rule) -> tuple[Message, ...]:
    user = (
        f"The rule:\n{fence(rule.text)}\n\nWrite 1 to {MAX_DRAFTED} statements about an image such that the "
        "image violates the rule exactly when all of them are true. Each statement must be objective and "
        "checkable by looking at the image alone (what is visible, where, doing what), short, and about one "
        "thing. Order them from the most general to the most specific. Answer with only a JSON object: "
        '{"preconditions": ["...", "..."]}'
    )
    return (Message("system", (TextPart(SYSTEM),)), Message("user", (TextPart(user),)))


def draft_preconditions(judge: Judge, constitutions: Sequence[Constitution]) -> Drafting:
    """Fill in the chains of the rules that have none, drafting each rule at most once per judge.

    Args:
        judge: The judge that drafts (its backend and sampling; its name keys the caches).
        constitutions: The constitutions of one call.

    Returns:
        A :class:`Drafting` whose constitutions have no rule left to draft.
    """
    files: dict[str | None, dict[str, dict[str, list[str]]]] = {
        c.source: _read_file(drafts_file(c)) for c in constitutions if c.source is not None
    }
    known: dict[str, tuple[str, ...]] = {}
    drafted: dict[str, str] = {}
    wanted: list[Rule] = []
    for constitution in constitutions:
        cached = files.get(constitution.source, {}).get(judge.name, {}) if constitution.source else {}
        for rule in constitution.rules:
            if not rule.to_draft or rule.text in known or any(w.text == rule.text for w in wanted):
                continue
            with _lock:
                hit = _memory.get((judge.name, rule.text))
            if hit is None and rule.text in cached:
                hit = tuple(" ".join(c.split()) for c in cached[rule.text])
            if hit is not None:
                known[rule.text], drafted[rule.text] = hit, "cache"
            else:
                wanted.append(rule)
    requests = 0
    usage, latency = Usage(), 0.0
    if wanted:
        sampling = replace(judge.options.sampling, logprobs=False)
        answers = ask_json(
            judge,
            [json_request(_prompt(rule), SCHEMA, "rule_preconditions", sampling) for rule in wanted],
            _accept,
            guard_texts=[(rule.text,) for rule in wanted],
        )
        for rule, answer in zip(wanted, answers, strict=True):
            requests += answer.attempts
            usage, latency = usage + answer.usage, latency + answer.latency_s
            value = answer.value
            if value is None:
                why = answer.problem or (str(answer.error).splitlines()[0] if answer.error else "no answer")
                drafted[rule.text] = f"rule text: the draft failed ({why})"
                continue
            chain = tuple(" ".join(c.split()) for c in value["preconditions"])
            known[rule.text], drafted[rule.text] = chain, "judge"
            with _lock:
                _memory[(judge.name, rule.text)] = chain
        _save(judge.name, constitutions, known, drafted, files)
    filled = tuple(
        replace(
            c,
            rules=tuple(
                replace(r, preconditions=known[r.text], to_draft=False) if r.to_draft and r.text in known else r
                for r in c.rules
            ),
        )
        for c in constitutions
    )
    return Drafting(filled, drafted, requests, usage, round(latency, 4))


def _save(
    judge_name: str,
    constitutions: Sequence[Constitution],
    known: dict[str, tuple[str, ...]],
    drafted: dict[str, str],
    files: dict[str | None, dict[str, dict[str, list[str]]]],
) -> None:
    """Write the new drafts beside each file constitution that has rules drafted now."""
    for constitution in constitutions:
        path = drafts_file(constitution)
        fresh = {r.text for r in constitution.rules if drafted.get(r.text) == "judge"}
        if path is None or not fresh:
            continue
        data = files.get(constitution.source, {})
        data.setdefault(judge_name, {}).update({text: list(known[text]) for text in fresh})
        _write_file(path, data)


def forget_drafts() -> None:
    """Empty the in-memory cache (tests; a long-running app keeps it)."""
    with _lock:
        _memory.clear()
