"""MJ-Bench (text-to-image alignment): which of two generated images matches the prompt better.

A third benchmark beside MLLM-as-a-Judge and Polaris, of the "judging generated images" family: a
judge sees one text-to-image prompt and two images and names the one people preferred (labels from
HPDv2, Pick-a-Pic and ImageReward). Five categories (Object, Attribute, Action, Spatial, Count) are
its "datasets". ``python -m leaderboard import-mj-bench SRC`` imports the stored verdicts of GPT-4o,
GPT-4-turbo, Claude-3-Opus and Gemini-1.5.

Task. No judge task for a prompt with two images exists yet, so MJ-Bench is imported as a ``pair``
task: image 0 is A, image 1 is B; verdicts A, B or tie; human labels A or B (no ties). Labels are
very unbalanced (A in about 88% of items): accuracy must be read beside the always-A baseline and
position bias. When the image-pair task exists, the runs' ``mode`` changes with it.

Rooms: :mod:`~leaderboard.benchmarks.mj_bench.release` (the files), :mod:`~.importer`,
:mod:`~.datasets` (category names and order), :mod:`~.reference` (published numbers; none yet).
The runner cannot judge MJ-Bench yet (no image-pair task, images not here): the item functions of
:data:`MJ_BENCH` say so.
"""

from __future__ import annotations

from leaderboard.benchmarks.base import imported_only
from leaderboard.benchmarks.mj_bench.datasets import DATASET_ORDER, DISPLAY_NAMES, display_dataset
from leaderboard.benchmarks.mj_bench.importer import COMMAND, NAME, NOTE, import_mj_bench
from leaderboard.benchmarks.mj_bench.reference import reference_rows

MJ_BENCH = imported_only(
    name=NAME,
    title="MJ-Bench (text-to-image alignment)",
    repo_id="MJ-Bench/MJ-Bench",
    mode="pair",
    dataset_order=DATASET_ORDER,
    display_dataset=display_dataset,
    reference_rows=reference_rows,
    importers={COMMAND: import_mj_bench},
    no_items="MJ-Bench items are a prompt and two generated images, and the runner cannot read them yet",
    notes=NOTE,
)

__all__ = ["DATASET_ORDER", "DISPLAY_NAMES", "MJ_BENCH", "display_dataset", "import_mj_bench", "reference_rows"]
