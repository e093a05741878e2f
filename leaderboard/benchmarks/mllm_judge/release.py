"""The one reader of the MLLM-as-a-Judge release: which file is what, and what a row holds.

The release (``shuaishuaicdp/MLLM-Judge`` on the Hugging Face Hub, or the authors' local copy) keeps

* ``Benchmark/{score,pair,batch}.jsonl``: the full benchmark with human labels (subset ``all``);
* ``.../step3/{Score,Pair,Batch}/<Judge>.jsonl``: a judge's outputs on the full benchmark (``raw``);
* ``Hard & HQ/{HQ,Hard}/{Score,Pair,Batch}.jsonl`` (or ``MLLM-as-a-Judge-{HQ,Hard}/...``): the curated
  subsets ``hq`` and ``hard``, their labels (Hard: mostly missing) and stored judge results;
* ``image/<id>.jpg``: the images, named by the items' ``image_path``.

Files are recognised by name, case-insensitively (:func:`classify`); copies sometimes nest all of
this under one more folder (``Dataset/``). Field spellings vary between files (``human`` /
``Human_answer`` / ``human_answer``; ``answer`` for score, ``answer1``/``answer2`` for pair, an
``answers`` list, sometimes JSON-encoded, or ``answer1..N`` for batch); :func:`item_id`,
:func:`responses`, :func:`human_field` and :func:`dataset_field` accept each variant. A line
repeating an earlier one exactly is read once; another item under a taken id is kept as
``<id>~2`` (:class:`ItemIds`).

Both the items the runner judges (:mod:`~leaderboard.benchmarks.mllm_judge.items`) and the importer
of stored judge outputs (:mod:`~leaderboard.benchmarks.mllm_judge.importer`) read the release through
this module, so they agree on item ids, responses and labels by construction.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from judges.tasks import TASKS
from judges.verdicts import HumanLabel
from leaderboard.benchmarks.base import BenchmarkError
from leaderboard.schema import SUBSETS

logger = logging.getLogger(__name__)

HUB_REPO_ID = "shuaishuaicdp/MLLM-Judge"
#: The field holding an item's id, per mode.
ITEM_KEY: dict[str, str] = {"score": "score_id", "pair": "pair_id", "batch": "id"}
#: The tasks the release holds items of (its files are named after them).
MODES: tuple[str, ...] = tuple(ITEM_KEY)
#: Reasons :func:`iter_rows` gives for a line it cannot use.
MALFORMED = "malformed JSON"
NOT_AN_OBJECT = "not a JSON object"
#: The release's file kinds: the benchmark's labels, a judge's raw outputs, the curated subsets.
KINDS: tuple[str, ...] = ("benchmark", "hq", "hard", "raw")
_HUMAN_FIELDS = ("human", "human_answer")
#: How deep :func:`find_benchmark_file` looks for the files of one mode (a snapshot holds thousands of images).
_MAX_DEPTH = 3


# --------------------------------------------------------------------------- which file is what


@dataclass(frozen=True)
class SourceFile:
    """A recognised file of the release.

    Attributes:
        path: Absolute path.
        relative: Path relative to the release's top folder (shown in reports).
        kind: ``benchmark``, ``raw``, ``hq`` or ``hard``.
        mode: score, pair or batch.
        judge: For ``raw`` files, the judge named by the file.
    """

    path: Path
    relative: str
    kind: str
    mode: str
    judge: str = ""

    @property
    def subset(self) -> str:
        """The label subset the file's items belong to: all (benchmark and raw files), hq or hard."""
        return "all" if self.kind in ("benchmark", "raw") else self.kind


def subset_of_dirs(parts: list[str]) -> str:
    """``hq`` or ``hard`` when a folder on the path names that subset (innermost first), else ''."""
    for part in reversed(parts):
        if part == "hq" or part.endswith(("-hq", "_hq", " hq")):
            return "hq"
        if part == "hard" or part.endswith(("-hard", "_hard", " hard")):
            return "hard"
    return ""


def classify(root: Path, path: Path) -> SourceFile | None:
    """What a JSONL file under ``root`` is, or None when it is not a file of the release."""
    relative = path.relative_to(root)
    dirs = [p.lower() for p in relative.parts[:-1]]
    stem = path.stem.lower()
    parent = dirs[-1] if dirs else ""
    rel = relative.as_posix()
    if stem in MODES and parent == "benchmark":
        return SourceFile(path, rel, "benchmark", stem)
    if parent in MODES and "step3" in dirs:
        return SourceFile(path, rel, "raw", parent, path.stem)
    if stem in MODES and subset_of_dirs(dirs):
        return SourceFile(path, rel, subset_of_dirs(dirs), stem)
    return None


