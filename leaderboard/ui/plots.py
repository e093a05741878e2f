"""Leaderboard figures: DataFrame in, plotly figure out. No numbers are computed here.

Each function takes rows of the engine's long table (already filtered by :mod:`leaderboard.ui.table`)
and draws them: per-dataset bars with bootstrap whiskers, a judges x datasets heatmap, and the bias
view. An empty input gives a figure that says so instead of an empty canvas.
"""

from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go

from leaderboard.benchmarks import dataset_sort_key
from leaderboard.metrics.registry import METRICS_BY_NAME
from leaderboard.schema import AVERAGE, POOLED
from leaderboard.ui.table import metric_title, row_label

#: A colour-blind-safe qualitative palette (Okabe-Ito), one colour per judge run.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
FONT = dict(family="Inter, system-ui, sans-serif", size=12)


def _empty(message: str) -> go.Figure:
    fig = go.Figure()
    fig.add_annotation(text=message, showarrow=False, font=dict(size=14, color="#666"), x=0.5, y=0.5)
    fig.update_layout(
        height=260, xaxis=dict(visible=False), yaxis=dict(visible=False), margin=dict(l=10, r=10, t=10, b=10)
    )
    return fig


def series_label(judge: str, provenance: str, subset: str) -> str:
    """Legend text of one judge run, the table's row label: ``GPT-4V (hq)``, ``LLaVA-1.6-34B (all) [paper]``."""
    return row_label(judge, provenance, subset)


def _series(rows: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
    out: list[tuple[str, pd.DataFrame]] = []
    for (judge, run_id), group in rows.groupby(["judge", "run_id"], sort=False):
        first = group.iloc[0]
        label = series_label(str(judge), str(first["provenance"]), str(first["subset"]))
        # Two runs of one judge on one subset (e.g. two settings) need telling apart.
        if any(existing == label for existing, _ in out):
            label = f"{label} · {run_id}"
        out.append((label, group))
    return out


def _title(metric: str) -> str:
    spec = METRICS_BY_NAME.get(metric)
    if spec is None or spec.higher_is_better is None:
        return metric
    return f"{metric} ({'higher' if spec.higher_is_better else 'lower'} is better)"


def _whiskers(group: pd.DataFrame) -> dict:
    value = group["value"].astype(float)
    plus = (group["ci_high"].astype(float) - value).clip(lower=0)
    minus = (value - group["ci_low"].astype(float)).clip(lower=0)
    # A zero-width interval (one item, a constant resample) is no certainty: draw no whisker for it.
    zero = (plus + minus) == 0
    plus, minus = plus.mask(zero), minus.mask(zero)
    if plus.isna().all():
        return {}

    def values(side: pd.Series) -> list[float | None]:
        return [None if pd.isna(x) else float(x) for x in side]

    return dict(type="data", array=values(plus), arrayminus=values(minus), thickness=1.2)


def _bar(label: str, group: pd.DataFrame, index: int, **options) -> go.Bar:
    """One judge run's bars: values over ``group``'s index, CI whiskers, the run's palette colour."""
    return go.Bar(
        name=label,
        x=group.index.tolist(),
        y=group["value"].astype(float).tolist(),
        error_y=_whiskers(group),
        marker_color=PALETTE[index % len(PALETTE)],
        **options,
    )


def dataset_bars(rows: pd.DataFrame, metric: str) -> go.Figure:
    """Grouped bars: one group per dataset (Average first), one bar per judge run, CI whiskers.

    Args:
        rows: Long rows of one mode and one metric.
        metric: The metric (for the title and direction).
    """
    rows = rows[rows["metric"] == metric].dropna(subset=["value"])
    if rows.empty:
        return _empty(f"No {metric} values for this selection.")
    order = sorted({str(d) for d in rows["dataset"]}, key=lambda d: (d not in (AVERAGE, POOLED), dataset_sort_key(d)))
    fig = go.Figure()
    for i, (label, group) in enumerate(_series(rows)):
        group = group.set_index(group["dataset"].astype(str)).reindex([d for d in order if d in set(group["dataset"])])
        fig.add_trace(
            _bar(
                label,
                group,
                i,
                customdata=group[["ci_low", "ci_high", "n"]].astype(float).to_numpy(),
                hovertemplate=(
                    "%{x}: %{y:.3f}<br>95% CI [%{customdata[0]:.3f}, %{customdata[1]:.3f}]"
                    "<br>n = %{customdata[2]}<extra>" + label + "</extra>"
                ),
            )
        )
    fig.update_layout(
        barmode="group",
        height=420,
        title=dict(text=_title(metric), font=dict(size=14)),
        xaxis=dict(categoryorder="array", categoryarray=order, title=None),
        yaxis=dict(title=metric, zeroline=True),
        legend=dict(orientation="h", y=-0.18),
        margin=dict(l=50, r=20, t=50, b=40),
        font=FONT,
        template="plotly_white",
    )
    return fig


def heatmap(rows: pd.DataFrame, metric: str) -> go.Figure:
    """Judges (rows) x datasets (columns) coloured by value; the colour scale follows the direction.

    Args:
        rows: Long rows of one mode and one metric.
        metric: The metric.
    """
    rows = rows[rows["metric"] == metric]
    if rows.dropna(subset=["value"]).empty:
        return _empty(f"No {metric} values for this selection.")
    series = _series(rows)
    datasets = sorted({str(d) for d in rows["dataset"]}, key=lambda d: (d in (AVERAGE, POOLED), dataset_sort_key(d)))
    z, text = [], []
    for _, group in series:
        values = group.set_index(group["dataset"].astype(str))["value"].astype(float)
        line = [float(values.get(d, math.nan)) for d in datasets]
        z.append([None if math.isnan(v) else v for v in line])
        text.append(["" if math.isnan(v) else f"{v:.2f}" for v in line])
    spec = METRICS_BY_NAME.get(metric)
    lower_better = spec is not None and spec.higher_is_better is False
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=datasets,
            y=[label for label, _ in series],
            text=text,
            texttemplate="%{text}",
            colorscale="Viridis",
            reversescale=lower_better,
            hovertemplate="%{y}<br>%{x}: %{z:.3f}<extra></extra>",
            colorbar=dict(title=dict(text=metric, side="right"), thickness=12),
        )
    )
    fig.update_layout(
        height=max(260, 70 + 42 * len(series)),
        title=dict(text=_title(metric), font=dict(size=14), y=0.98, yanchor="top"),
        xaxis=dict(side="top", title=None),
        yaxis=dict(autorange="reversed", title=None),
        margin=dict(l=10, r=10, t=110, b=10),
        font=FONT,
        template="plotly_white",
    )
    return fig


