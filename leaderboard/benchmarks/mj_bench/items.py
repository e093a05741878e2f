"""MJ-Bench items from a local folder, for ``python -m leaderboard run --benchmark-name mj-bench``.

The folder is a copy of the MJ-Bench repository (the item files ``alignment/benchmark/<folder>/
<folder>_test.json``, see :mod:`~leaderboard.benchmarks.mj_bench.release`) with the generated images
beside it; an image named in an item file is looked for, in this order, in

1. ``<root>/images/<name>``,
2. ``<root>/alignment/benchmark/<folder>/images/<name>``,
3. ``<root>/alignment/benchmark/<folder>/<name>``.

Items are judged in the ``image-pair`` task: the prompt is the item's caption, image A its
``image0`` and image B its ``image1``; the human label is "A" or "B". Item ids are those of the
imported runs and labels (``<category>:<id>``, categories as the result files name them), so a run
made here is joined with the same human labels. The ``count`` category is a part of the ``other``
folder that only the result files tell apart: its items are those listed in
``closesource_result/alignment/count/*.json`` when the copy has them (and skipped, with a note,
when it does not). The images are not on this machine and are not downloaded: a missing image is
that item's error in the run (retried on the next start), never a verdict.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from leaderboard.benchmarks.base import BenchmarkError, BenchmarkItem, Selection
from leaderboard.benchmarks.mj_bench import release as rel
from leaderboard.benchmarks.mj_bench.datasets import DATASET_ORDER, display_dataset

#: The task MJ-Bench items are judged in.
MODE = "image-pair"
#: The result category whose items only the result files list (a part of the folder ``other``).
LISTED_ONLY = "count"


def _order(category: str) -> int:
    """A category's position in the display order (unknown ones last)."""
    name = display_dataset(category)
    return DATASET_ORDER.index(name) if name in DATASET_ORDER else len(DATASET_ORDER)


def _image(root: Path, folder: str, name: str) -> Path:
    candidates = (
        root / "images" / name,
        root / "alignment" / "benchmark" / folder / "images" / name,
        root / "alignment" / "benchmark" / folder / name,
    )
    return next((path for path in candidates if path.is_file()), candidates[0])


def _listed_ids(root: Path, category: str) -> dict[str, Mapping[str, Any]]:
    """The ids of a category in the result files (the first row of each), {} without result files."""
    try:
        files = [f for f in rel.result_files(root) if f.category == category]
    except FileNotFoundError:
        return {}
    rows: dict[str, Mapping[str, Any]] = {}
    for file in files:
        for row in rel.read_results(file):
            rows.setdefault(str(row.get("id", "")).strip(), row)
    rows.pop("", None)
    return rows


def _item(root: Path, category: str, folder: str, raw_id: str, row: Mapping[str, Any]) -> BenchmarkItem | str:
    caption = row.get("caption")
    names = [row.get("image0", row.get("image_0_uid")), row.get("image1", row.get("image_1_uid"))]
    if not isinstance(caption, str) or not caption.strip():
        return f"{category}:{raw_id}: no caption (skipped)"
    if not all(
        isinstance(n, str) and n.strip() and "/" not in n and "\\" not in n and n not in (".", "..") for n in names
    ):
        return f"{category}:{raw_id}: image names are not two plain file names (skipped)"
    first, second = (_image(root, folder, str(n)) for n in names)
    return BenchmarkItem(
        mode=MODE,
        item_id=rel.item_id(category, raw_id),
        dataset=category,
        instruction=caption,
        responses=(),
        response_models=(),
        image_id=f"{names[0]}|{names[1]}",
        image_path=first,
        image_ref=f"{names[0]}|{names[1]}",
        human_label=rel.label_of(row.get("label")),
        subset="all",
        more_images=(second,),
    )


def read_items(root: str | Path, mode: str = MODE, subset: str = "all") -> tuple[list[BenchmarkItem], Path, list[str]]:
    """Every MJ-Bench item of the copy at ``root``, category by category in display order.

    Raises:
        BenchmarkError: Another mode than image-pair, another subset than all, or no item file.
    """
    if mode != MODE:
        raise BenchmarkError(
            f"MJ-Bench items are a prompt and two generated images: judge them with --mode {MODE}, not {mode!r}"
        )
    if subset != "all":
        raise BenchmarkError(f"MJ-Bench has one subset, all; got {subset!r}")
    root = Path(root).expanduser()
    base = root / "alignment" / "benchmark"
    items: list[BenchmarkItem] = []
    problems: list[str] = []
    found_any = False
    for category in sorted(rel.CATEGORY_FOLDER, key=_order):
        folder = rel.CATEGORY_FOLDER[category]
        rows = rel.items_of_folder(root, folder)
        found_any = found_any or bool(rows)
        if category == LISTED_ONLY:
            listed = _listed_ids(root, category)
            if not listed:
                problems.append(
                    f"{category}: its items are a part of {folder}/ that only closesource_result/alignment/{category}/ "
                    "lists; that folder is missing, so they are skipped"
                )
                continue
            # The item file's row where it has the id and shows the same prompt and images, else the result row.
            rows = {
                raw: rows[raw] if raw in rows and rel.same_item(row, rows[raw]) else row for raw, row in listed.items()
            }
        for raw_id, row in rows.items():
            made = _item(root, category, folder, str(raw_id).strip(), row)
            if isinstance(made, str):
                problems.append(made)
            else:
                items.append(made)
    if not found_any:
        raise BenchmarkError(
            f"no MJ-Bench item files under {base}: expected <folder>/<folder>_test.json for "
            + ", ".join(sorted(set(rel.CATEGORY_FOLDER.values())))
            + " (a copy of github.com/MJ-Bench/MJ-Bench, with the images in images/)"
        )
    return items, base, problems


def select_items(
    root: str | Path,
    mode: str,
    split: str = "all",
    datasets: Iterable[str] | None = None,
    limit: int | None = None,
) -> Selection:
    """The items of a run on MJ-Bench: all of them, or those of some categories, at most ``limit``.

    Raises:
        BenchmarkError: A bad mode, split or category, no item files, or nothing left to judge.
    """
    if split != "all":
        raise BenchmarkError(f"split {split!r} is not one of all (MJ-Bench has no curated subsets)")
    items, path, problems = read_items(root, mode, "all")
    if datasets:
        wanted = {display_dataset(d) for d in datasets}
        present = {display_dataset(i.dataset) for i in items}
        unknown = sorted(wanted - present)
        if unknown:
            raise BenchmarkError(
                f"categories {', '.join(unknown)} have no items here; choose among: {', '.join(sorted(present))}"
            )
        items = [i for i in items if display_dataset(i.dataset) in wanted]
    if limit is not None:
        items = items[:limit]
    if not items:
        raise BenchmarkError(f"no MJ-Bench items to judge in {path}; check --datasets")
    return Selection(tuple(items), path, split, "all", tuple(problems))
