"""What a benchmark is to the leaderboard: a frozen record of its facts and the functions that read it.

Every benchmark registers one :class:`Benchmark` in :data:`leaderboard.benchmarks.BENCHMARKS`. The
fields are what the rest of the house asks a benchmark, and each drives something:

* ``modes``, ``splits``, ``subsets``: the CLI's ``--mode`` / ``--split`` choices, the runner's and
  the submission check's validation, the label subsets runs are joined with (``subset_of_split``);
* ``display_dataset`` and ``dataset_order``: the source datasets' display names and column order in
  tables and plots;
* ``select_items`` / ``read_items`` (items with texts and images, from a local copy of the release),
  ``download`` / ``download_images`` (the release from the Hub): the runner and the sample view;
* ``importers``: commands that turn stored judge outputs of the release into runs and labels;
* ``reference_rows``: the numbers the benchmark's paper reports, shown beside computed rows.

:class:`BenchmarkItem` and :class:`Selection` are what ``select_items`` gives the runner, whatever
the benchmark.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from leaderboard.errors import LeaderboardError


class BenchmarkError(LeaderboardError, ValueError):
    """The benchmark copy is missing a file or cannot be read; the message says how to fix it."""


@dataclass(frozen=True)
class BenchmarkItem:
    """One benchmark item, ready to become a judging task.

    Attributes:
        mode: score, pair or batch.
        item_id: The item's id as a string (the key runs and labels use).
        dataset: The source dataset as the data spells it.
        instruction: What the answering models were asked.
        responses: The answers, in the order the judge sees them (lettered A, B, ...).
        response_models: The answering models' names, same order ("" when unknown).
        image_id: The image's id.
        image_path: Where the image should be on disk (it may be missing).
        image_ref: ``image_path`` as the data spells it, relative to the release's root.
        human_label: The human label as stored (int, "A"/"B"/"C", ranking string, or None).
        subset: The label subset the item comes from (all, hq, hard).
        more_images: Further images the judge sees after ``image_path`` (image B of an image pair).
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
    more_images: tuple[Path, ...] = ()

    @property
    def image_paths(self) -> tuple[Path, ...]:
        """Every image of the item, in the order the judge sees them."""
        return (self.image_path, *self.more_images)


@dataclass(frozen=True)
class Selection:
    """Items chosen for a run, and what was noticed while reading them.

    Attributes:
        items: The items, in a stable order.
        source: The file they come from.
        split: The requested split (e.g. all, hq, hard or lite).
        subset: The label subset runs on these items are joined with (lite -> all).
        problems: Human-readable notes (duplicates dropped, unreadable lines ...).
    """

    items: tuple[BenchmarkItem, ...]
    source: Path
    split: str
    subset: str
    problems: tuple[str, ...] = ()


@dataclass(frozen=True)
class Benchmark:
    """A benchmark the leaderboard can show, judge and import.

    Attributes:
        name: The registry key, and what a manifest's ``benchmark`` field says.
        title: Display name.
        repo_id: The Hub dataset holding the release.
        modes: The judge tasks it has items for.
        splits: What ``--split`` accepts (item selections; see ``subset_of_split``).
        subsets: The label subsets runs are joined with.
        dataset_order: Display names of its source datasets, in the paper's order.
        display_dataset: Any spelling of a source dataset -> its display name (unknown: unchanged).
        subset_of_split: A split -> the label subset a run on it is joined with; raises
            BenchmarkError for an unknown split.
        select_items: ``(root, mode, split, datasets, limit) -> Selection``.
        read_items: ``(root, mode, subset) -> (items, file, problems)``.
        download: ``(*, repo_id, cache_dir, token, endpoint) -> Path`` of a local copy (no images).
        download_images: ``(items, *, repo_id, cache_dir, token, endpoint) -> missing count``.
        reference_rows: ``(path=None) -> DataFrame`` of the paper's numbers in the long table's columns.
        importers: Command name -> ``(src, out) -> summary`` importing stored judge outputs.
        fetch_release: ``(repo_id, cache_dir, *, endpoint) -> Path``: the release's files for an importer.
        notes: What a reader must know about the benchmark's rows (task stand-ins, label caveats), in words.
    """

    name: str
    title: str
    repo_id: str
    modes: tuple[str, ...]
    splits: tuple[str, ...]
    subsets: tuple[str, ...]
    dataset_order: tuple[str, ...]
    display_dataset: Callable[[str], str]
    subset_of_split: Callable[[str], str]
    select_items: Callable[..., Selection]
    read_items: Callable[..., tuple[list[BenchmarkItem], Path, list[str]]]
    download: Callable[..., Path]
    download_images: Callable[..., int]
    reference_rows: Callable[..., Any]
    importers: Mapping[str, Callable[..., Any]] = field(default_factory=dict)
    fetch_release: Callable[..., Path] | None = None
    notes: str = ""


def unavailable(what: str, how: str) -> Callable[..., Any]:
    """A stand-in for a function a benchmark cannot offer (yet): it raises :class:`BenchmarkError`.

    Args:
        what: What cannot be done, e.g. "Polaris items cannot be judged here".
        how: What to do instead.

    Returns:
        A callable taking any arguments and raising ``BenchmarkError(f"{what}; {how}")``.
    """

    def refuse(*_args: Any, **_kwargs: Any) -> Any:
        raise BenchmarkError(f"{what}; {how}")

    return refuse


def imported_only(
    *,
    name: str,
    title: str,
    repo_id: str,
    mode: str,
    dataset_order: tuple[str, ...],
    display_dataset: Callable[[str], str],
    reference_rows: Callable[..., Any],
    importers: dict[str, Callable[..., Any]],
    no_items: str,
    notes: str = "",
) -> Benchmark:
    """A benchmark known here only through imported judge outputs: one task, one split (``all``).

    Its item functions refuse with ``no_items`` and point at its import command, so the runner
    says why it cannot judge it instead of failing somewhere deeper.

    Args:
        name: The registry key.
        title: Display name.
        repo_id: The Hub dataset of the release.
        mode: The one judge task its runs hold.
        dataset_order: Display names of its datasets (or categories), in order.
        display_dataset: Any spelling of a dataset -> its display name.
        reference_rows: Its published numbers as reference rows.
        importers: Import command -> function.
        no_items: Why its items cannot be judged here.
        notes: Caveats shown with the benchmark.
    """
    command = next(iter(importers), "import")
    refuse = unavailable(no_items, f"import stored judge outputs with `python -m leaderboard {command} SRC` instead")

    def subset_of_split(split: str) -> str:
        if split != "all":
            raise BenchmarkError(f"split {split!r} is not one of all ({title} has no curated subsets)")
        return "all"

    return Benchmark(
        name=name,
        title=title,
        repo_id=repo_id,
        modes=(mode,),
        splits=("all",),
        subsets=("all",),
        dataset_order=dataset_order,
        display_dataset=display_dataset,
        subset_of_split=subset_of_split,
        select_items=refuse,
        read_items=refuse,
        download=refuse,
        download_images=refuse,
        reference_rows=reference_rows,
        importers=importers,
        notes=notes,
    )
