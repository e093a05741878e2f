"""Polaris: human ratings of image captions, judged on a 1-5 score (a second benchmark beside MLLM-as-a-Judge).

Polaris (Wada et al., CVPR 2024) asks people to rate how well a caption describes an image; its
human mean rating, binned to 1-5, is the label of a score task with one source dataset
(``Polaris``). The only per-item judge data available offline are VLM-Judge-Uncertainty's runs of
LLaVA-Critic-7B and Phi-4-reasoning-vision over its 8,726 items (with the log-probabilities of the
five score tokens), imported by ``python -m leaderboard import-polaris SRC``.

Rooms: :mod:`~leaderboard.benchmarks.polaris.importer` (the result files -> runs and labels; it reads
them through :mod:`leaderboard.benchmarks.vlm_judge_uncertainty`),
:mod:`~leaderboard.benchmarks.polaris.reference` (published numbers),
:mod:`~leaderboard.benchmarks.polaris.datasets` (the one dataset's name).

Its items' captions and images are not here, so the runner cannot judge Polaris yet: the item
functions of :data:`POLARIS` say so.
"""

from __future__ import annotations

from leaderboard.benchmarks.base import imported_only
from leaderboard.benchmarks.polaris.datasets import DATASET_ORDER, POLARIS_DATASET, display_dataset
from leaderboard.benchmarks.polaris.importer import COMMAND, import_polaris
from leaderboard.benchmarks.polaris.reference import reference_rows
from leaderboard.benchmarks.vlm_judge_uncertainty import POLARIS as NAME

POLARIS = imported_only(
    name=NAME,
    title="Polaris (caption ratings)",
    repo_id="yuwd/Polaris",
    mode="score",
    dataset_order=DATASET_ORDER,
    display_dataset=display_dataset,
    reference_rows=reference_rows,
    importers={COMMAND: import_polaris},
    no_items="Polaris items (captions and images) are not available to this project, so it cannot judge them",
    notes=(
        "Human labels are the human mean rating binned to 1-5 by VLM-Judge-Uncertainty; the judges used that "
        "project's own scoring prompt."
    ),
)

__all__ = ["DATASET_ORDER", "POLARIS", "POLARIS_DATASET", "display_dataset", "import_polaris", "reference_rows"]
