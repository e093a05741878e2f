"""Benchmark items with their texts and images, read from the released data's Hub layout.

The MLLM-as-a-Judge release (``shuaishuaicdp/MLLM-Judge`` on the Hugging Face Hub) keeps its items in

* ``Benchmark/{score,pair,batch}.jsonl``: the full benchmark (split ``all``);
* ``Hard & HQ/{HQ,Hard}/{Score,Pair,Batch}.jsonl`` (or ``MLLM-as-a-Judge-{HQ,Hard}/...``): the
  curated subsets (splits ``hq`` and ``hard``);
* ``image/<id>.jpg``: the images, named by the items' ``image_path``.

Copies sometimes nest these under one more folder (``Dataset/``), so files are found by their last
two path parts, case-insensitively, up to three folders deep. Field spellings vary between files
(``human`` / ``Human_answer`` / ``human_answer``; ``answer1``/``answer2`` for pair; an ``answers``
list, sometimes JSON-encoded, for batch); each variant is accepted.

Split ``lite`` is a small fixed sample of ``all``: per source dataset, the :data:`LITE_PER_DATASET`
items whose ``sha1(mode:item_id)`` sort first. It does not depend on file order or on the machine,
so two people running ``--split lite`` judge the same items and their runs are comparable.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from leaderboard.labels import display_dataset

logger = logging.getLogger(__name__)

BENCHMARK_REPO = "shuaishuaicdp/MLLM-Judge"
MODES: tuple[str, ...] = ("score", "pair", "batch")
SPLITS: tuple[str, ...] = ("all", "hq", "hard", "lite")
LITE_PER_DATASET = 10
#: Folder names (lower case) that hold each subset's files.
_SUBSET_FOLDERS: dict[str, tuple[str, ...]] = {
    "all": ("benchmark",),
    "hq": ("hq", "mllm-as-a-judge-hq"),
    "hard": ("hard", "mllm-as-a-judge-hard"),
}
_HUMAN_FIELDS = ("human", "Human_answer", "human_answer")
_MAX_DEPTH = 3


class BenchmarkError(ValueError):
    """The benchmark copy is missing a file or cannot be read; the message says how to fix it."""


@dataclass(frozen=True)
class BenchmarkItem:
    """One benchmark item, ready to become a judging task.

    Attributes:
        mode: score, pair or batch.
        item_id: score_id / pair_id / batch id, as a string (the key runs and labels use).
        dataset: The source dataset as the data spells it.
        instruction: What the answering models were asked.
        responses: The answers, in the order the judge sees them (lettered A, B, ...).
        response_models: The answering models' names, same order ("" when unknown).
        image_id: The image's id.
        image_path: Where the image should be on disk (it may be missing).
        image_ref: ``image_path`` as the data spells it, relative to the release's root.
        human_label: The human label as stored (int, "A"/"B"/"C", ranking string, or None).
        subset: all, hq or hard: the file the item comes from.
    """

    mode: str
    item_id: str
    dataset: str
    instruction: str
    responses: tuple[str, ...]
    response_models: tuple[str, ...]
    image_id: str
    image_path: Path
    image_ref: str
    human_label: Any
    subset: str


@dataclass(frozen=True)
class Selection:
    """Items chosen for a run, and what was noticed while reading them.

    Attributes:
        items: The items, in a stable order.
        source: The JSONL file they come from.
        split: The requested split (all, hq, hard or lite).
        subset: The label subset runs on these items are joined with (lite -> all).
        problems: Human-readable notes (duplicates dropped, unreadable lines ...).
    """

    items: tuple[BenchmarkItem, ...]
    source: Path
    split: str
    subset: str
    problems: tuple[str, ...] = ()


def subset_of_split(split: str) -> str:
    """The label subset a split is joined with: ``lite`` is a sample of ``all``."""
    if split not in SPLITS:
        raise BenchmarkError(f"split {split!r} is not one of {', '.join(SPLITS)}")
    return "all" if split == "lite" else split


# --------------------------------------------------------------------------- finding files


def _jsonl_files(root: Path) -> list[Path]:
    found: list[Path] = []
    base_depth = len(root.parts)
    for folder, dirs, files in os.walk(root):
        depth = len(Path(folder).parts) - base_depth
        dirs[:] = sorted(d for d in dirs if not d.startswith(".")) if depth < _MAX_DEPTH else []
        found.extend(Path(folder) / f for f in sorted(files) if f.lower().endswith(".jsonl"))
    return found


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
    if subset not in _SUBSET_FOLDERS:
        raise BenchmarkError(f"subset {subset!r} is not one of {', '.join(_SUBSET_FOLDERS)}")
    if not root.is_dir():
        raise BenchmarkError(
            f"benchmark folder {root} does not exist; pass --benchmark with a copy of the Hub dataset "
            f"{BENCHMARK_REPO} (or set BENCHMARK_DIR)"
        )
    files = _jsonl_files(root)
    matches = [p for p in files if p.stem.lower() == mode and p.parent.name.lower() in _SUBSET_FOLDERS[subset]]
    if not matches:
        listed = ", ".join(str(p.relative_to(root)) for p in files[:12]) or "no .jsonl files"
        wanted = "Benchmark/" if subset == "all" else f"Hard & HQ/{subset.upper() if subset == 'hq' else 'Hard'}/"
        raise BenchmarkError(
            f"no {mode} items for split {subset!r} in {root}: expected {wanted}{mode}.jsonl "
            f"(found: {listed}). Download the dataset {BENCHMARK_REPO} or choose another --split."
        )
    if len(matches) > 1:
        logger.info("several %s files for %s; using %s", mode, subset, matches[0])
    return matches[0]


def _image_root(jsonl: Path, root: Path) -> Path:
    """The folder that ``image_path`` values are relative to: the nearest ancestor with ``image/``."""
    folder = jsonl.parent
    while True:
        if (folder / "image").is_dir():
            return folder
        if folder == root or folder.parent == folder or root not in folder.parents:
            return root
        folder = folder.parent


# --------------------------------------------------------------------------- reading items


def _human(row: Mapping[str, Any]) -> Any:
    for name in _HUMAN_FIELDS:
        if name in row and row[name] is not None:
            return row[name]
    return None


def _answer(value: Any) -> tuple[str, str]:
    if isinstance(value, Mapping):
        return str(value.get("answer") or ""), str(value.get("name") or "")
    return ("" if value is None else str(value)), ""


def _responses(mode: str, row: Mapping[str, Any]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    if mode == "score":
        return (str(row.get("answer") or ""),), (str(row.get("name") or ""),)
    if mode == "pair":
        pairs = [_answer(row.get("answer1")), _answer(row.get("answer2"))]
    else:
        answers = row.get("answers")
        if isinstance(answers, str):  # some copies store the list JSON-encoded
            try:
                answers = json.loads(answers)
            except ValueError:
                answers = None
        if not isinstance(answers, list):
            raise ValueError("batch item has no 'answers' list")
        pairs = [_answer(a) for a in answers]
    return tuple(p[0] for p in pairs), tuple(p[1] for p in pairs)


def _item_id(mode: str, row: Mapping[str, Any]) -> str:
    key = {"score": "score_id", "pair": "pair_id", "batch": "id"}[mode]
    value = row.get(key)
    if value is None or isinstance(value, bool) or str(value).strip() == "":
        raise ValueError(f"item has no {key!r}")
    return str(value).strip()


def read_items(root: str | Path, mode: str, subset: str = "all") -> tuple[list[BenchmarkItem], Path, list[str]]:
    """Read every item of one mode and subset.

    Lines that cannot be read are skipped and reported, never fatal. A line repeating an earlier one
    exactly is read once; another item under an id already taken is kept as ``<id>~2`` (as the
    importer does, so that ids match the label table).

    Args:
        root: The copy's top folder.
        mode: score, pair or batch.
        subset: all, hq or hard.

    Returns:
        The items in file order, the file read, and the problems met.

    Raises:
        BenchmarkError: The file is missing.
    """
    root = Path(root)
    path = find_benchmark_file(root, mode, subset)
    image_root = _image_root(path, root)
    items: list[BenchmarkItem] = []
    problems: list[str] = []
    seen: dict[str, tuple[int, dict]] = {}
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                if not isinstance(row, dict):
                    raise ValueError("line is not a JSON object")
                item_id = _item_id(mode, row)
                responses, models = _responses(mode, row)
            except ValueError as exc:
                problems.append(f"{path.name}:{number}: {exc}; skipped")
                continue
            if item_id in seen:
                first_number, first_row = seen[item_id]
                if row == first_row:
                    problems.append(f"{path.name}:{number}: repeats line {first_number} exactly; read once")
                    continue
                # Same rule as the importer (and so the label table): another item under a taken id
                # is kept as <id>~2, <id>~3 ...
                k = 2
                while f"{item_id}~{k}" in seen:
                    k += 1
                problems.append(
                    f"{path.name}:{number}: item id {item_id} is taken (line {first_number}); kept as {item_id}~{k}"
                )
                item_id = f"{item_id}~{k}"
            seen[item_id] = (number, row)
            image_id = str(row.get("id", "")).strip()
            image_ref = str(row.get("image_path") or f"image/{image_id}.jpg").replace("\\", "/").lstrip("/")
            items.append(
                BenchmarkItem(
                    mode=mode,
                    item_id=item_id,
                    dataset=str(row.get("original_dataset") or ""),
                    instruction=str(row.get("instruction") or ""),
                    responses=responses,
                    response_models=models,
                    image_id=image_id,
                    image_path=image_root / image_ref,
                    image_ref=(image_root / image_ref).relative_to(root).as_posix(),
                    human_label=_human(row),
                    subset=subset,
                )
            )
    for problem in problems[:5]:
        logger.warning("%s", problem)
    if len(problems) > 5:
        logger.warning("... and %d more problems in %s", len(problems) - 5, path)
    return items, path, problems


def lite_sample(items: Sequence[BenchmarkItem], per_dataset: int = LITE_PER_DATASET) -> list[BenchmarkItem]:
    """The ``lite`` split: per source dataset, the ``per_dataset`` items whose hashed ids sort first.

    Args:
        items: Items of the full benchmark, one mode.
        per_dataset: Items kept per dataset.

    Returns:
        The sample, in the order of ``items``.
    """

    def rank(item: BenchmarkItem) -> str:
        return hashlib.sha1(f"{item.mode}:{item.item_id}".encode()).hexdigest()

    by_dataset: dict[str, list[BenchmarkItem]] = {}
    for item in items:
        by_dataset.setdefault(display_dataset(item.dataset), []).append(item)
    keep = {id(i) for group in by_dataset.values() for i in sorted(group, key=rank)[:per_dataset]}
    return [item for item in items if id(item) in keep]


def select_items(
    root: str | Path,
    mode: str,
    split: str = "all",
    datasets: Iterable[str] | None = None,
    limit: int | None = None,
) -> Selection:
    """Read and choose the items of a run.

    Args:
        root: The copy's top folder.
        mode: score, pair or batch.
        split: all, hq, hard or lite.
        datasets: Keep only these source datasets (any spelling: "coco", "COCO", "C.C.").
        limit: Keep at most this many items (after the other filters, in file order).

    Returns:
        The selection.

    Raises:
        BenchmarkError: Missing file, unknown split or dataset, or nothing left to judge.
    """
    subset = subset_of_split(split)
    items, path, problems = read_items(root, mode, subset)
    if split == "lite":
        items = lite_sample(items)
    if datasets:
        wanted = {display_dataset(d) for d in datasets}
        present = {display_dataset(i.dataset) for i in items}
        unknown = sorted(wanted - present)
        if unknown:
            raise BenchmarkError(
                f"dataset(s) {', '.join(unknown)} have no {mode} items in split {split!r}; "
                f"choose among: {', '.join(sorted(present))}"
            )
        items = [i for i in items if display_dataset(i.dataset) in wanted]
    if limit is not None:
        if limit < 1:
            raise BenchmarkError(f"--limit must be at least 1, got {limit}")
        items = items[:limit]
    if not items:
        raise BenchmarkError(f"no {mode} items to judge in {path}; check --split and --datasets")
    return Selection(tuple(items), path, split, subset, tuple(problems))


# --------------------------------------------------------------------------- downloading


def download_benchmark(
    *,
    repo_id: str = BENCHMARK_REPO,
    cache_dir: str | Path | None = None,
    token: str | None = None,
    endpoint: str | None = None,
) -> Path:
    """Download the benchmark's JSONL files (not the images) from the Hub.

    Args:
        repo_id: The dataset repository.
        cache_dir: Hugging Face cache folder (default: the user's cache).
        token: A Hugging Face token, for private mirrors.
        endpoint: Another Hub endpoint (tests, mirrors).

    Returns:
        The local snapshot folder, to pass to :func:`select_items`.

    Raises:
        BenchmarkError: The Hub cannot be reached and nothing is cached.
    """
    from huggingface_hub import snapshot_download

    from leaderboard.hub import hub_errors

    try:
        path = snapshot_download(
            repo_id=repo_id,
            repo_type="dataset",
            allow_patterns=["*.jsonl"],
            cache_dir=str(cache_dir) if cache_dir else None,
            token=token,
            endpoint=endpoint,
        )
    except hub_errors() as exc:
        raise BenchmarkError(
            f"could not download {repo_id} from the Hub ({type(exc).__name__}: {str(exc)[:200]}); "
            "download it elsewhere and pass --benchmark DIR (or set BENCHMARK_DIR)"
        ) from None
    return Path(path)


def download_images(
    items: Sequence[BenchmarkItem],
    *,
    repo_id: str = BENCHMARK_REPO,
    cache_dir: str | Path | None = None,
    token: str | None = None,
    endpoint: str | None = None,
) -> int:
    """Download the images of ``items`` that are not on disk yet, into the same snapshot.

    Args:
        items: Items read from a snapshot made by :func:`download_benchmark`.
        repo_id: The dataset repository.
        cache_dir: The cache folder given to :func:`download_benchmark`.
        token: A Hugging Face token.
        endpoint: Another Hub endpoint.

    Returns:
        How many images were missing before the download.

    Raises:
        BenchmarkError: The download failed.
    """
    from huggingface_hub import snapshot_download

    from leaderboard.hub import hub_errors

    missing = sorted({i.image_ref for i in items if not i.image_path.is_file()})
    if missing:
        logger.info("downloading %d image(s) from %s", len(missing), repo_id)
        try:
            snapshot_download(
                repo_id=repo_id,
                repo_type="dataset",
                allow_patterns=missing,
                cache_dir=str(cache_dir) if cache_dir else None,
                token=token,
                endpoint=endpoint,
            )
        except hub_errors() as exc:
            raise BenchmarkError(
                f"could not download {len(missing)} image(s) from {repo_id} ({type(exc).__name__}); start "
                "again to retry, or pass --benchmark with a full local copy"
            ) from None
    return len(missing)