def bias_bars(rows: pd.DataFrame, metrics: tuple[str, ...]) -> go.Figure:
    """The bias view: one group per descriptive metric (Average over datasets), one bar per judge run.

    Args:
        rows: Long rows of one mode (any metrics; those in ``metrics`` are drawn).
        metrics: Descriptive metrics to show, in order (position bias, tie rate, length bias ...).
    """
    rows = rows[rows["metric"].isin(list(metrics)) & rows["dataset"].isin([AVERAGE, POOLED])]
    rows = rows.dropna(subset=["value"])
    if rows.empty:
        return _empty("No bias columns for this selection (stored runs carry them; the paper's rows do not).")
    present = [m for m in metrics if m in set(rows["metric"])]
    fig = go.Figure()
    for i, (label, group) in enumerate(_series(rows)):
        # Prefer the Average row of a metric; Pooled stands in where a metric has no Average.
        group = group.assign(_pooled=group["dataset"] != AVERAGE).sort_values("_pooled", kind="stable")
        group = group.drop_duplicates("metric")
        group = group.set_index(group["metric"].astype(str)).reindex([m for m in present if m in set(group["metric"])])
        fig.add_trace(_bar(label, group, i, hovertemplate="%{x}: %{y:.3f}<extra>" + label + "</extra>"))
    fig.add_hline(y=0, line_width=1, line_color="#888")
    fig.update_layout(
        barmode="group",
        height=400,
        title=dict(
            text="Bias and reliability (average over datasets; 0 = no bias for signed columns)", font=dict(size=14)
        ),
        xaxis=dict(categoryorder="array", categoryarray=present, title=None),
        legend=dict(orientation="h", y=-0.2),
        margin=dict(l=50, r=20, t=50, b=40),
        font=FONT,
        template="plotly_white",
    )
    return fig


