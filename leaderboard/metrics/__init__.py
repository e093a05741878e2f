"""Metrics: which exist, how they are computed from contingency tables, and runs -> the long table.

Rooms:

* :mod:`~leaderboard.metrics.registry`: MetricSpec, METRICS, HEADLINE_METRIC (what each metric is;
  drives the About tab, the selectors, sorting and the CLI's ``--metric``);
* :mod:`~leaderboard.metrics.tables`: pure metric functions and their contingency-table forms, the
  multinomial bootstrap;
* :mod:`~leaderboard.metrics.kappa`: Cohen's kappa (pair) and quadratic-weighted kappa (score);
* :mod:`~leaderboard.metrics.calibration`: metrics of verdict probabilities (``pearson_expected``,
  ``ece``, ``brier``) as per-item features, reliability bins;
* :mod:`~leaderboard.metrics.agreement`: how verdicts of each shape are counted against labels;
* :mod:`~leaderboard.metrics.bias`: length and position signals, grouped correlations;
* :mod:`~leaderboard.metrics.join`: runs joined with their label rows, one group at a time
  (label_rows, join_runs, GroupShape);
* :mod:`~leaderboard.metrics.compute`: loaded runs + labels -> the long table with intervals
  (build_leaderboard, compute_rows; the minimum-n rule, the row cache);
* :mod:`~leaderboard.metrics.ranks`: rank with ties from intervals (rank_with_ties);
* :mod:`~leaderboard.metrics.paired`: two runs on their common items, paired bootstrap of the
  difference, the matrix of significant wins (paired_comparison, win_matrix);
* :mod:`~leaderboard.metrics.reliability`: reliability-diagram data per run (reliability_table);
* :mod:`~leaderboard.metrics.criteria`: rubric runs' per-criterion and overall agreement with
  per-criterion human labels, read from the judgments' ``details`` (criteria_rows), and its command
  line :mod:`~leaderboard.metrics.criteria_cli`.
* :mod:`~leaderboard.metrics.steps`: step-level agreement of process judgments with labelled steps
  (step_metrics, read_step_labels).

To add a metric: its spec in ``registry`` and its computation in a family of ``agreement`` (or
``compute``), from a table function in ``tables``, ``kappa`` or ``calibration``.
"""

from __future__ import annotations

from leaderboard.metrics.compute import HQ_CAVEAT, build_leaderboard, compute_rows, finish_table
from leaderboard.metrics.paired import PairedComparison, paired_comparison, paired_comparisons, win_matrix
from leaderboard.metrics.ranks import rank_with_ties, ranks_from_intervals, with_ranks
from leaderboard.metrics.registry import (
    HEADLINE_METRIC,
    METRIC_NAMES,
    METRICS,
    METRICS_BY_NAME,
    MetricSpec,
    metric_spec,
    metric_title,
)
from leaderboard.metrics.reliability import reliability_table
from leaderboard.metrics.tables import MetricResult

__all__ = [
    "HEADLINE_METRIC",
    "HQ_CAVEAT",
    "METRICS",
    "METRICS_BY_NAME",
    "METRIC_NAMES",
    "MetricResult",
    "MetricSpec",
    "PairedComparison",
    "build_leaderboard",
    "compute_rows",
    "finish_table",
    "metric_spec",
    "metric_title",
    "paired_comparison",
    "paired_comparisons",
    "rank_with_ties",
    "ranks_from_intervals",
    "reliability_table",
    "win_matrix",
    "with_ranks",
]
