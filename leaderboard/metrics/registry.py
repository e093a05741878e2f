"""The registry of every metric the leaderboard can show: what it means, its verdict kind, its direction.

:data:`METRICS` names every metric, the verdict kind it applies to (so every task whose verdicts
are of that kind gets it), whether higher is better, whether it
needs human labels or carries an interval, and its definition. Every field drives something: the
About tab prints the definitions (so the prose and the numbers cannot drift apart), the selectors
list a task's metrics (:func:`metrics_for`) and mark their direction, tables sort by it, and the CLI's ``--metric``
choices come from :data:`METRIC_NAMES`. :data:`HEADLINE_METRIC` is the metric the paper's main table
shows for each task (by its verdict kind), the one a table opens on. To add a metric: a spec here and its computation in
:mod:`leaderboard.metrics.compute` (and :mod:`~leaderboard.metrics.tables`).
"""

from __future__ import annotations

from dataclasses import dataclass

from judges.tasks import TASKS, get_task


@dataclass(frozen=True)
class MetricSpec:
    """What a metric is.

    Attributes:
        name: The value of the ``metric`` column.
        kind: The verdict kind it applies to (``scale``, ``choice``, ``ranking``; see
            :mod:`judges.verdicts`), or ``any``. A task's metrics are those of its verdicts' kind.
        higher_is_better: True, False, or None for descriptive (bias) columns.
        needs_labels: Whether it compares with human labels.
        has_ci: Whether rows carry a bootstrap interval.
        definition: One-sentence definition shown on the About tab.
    """

    name: str
    kind: str
    higher_is_better: bool | None
    needs_labels: bool
    has_ci: bool
    definition: str


METRICS: tuple[MetricSpec, ...] = (
    # ---- scale verdicts (score)
    MetricSpec(
        "pearson",
        "scale",
        True,
        True,
        True,
        "Pearson correlation between judge and human scores (1-5) per source dataset; "
        "Average = unweighted mean over datasets.",
    ),
    MetricSpec(
        "spearman",
        "scale",
        True,
        True,
        True,
        "Spearman rank correlation (average ranks for ties) between judge and human scores.",
    ),
    MetricSpec("kendall", "scale", True, True, True, "Kendall's tau-b between judge and human scores."),
    MetricSpec(
        "exact_agreement", "scale", True, True, True, "Share of items where the judge's score equals the human score."
    ),
    MetricSpec(
        "within1_agreement",
        "scale",
        True,
        True,
        True,
        "Share of items where the judge's score is within 1 point of the human score.",
    ),
    MetricSpec(
        "pearson_pooled",
        "scale",
        True,
        True,
        True,
        "Pearson correlation over all items of the run at once (dataset 'Pooled').",
    ),
    MetricSpec(
        "spearman_pooled",
        "scale",
        True,
        True,
        True,
        "Spearman correlation over all items of the run at once (dataset 'Pooled').",
    ),
    MetricSpec(
        "kendall_pooled",
        "scale",
        True,
        True,
        True,
        "Kendall's tau-b over all items of the run at once (dataset 'Pooled').",
    ),
    MetricSpec(
        "mean_score_difference",
        "scale",
        None,
        True,
        True,
        "Mean of judge score minus human score: above 0 the judge is more lenient than people.",
    ),
    # ---- choice verdicts (pair)
    MetricSpec(
        "accuracy_with_tie",
        "choice",
        True,
        True,
        True,
        "Share of items where the judge's verdict (A, B or tie) equals the human's.",
    ),
    MetricSpec(
        "accuracy_without_tie",
        "choice",
        True,
        True,
        True,
        "Accuracy after dropping every item where the human OR the judge says tie "
        "(the authors' released metric code; the default 'w.o. tie').",
    ),
    MetricSpec(
        "accuracy_without_tie_human_only",
        "choice",
        True,
        True,
        True,
        "Accuracy after dropping only items where the human says tie; a judge's tie counts "
        "as wrong (the alternative re-implementation of 'w.o. tie').",
    ),
    MetricSpec(
        "macro_f1",
        "choice",
        True,
        True,
        True,
        "Unweighted mean of the F1 scores of A, B and tie (classes absent from both judge and human are left out).",
    ),
    MetricSpec(
        "choose_a_rate", "choice", None, False, True, "Share of the judge's parsed verdicts that pick A (label-free)."
    ),
    MetricSpec(
        "human_choose_a_rate",
        "choice",
        None,
        True,
        True,
        "Share of human labels that pick A, on the items the judge verdict was parsed for.",
    ),
    MetricSpec(
        "position_bias",
        "choice",
        None,
        True,
        True,
        "Judge's rate of choosing A minus the human rate on the same items (0 = no position "
        "bias; above 0 favours the first response).",
    ),
    MetricSpec(
        "tie_rate", "choice", None, False, True, "Share of the judge's parsed verdicts that are ties (label-free)."
    ),
    MetricSpec(
        "human_tie_rate",
        "choice",
        None,
        True,
        True,
        "Share of human labels that are ties, on the items the judge verdict was parsed for.",
    ),
    # ---- ranking verdicts (batch)
    MetricSpec(
        "normalized_levenshtein",
        "ranking",
        False,
        True,
        True,
        "Edit distance between the judge's ranking string and the human's, divided by the "
        "length of the longer string; mean per dataset. Lower is better.",
    ),
    # ---- any verdict
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

#: The headline metric of each verdict kind (the one the paper's main table shows for its task).
HEADLINE_BY_KIND: dict[str, str] = {
    "scale": "pearson",
    "choice": "accuracy_without_tie",
    "ranking": "normalized_levenshtein",
}
#: The descriptive metrics the bias view plots, per verdict kind, in plot order.
BIAS_BY_KIND: dict[str, tuple[str, ...]] = {
    "scale": ("mean_score_difference", "length_bias", "human_length_correlation", "parse_failure_rate"),
    "choice": ("position_bias", "choose_a_rate", "tie_rate", "human_tie_rate", "length_bias", "parse_failure_rate"),
    "ranking": ("length_bias", "human_length_correlation", "parse_failure_rate"),
}


def task_kind(task: str) -> str:
    """The verdict kind of a registered task (``score`` -> ``scale``).

    Raises:
        ConfigError: The task is not registered (from :func:`judges.tasks.get_task`).
    """
    return get_task(task).verdicts.kind


def metrics_for(task: str) -> list[MetricSpec]:
    """The metrics that apply to a task, in registry order: its verdict kind's, then ``any``."""
    kind = task_kind(task)
    return [m for m in METRICS if m.kind in (kind, "any")]


def tasks_of_kind(kind: str) -> list[str]:
    """The registered tasks a metric of ``kind`` applies to (every task for ``any``)."""
    return [name for name, task in TASKS.items() if kind in ("any", task.verdicts.kind)]


#: The headline metric of each task, the one a table opens on.
HEADLINE_METRIC: dict[str, str] = {name: HEADLINE_BY_KIND[task.verdicts.kind] for name, task in TASKS.items()}
#: The bias view's metrics of each task.
BIAS_METRICS: dict[str, tuple[str, ...]] = {name: BIAS_BY_KIND[task.verdicts.kind] for name, task in TASKS.items()}


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
