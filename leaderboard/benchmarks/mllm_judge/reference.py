"""Published MLLM-as-a-Judge numbers as reference rows (provenance "reported in paper").

Two embedded CSVs (read by :func:`leaderboard.benchmarks.reported.read_reported`):

* ``assets/reference/reported_results.csv``: the benchmark paper's own table (Chen et al., ICML 2024);
* ``assets/reference/reported_results_later.csv``: per-dataset numbers published after it, each row
  with its exact ``source`` and its ``protocol`` (whose evaluation, whose prompt): Flex-Judge's
  Table 1 and Table 9 (Ko et al., 2025) with its own judges and LLaVA-Critic's re-evaluation of
  GPT-4V and Prometheus-Vision, and Kumar et al.'s (2026) per-dataset Pearson of LLaVA-Critic-7B, the
  same run as the embedded ``vju-all-score-llava-critic-7b``.

They are shown beside computed rows, never mixed into them: no run, no interval, no ``n``, no
coverage, ``run_id`` ``paper``; ``reason`` carries the source and protocol.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from leaderboard.benchmarks.mllm_judge.datasets import display_dataset
from leaderboard.benchmarks.reported import read_reported
from leaderboard.schema import DEFAULT_BENCHMARK
from leaderboard.store.sources import default_assets_dir

if TYPE_CHECKING:  # pandas loads with the reader that needs it, not with the benchmark registry
    import pandas as pd

REFERENCE_FILE = Path("reference") / "reported_results.csv"
LATER_FILE = Path("reference") / "reported_results_later.csv"


def default_reference_path() -> Path:
    """The embedded CSV of the paper's reported numbers."""
    return default_assets_dir() / REFERENCE_FILE


def default_reference_paths() -> tuple[Path, ...]:
    """Every embedded CSV of reported numbers: the paper's, then the later papers'."""
    return (default_assets_dir() / REFERENCE_FILE, default_assets_dir() / LATER_FILE)


def reference_rows(path: str | Path | None = None, *, known_metrics: Iterable[str] | None = None) -> pd.DataFrame:
    """Read the reported numbers into leaderboard rows.

    Args:
        path: One CSV to read instead of the embedded ones.
        known_metrics: The metric names the leaderboard knows (``leaderboard.metrics.METRIC_NAMES``);
            None skips that check.

    Returns:
        Rows with :data:`leaderboard.schema.COLUMN_NAMES`; a blank value becomes NaN with the reason
        "not reported".

    Raises:
        ValueError: A required column is missing or a metric name is unknown; the message says which.
    """
    paths = [Path(path)] if path is not None else [p for p in default_reference_paths() if p.exists()]
    return read_reported(
        paths, benchmark=DEFAULT_BENCHMARK, display_dataset=display_dataset, known_metrics=known_metrics
    )
