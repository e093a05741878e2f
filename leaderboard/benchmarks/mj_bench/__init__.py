"""MJ-Bench (text-to-image alignment): which of two generated images matches the prompt better.

A third benchmark beside MLLM-as-a-Judge and Polaris, of the "judging generated images" family: a
judge sees one text-to-image prompt and two images and names the one people preferred (labels from
HPDv2, Pick-a-Pic and ImageReward). Five categories (Object, Attribute, Action, Spatial, Count) are
its "datasets". ``python -m leaderboard import-mj-bench SRC`` imports the stored verdicts of GPT-4o,
GPT-4-turbo, Claude-3-Opus and Gemini-1.5.

Tasks. The four API judges' stored verdicts are imported as ``pair`` runs (image 0 is A, image 1
is B; verdicts A, B or tie), as they were before the ``image-pair`` task existed; they stay so, so
that their rows, ids and numbers do not move. The runner judges MJ-Bench items in the
``image-pair`` task from a local copy with its images (:mod:`~.items`). The human labels (A or B, no
ties) are stored for both tasks, so both kinds of run are scored against the same labels. Labels
are very unbalanced (A in about 88% of items): accuracy must be read beside the always-A baseline
and position bias.

Rooms: :mod:`~leaderboard.benchmarks.mj_bench.release` (the files), :mod:`~.importer`,
:mod:`~.items` (items from a local folder, for the runner), :mod:`~.datasets` (category names and
order), :mod:`~.reference` (published numbers; none yet).
"""

from __future__ import annotations

from leaderboard.benchmarks.base import Benchmark, BenchmarkError, unavailable
from leaderboard.benchmarks.mj_bench.datasets import DATASET_ORDER, DISPLAY_NAMES, display_dataset
from leaderboard.benchmarks.mj_bench.importer import COMMAND, NAME, NOTE, import_mj_bench
from leaderboard.benchmarks.mj_bench.items import MODE, read_items, select_items
from leaderboard.benchmarks.mj_bench.reference import reference_rows


def subset_of_split(split: str) -> str:
    """MJ-Bench's one split, ``all``, is joined with the ``all`` labels."""
    if split != "all":
        raise BenchmarkError(f"split {split!r} is not one of all (MJ-Bench has no curated subsets)")
    return "all"


_NO_DOWNLOAD = unavailable(
    "MJ-Bench's items and images are not downloaded here",
    "pass --benchmark DIR: a copy of github.com/MJ-Bench/MJ-Bench with the images in DIR/images/",
)

MJ_BENCH = Benchmark(
    name=NAME,
    title="MJ-Bench (text-to-image alignment)",
    repo_id="MJ-Bench/MJ-Bench",
    modes=("pair", MODE),
    splits=("all",),
    subsets=("all",),
    dataset_order=DATASET_ORDER,
    display_dataset=display_dataset,
    subset_of_split=subset_of_split,
    select_items=select_items,
    read_items=read_items,
    download=_NO_DOWNLOAD,
    download_images=_NO_DOWNLOAD,
    reference_rows=reference_rows,
    importers={COMMAND: import_mj_bench},
    notes=NOTE,
)

__all__ = [
    "DATASET_ORDER",
    "DISPLAY_NAMES",
    "MJ_BENCH",
    "display_dataset",
    "import_mj_bench",
    "read_items",
    "reference_rows",
    "select_items",
]
