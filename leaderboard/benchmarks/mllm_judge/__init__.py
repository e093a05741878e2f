"""MLLM-as-a-Judge (ICML 2024): the benchmark every stored run of this project was made on.

Rooms:

* :mod:`~leaderboard.benchmarks.mllm_judge.release`: the one reader of the released files (which
  file is what, what a row holds, the id-collision rule, the release's label spellings);
* :mod:`~leaderboard.benchmarks.mllm_judge.items`: items with texts and images, splits (``lite``);
* :mod:`~leaderboard.benchmarks.mllm_judge.download`: the release and its images from the Hub;
* :mod:`~leaderboard.benchmarks.mllm_judge.importer`: the released judge outputs -> runs and labels;
* :mod:`~leaderboard.benchmarks.mllm_judge.vju`: VLM-Judge-Uncertainty's full-benchmark score runs of
  three newer judges (with verdict probabilities) -> runs and labels of subset ``all``;
* :mod:`~leaderboard.benchmarks.mllm_judge.reference`: the paper's and later papers' numbers as reference rows;
* :mod:`~leaderboard.benchmarks.mllm_judge.datasets`: the source datasets' display names and order.

:data:`MLLM_JUDGE` is this benchmark's entry in :data:`leaderboard.benchmarks.BENCHMARKS`.
"""

from __future__ import annotations

from leaderboard.benchmarks.base import Benchmark
from leaderboard.benchmarks.mllm_judge.datasets import DATASET_ORDER, DISPLAY_NAMES, display_dataset
from leaderboard.benchmarks.mllm_judge.download import download_benchmark, download_images
from leaderboard.benchmarks.mllm_judge.importer import (
    FileReport,
    ImportSummary,
    fetch_hub_dataset,
    import_mllm_judge,
    judge_display_name,
)
from leaderboard.benchmarks.mllm_judge.items import (
    BENCHMARK_REPO,
    LITE_PER_DATASET,
    SPLITS,
    lite_sample,
    read_items,
    select_items,
    subset_of_split,
)
from leaderboard.benchmarks.mllm_judge.reference import default_reference_path, reference_rows
from leaderboard.benchmarks.mllm_judge.release import (
    MODES,
    HumanLabel,
    SourceFile,
    discover,
    find_benchmark_file,
    normalise_human_label,
)
from leaderboard.benchmarks.mllm_judge.vju import import_vlm_judge_uncertainty
from leaderboard.schema import DEFAULT_BENCHMARK, SUBSETS

MLLM_JUDGE = Benchmark(
    name=DEFAULT_BENCHMARK,
    title="MLLM-as-a-Judge",
    repo_id=BENCHMARK_REPO,
    modes=MODES,
    splits=SPLITS,
    subsets=SUBSETS,
    dataset_order=DATASET_ORDER,
    display_dataset=display_dataset,
    subset_of_split=subset_of_split,
    select_items=select_items,
    read_items=read_items,
    download=download_benchmark,
    download_images=download_images,
    reference_rows=reference_rows,
    importers={"import-mllm-judge": import_mllm_judge, "import-vlm-judge-uncertainty": import_vlm_judge_uncertainty},
    fetch_release=fetch_hub_dataset,
)

__all__ = [
    "BENCHMARK_REPO",
    "DATASET_ORDER",
    "DISPLAY_NAMES",
    "LITE_PER_DATASET",
    "MLLM_JUDGE",
    "SPLITS",
    "FileReport",
    "HumanLabel",
    "ImportSummary",
    "SourceFile",
    "default_reference_path",
    "discover",
    "display_dataset",
    "download_benchmark",
    "download_images",
    "fetch_hub_dataset",
    "find_benchmark_file",
    "import_mllm_judge",
    "import_vlm_judge_uncertainty",
    "judge_display_name",
    "lite_sample",
    "normalise_human_label",
    "read_items",
    "reference_rows",
    "select_items",
    "subset_of_split",
]
