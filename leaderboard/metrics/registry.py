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

from dataclasses import dataclass, replace

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
        definition: One-sentence definition shown on the About tab (and as a tooltip).
        title: A readable name for selectors and headers ("Pearson r").
        ideal: For descriptive metrics (``higher_is_better`` None), the value of an unbiased judge
            when there is one (0 for position bias): tables sort those by distance from it.
        needs_probabilities: Whether it needs the verdict probabilities a run may store.
        share: Whether it is a share of items (a proportion): at 0 or 1 its interval is the Wilson
            score interval, since every bootstrap resample repeats the value there.
    """

    name: str
    kind: str
    higher_is_better: bool | None
    needs_labels: bool
    has_ci: bool
    definition: str
    title: str = ""
    ideal: float | None = None
    needs_probabilities: bool = False
    share: bool = False


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
        "quadratic_weighted_kappa",
        "scale",
        True,
        True,
        True,
        "Cohen's kappa with quadratic weights ((i - j) / 4)^2 between judge and human scores: 1 - "
        "observed / chance-expected weighted disagreement (1 = perfect, 0 = chance).",
    ),
    MetricSpec(
        "pearson_expected",
        "scale",
        True,
        True,
        True,
        "Pearson correlation between the probability-weighted expected score (sum of k x p(k) over "
        "the verdict distribution) and the human score, per source dataset; runs with verdict probabilities.",
        needs_probabilities=True,
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
        "cohen_kappa",
        "choice",
        True,
        True,
        True,
        "Cohen's kappa over the three classes A, B and tie: (observed agreement - chance agreement) / "
        "(1 - chance agreement), chance from the judge's and the human's label frequencies.",
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
        "ece",
        "any",
        False,
        True,
        True,
        "Expected calibration error of the verdict probabilities: items in 10 equal-width bins of "
        "the chosen label's probability; sum over bins of |accuracy - mean probability| weighted by "
        "the bin's share of items (0 = calibrated). Runs with verdict probabilities.",
        needs_probabilities=True,
    ),
    MetricSpec(
        "brier",
        "any",
        False,
        True,
        True,
        "Multi-class Brier score: mean over items of the sum over labels of (probability - 1 if it "
        "is the human label else 0)^2 (0 = certain and right, 2 = certain and wrong). Runs with "
        "verdict probabilities.",
        needs_probabilities=True,
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
#: Readable names (selectors, headers); the definition is the tooltip.
_TITLES: dict[str, str] = {
    "pearson": "Pearson r",
    "spearman": "Spearman rho",
    "kendall": "Kendall tau-b",
    "exact_agreement": "Exact agreement",
    "within1_agreement": "Within-1 agreement",
    "quadratic_weighted_kappa": "Quadratic-weighted kappa",
    "pearson_expected": "Pearson r (expected score)",
    "pearson_pooled": "Pearson r (pooled)",
    "spearman_pooled": "Spearman rho (pooled)",
    "kendall_pooled": "Kendall tau-b (pooled)",
    "mean_score_difference": "Mean score difference",
    "accuracy_with_tie": "Accuracy (w. tie)",
    "accuracy_without_tie": "Accuracy (w.o. tie)",
    "accuracy_without_tie_human_only": "Accuracy (w.o. human ties)",
    "macro_f1": "Macro-F1",
    "cohen_kappa": "Cohen's kappa",
    "choose_a_rate": "Chooses A",
    "human_choose_a_rate": "Humans choose A",
    "position_bias": "Position bias",
    "tie_rate": "Tie rate",
    "human_tie_rate": "Human tie rate",
    "normalized_levenshtein": "Normalized Levenshtein",
    "length_bias": "Length bias",
    "human_length_correlation": "Human length correlation",
    "ece": "Calibration error (ECE)",
    "brier": "Brier score",
    "parse_failure_rate": "Parse failures",
    "self_consistency": "Self-consistency",
    "swap_consistency": "Swap consistency",
}
#: Where a descriptive metric has an unbiased value (its distance from it is what matters).
_IDEALS: dict[str, float] = {"mean_score_difference": 0.0, "position_bias": 0.0, "length_bias": 0.0}
#: Shares of items (proportions with an interval): their intervals at 0 and 1 are Wilson's.
_SHARES = frozenset(
    {
        "exact_agreement", "within1_agreement", "accuracy_with_tie", "accuracy_without_tie",
        "accuracy_without_tie_human_only", "choose_a_rate", "human_choose_a_rate", "tie_rate", "human_tie_rate",
        "parse_failure_rate",
    }
)  # fmt: skip
METRICS = tuple(replace(m, title=_TITLES[m.name], ideal=_IDEALS.get(m.name), share=m.name in _SHARES) for m in METRICS)
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


def metric_title(name: str) -> str:
    """The readable name of a metric (the name itself when unknown)."""
    spec = METRICS_BY_NAME.get(name)
    return spec.title if spec is not None and spec.title else name


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
