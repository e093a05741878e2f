"""Published Polaris numbers as reference rows: VLM-Judge-Uncertainty's own aggregates of the two runs.

``assets/reference/polaris_reported.csv`` holds what that project's result files print for the same
runs as the embedded ``polaris-all-score-*`` (``results/v2_polaris*/point_prediction.csv``, commit
6d09bc81): Pearson and exact agreement over the scored items. Shown beside the computed rows, and a
check of the import: they must agree.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from leaderboard.benchmarks.polaris.datasets import display_dataset
from leaderboard.benchmarks.reported import read_reported
from leaderboard.benchmarks.vlm_judge_uncertainty import POLARIS
from leaderboard.store.sources import default_assets_dir

if TYPE_CHECKING:  # pandas loads with the reader that needs it, not with the benchmark registry
    import pandas as pd

REFERENCE_FILE = Path("reference") / "polaris_reported.csv"


def reference_rows(path: str | Path | None = None, *, known_metrics: Iterable[str] | None = None) -> pd.DataFrame:
    """The reported Polaris numbers as leaderboard rows (see :func:`leaderboard.benchmarks.reported.read_reported`)."""
    target = Path(path) if path is not None else default_assets_dir() / REFERENCE_FILE
    paths = [target] if target.exists() else []
    return read_reported(paths, benchmark=POLARIS, display_dataset=display_dataset, known_metrics=known_metrics)
