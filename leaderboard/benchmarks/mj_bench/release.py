"""The one reader of MJ-Bench's alignment files: which file is what, and what an item and a verdict are.

A copy of the GitHub repository ``MJ-Bench/MJ-Bench`` holds

* ``alignment/benchmark/<folder>/<folder>_test.json``: the items, a list of ``{id, source, caption,
  image0, image1, label}`` (``label`` = index of the human-preferred image);
* ``closesource_result/alignment/<category>/<judge>_alignment_number10.json``: one judge's stored
  verdicts, a list of ``{id, caption, image_0_uid, image_1_uid, label, score_0, score_1, vlm_pred,
  pred, output}`` (``pred``: "0", "1", "tie", or -1 = no parsable verdict).

Result categories and item folders do not line up one to one (:data:`CATEGORY_FOLDER`), and ids
repeat across categories, so an item is ``(category, id)`` and its item id is ``<category>:<id>``.

Until a judge task for a prompt with two images exists, an item is a ``pair`` item: image 0 is
response A and image 1 response B, so the human label is "A" or "B" (never a tie) and a verdict is
"A", "B", "tie" or unscored.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from leaderboard.benchmarks.base import BenchmarkError

REPOSITORY = "github.com/MJ-Bench/MJ-Bench"
RESULTS_COMMIT = "eaa92ef82be6e5ebbf7d8471d0e69c1ce0bde650"
ITEMS_COMMIT = "eb269adaff40460bed054963c504772317ad4955"
#: Result category -> the item folder that holds its items (``count`` is a part of ``other``).
CATEGORY_FOLDER: dict[str, str] = {
    "action": "actions",
    "attribute": "attributes",
    "count": "other",
    "object": "existence",
    "spatial": "spatial",
}
#: A judge's file-name stem -> its display name.
JUDGE_NAMES: dict[str, str] = {
    "gpt-4o": "GPT-4o",
    "gpt-4-turbo": "GPT-4-turbo",
    "claude-3-opus": "Claude-3-Opus",
    "gemini-1.5": "Gemini-1.5",
}
#: The stored ``pred`` / ``label`` values -> the pair task's letters (image 0 is A).
VERDICTS: dict[str, str] = {"0": "A", "1": "B", "tie": "tie"}
LABELS: dict[str, str] = {"0": "A", "1": "B"}
_RESULT_FILE = re.compile(r"(?P<judge>.+?)_alignment(?:_.*)?\.json$", re.IGNORECASE)


@dataclass(frozen=True)
class ResultFile:
    """A judge's stored verdicts on one category.

    Attributes:
        path: The file.
        relative: Its path relative to the copy's top folder.
        category: The result category (action, attribute, count, object, spatial).
        judge_file: The judge as the file name spells it.
    """

    path: Path
    relative: str
    category: str
    judge_file: str

    @property
    def judge(self) -> str:
        """The judge's display name (the file's spelling when unknown)."""
        return JUDGE_NAMES.get(self.judge_file.lower(), self.judge_file)


def item_id(category: str, raw_id: object) -> str:
    """The item id of ``(category, id)``: ``"action:pap_0"``."""
    return f"{category}:{str(raw_id).strip()}"


def result_files(root: str | Path) -> list[ResultFile]:
    """Every judge result file under ``root/closesource_result/alignment/<category>/``, sorted.

    Raises:
        FileNotFoundError: ``root`` is not a folder or has no result file; the message says what is expected.
    """
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"{root} is not a folder; pass a copy of the MJ-Bench repository")
    base = root / "closesource_result" / "alignment"
    found = []
    for category in sorted(CATEGORY_FOLDER):
        for path in sorted((base / category).glob("*.json")) if (base / category).is_dir() else []:
            match = _RESULT_FILE.match(path.name)
            if match:
                found.append(ResultFile(path, path.relative_to(root).as_posix(), category, match["judge"]))
    if not found:
        raise FileNotFoundError(
            f"no MJ-Bench result files under {root}: expected closesource_result/alignment/<category>/"
            "<judge>_alignment_number10.json (categories: " + ", ".join(sorted(CATEGORY_FOLDER)) + ")"
        )
    return found


def _json_list(path: Path) -> list[Mapping[str, Any]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise BenchmarkError(f"{path}: not valid JSON ({exc}); use an unmodified copy of the repository") from None
    if not isinstance(data, list):
        raise BenchmarkError(f"{path}: expected a JSON list of items")
    return [row for row in data if isinstance(row, Mapping)]


def read_results(file: ResultFile) -> list[Mapping[str, Any]]:
    """The verdict rows of one result file."""
    return _json_list(file.path)


def items_of_folder(root: str | Path, folder: str) -> dict[str, Mapping[str, Any]]:
    """The items of one item folder by id ({} when the folder's file is missing)."""
    path = Path(root) / "alignment" / "benchmark" / folder / f"{folder}_test.json"
    if not path.is_file():
        return {}
    return {str(row.get("id")): row for row in _json_list(path)}


def same_item(result: Mapping[str, Any], item: Mapping[str, Any]) -> bool:
    """Whether a result row and an item row describe the same prompt and images."""
    return (
        result.get("caption") == item.get("caption")
        and result.get("image_0_uid") == item.get("image0")
        and result.get("image_1_uid") == item.get("image1")
    )


def verdict_of(row: Mapping[str, Any]) -> str | None:
    """The stored verdict as a pair verdict ("A", "B", "tie"), or None when unscored (-1 or anything else)."""
    return VERDICTS.get(str(row.get("pred")).strip().lower())


def label_of(value: object) -> str | None:
    """A stored human label (0 / 1) as "A" / "B", or None when it is neither."""
    return LABELS.get(str(value).strip())


def iter_result_rows(files: list[ResultFile]) -> Iterator[tuple[ResultFile, Mapping[str, Any]]]:
    """Every verdict row of ``files``, with its file."""
    for file in files:
        for row in read_results(file):
            yield file, row
