"""The registry of every metric the leaderboard can show: what it means, its task, its direction.

:data:`METRICS` names every metric, the mode it belongs to, whether higher is better, whether it
needs human labels or carries an interval, and its definition. Every field drives something: the
About tab prints the definitions (so the prose and the numbers cannot drift apart), the selectors
list a mode's metrics and mark their direction, tables sort by it, and the CLI's ``--metric``
choices come from :data:`METRIC_NAMES`. :data:`HEADLINE_METRIC` is the metric the paper's main table
shows for each mode, the one a table opens on. To add a metric: a spec here and its computation in
:mod:`leaderboard.metrics.compute` (and :mod:`~leaderboard.metrics.tables`).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MetricSpec:
    """What a metric is.

    Attributes:
        name: The value of the ``metric`` column.
        mode: The mode it applies to, or ``any``.
        higher_is_better: True, False, or None for descriptive (bias) columns.
        needs_labels: Whether it compares with human labels.
        has_ci: Whether rows carry a bootstrap interval.
        definition: One-sentence definition shown on the About tab.
    """

    name: str
    mode: str
    higher_is_better: bool | None
    needs_labels: bool
    has_ci: bool
    definition: str


METRICS: tuple[MetricSpec, ...] = (
    # ---- score
    MetricSpec(
        "pearson",
        "score",
        True,
        True,
        True,
        "Pearson correlation between judge and human scores (1-5) per source dataset; "
        "Average = unweighted mean over datasets.",
    ),
    MetricSpec(
        "spearman",
        "score",
        True,
        True,
        True,
        "Spearman rank correlation (average ranks for ties) between judge and human scores.",
    ),
    MetricSpec("kendall", "score", True, True, True, "Kendall's tau-b between judge and human scores."),
    MetricSpec(
        "exact_agreement", "score", True, True, True, "Share of items where the judge's score equals the human score."
    ),
    MetricSpec(
        "within1_agreement",
        "score",
        True,
        True,
        True,
        "Share of items where the judge's score is within 1 point of the human score.",
    ),
    MetricSpec(
        "pearson_pooled",
        "score",
        True,
        True,
        True,
        "Pearson correlation over all items of the run at once (dataset 'Pooled').",
    ),
    MetricSpec(
        "spearman_pooled",
        "score",
        True,
        True,
        True,
        "Spearman correlation over all items of the run at once (dataset 'Pooled').",
    ),
    MetricSpec(
        "kendall_pooled",
        "score",
        True,
        True,
        True,
        "Kendall's tau-b over all items of the run at once (dataset 'Pooled').",
    ),
    MetricSpec(
        "mean_score_difference",
        "score",
        None,
        True,
        True,
        "Mean of judge score minus human score: above 0 the judge is more lenient than people.",
    ),
    # ---- pair
    MetricSpec(
        "accuracy_with_tie",
        "pair",
        True,
        True,
        True,
        "Share of items where the judge's verdict (A, B or tie) equals the human's.",
    ),
    MetricSpec(
        "accuracy_without_tie",
        "pair",
        True,
        True,
        True,
        "Accuracy after dropping every item where the human OR the judge says tie "
        "(the authors' released metric code; the default 'w.o. tie').",
    ),
    MetricSpec(
        "accuracy_without_tie_human_only",
        "pair",
        True,
        True,
        True,
        "Accuracy after dropping only items where the human says tie; a judge's tie counts "
        "as wrong (the alternative re-implementation of 'w.o. tie').",
    ),
    MetricSpec(
        "macro_f1",
        "pair",
        True,
        True,
        True,
        "Unweighted mean of the F1 scores of A, B and tie (classes absent from both judge and human are left out).",
    ),
    MetricSpec(
        "choose_a_rate", "pair", None, False, True, "Share of the judge's parsed verdicts that pick A (label-free)."
    ),
    MetricSpec(
        "human_choose_a_rate",
        "pair",
        None,
        True,
        True,
        "Share of human labels that pick A, on the items the judge verdict was parsed for.",
    ),
    MetricSpec(
        "position_bias",
        "pair",
        None,
        True,
        True,
        "Judge's rate of choosing A minus the human rate on the same items (0 = no position "
        "bias; above 0 favours the first response).",
    ),
    MetricSpec(
        "tie_rate", "pair", None, False, True, "Share of the judge's parsed verdicts that are ties (label-free)."
    ),
    MetricSpec(
        "human_tie_rate",
        "pair",
        None,
        True,
        True,
        "Share of human labels that are ties, on the items the judge verdict was parsed for.",
    ),
    # ---- batch
    MetricSpec(
        "normalized_levenshtein",
        "batch",
        False,
        True,
        True,
        "Edit distance between the judge's ranking string and the human's, divided by the "
        "length of the longer string; mean per dataset. Lower is better.",
    ),
    # ---- any mode
    MetricSpec(
        "length_bias",
        "any",
        None,
        False,
        False,
        "Correlation between response length (characters) and the judge's verdict: score = "
        "Pearson(length, score); pair = Pearson((len A - len B)/(len A + len B), +1 A / -1 B / "
        "0 tie); batch = mean per item of Spearman(length, rank from best). Needs response text.",
    ),
    MetricSpec(
        "human_length_correlation",
        "any",
        None,
        True,
        False,
        "The same correlation computed with the human labels instead of the judge's verdicts.",
    ),
    MetricSpec(
        "parse_failure_rate",
        "any",
        False,
        False,
        True,
        "Share of the run's judgments whose output could not be parsed into a valid verdict (unscored).",
    ),
    MetricSpec(
        "self_consistency",
        "any",
        True,
        False,
        False,
        "Mean share of repeated samples that agree with the majority verdict (runs that "
        "sampled each judgment several times).",
    ),
    MetricSpec(
        "swap_consistency",
        "any",
        True,
        False,
        False,
        "Share of pair judgments whose verdict is the same after swapping A and B (runs that judged both orders).",
    ),
)
METRIC_NAMES: tuple[str, ...] = tuple(m.name for m in METRICS)
METRICS_BY_NAME: dict[str, MetricSpec] = {m.name: m for m in METRICS}

#: The headline metric of each mode (the one the paper's main table shows).
HEADLINE_METRIC: dict[str, str] = {
    "score": "pearson",
    "pair": "accuracy_without_tie",
    "batch": "normalized_levenshtein",
}


def metric_spec(name: str) -> MetricSpec:
    """Look up a metric.

    Args:
        name: A metric name.

    Returns:
        Its spec.

    Raises:
        KeyError: The name is unknown; the message lists the known names.
    """
    try:
        return METRICS_BY_NAME[name]
    except KeyError:
        raise KeyError(f"unknown metric {name!r}; known metrics: {', '.join(METRIC_NAMES)}") from None
