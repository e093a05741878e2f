"""Published MJ-Bench numbers as reference rows: none are embedded yet.

MJ-Bench's paper reports its alignment results per judge and category, but no copy of that table is
beside this project, and numbers are not typed in from memory. :func:`reference_rows` reads
``assets/reference/mj_bench_reported.csv`` when someone adds it (columns as
:mod:`leaderboard.benchmarks.reported` describes) and is empty until then.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from leaderboard.benchmarks.mj_bench.datasets import display_dataset
from leaderboard.benchmarks.reported import read_reported
from leaderboard.store.sources import default_assets_dir

if TYPE_CHECKING:  # pandas loads with the reader that needs it, not with the benchmark registry
    import pandas as pd

NAME = "mj-bench"
REFERENCE_FILE = Path("reference") / "mj_bench_reported.csv"


def reference_rows(path: str | Path | None = None, *, known_metrics: Iterable[str] | None = None) -> pd.DataFrame:
    """The reported MJ-Bench numbers as leaderboard rows (empty while none are embedded)."""
    target = Path(path) if path is not None else default_assets_dir() / REFERENCE_FILE
    paths = [target] if target.exists() else []
    return read_reported(paths, benchmark=NAME, display_dataset=display_dataset, known_metrics=known_metrics)
