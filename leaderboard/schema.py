"""The vocabulary every layer of the leaderboard shares: the long table's columns and their values.

The leaderboard is a long table: one row per (run, metric, dataset). :data:`COLUMNS` fixes the
column order, dtypes and which columns a table shows by default. The values some columns take live
here too, so that the store, the benchmarks, the metrics and the UI spell them one way: the modes
(:data:`MODES`), the label subsets (:data:`SUBSETS`), the provenances, the ``Average`` / ``Pooled``
pseudo-datasets and the benchmark a run names when its manifest names none
(:data:`DEFAULT_BENCHMARK`). Which metrics exist is :mod:`leaderboard.metrics.registry`'s business.

Of the project it imports only the judge-task registry (:mod:`judges.tasks`); it is the bottom of
the leaderboard's import order (schema <- store <- benchmarks <- {metrics, runner} <- board <-
submissions <- ui).
"""

from __future__ import annotations

from dataclasses import dataclass

from judges.tasks import TASKS

#: The judge tasks a run can hold (the ``mode`` column): every registered task.
MODES: tuple[str, ...] = tuple(TASKS)
#: Label subsets a run is joined with (the ``subset`` column and a manifest's ``split``).
SUBSETS: tuple[str, ...] = ("all", "hq", "hard")
#: The benchmark of a manifest or label row that names none (every run stored before benchmarks had names).
DEFAULT_BENCHMARK = "mllm-as-a-judge"

#: Value of the ``dataset`` column for the unweighted mean over source datasets.
AVERAGE = "Average"
#: Value of the ``dataset`` column for metrics computed on all items of a run at once.
POOLED = "Pooled"

#: ``provenance`` values. Runs carry the first, second, fourth or fifth; reference rows carry the third.
PROVENANCE_IMPORTED = "imported from the released data"
#: Per-item verdicts another project ran and published with its own prompt (the manifest's
#: ``source`` says who and with which prompt): comparable with each other, not with our runs' prompt.
PROVENANCE_PUBLISHED = "published per item by another project"
PROVENANCE_RUN = "run with this project"
PROVENANCE_PAPER = "reported in paper"
#: A run uploaded through the Space: validated, but not reproduced by the maintainers.
PROVENANCE_UNVERIFIED = "unverified submission"
#: The provenances a stored run may carry (reference rows carry PROVENANCE_PAPER and are no run).
RUN_PROVENANCES: tuple[str, ...] = (
    PROVENANCE_IMPORTED,
    PROVENANCE_RUN,
    PROVENANCE_UNVERIFIED,
    PROVENANCE_PUBLISHED,
)


@dataclass(frozen=True)
class Column:
    """One column of the leaderboard table.

    Attributes:
        name: Column name.
        dtype: pandas dtype the column is cast to.
        shown: Whether a table shows it by default.
        description: What the column holds.
    """

    name: str
    dtype: str
    shown: bool
    description: str


COLUMNS: tuple[Column, ...] = (
    Column("judge", "string", True, "The judge model's display name."),
    Column("mode", "string", True, "score, pair or batch."),
    Column("metric", "string", True, "A metric name from leaderboard.metrics.METRICS."),
    Column("dataset", "string", True, f"Source dataset display name, {AVERAGE!r} or {POOLED!r}."),
    Column("value", "float64", True, "The metric value; NaN when it cannot be computed (see reason)."),
    Column("ci_low", "float64", True, "Lower end of the 95% bootstrap interval (NaN if none)."),
    Column("ci_high", "float64", True, "Upper end of the 95% bootstrap interval (NaN if none)."),
    Column("n", "Int64", True, "Items that entered the computation (parsed, labelled, after filters)."),
    Column("coverage", "float64", True, "Parsed judgments / judgments in the cell."),
    Column(
        "provenance",
        "string",
        True,
        "imported from the released data | run with this project | unverified submission | reported in paper.",
    ),
    Column(
        "benchmark",
        "string",
        True,
        f"The benchmark the row is measured on (a name in leaderboard.benchmarks; {DEFAULT_BENCHMARK!r} by default).",
    ),
    Column("subset", "string", True, "Benchmark subset the run covers: all, hq (agreement inflated) or hard."),
    Column("setting", "string", False, "Prompt setting of the run (no-cot, cot-figure, ...)."),
    Column("run_id", "string", False, "The stored run the row comes from ('paper' for reference rows)."),
    Column("reason", "string", False, "Why value is NaN, or a caveat."),
)
COLUMN_NAMES: tuple[str, ...] = tuple(c.name for c in COLUMNS)
#: The columns that make rows comparable: two rows are ranked against each other only when these agree.
COMPARABLE_KEYS: tuple[str, ...] = ("benchmark", "mode", "subset", "metric", "dataset")
#: The smallest number of items a per-dataset cell needs to show a value (``--min-n``).
DEFAULT_MIN_N = 10
SHOWN_COLUMNS: tuple[str, ...] = tuple(c.name for c in COLUMNS if c.shown)
