"""The MLLM-as-a-Judge paper's reported numbers as reference rows (provenance "reported in paper").

They come from ``assets/reference/reported_results.csv`` (mode, metric, judge, dataset, value,
source) and are shown beside computed rows, never mixed into them: they have no run, no interval,
no ``n`` and no coverage, and ``run_id`` is ``paper``.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from leaderboard.benchmarks.mllm_judge.datasets import display_dataset
from leaderboard.schema import AVERAGE, COLUMN_NAMES, DEFAULT_BENCHMARK, PROVENANCE_PAPER
from leaderboard.store.sources import default_assets_dir

REFERENCE_FILE = Path("reference") / "reported_results.csv"
_REQUIRED = ("mode", "metric", "judge", "dataset", "value")


def default_reference_path() -> Path:
    """The embedded CSV of reported numbers."""
    return default_assets_dir() / REFERENCE_FILE


def reference_rows(path: str | Path | None = None, *, known_metrics: Iterable[str] | None = None) -> pd.DataFrame:
    """Read the reported numbers into leaderboard rows.

    Args:
        path: The CSV (default: the embedded one).
        known_metrics: The metric names the leaderboard knows (``leaderboard.metrics.METRIC_NAMES``);
            None skips that check.

    Returns:
        Rows with :data:`leaderboard.schema.COLUMN_NAMES`; a blank value becomes NaN with the reason
        "not reported in the paper".

    Raises:
        ValueError: A required column is missing or a metric name is unknown; the message says which.
    """
    path = Path(path) if path is not None else default_reference_path()
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = [c for c in _REQUIRED if c not in raw.columns]
    if missing:
        raise ValueError(f"{path}: missing column(s) {', '.join(missing)}; expected {', '.join(_REQUIRED)}")
    # The metric registry sits above the benchmarks in the import order, so the caller passes its names.
    unknown = sorted(set(raw["metric"]) - set(known_metrics)) if known_metrics is not None else []
    if unknown:
        raise ValueError(f"{path}: unknown metric(s) {unknown}; use names from leaderboard.metrics.METRICS")
    value = pd.to_numeric(raw["value"].str.strip().replace("", np.nan), errors="coerce")
    source = raw["source"] if "source" in raw.columns else pd.Series([""] * len(raw))
    dataset = raw["dataset"].map(
        lambda d: AVERAGE if d.strip().lower() in {"ave.", "ave", "average"} else display_dataset(d)
    )
    reason = [
        "; ".join(
            part for part in ("not reported in the paper" if missing else "", f"source: {src}" if src else "") if part
        )
        for missing, src in zip(value.isna(), source, strict=True)
    ]
    out = pd.DataFrame(
        {
            "judge": raw["judge"],
            "mode": raw["mode"],
            "metric": raw["metric"],
            "dataset": dataset,
            "value": value,
            "ci_low": np.nan,
            "ci_high": np.nan,
            "n": pd.array([None] * len(raw), dtype="Int64"),
            "coverage": np.nan,
            "provenance": PROVENANCE_PAPER,
            "benchmark": DEFAULT_BENCHMARK,
            "subset": "all",
            "setting": "no-cot",
            "run_id": "paper",
            "reason": reason,
        }
    )
    return out[list(COLUMN_NAMES)]