def inflation_bars(frame: pd.DataFrame, metric: str) -> go.Figure:
    """The HQ inflation view: each judge's value on the full benchmark beside its value on HQ.

    Args:
        frame: :func:`leaderboard.ui.table.inflation_table` (Judge, all, hq, hq - all).
        metric: The metric shown.
    """
    if frame.empty:
        return _empty(f"No judge has {metric} values on both the full benchmark and HQ.")
    fig = go.Figure()
    for i, subset in enumerate(("all", "hq")):
        fig.add_trace(
            go.Bar(
                name="full benchmark (all)" if subset == "all" else "HQ subset (hq)",
                x=frame["Judge"].tolist(),
                y=frame[subset].astype(float).tolist(),
                marker_color=PALETTE[i],
                hovertemplate="%{x}: %{y:.3f}<extra>" + subset + "</extra>",
            )
        )
    fig.update_layout(
        barmode="group",
        height=380,
        title=dict(text=f"{metric_title(metric)}: the same judge on HQ and on all items", font=dict(size=14)),
        yaxis=dict(title=metric),
        legend=dict(orientation="h", y=-0.2),
        margin=dict(l=50, r=20, t=50, b=40),
        font=FONT,
        template="plotly_white",
    )
    return fig


def reliability_diagram(bins: pd.DataFrame) -> go.Figure:
    """Accuracy against confidence per confidence bin, one line per run, with the diagonal of calibration.

    Args:
        bins: :func:`leaderboard.ui.compare.calibration_view`'s bins (``label``, ``bin_low``,
            ``bin_high``, ``n``, ``accuracy``, ``confidence``); empty bins are not drawn.
    """
    drawn = bins.dropna(subset=["accuracy", "confidence"]) if len(bins) else bins
    if drawn.empty:
        return _empty("No run in this view stores verdict probabilities.")
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=[0, 1], y=[0, 1], mode="lines", name="calibrated", line=dict(color="#888", dash="dot", width=1),
            hoverinfo="skip",
        )
    )  # fmt: skip
    for i, (label, group) in enumerate(drawn.groupby("label", sort=False)):
        n = group["n"].astype(float)
        fig.add_trace(
            go.Scatter(
                x=group["confidence"].astype(float).tolist(),
                y=group["accuracy"].astype(float).tolist(),
                mode="lines+markers",
                name=str(label),
                # The dot's area follows the bin's share of items, so a bin of three items does not look like certainty.
                marker=dict(size=(6 + 18 * (n / n.max()) ** 0.5).tolist(), color=PALETTE[i % len(PALETTE)]),
                line=dict(color=PALETTE[i % len(PALETTE)], width=1.5),
                customdata=group[["bin_low", "bin_high", "n"]].astype(float).to_numpy(),
                hovertemplate=(
                    "confidence %{customdata[0]:.1f}–%{customdata[1]:.1f} (mean %{x:.3f})"
                    "<br>accuracy %{y:.3f}<br>n = %{customdata[2]}<extra>" + str(label) + "</extra>"
                ),
            )
        )
    fig.update_layout(
        height=440,
        title=dict(
            text="Reliability: share of verdicts matching the human label, by the judge's confidence",
            font=dict(size=14),
        ),
        xaxis=dict(title="confidence (probability of the chosen verdict)", range=[0, 1.02], constrain="domain"),
        yaxis=dict(title="accuracy", range=[-0.02, 1.02]),
        legend=dict(orientation="h", y=-0.22),
        margin=dict(l=50, r=20, t=50, b=40),
        font=FONT,
        template="plotly_white",
    )
    return fig


def win_heatmap(matrix: pd.DataFrame, metric: str) -> go.Figure:
    """The judges x judges matrix of significant wins: row beats column where the cell is 1.

    Args:
        matrix: :func:`leaderboard.ui.compare.wins_view`'s matrix (row labels as index and columns).
        metric: The metric compared.
    """
    if matrix.empty:
        return _empty("Fewer than two comparable runs in this view.")
    values = matrix.to_numpy(dtype=float)
    z = [[None if math.isnan(v) else v for v in line] for line in values]
    text = [["" if math.isnan(v) else ("wins" if v == 1 else "–") for v in line] for line in values]
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=[str(c) for c in matrix.columns],
            y=[str(i) for i in matrix.index],
            text=text,
            texttemplate="%{text}",
            zmin=0,
            zmax=1,
            colorscale=[[0, "#f2f2f2"], [1, PALETTE[0]]],
            showscale=False,
            hovertemplate="%{y} vs %{x}: %{text}<extra></extra>",
        )
    )
    fig.update_layout(
        height=max(260, 120 + 48 * len(matrix)),
        title=dict(
            text=f"Significant wins on {metric_title(metric)} (row beats column)",
            font=dict(size=14),
            y=0.98,
            yanchor="top",
        ),
        xaxis=dict(side="top", title=None, automargin=True),
        yaxis=dict(autorange="reversed", title=None, automargin=True),
        margin=dict(l=10, r=10, t=90, b=10),
        font=FONT,
        template="plotly_white",
    )
    return fig
