"""Intervals that a bootstrap cannot give: shares at 0 or 1, and cells where every item agrees.

A share of 0 or 1 repeats in every resample, so its percentile interval is a single point; the
leaderboard gives it the Wilson score interval instead (``leaderboard.metrics.tables.wilson_at_bounds``).
Other metrics keep the bootstrap's interval, and a single point says why in ``reason``. The runs
are the hand-checked ones of ``test_metrics_compute.py``.
"""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np
import pandas as pd
import pytest

from leaderboard.metrics.compute import SINGLE_POINT, compute_rows
from leaderboard.metrics.registry import METRICS_BY_NAME
from leaderboard.metrics.tables import wilson_at_bounds
from leaderboard.store.read import load_runs
from tests.leaderboard.test_metrics_compute import tiny_source, value


def wilson(successes: int, n: int, level: float) -> tuple[float, float]:
    """The Wilson score interval from its textbook form (centre and half-width)."""
    z = NormalDist().inv_cdf((1 + level) / 2)
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


@pytest.mark.parametrize("level", [0.9, 0.95, 0.99])
def test_shares_at_0_and_1_get_the_wilson_interval_and_others_keep_theirs(level):
    values = np.array([1.0, 0.0, 1.0, 0.4, 1.0, np.nan])
    n = np.array([10, 25, 400, 30, 0, 12])
    lo, hi = np.array([1.0, 0.0, 1.0, 0.25, 0.9, np.nan]), np.array([1.0, 0.0, 1.0, 0.55, 1.0, np.nan])

    low, high = wilson_at_bounds(values, n, lo, hi, level)

    for cell, (share, count) in enumerate(((10, 10), (0, 25), (400, 400))):
        assert (low[cell], high[cell]) == pytest.approx(wilson(share, count, level), abs=1e-12)
    assert (low[3], high[3]) == (0.25, 0.55)  # inside (0, 1): the bootstrap's interval
    assert (low[4], high[4]) == (0.9, 1.0)  # no items: nothing to say
    assert np.isnan(low[5]) and np.isnan(high[5])


@pytest.fixture
def rows(tmp_path) -> pd.DataFrame:
    src = tiny_source(tmp_path)
    labels = pd.read_csv(src / "benchmark" / "labels.csv", dtype=str, keep_default_na=False)
    labels["n_responses"] = labels["n_responses"].astype(int)
    return compute_rows(load_runs([src], labels).runs, labels, n_resamples=200, min_n=1)


def test_perfect_and_zero_shares_in_the_table_have_wilson_intervals(rows):
    # C.C.: judge (1, 2, 3) equals human (1, 2, 3); COCO: every score one point off, none equal.
    for metric, dataset, successes, n in [
        ("exact_agreement", "C.C.", 3, 3),
        ("exact_agreement", "COCO", 0, 4),
        ("within1_agreement", "COCO", 4, 4),
        ("within1_agreement", "Average", 7, 7),  # both datasets at 1: the items pooled
        ("parse_failure_rate", "C.C.", 0, 3),
    ]:
        row = value(rows, metric, dataset)
        assert row["value"] == successes / n and row["n"] == n
        assert (row["ci_low"], row["ci_high"]) == pytest.approx(wilson(successes, n, 0.95), abs=1e-12), metric
        assert row["ci_low"] < row["ci_high"]


def test_a_share_inside_0_1_keeps_its_bootstrap_interval(rows):
    row = value(rows, "parse_failure_rate", "COCO")  # 1 of 5 unscored

    assert row["value"] == pytest.approx(0.2)
    assert (row["ci_low"], row["ci_high"]) != pytest.approx(wilson(1, 5, 0.95))
    assert row["ci_low"] <= 0.2 <= row["ci_high"]


def test_a_single_point_interval_of_another_metric_says_why(rows):
    perfect = value(rows, "pearson", "C.C.")  # every resample of three identical pairs correlates 1

    assert not METRICS_BY_NAME["pearson"].share
    assert perfect["value"] == pytest.approx(1.0) and perfect["ci_low"] == perfect["ci_high"]
    assert SINGLE_POINT in perfect["reason"]
    spread = value(rows, "pearson", "COCO")
    assert spread["ci_low"] < spread["ci_high"] and SINGLE_POINT not in spread["reason"]