def jsonl_files(root: Path, max_depth: int | None = None) -> list[Path]:
    """Every ``.jsonl`` file under ``root`` (hidden folders skipped), at most ``max_depth`` folders deep, sorted."""
    found: list[Path] = []
    base_depth = len(root.parts)
    for folder, dirs, files in os.walk(root):
        depth = len(Path(folder).parts) - base_depth
        deeper = max_depth is None or depth < max_depth
        dirs[:] = sorted(d for d in dirs if not d.startswith(".")) if deeper else []
        found.extend(Path(folder) / f for f in files if f.lower().endswith(".jsonl"))
    return sorted(found)


def discover(src: str | Path, max_depth: int | None = None) -> tuple[list[SourceFile], list[str]]:
    """Find the release's files under ``src``.

    Returns:
        The recognised files (benchmark first, then hq, hard, raw) and the other JSONL files (skipped).
    """
    src = Path(src)
    found: list[SourceFile] = []
    skipped: list[str] = []
    for path in jsonl_files(src, max_depth):
        recognised = classify(src, path)
        if recognised is None:
            skipped.append(path.relative_to(src).as_posix())
        else:
            found.append(recognised)
    found.sort(key=lambda f: (KINDS.index(f.kind), f.relative))
    return found, skipped


def find_benchmark_file(root: str | Path, mode: str, subset: str = "all") -> Path:
    """The JSONL file holding ``mode`` items of ``subset`` in a copy of the release.

    Args:
        root: The copy's top folder (what ``snapshot_download`` returns).
        mode: score, pair or batch.
        subset: all, hq or hard.

    Returns:
        The file.

    Raises:
        BenchmarkError: No such file; the message lists what the folder holds.
    """
    root = Path(root)
    if mode not in MODES:
        raise BenchmarkError(f"mode {mode!r} is not one of {', '.join(MODES)}")
    if subset not in SUBSETS:
        raise BenchmarkError(f"subset {subset!r} is not one of {', '.join(SUBSETS)}")
    if not root.is_dir():
        raise BenchmarkError(
            f"benchmark folder {root} does not exist; pass --benchmark with a copy of the Hub dataset "
            f"{HUB_REPO_ID} (or set BENCHMARK_DIR)"
        )
    files = jsonl_files(root, _MAX_DEPTH)
    kind = "benchmark" if subset == "all" else subset
    found = [classify(root, p) for p in files]
    matches = [f.path for f in found if f is not None and f.kind == kind and f.mode == mode]
    if not matches:
        listed = ", ".join(str(p.relative_to(root)) for p in files[:12]) or "no .jsonl files"
        wanted = "Benchmark/" if subset == "all" else f"Hard & HQ/{subset.upper() if subset == 'hq' else 'Hard'}/"
        raise BenchmarkError(
            f"no {mode} items for split {subset!r} in {root}: expected {wanted}{mode}.jsonl "
            f"(found: {listed}). Download the dataset {HUB_REPO_ID} or choose another --split."
        )
    if len(matches) > 1:
        logger.info("several %s files for %s; using %s", mode, subset, matches[0])
    return matches[0]


def image_root(jsonl: Path, root: Path) -> Path:
    """The folder that ``image_path`` values are relative to: the nearest ancestor with ``image/``."""
    folder = jsonl.parent
    while True:
        if (folder / "image").is_dir():
            return folder
        if folder == root or folder.parent == folder or root not in folder.parents:
            return root
        folder = folder.parent


# --------------------------------------------------------------------------- what a row holds


def iter_rows(path: Path) -> Iterator[tuple[int, dict | None, str]]:
    """``(line number, row, problem)`` for every non-blank line: a JSON object and '', or None and why not."""
    with open(path, encoding="utf-8", errors="replace") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except ValueError:
                yield number, None, MALFORMED
                continue
            if not isinstance(row, dict):
                yield number, None, NOT_AN_OBJECT
                continue
            yield number, row, ""


def get_field(row: Mapping[str, Any], *names: str) -> Any:
    """The first of ``names`` the row has (case-insensitively) with a value other than None."""
    lowered: dict[str, Any] = {}
    for key, value in row.items():
        lowered.setdefault(str(key).lower(), value)
    for name in names:
        value = lowered.get(name.lower())
        if value is not None:
            return value
    return None


def item_id(mode: str, row: Mapping[str, Any]) -> str:
    """The item's id as a string (the key runs and labels use).

    Raises:
        ValueError: The row has no usable id.
    """
    key = ITEM_KEY[mode]
    value = row.get(key)
    if value is None or isinstance(value, (bool, dict, list)) or str(value).strip() == "":
        raise ValueError(f"item has no {key!r}")
    return str(value).strip()


