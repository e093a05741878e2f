"""Published numbers as reference rows of the long table: one reader for every benchmark's CSVs.

A reported-results CSV has the columns ``mode, metric, judge, dataset, value`` and optionally
``source`` (where the number is printed), ``protocol`` (how it was measured: whose prompt, which
items), ``subset`` (default ``all``) and ``setting`` (default ``no-cot``). Each benchmark's
``reference_rows`` reads its own files through :func:`read_reported`. Reference rows have provenance
"reported in paper", run id ``paper``, no interval, no ``n`` and no coverage; their ``reason``
carries the source and protocol.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from leaderboard.schema import AVERAGE, COLUMN_NAMES, PROVENANCE_PAPER

REQUIRED: tuple[str, ...] = ("mode", "metric", "judge", "dataset", "value")
_AVERAGE_SPELLINGS = {"ave.", "ave", "average"}

if TYPE_CHECKING:  # pandas loads when a reference table is read, not with the benchmark registry
    import pandas as pd


def _one(path: Path, known_metrics: Iterable[str] | None) -> pd.DataFrame:
    import pandas as pd

    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = [c for c in REQUIRED if c not in raw.columns]
    if missing:
        raise ValueError(f"{path}: missing column(s) {', '.join(missing)}; expected {', '.join(REQUIRED)}")
    # The metric registry sits above the benchmarks in the import order, so the caller passes its names.
    unknown = sorted(set(raw["metric"]) - set(known_metrics)) if known_metrics is not None else []
    if unknown:
        raise ValueError(f"{path}: unknown metric(s) {unknown}; use names from leaderboard.metrics.METRICS")
    return raw


def read_reported(
    paths: Sequence[str | Path],
    *,
    benchmark: str,
    display_dataset: Callable[[str], str],
    known_metrics: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Read reported numbers into leaderboard rows.

    Args:
        paths: The CSV files, read in order.
        benchmark: The benchmark the numbers are on (the ``benchmark`` column).
        display_dataset: The benchmark's dataset display names ("Ave." becomes ``Average``).
        known_metrics: The metric names the leaderboard knows; None skips that check.

    Returns:
        Rows with :data:`leaderboard.schema.COLUMN_NAMES` (and ``benchmark``); a blank value is NaN
        with the reason "not reported".

    Raises:
        ValueError: A required column is missing or a metric name is unknown; the message says which.
    """
    import numpy as np
    import pandas as pd

    known = list(known_metrics) if known_metrics is not None else None
    frames = [_one(Path(p), known) for p in paths]
    raw = pd.concat(frames, ignore_index=True).fillna("") if frames else pd.DataFrame(columns=list(REQUIRED))

    def column(name: str, default: str) -> pd.Series:
        values = raw[name] if name in raw.columns else pd.Series([""] * len(raw), dtype=object)
        return values.astype(str).str.strip().replace("", default)

    value = pd.to_numeric(raw["value"].astype(str).str.strip().replace("", np.nan), errors="coerce")
    source, protocol = column("source", ""), column("protocol", "")
    dataset = (
        raw["dataset"]
        .astype(str)
        .map(lambda d: AVERAGE if d.strip().lower() in _AVERAGE_SPELLINGS else display_dataset(d))
    )
    reason = [
        "; ".join(
            p for p in ("not reported" if gap else "", f"source: {s}" if s else "", f"protocol: {q}" if q else "") if p
        )
        for gap, s, q in zip(value.isna(), source, protocol, strict=True)
    ]
    out = pd.DataFrame(
        {
            "judge": raw["judge"].astype(str),
            "mode": raw["mode"].astype(str),
            "metric": raw["metric"].astype(str),
            "dataset": dataset,
            "value": value,
            "ci_low": np.nan,
            "ci_high": np.nan,
            "n": pd.array([None] * len(raw), dtype="Int64"),
            "coverage": np.nan,
            "provenance": PROVENANCE_PAPER,
            "benchmark": benchmark,
            "subset": column("subset", "all"),
            "setting": column("setting", "no-cot"),
            "run_id": "paper",
            "reason": reason,
        }
    )
    return out[[c for c in COLUMN_NAMES if c in out.columns]].reset_index(drop=True)
