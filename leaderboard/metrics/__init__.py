"""Metrics: which exist, how they are computed from contingency tables, and runs -> the long table.

Rooms:

* :mod:`~leaderboard.metrics.registry`: MetricSpec, METRICS, HEADLINE_METRIC (what each metric is;
  drives the About tab, the selectors, sorting and the CLI's ``--metric``);
* :mod:`~leaderboard.metrics.tables`: pure metric functions and their contingency-table forms, the
  multinomial bootstrap;
* :mod:`~leaderboard.metrics.agreement`: how verdicts of each shape are counted against labels;
* :mod:`~leaderboard.metrics.bias`: length and position signals, grouped correlations;
* :mod:`~leaderboard.metrics.compute`: loaded runs + labels -> the long table with intervals
  (build_leaderboard, compute_rows).

To add a metric: its spec in ``registry`` and its computation in ``compute`` (and ``tables``).
"""

from __future__ import annotations

from leaderboard.metrics.compute import HQ_CAVEAT, build_leaderboard, compute_rows, finish_table
from leaderboard.metrics.registry import (
    HEADLINE_METRIC,
    METRIC_NAMES,
    METRICS,
    METRICS_BY_NAME,
    MetricSpec,
    metric_spec,
)
from leaderboard.metrics.tables import MetricResult

__all__ = [
    "HEADLINE_METRIC",
    "HQ_CAVEAT",
    "METRICS",
    "METRICS_BY_NAME",
    "METRIC_NAMES",
    "MetricResult",
    "MetricSpec",
    "build_leaderboard",
    "compute_rows",
    "finish_table",
    "metric_spec",
]
