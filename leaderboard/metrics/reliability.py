"""Reliability diagrams of runs that store verdict probabilities: the data the UI plots.

For each run, its parsed, labelled judgments with a verdict distribution are put into
:data:`~leaderboard.metrics.calibration.N_BINS` equal-width bins of the chosen label's probability;
each bin gives its share of correct verdicts (accuracy) and its mean probability (confidence). A
calibrated judge lies on the diagonal; the run's ``ece`` is the bins' ``|gap|`` weighted by size.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from leaderboard.metrics.calibration import reliability_bins
from leaderboard.metrics.compute import joined, run_benchmark
from leaderboard.store.read import Run

RELIABILITY_COLUMNS: tuple[str, ...] = (
    "run_id", "judge", "bin_low", "bin_high", "n", "accuracy", "confidence", "gap",
)  # fmt: skip


def reliability_table(runs: Sequence[Run], labels: pd.DataFrame | None, *, dataset: str | None = None) -> pd.DataFrame:
    """Per run and confidence bin: items, accuracy, mean confidence (runs without probabilities give no rows).

    Args:
        runs: Loaded runs, of any tasks and benchmarks.
        labels: The label table.
        dataset: Only this source dataset (display name); None: all items.

    Returns:
        Rows with :data:`RELIABILITY_COLUMNS`, runs in the given order, bins ascending.
    """
    frames = []
    for run in runs:
        j, agreement = joined([run], labels, run.manifest.mode, run_benchmark(run))
        if j.probs is None:
            continue
        k = j.probs.shape[1]
        judge, human = agreement.class_index(j.verdict), agreement.class_index(j.human)
        use = j.parsed & j.labeled & np.isfinite(j.probs).all(1) & (judge >= 0) & (judge < k) & (human >= 0)
        if dataset is not None:
            use &= np.asarray([j.datasets[c] == dataset for c in j.ds_code], dtype=bool)
        if not use.any():
            continue
        confidence = np.take_along_axis(j.probs[use], judge[use][:, None], axis=1)[:, 0]
        bins = reliability_bins(confidence, judge[use] == human[use])
        bins.insert(0, "judge", run.manifest.judge)
        bins.insert(0, "run_id", run.run_id)
        frames.append(bins)
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in RELIABILITY_COLUMNS})
    return pd.concat(frames, ignore_index=True)[list(RELIABILITY_COLUMNS)]
