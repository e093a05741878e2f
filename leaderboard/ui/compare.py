"""Judges against each other and against their own confidence, for the runs a view shows. No gradio.

* :func:`calibration_view`: the reliability diagram's bins for the view's runs that store verdict
  probabilities (:func:`leaderboard.metrics.reliability.reliability_table`), with a caption that
  quotes each run's ``ece`` and ``brier`` from the long table; an empty view names the runs that
  would have one;
* :func:`paired_view`: two runs of the view on their common items
  (:func:`leaderboard.metrics.paired.paired_comparison`): both values, the difference with its
  paired bootstrap interval, n and whether it is significant;
* :func:`wins_view`: the judges x judges matrix of significant wins
  (:func:`leaderboard.metrics.paired.win_matrix`), labelled as the table labels rows.

Every number comes from the engine; this module picks the runs, labels them and words the result.
Results are cached per loaded data, as :mod:`leaderboard.ui.comparable` caches its tables.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from leaderboard.errors import LeaderboardError
from leaderboard.metrics.registry import METRICS_BY_NAME
from leaderboard.schema import AVERAGE, PROVENANCE_PAPER
from leaderboard.ui.comparable import _cached, shown_runs
from leaderboard.ui.table import metric_title, row_label

if TYPE_CHECKING:
    from leaderboard.board import LeaderboardData
    from leaderboard.ui.views import View

#: The columns of the paired comparison's table.
PAIRED_COLUMNS = ("", "Value", "95% CI", "n", "Significant")


def run_labels(data: LeaderboardData, view: View) -> list[tuple[str, str]]:
    """(row label, run id) of the computed runs the view shows, in table order; labels are unique."""
    rows = data.table[data.table["provenance"] != PROVENANCE_PAPER]
    by_id = {str(r.run_id): r for r in rows.drop_duplicates("run_id").itertuples()}
    out: list[tuple[str, str]] = []
    for run in shown_runs(data, view):
        r = by_id.get(run.run_id)
        label = row_label(str(r.judge), str(r.provenance), str(r.subset)) if r is not None else run.run_id
        if any(existing == label for existing, _ in out):  # two runs of one judge on one subset
            label = f"{label} · {run.run_id}"
        out.append((label, run.run_id))
    return out


def default_pair(choices: list[tuple[str, str]], a: str | None, b: str | None) -> tuple[str | None, str | None]:
    """The two runs to compare: the chosen ones while the view still shows them, else the first two."""
    ids = [v for _, v in choices]
    a = a if a in ids else (ids[0] if ids else None)
    rest = [v for v in ids if v != a]
    b = b if b in rest else (rest[0] if rest else None)
    return a, b


# --------------------------------------------------------------------------- calibration


@dataclass(frozen=True)
class CalibrationView:
    """The reliability diagram of a view.

    Attributes:
        bins: :data:`leaderboard.metrics.reliability.RELIABILITY_COLUMNS` plus ``label`` (the row label).
        caption_md: Per run: ECE and Brier (the table's Average, with intervals and n); or, when no run
            of the view stores probabilities, which runs do.
    """

    bins: pd.DataFrame
    caption_md: str


def _reliability(data: LeaderboardData, runs: list) -> pd.DataFrame:
    from leaderboard.metrics.reliability import reliability_table

    key = ("reliability", id(data), tuple(r.run_id for r in runs))
    return _cached(key, lambda: reliability_table(runs, data.labels))


def _average_cell(data: LeaderboardData, run_id: str, metric: str) -> str:
    rows = data.table[(data.table["run_id"] == run_id) & (data.table["metric"] == metric)]
    rows = rows[rows["dataset"] == AVERAGE]
    if rows.empty or not math.isfinite(float(rows["value"].iloc[0])):
        return "–"
    r = rows.iloc[0]
    lo, hi = float(r["ci_low"]), float(r["ci_high"])
    interval = f" [{lo:.3f}, {hi:.3f}]" if math.isfinite(lo) and math.isfinite(hi) and hi > lo else ""
    return f"{float(r['value']):.3f}{interval}"


def calibration_view(data: LeaderboardData, view: View) -> CalibrationView:
    """The reliability bins and caption for the view's runs that store verdict probabilities."""
    labels = dict((run_id, label) for label, run_id in run_labels(data, view))
    runs = shown_runs(data, view)
    bins = _reliability(data, runs).copy()
    bins["label"] = [labels.get(str(r), str(r)) for r in bins["run_id"]]
    if bins.empty:
        everyone = _reliability(data, list(data.runs))
        names = sorted({str(j) for j in everyone["judge"]})
        where = sorted(
            {
                (_benchmark_of(r), r.manifest.mode, r.manifest.split)
                for r in data.runs
                if r.run_id in set(everyone["run_id"])
            }
        )
        places = ", ".join(f"{b} {m} ({s})" for b, m, s in where)
        text = "No run in this view stores verdict probabilities, so there is no reliability diagram."
        if names:
            text += f" Runs that do: {', '.join(names)}, on {places}."
        return CalibrationView(bins, text)
    lines = []
    for run_id in dict.fromkeys(bins["run_id"].astype(str)):
        mine = bins[bins["run_id"] == run_id]
        n = int(mine["n"].sum())
        pooled = float((mine["n"] * mine["gap"].abs()).sum() / n) if n else math.nan
        lines.append(
            f"- **{labels.get(run_id, run_id)}**: ECE {_average_cell(data, run_id, 'ece')}, "
            f"Brier {_average_cell(data, run_id, 'brier')} (mean over datasets, 95% CI); "
            f"the diagram pools all {n} items (ECE {pooled:.3f})"
        )
    head = (
        "Reliability: items in 10 equal-width bins of the probability the judge gave its own verdict; a bin's "
        "dot is its share of verdicts that match the human label. On the diagonal = calibrated; below = "
        "over-confident. ECE: size-weighted |accuracy - confidence| (0 best); Brier: 0 best, 2 worst."
    )
    return CalibrationView(bins, head + "\n\n" + "\n".join(lines))


def _benchmark_of(run) -> str:
    from leaderboard.benchmarks import BENCHMARKS
    from leaderboard.metrics.compute import run_benchmark

    name = run_benchmark(run)
    return BENCHMARKS[name].title if name in BENCHMARKS else name


# --------------------------------------------------------------------------- paired comparison


@dataclass(frozen=True)
class PairedView:
    """Two runs on their common items, as the tab shows them.

    Attributes:
        table: Rows A, B and A - B with :data:`PAIRED_COLUMNS` (empty when nothing could be compared).
        note_md: What was compared and whether the difference is significant, or why there is none.
    """

    table: pd.DataFrame
    note_md: str


def _paired(data: LeaderboardData, a, b, metric: str, min_n: int, n_resamples: int):
    from leaderboard.metrics.paired import paired_comparison

    key = ("paired", id(data), a.run_id, b.run_id, metric, min_n, n_resamples)
    return _cached(key, lambda: paired_comparison(a, b, data.labels, metric, min_n=min_n, n_resamples=n_resamples))


def _fmt(value: float) -> str:
    return f"{value:.3f}" if math.isfinite(value) else "–"


def paired_view(
    data: LeaderboardData, view: View, metric: str, run_a: str | None, run_b: str | None, n_resamples: int = 1000
) -> PairedView:
    """Compare two of the view's runs on ``metric`` on the items both judged.

    Args:
        data: The loaded leaderboard.
        view: The view (its runs are the choices; its ``min_n`` leaves out thin datasets).
        metric: The view's metric.
        run_a: Run id of A.
        run_b: Run id of B.
        n_resamples: Paired bootstrap resamples.
    """
    empty = pd.DataFrame(columns=list(PAIRED_COLUMNS))
    runs = {r.run_id: r for r in shown_runs(data, view)}
    labels = dict((v, k) for k, v in run_labels(data, view))
    if len(runs) < 2:
        return PairedView(empty, "A paired comparison needs two computed runs in the view; this view has fewer.")
    if run_a is None or run_b is None or run_a not in runs or run_b not in runs or run_a == run_b:
        return PairedView(empty, "Choose two different runs of this view.")
    try:
        c = _paired(data, runs[run_a], runs[run_b], metric, view.min_n, n_resamples)
    except LeaderboardError as exc:
        return PairedView(empty, f"No paired comparison of {metric_title(metric)}: {exc}")
    a, b = labels[run_a], labels[run_b]
    significant = "yes" if c.significant else "no"
    interval = f"[{_fmt(c.ci_low)}, {_fmt(c.ci_high)}]"
    table = pd.DataFrame(
        [
            [a, _fmt(c.value_a), "", c.n, ""],
            [b, _fmt(c.value_b), "", c.n, ""],
            ["A − B", _fmt(c.difference), interval, c.n, significant],
        ],
        columns=list(PAIRED_COLUMNS),
    )
    if not math.isfinite(c.difference):
        return PairedView(table, f"{metric_title(metric)}: no difference could be computed ({c.reason}).")
    where = f"{c.dataset} ({c.reason})" if c.reason else c.dataset
    if c.winner:
        verdict = f"**{labels.get(c.winner, c.winner)}** is significantly better (the 95% interval excludes 0)."
    elif c.significant:
        verdict = "The difference is significant (the 95% interval excludes 0); this metric has no better direction."
    else:
        verdict = "Not significant: the 95% interval of the difference includes 0."
    note = (
        f"{metric_title(metric)}, {where}, on the {c.n} items both judged; the interval is a paired bootstrap "
        f"({n_resamples} resamples of the common items). {verdict}"
    )
    return PairedView(table, note)


@dataclass(frozen=True)
class WinsView:
    """The judges x judges matrix of significant wins of a view.

    Attributes:
        matrix: 1 where the row's run is significantly better than the column's, 0 where not, NaN on
            the diagonal and where no comparison is possible; index and columns are row labels.
        note_md: How to read it, or why there is none.
    """

    matrix: pd.DataFrame
    note_md: str


def wins_view(data: LeaderboardData, view: View, metric: str, n_resamples: int = 1000) -> WinsView:
    """The matrix of significant wins among the view's runs on ``metric`` (common items per pair)."""
    from leaderboard.metrics.paired import win_matrix

    runs = shown_runs(data, view)
    labels = dict((v, k) for k, v in run_labels(data, view))
    spec = METRICS_BY_NAME.get(metric)
    if len(runs) < 2:
        return WinsView(pd.DataFrame(), "A matrix of wins needs two computed runs in the view; this view has fewer.")
    if spec is None or spec.higher_is_better is None:
        return WinsView(
            pd.DataFrame(), f"{metric_title(metric)} is descriptive (no better direction): no wins to count."
        )
    key = ("wins", id(data), tuple(r.run_id for r in runs), metric, view.min_n, n_resamples)
    try:
        matrix = _cached(key, lambda: win_matrix(runs, data.labels, metric, min_n=view.min_n, n_resamples=n_resamples))
    except LeaderboardError as exc:
        return WinsView(pd.DataFrame(), f"No matrix of wins for {metric_title(metric)}: {exc}")
    matrix = matrix.rename(index=labels, columns=labels)
    note = (
        f"Row beats column: 1 where the row's {metric_title(metric)} is significantly better on the items both "
        "judged (paired bootstrap, 95%), 0 where not; blank where the two cannot be compared. A row's sum is how "
        "many judges it beats."
    )
    return WinsView(matrix, note)
