"""Benchmark items with their texts and images, read from a local copy of the release.

:func:`read_items` reads one mode and subset through :mod:`~leaderboard.benchmarks.mllm_judge.release`
(the one reader of the released files, which the importer uses too, so ids match the label table);
:func:`select_items` chooses a run's items by split, source dataset and limit.

Split ``lite`` is a small fixed sample of ``all``: per source dataset, the :data:`LITE_PER_DATASET`
items whose ``sha1(mode:item_id)`` sort first. It does not depend on file order or on the machine,
so two people running ``--split lite`` judge the same items and their runs are comparable.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Sequence
from pathlib import Path

from leaderboard.benchmarks.base import BenchmarkError, BenchmarkItem, Selection
from leaderboard.benchmarks.mllm_judge import release
from leaderboard.benchmarks.mllm_judge.datasets import display_dataset
from leaderboard.schema import MODES

logger = logging.getLogger(__name__)

BENCHMARK_REPO = release.HUB_REPO_ID
SPLITS: tuple[str, ...] = ("all", "hq", "hard", "lite")
LITE_PER_DATASET = 10

__all__ = [
    "BENCHMARK_REPO",
    "LITE_PER_DATASET",
    "MODES",
    "SPLITS",
    "lite_sample",
    "read_items",
    "select_items",
    "subset_of_split",
]


def subset_of_split(split: str) -> str:
    """The label subset a split is joined with: ``lite`` is a sample of ``all``."""
    if split not in SPLITS:
        raise BenchmarkError(f"split {split!r} is not one of {', '.join(SPLITS)}")
    return "all" if split == "lite" else split


def read_items(root: str | Path, mode: str, subset: str = "all") -> tuple[list[BenchmarkItem], Path, list[str]]:
    """Read every item of one mode and subset.

    Lines that cannot be read are skipped and reported, never fatal. A line repeating an earlier one
    exactly is read once; another item under an id already taken is kept as ``<id>~2``
    (:class:`~leaderboard.benchmarks.mllm_judge.release.ItemIds`, the importer's rule too).

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
    path = release.find_benchmark_file(root, mode, subset)
    image_root = release.image_root(path, root)
    items: list[BenchmarkItem] = []
    problems: list[str] = []
    ids = release.ItemIds()
    for number, row, problem in release.iter_rows(path):
        if row is None:
            problems.append(f"{path.name}:{number}: {problem}; skipped")
            continue
        try:
            wanted = release.item_id(mode, row)
            responses, models = release.responses(mode, row)
        except ValueError as exc:
            problems.append(f"{path.name}:{number}: {exc}; skipped")
            continue
        item_id, note = ids.claim(wanted, row, number)
        if note:
            problems.append(f"{path.name}:{number}: {note}")
        if item_id is None:
            continue
        image_id = str(row.get("id", "")).strip()
        image_ref = str(row.get("image_path") or f"image/{image_id}.jpg").replace("\\", "/").lstrip("/")
        items.append(
            BenchmarkItem(
                mode=mode,
                item_id=item_id,
                dataset=release.dataset_field(row),
                instruction=str(row.get("instruction") or ""),
                responses=responses,
                response_models=models,
                image_id=image_id,
                image_path=image_root / image_ref,
                image_ref=(image_root / image_ref).relative_to(root).as_posix(),
                human_label=release.human_field(row),
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
