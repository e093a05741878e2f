"""Ranks with ties, as arenas rank: a row is beaten only by rows whose interval lies entirely better.

``rank = 1 + (number of comparable rows whose interval lies entirely on the better side of this
row's interval)``. Two judges whose intervals overlap share a rank, so a rank never claims more than
the data show; ranks need not be consecutive (1, 1, 3, ...). "Better" follows the metric's
``higher_is_better`` (:data:`leaderboard.metrics.registry.METRICS`); descriptive metrics (None) get
no rank. Rows are only compared when they are comparable: same benchmark, task (``mode``), subset,
metric and dataset (:data:`leaderboard.schema.COMPARABLE_KEYS`).

A row without an interval (a published reference number) counts as the point ``[value, value]``; a
row whose value is NaN gets no rank and beats nobody.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from leaderboard.metrics.registry import METRICS_BY_NAME
from leaderboard.schema import COMPARABLE_KEYS


def ranks_from_intervals(low: np.ndarray, high: np.ndarray, higher_is_better: bool) -> np.ndarray:
    """Ranks of rows of one comparable group from their intervals.

    Args:
        low: Lower ends (NaN: the row has no value and gets no rank).
        high: Upper ends, aligned.
        higher_is_better: The metric's direction.

    Returns:
        Float ranks (1 = best; NaN where the row has no interval), ties shared.
    """
    lo, hi = np.asarray(low, dtype=float), np.asarray(high, dtype=float)
    ok = np.isfinite(lo) & np.isfinite(hi)
    # beats[i, j]: row j's interval lies entirely on the better side of row i's.
    beats = lo[None, :] > hi[:, None] if higher_is_better else hi[None, :] < lo[:, None]
    beats &= ok[None, :] & ok[:, None]
    return np.where(ok, 1.0 + beats.sum(1), np.nan)


def rank_with_ties(table: pd.DataFrame, keys: Sequence[str] = COMPARABLE_KEYS) -> pd.Series:
    """The rank of every row of a long table among its comparable rows.

    Args:
        table: Rows with ``value``, ``ci_low``, ``ci_high``, ``metric`` and ``keys``.
        keys: The columns that must agree for two rows to be compared.

    Returns:
        An ``Int64`` Series aligned with ``table`` (NA: descriptive metric, unknown metric or no value).
    """
    out = pd.Series(pd.NA, index=table.index, dtype="Int64")
    if table.empty:
        return out
    value = table["value"].to_numpy(dtype=float)
    low = table["ci_low"].to_numpy(dtype=float)
    high = table["ci_high"].to_numpy(dtype=float)
    no_interval = ~(np.isfinite(low) & np.isfinite(high))
    low = np.where(no_interval, value, low)
    high = np.where(no_interval, value, high)
    present = [k for k in keys if k in table.columns]
    frame = table[present].astype(object).fillna("")
    for _, index in frame.groupby(present, sort=False).indices.items():
        metric = str(table["metric"].iloc[index[0]])
        spec = METRICS_BY_NAME.get(metric)
        if spec is None or spec.higher_is_better is None:
            continue
        ranks = ranks_from_intervals(low[index], high[index], spec.higher_is_better)
        finite = np.isfinite(ranks)
        out.iloc[index[finite]] = ranks[finite].astype(np.int64)
    return out


def with_ranks(table: pd.DataFrame, column: str = "rank") -> pd.DataFrame:
    """A copy of ``table`` with a ``rank`` column (see :func:`rank_with_ties`)."""
    out = table.copy()
    out[column] = rank_with_ties(table)
    return out