def _answer(value: Any) -> tuple[str, str]:
    if isinstance(value, Mapping):
        return str(value.get("answer") or ""), str(value.get("name") or "")
    return ("" if value is None else str(value)), ""


def _one_answer(row: Mapping[str, Any], numbered: list[str]) -> list[tuple[str, str]] | None:
    if "answer" in row and "answers" not in row and not numbered:
        text, _ = _answer(row["answer"])
        return [(text, str(row.get("name") or ""))]
    return None


def _two_answers(row: Mapping[str, Any], numbered: list[str]) -> list[tuple[str, str]] | None:
    if {"answer1", "answer2"} <= set(row) and "answer3" not in row:
        return [_answer(row["answer1"]), _answer(row["answer2"])]
    return None


def _answer_list(row: Mapping[str, Any], numbered: list[str]) -> list[tuple[str, str]] | None:
    answers = row.get("answers")
    if isinstance(answers, str):  # some copies store the list JSON-encoded
        try:
            answers = json.loads(answers)
        except ValueError:
            answers = None
    if isinstance(answers, list) and answers:
        return [_answer(a) for a in answers]
    if len(numbered) >= 2:
        return [_answer(row[k]) for k in numbered]
    return None


#: How each release file stores its answers: one ``answer``, ``answer1``/``answer2``, or a list.
_ANSWER_LAYOUT = {"score": _one_answer, "pair": _two_answers, "batch": _answer_list}


def responses(mode: str, row: Mapping[str, Any]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The response texts in letter order and the answering models' names ("" when unknown).

    Raises:
        ValueError: The row's shape does not fit the mode (e.g. a pair row with three answers).
    """
    numbered = sorted((k for k in row if re.fullmatch(r"answer\d+", str(k))), key=lambda k: int(str(k)[6:]))
    pairs = _ANSWER_LAYOUT[mode](row, numbered)
    if pairs is None:
        raise ValueError(f"row shape does not fit {mode} mode")
    return tuple(p[0] for p in pairs), tuple(p[1] for p in pairs)


def human_field(row: Mapping[str, Any]) -> Any:
    """The human label as the row stores it (``human`` / ``Human_answer`` / ``human_answer``), or None."""
    return get_field(row, *_HUMAN_FIELDS)


def dataset_field(row: Mapping[str, Any]) -> str:
    """The source dataset as the row spells it ('' when missing)."""
    return str(get_field(row, "original_dataset") or "")


class ItemIds:
    """The ids handed out while reading one mode and subset: the release's id-collision rule.

    The released files repeat some lines verbatim (read once) and give a few different items the same
    id; those are kept as ``<id>~2``, ``<id>~3`` ... so that no item is lost and runs, labels and items
    agree on every id.
    """

    def __init__(self) -> None:
        self._first: dict[str, tuple[int, Mapping[str, Any]]] = {}

    def claim(self, wanted: str, row: Mapping[str, Any], line: int = 0) -> tuple[str | None, str]:
        """The id the row's item is kept under (None: it repeats an earlier row), and a note ('' when plain)."""
        if wanted not in self._first:
            self._first[wanted] = (line, row)
            return wanted, ""
        first_line, first_row = self._first[wanted]
        if row == first_row:
            return None, f"repeats line {first_line} exactly; read once"
        k = 2
        while f"{wanted}~{k}" in self._first:
            k += 1
        kept = f"{wanted}~{k}"
        self._first[kept] = (line, row)
        return kept, f"item id {wanted} is taken (line {first_line}); kept as {kept}"


# --------------------------------------------------------------------------- human labels


def normalise_human_label(mode: str, raw: object, n_responses: int | None = None) -> HumanLabel:
    """Turn a human label from the release into its canonical form, flagging unusable ones.

    The release writes labels the way its prompts ask for verdicts (1-5; A, B or C for a tie; a
    ranking string), so the task's verdict shape reads them (:mod:`judges.verdicts`).

    Args:
        mode: A task of the release (score, pair or batch).
        raw: The stored label, or None.
        n_responses: The number of responses the item has (a ranking must rank them all).

    Returns:
        A HumanLabel; ``issue`` is non-empty when the label must not be used.

    Raises:
        ValueError: ``mode`` is not a registered task.
    """
    kind = TASKS.get(mode)
    if kind is None:
        raise ValueError(f"unknown mode {mode!r}; expected one of {', '.join(TASKS)}")
    return kind.verdicts.normalise_human(raw, n_responses)
