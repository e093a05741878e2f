"""Read the ``rubric`` and ``checklist`` inputs: a preset name, a TOML/JSON file, or TOML/JSON typed in.

The ``rubric`` input is one text: a preset name (``judge-anything``, ``artifacts``), TOML or JSON
typed in (the Judge tab's rubric box), or the path of a ``.toml`` / ``.json`` file (the command
line). A path is read only off a public Space: a visitor typing a path must not make the server read
its own files and send them to a judge, so there the rubric must be typed or uploaded.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from judges.errors import BadInput
from judges.rubrics.model import (
    MAX_CHECKLIST_CHARS,
    MAX_CHECKLIST_ITEMS,
    Criterion,
    Rubric,
    rubric_from_data,
)
from judges.rubrics.presets import JUDGE_ANYTHING, PRESETS

#: Largest rubric file or text read.
MAX_RUBRIC_CHARS = 50_000
#: The preset used when no rubric is given.
DEFAULT_RUBRIC = JUDGE_ANYTHING.name


def load_rubric(value: str | None, *, public: bool = False) -> Rubric:
    """The rubric a ``rubric`` input names or holds.

    Args:
        value: A preset name, TOML/JSON text, or a file path; None or blank for the default preset.
        public: Whether this runs on a public Space (file paths are refused there).

    Raises:
        BadInput: An unknown name, an unreadable file, text that is not TOML/JSON, or a rubric
            whose fields are wrong; the message says what to fix.
    """
    if value is None or not str(value).strip():
        return PRESETS[DEFAULT_RUBRIC]
    if not isinstance(value, str):
        raise BadInput(f"The rubric must be a preset name, TOML/JSON text or a file, got {type(value).__name__}.")
    text = value.strip()
    if text in PRESETS:
        return PRESETS[text]
    if len(text) > MAX_RUBRIC_CHARS:
        raise BadInput(f"The rubric is {len(text):,} characters long; keep it under {MAX_RUBRIC_CHARS:,}.")
    if text.startswith(("{", "[")) or "\n" in text or "=" in text:
        return parse_rubric_text(text)
    if public:
        raise BadInput(
            f"Unknown rubric {_shown(text)}: use {' or '.join(PRESETS)}, or type the rubric as TOML or JSON "
            "(files on the server are not read on a public Space)."
        )
    path = Path(text).expanduser()
    if not path.is_file():
        raise BadInput(
            f"Unknown rubric {_shown(text)}: use {' or '.join(PRESETS)}, a .toml or .json file that exists, "
            "or TOML/JSON text."
        )
    try:
        size = path.stat().st_size
        if size > MAX_RUBRIC_CHARS * 4:
            raise BadInput(f"The rubric file {path.name} is {size:,} bytes; a rubric is a few kilobytes.")
        content = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise BadInput(f"The rubric file {path.name} is not UTF-8 text; save it as UTF-8.") from None
    except OSError as exc:
        raise BadInput(f"The rubric file {path.name} cannot be read ({exc.strerror or exc}).") from None
    return parse_rubric_text(content, suffix=path.suffix.lower(), default_name=path.stem)


def parse_rubric_text(text: str, *, suffix: str = "", default_name: str = "custom") -> Rubric:
    """A rubric from TOML or JSON text (JSON when it starts with ``{``/``[`` or ``suffix`` is ``.json``).

    Raises:
        BadInput: The text is neither, or the rubric's fields are wrong.
    """
    if len(text) > MAX_RUBRIC_CHARS:
        raise BadInput(f"The rubric is {len(text):,} characters long; keep it under {MAX_RUBRIC_CHARS:,}.")
    stripped = text.strip()
    data: object = None
    # "[" opens a JSON list and a TOML table header alike ("[[criteria]]"): JSON is tried first.
    as_json = suffix == ".json" or stripped.startswith("{")
    if as_json or stripped.startswith("["):
        try:
            data = json.loads(stripped)
        except (ValueError, RecursionError) as exc:
            if as_json:
                raise BadInput(
                    f"The rubric is not valid JSON ({str(exc).split(':')[0][:80]}); fix it or write TOML."
                ) from None
        else:
            as_json = True
    if not as_json:
        try:
            data = tomllib.loads(stripped)
        except tomllib.TOMLDecodeError as exc:
            raise BadInput(f"The rubric is not valid TOML ({str(exc)[:120]}); fix it or write JSON.") from None
    return rubric_from_data(data, default_name)


def _shown(text: str) -> str:
    return repr(text if len(text) <= 60 else text[:57] + "...")


@dataclass(frozen=True)
class Checklist:
    """Per-sample checklist items, grouped under criteria.

    Attributes:
        by_criterion: Criterion name -> its items, in the order given.
        general: Items under no criterion.
    """

    by_criterion: tuple[tuple[str, tuple[str, ...]], ...] = ()
    general: tuple[str, ...] = ()

    def items_for(self, criterion: Criterion) -> tuple[str, ...]:
        """The items grouped under ``criterion``."""
        return next((items for name, items in self.by_criterion if name == criterion.name), ())

    def to_dict(self) -> dict[str, list[str]]:
        """Criterion name (or ``general``) -> items, JSON-ready."""
        out = {name: list(items) for name, items in self.by_criterion}
        if self.general:
            out["general"] = list(self.general)
        return out

    @property
    def empty(self) -> bool:
        """Whether no item was given."""
        return not self.by_criterion and not self.general


def parse_checklist(items: Sequence[str] | str | None, rubric: Rubric) -> Checklist:
    """Checklist items (``criterion: item`` groups an item under a criterion; other items are general).

    A text with several lines (the Judge tab's box) is one item per line.

    Raises:
        BadInput: Too many items, or an item that is too long.
    """
    if items is None:
        return Checklist()
    if isinstance(items, str):
        items = items.splitlines()
    cleaned = [" ".join(str(item).split()) for item in items if isinstance(item, str) and item.strip()]
    if len(cleaned) > MAX_CHECKLIST_ITEMS:
        raise BadInput(f"The checklist has {len(cleaned)} items; at most {MAX_CHECKLIST_ITEMS} are allowed.")
    grouped: dict[str, list[str]] = {}
    general: list[str] = []
    for item in cleaned:
        if len(item) > MAX_CHECKLIST_CHARS:
            raise BadInput(f"A checklist item is {len(item):,} characters long; keep each under {MAX_CHECKLIST_CHARS}.")
        head, sep, rest = item.partition(":")
        criterion = rubric.criterion(head) if sep and rest.strip() else None
        if criterion is None:
            general.append(item)
        else:
            grouped.setdefault(criterion.name, []).append(rest.strip())
    ordered = tuple((c.name, tuple(grouped[c.name])) for c in rubric.criteria if c.name in grouped)
    return Checklist(ordered, tuple(general))
