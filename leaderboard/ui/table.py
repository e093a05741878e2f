"""What the Leaderboard tab's table shows, without Gradio: the engine's long table, filtered and pivoted.

The engine (:mod:`leaderboard.metrics.compute`, loaded by :mod:`leaderboard.board`) computes every
number; this module only chooses rows, pivots them into one row per judge run with one column per
dataset, ranks them (rank with ties: 1 + the rows whose interval lies entirely better), sorts them
and formats them. :mod:`leaderboard.ui.tab` wires these functions to widgets, and the tests call them
directly.

Columns a table may lack (``benchmark`` before the multi-benchmark table, say) are read with a
default, so the tab never depends on them being there.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import re
import tempfile
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from leaderboard.benchmarks import dataset_sort_key
from leaderboard.metrics.registry import HEADLINE_METRIC, METRICS_BY_NAME, metrics_for
from leaderboard.schema import (
    AVERAGE,
    DEFAULT_BENCHMARK,
    POOLED,
    PROVENANCE_IMPORTED,
    PROVENANCE_PAPER,
    PROVENANCE_PUBLISHED,
    PROVENANCE_RUN,
    PROVENANCE_UNVERIFIED,
)

if TYPE_CHECKING:
    from pandas.io.formats.style import Styler

PROVENANCES: tuple[str, ...] = (
    PROVENANCE_RUN,
    PROVENANCE_IMPORTED,
    PROVENANCE_PUBLISHED,
    PROVENANCE_UNVERIFIED,
    PROVENANCE_PAPER,
)
#: Marks rows copied from a paper in the Judge column.
PAPER_MARK = " [paper]"
#: Marks rows of submitted runs nobody has re-run (provenance "unverified submission").
UNVERIFIED_MARK = " [unverified]"

#: Optional column groups of the wide table, in display order; "Datasets" stands for every
#: per-dataset column, "Dataset n" writes each cell's item count beside its value and "Dataset CIs"
#: writes each cell as "value [low, high]".
OPTIONAL_COLUMNS: tuple[str, ...] = (
    "Rank",
    "95% CI",
    "Datasets",
    "Dataset n",
    "Dataset CIs",
    "Coverage",
    "n",
    "Provenance",
    "Subset",
    "Setting",
    "Family",
    "Run",
    "Reason",
)
DEFAULT_COLUMNS: tuple[str, ...] = ("Rank", "95% CI", "Datasets", "Dataset n", "Coverage", "n", "Provenance")

#: The metric value a descriptive metric would have for an unbiased judge (a sort target, not a goal
#: the registry states). A MetricSpec with an ``ideal`` attribute overrides these.
IDEAL_VALUES: dict[str, float] = {"position_bias": 0.0, "mean_score_difference": 0.0, "length_bias": 0.0}

#: Words a metric's name is spelled with that are not simply capitalised.
_WORDS: dict[str, str] = {
    "pearson": "Pearson",
    "spearman": "Spearman",
    "kendall": "Kendall's tau",
    "levenshtein": "Levenshtein",
    "f1": "F1",
    "ece": "ECE",
    "cohen": "Cohen's",
    "kappa": "kappa",
    "within1": "within-1",
    "a": "A",
}


def benchmark_column(rows: pd.DataFrame) -> pd.Series:
    """The rows' benchmark (the default benchmark for tables or rows that name none)."""
    if "benchmark" not in rows.columns:
        return pd.Series(DEFAULT_BENCHMARK, index=rows.index, dtype=object)
    return rows["benchmark"].astype(object).where(rows["benchmark"].notna(), DEFAULT_BENCHMARK).astype(str)


# --------------------------------------------------------------------------- metric names


def metric_title(name: str) -> str:
    """A metric's readable name: ``accuracy_without_tie`` -> ``Accuracy without tie``, ``ece`` -> ``ECE``."""
    spec = METRICS_BY_NAME.get(name)
    title = getattr(spec, "title", None)
    if isinstance(title, str) and title:
        return title
    words = [_WORDS.get(w, w) for w in name.split("_")]
    if words and words[0] == words[0].lower():
        words[0] = words[0][:1].upper() + words[0][1:]
    return " ".join(words)


def metric_label(name: str) -> str:
    """What the metric selector shows: the readable name with its direction ("Pearson ↑")."""
    spec = METRICS_BY_NAME.get(name)
    arrow = "" if spec is None or spec.higher_is_better is None else (" ↑" if spec.higher_is_better else " ↓")
    return f"{metric_title(name)}{arrow}"


def metric_tooltip(name: str) -> str:
    """One line saying what a metric is (the first sentence of its registry definition)."""
    spec = METRICS_BY_NAME.get(name)
    if spec is None:
        return ""
    first = re.split(r"(?<=[.;])\s", spec.definition.strip(), maxsplit=1)[0].rstrip(";")
    direction = {True: "higher is better", False: "lower is better", None: "descriptive"}[spec.higher_is_better]
    return f"{name}: {first} ({direction})"


def ideal_value(metric: str) -> float | None:
    """The value a descriptive metric sorts towards (None: no ideal; agreement metrics have a direction)."""
    spec = METRICS_BY_NAME.get(metric)
    ideal = getattr(spec, "ideal", None)
    if isinstance(ideal, int | float):
        return float(ideal)
    return IDEAL_VALUES.get(metric)


def sort_ascending(metric: str) -> bool | None:
    """True when lower is better, False when higher is better, None for descriptive metrics."""
    spec = METRICS_BY_NAME.get(metric)
    if spec is None or spec.higher_is_better is None:
        return None
    return not spec.higher_is_better


# --------------------------------------------------------------------------- choices


def judge_family(judge: str) -> str:
    """The family of a judge name: the catalog's family, else the name's first word ("GPT-4V" -> "GPT")."""
    from judges import CATALOG

    spec = CATALOG.get(judge)
    if spec is not None:
        return spec.family
    head = re.split(r"[-\s_/.:]", judge.strip(), maxsplit=1)[0]
    return head or judge


def family_choices(table: pd.DataFrame) -> list[str]:
    """Judge families present in the table, sorted."""
    if "judge" not in table.columns:
        return []
    return sorted({judge_family(str(j)) for j in table["judge"].dropna().unique()})


def metric_choices(table: pd.DataFrame, mode: str, **filters) -> list[tuple[str, str]]:
    """(label, name) of the metrics with at least one value in the view, headline first.

    Args:
        table: The engine's long table.
        mode: The task.
        **filters: Any of :func:`filter_rows`'s filters (benchmark, subsets, families, ...).
    """
    rows = filter_rows(table, mode, **filters)
    present = set(rows.loc[pd.to_numeric(rows["value"], errors="coerce").notna(), "metric"].astype(str))
    names = [m.name for m in metrics_for(mode) if m.name in present]
    headline = HEADLINE_METRIC.get(mode)
    if headline in names:
        names.remove(headline)
        names.insert(0, headline)
    return [(metric_label(n), n) for n in names]


def resolve_metric(table: pd.DataFrame, mode: str, metric: str | None, **filters) -> str:
    """``metric`` when it has values in the view, else the headline metric, else the first with values."""
    names = [n for _, n in metric_choices(table, mode, **filters)]
    if metric in names:
        return str(metric)
    headline = HEADLINE_METRIC.get(mode, "")
    if headline in names or not names:
        return headline
    return names[0]


# --------------------------------------------------------------------------- filtering


def search_terms(query: str | None) -> list[str]:
    """The alternatives of a search (``;`` separates them, as on the Open LLM Leaderboard), lower-cased."""
    return [t.strip().lower() for t in (query or "").split(";") if t.strip()]


def filter_rows(
    table: pd.DataFrame,
    mode: str,
    *,
    benchmark: str | None = None,
    families: Iterable[str] | None = None,
    provenances: Iterable[str] | None = None,
    subsets: Iterable[str] | None = None,
    metrics: Iterable[str] | None = None,
    search: str | None = None,
) -> pd.DataFrame:
    """The long rows of one task that pass the filters; an empty or None filter keeps everything.

    Args:
        table: The engine's long table.
        mode: The task.
        benchmark: Keep this benchmark's rows.
        families: Keep these judge families.
        provenances: Keep these provenances.
        subsets: Keep these subsets.
        metrics: Keep these metrics.
        search: Keep judges whose name, family, run id or setting contains one of the
            ``;``-separated terms (case-insensitive).
    """
    if table.empty or "mode" not in table.columns:
        return table
    rows = table[table["mode"] == mode]
    if benchmark:
        rows = rows[benchmark_column(rows) == benchmark]
    if metrics:
        rows = rows[rows["metric"].isin(list(metrics))]
    if provenances:
        rows = rows[rows["provenance"].isin(list(provenances))]
    if subsets:
        rows = rows[rows["subset"].isin(list(subsets))]
    if families:
        wanted = set(families)
        rows = rows[rows["judge"].map(lambda j: judge_family(str(j)) in wanted).astype(bool)]
    terms = search_terms(search)
    if terms:
        text = (
            rows["judge"].astype(str)
            + " "
            + rows["judge"].map(lambda j: judge_family(str(j))).astype(str)
            + " "
            + rows["run_id"].astype(str)
            + " "
            + rows["setting"].astype(str)
        ).str.lower()
        rows = rows[text.map(lambda s: any(t in s for t in terms)).astype(bool)]
    return rows


def apply_min_n(rows: pd.DataFrame, min_n: int | None) -> pd.DataFrame:
    """Per-dataset cells on fewer than ``min_n`` items lose their value (reason ``n < min_n``).

    An ``Average`` whose datasets lost a value is recomputed as the unweighted mean of the values
    left; its interval (a bootstrap the UI cannot redo) is dropped and the reason says so. Rows
    without an ``n`` (reported numbers) are kept as they are. None or 0 leaves ``rows`` unchanged.
    """
    if not min_n or rows.empty:
        return rows
    rows = rows.copy()
    n = pd.to_numeric(rows["n"], errors="coerce")
    per_dataset = ~rows["dataset"].isin([AVERAGE, POOLED])
    small = per_dataset & n.notna() & (n < min_n) & pd.to_numeric(rows["value"], errors="coerce").notna()
    if not small.any():
        return rows
    rule = f"n < {min_n}"
    rows.loc[small, ["value", "ci_low", "ci_high"]] = np.nan
    rows.loc[small, "reason"] = rule
    touched = set(zip(rows.loc[small, "run_id"], rows.loc[small, "metric"], strict=True))
    for run_id, metric in touched:
        same = (rows["run_id"] == run_id) & (rows["metric"] == metric)
        cells = rows[same & per_dataset]
        values = pd.to_numeric(cells["value"], errors="coerce").dropna()
        average = same & (rows["dataset"] == AVERAGE)
        if not average.any():
            continue
        skipped = ", ".join(str(d) for d in cells.loc[cells["value"].isna(), "dataset"])
        if values.empty:
            rows.loc[average, ["value", "ci_low", "ci_high"]] = np.nan
            rows.loc[average, "reason"] = f"no dataset has a value ({rule})"
            continue
        rows.loc[average, "value"] = float(values.mean())
        rows.loc[average, ["ci_low", "ci_high"]] = np.nan
        rows.loc[average, "n"] = int(pd.to_numeric(cells.loc[values.index, "n"]).sum())
        rows.loc[average, "reason"] = (
            f"unweighted mean over {len(values)} dataset(s); skipped: {skipped}; interval not recomputed at {rule}"
        )
    return rows


# --------------------------------------------------------------------------- ranks


def rank_with_ties(best: Sequence[float] | np.ndarray, worst: Sequence[float] | np.ndarray) -> list[int | None]:
    """Rank = 1 + the number of rows whose interval lies entirely better than this row's.

    Intervals are given on a "lower is better" scale: ``best`` is each row's best plausible value,
    ``worst`` its worst; row j lies entirely better than row i when ``worst[j] < best[i]``. Rows
    whose intervals overlap share a rank, as arenas rank models. A NaN row gets None and counts for
    nobody.
    """
    lo = np.asarray(best, dtype=float)
    hi = np.asarray(worst, dtype=float)
    ok = np.isfinite(lo) & np.isfinite(hi)
    ranks: list[int | None] = []
    for i in range(len(lo)):
        if not ok[i]:
            ranks.append(None)
            continue
        ranks.append(1 + int(np.sum(ok & (hi < lo[i]))))
    return ranks


def badness_intervals(
    value: Sequence[float] | np.ndarray,
    low: Sequence[float] | np.ndarray,
    high: Sequence[float] | np.ndarray,
    metric: str,
) -> tuple[np.ndarray, np.ndarray]:
    """Each row's interval on a "lower is better" scale for ``metric`` (NaN where it has no order).

    Higher-is-better metrics are negated; descriptive metrics with an ideal value become the
    distance from it. A row without an interval stands for its point value.
    """
    v = np.asarray(value, dtype=float)
    lo = np.asarray(low, dtype=float)
    hi = np.asarray(high, dtype=float)
    lo = np.where(np.isfinite(lo), lo, v)
    hi = np.where(np.isfinite(hi), hi, v)
    ascending = sort_ascending(metric)
    if ascending is True:
        return lo, hi
    if ascending is False:
        return -hi, -lo
    ideal = ideal_value(metric)
    if ideal is None:
        nan = np.full(len(v), np.nan)
        return nan, nan
    far = np.maximum(np.abs(lo - ideal), np.abs(hi - ideal))
    near = np.where((lo <= ideal) & (ideal <= hi), 0.0, np.minimum(np.abs(lo - ideal), np.abs(hi - ideal)))
    return near, far


def _ranks(value, low, high, metric: str) -> list[int | None]:
    """Ranks of the shown rows: the engine's rule for metrics with a direction, distance from the ideal otherwise."""
    spec = METRICS_BY_NAME.get(metric)
    ranks_from_intervals: Any = None
    with contextlib.suppress(ImportError):  # the engine's rule (leaderboard.metrics.ranks), where present
        from leaderboard.metrics.ranks import ranks_from_intervals  # type: ignore[import-not-found,no-redef,unused-ignore]
    if spec is not None and spec.higher_is_better is not None and ranks_from_intervals is not None:
        v = np.asarray(value, dtype=float)
        lo = np.where(np.isfinite(low) & np.isfinite(high), low, v)
        hi = np.where(np.isfinite(low) & np.isfinite(high), high, v)
        ranks = ranks_from_intervals(lo, hi, spec.higher_is_better)
        return [None if math.isnan(r) else int(r) for r in ranks]
    best, worst = badness_intervals(value, low, high, metric)
    return rank_with_ties(best, worst)


# --------------------------------------------------------------------------- pivoting


def headline_dataset(rows: pd.DataFrame) -> str:
    """The column a table is ranked by: ``Average`` when present, else ``Pooled``."""
    present = set(rows["dataset"].astype(str))
    return AVERAGE if AVERAGE in present or POOLED not in present else POOLED


def row_label(judge: str, provenance: str, subset: str) -> str:
    """A row's label: the judge, the subset it was measured on, and a mark for reported or unverified rows."""
    mark = {PROVENANCE_PAPER: PAPER_MARK, PROVENANCE_UNVERIFIED: UNVERIFIED_MARK}.get(provenance, "")
    return f"{judge} ({subset}){mark}"


def _num(value: object) -> float | None:
    if value is None or value is pd.NA:
        return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def _nan(value: object) -> float:
    number = _num(value)
    return math.nan if number is None else number


def _fmt(value: object, digits: int = 3) -> float | None:
    number = _num(value)
    return None if number is None else round(number, digits)


def _interval(low: object, high: object) -> str:
    lo, hi = _fmt(low), _fmt(high)
    if lo is None or hi is None:
        return ""
    if lo == hi:
        # One item, or a constant resample: not certainty, so no interval is drawn.
        return "(no spread)"
    return f"[{lo:.3f}, {hi:.3f}]"


def wide_table(
    table: pd.DataFrame,
    mode: str,
    metric: str | None = None,
    *,
    benchmark: str | None = None,
    families: Iterable[str] | None = None,
    provenances: Iterable[str] | None = None,
    subsets: Iterable[str] | None = None,
    search: str | None = None,
    columns: Sequence[str] | None = None,
    min_n: int | None = None,
) -> pd.DataFrame:
    """One row per judge run for one metric: Judge, Rank, Average, then one column per dataset.

    Rows are sorted best first for agreement metrics, by distance from the ideal value for
    descriptive ones that have one (else by judge), rows without a value last. Every label says its
    subset; reported rows and unverified submissions are marked.

    Args:
        table: The engine's long table.
        mode: The task.
        metric: A metric of the task (default or without values here: the headline metric).
        benchmark: Keep this benchmark (None: every benchmark).
        families: Keep these judge families (empty: all).
        provenances: Keep these provenances (empty: all).
        subsets: Keep these subsets (empty: all).
        search: ``;``-separated alternatives matched against judge, family, run and setting.
        columns: Optional column groups to show (see :data:`OPTIONAL_COLUMNS`); None: the defaults.
        min_n: Per-dataset cells on fewer items lose their value (:func:`apply_min_n`).

    Returns:
        The display table (numbers rounded to 3 decimals, missing values as None). ``attrs`` holds
        ``cell_n`` ({(row, dataset): n}), ``datasets`` (the dataset columns) and ``average_of``
        ({row: (datasets with a value, dataset columns)}) for :func:`style_table` and the CSV.
    """
    filters: dict[str, Any] = dict(
        benchmark=benchmark, families=families, provenances=provenances, subsets=subsets, search=search
    )
    metric = resolve_metric(table, mode, metric, **filters)
    rows = filter_rows(table, mode, metrics=[metric], **filters)
    rows = apply_min_n(rows, min_n)
    shown = set(DEFAULT_COLUMNS if columns is None else columns)
    if rows.empty:
        empty = pd.DataFrame(columns=["Judge", AVERAGE])
        empty.attrs.update(cell_n={}, datasets=[], average_of={})
        return empty
    head = headline_dataset(rows)
    datasets = sorted({str(d) for d in rows["dataset"].unique()} - {AVERAGE, POOLED}, key=dataset_sort_key)
    with_cis = "Dataset CIs" in shown
    records: list[dict[str, object]] = []
    counts: list[dict[str, int]] = []
    used: list[int] = []
    heads: list[tuple[float, ...]] = []
    for (judge, run_id), group in rows.groupby(["judge", "run_id"], sort=False, dropna=False):
        by_dataset = {str(r.dataset): r for r in group.itertuples(index=False)}
        top = by_dataset.get(head)
        provenance = str(group["provenance"].iloc[0])
        subset = str(group["subset"].iloc[0])
        record: dict[str, object] = {"Judge": row_label(str(judge), provenance, subset)}
        record[head] = _fmt(top.value) if top is not None else None
        heads.append(tuple(math.nan if top is None else _nan(getattr(top, k)) for k in ("value", "ci_low", "ci_high")))
        if "95% CI" in shown:
            record["95% CI"] = _interval(top.ci_low, top.ci_high) if top is not None else ""
        cell_n: dict[str, int] = {}
        with_value = 0
        for name in datasets:
            cell = by_dataset.get(name)
            value = _fmt(cell.value) if cell is not None else None
            with_value += value is not None
            if cell is not None and _num(cell.n) is not None:
                cell_n[name] = int(cell.n)
            if "Datasets" not in shown:
                continue
            if with_cis and cell is not None and value is not None:
                record[name] = f"{value:.3f} {_interval(cell.ci_low, cell.ci_high)}".strip()
            else:
                record[name] = value
        counts.append(cell_n)
        used.append(with_value)
        optional = {
            "Coverage": _fmt(top.coverage) if top is not None else None,
            "n": None if top is None or _num(top.n) is None else int(top.n),
            "Provenance": provenance,
            "Subset": subset,
            "Setting": str(group["setting"].iloc[0]),
            "Family": judge_family(str(judge)),
            "Run": str(run_id),
            "Reason": "" if top is None or pd.isna(top.reason) else str(top.reason),
        }
        record.update({k: v for k, v in optional.items() if k in shown})
        records.append(record)
    wide = pd.DataFrame(records)
    if "n" in wide.columns:
        wide["n"] = wide["n"].astype("Int64")
    point, low, high = (np.array(x, dtype=float) for x in zip(*heads, strict=True))
    ranks = _ranks(point, low, high, metric)
    best, _worst = badness_intervals(point, point, point, metric)
    key = pd.Series(best, index=wide.index)
    order_key = pd.DataFrame({"key": key, "judge": wide["Judge"]})
    if key.notna().any():
        order = order_key.sort_values(["key", "judge"], na_position="last", kind="stable").index
    else:
        order = order_key.sort_values("judge", kind="stable").index
    if "Rank" in shown:
        wide.insert(1, "Rank", pd.array(ranks, dtype="Int64"))
    wide = wide.loc[order].reset_index(drop=True)
    counts = [counts[i] for i in order]
    used = [used[i] for i in order]
    wide.attrs["cell_n"] = {(r, name): n for r, cells in enumerate(counts) for name, n in cells.items()}
    wide.attrs["datasets"] = datasets
    wide.attrs["columns"] = tuple(c for c in OPTIONAL_COLUMNS if c in shown)
    wide.attrs["average_of"] = {r: (k, len(datasets)) for r, k in enumerate(used)} if head == AVERAGE else {}
    return wide


# --------------------------------------------------------------------------- display


#: Background of reported rows: translucent, so it reads in light and dark themes.
PAPER_ROW_STYLE = "background-color: rgba(245, 165, 36, 0.14); font-style: italic"
#: Shown in a cell that has no value (NaN), so that a missing value never looks like an empty cell.
MISSING = "–"


def _cell_text(value: object) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return MISSING
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def short_average(wide: pd.DataFrame, row: int) -> tuple[int, int] | None:
    """(datasets with a value, dataset columns) when row ``row``'s Average covers fewer than all, else None."""
    used = wide.attrs.get("average_of", {}).get(row)
    if used is None:
        return None
    k, total = used
    return used if 0 < k < total else None


def style_table(wide: pd.DataFrame) -> Styler:
    """The display form of :func:`wide_table`: 3 decimals, "–" for missing values, reported rows tinted.

    A dataset cell shows its item count (``0.512 · n 34``) when the table was built with
    "Dataset n"; an Average over fewer datasets than the table has shows how many (``0.512 (9/14)``).
    The values underneath stay numbers, so sorting in the browser is unaffected.
    """
    paper = wide["Judge"].astype(str).str.endswith(PAPER_MARK) if "Judge" in wide.columns else None

    def row_style(row: pd.Series) -> list[str]:
        marked = paper is not None and bool(paper.loc[row.name])
        return [PAPER_ROW_STYLE if marked else ""] * len(row)

    styler = wide.style.format(_cell_text).apply(row_style, axis=1)
    cell_n = wide.attrs.get("cell_n", {})
    show_n = "Dataset n" in wide.attrs.get("columns", ())
    columns = set(wide.columns)
    for (r, name), n in cell_n.items() if show_n else ():
        if name in columns and r < len(wide):
            styler = styler.format(lambda v, n=n: f"{_cell_text(v)} · n {n}", subset=pd.IndexSlice[[r], [name]])
    if AVERAGE in columns:
        for r in range(len(wide)):
            short = short_average(wide, r)
            if short is not None:
                styler = styler.format(
                    lambda v, s=short: f"{_cell_text(v)} ({s[0]}/{s[1]})", subset=pd.IndexSlice[[r], [AVERAGE]]
                )
    return styler


def csv_frame(wide: pd.DataFrame) -> pd.DataFrame:
    """What the CSV holds: the table as shown, with an ``<dataset> n`` column after each dataset when counts are shown."""
    if "Dataset n" not in wide.attrs.get("columns", ()) or not wide.attrs.get("cell_n"):
        return wide
    out = wide.copy()
    cell_n = wide.attrs["cell_n"]
    for name in wide.attrs.get("datasets", []):
        if name not in out.columns:
            continue
        counts = pd.array([cell_n.get((r, name)) for r in range(len(out))], dtype="Int64")
        out.insert(list(out.columns).index(name) + 1, f"{name} n", counts)
    return out


def table_caption(
    table: pd.DataFrame, mode: str, metric: str | None, shown: pd.DataFrame, *, min_n: int | None = None, **filters
) -> str:
    """Markdown under the table: what the numbers are, their direction, how rows are ranked, caveats."""
    metric = resolve_metric(table, mode, metric, **filters)
    spec = METRICS_BY_NAME.get(metric)
    direction = {True: "higher is better", False: "lower is better", None: "descriptive"}[
        None if spec is None else spec.higher_is_better
    ]
    parts = [f"**{metric}** ({direction}) · {metric_title(metric)}: {spec.definition if spec else ''}"]
    ideal = ideal_value(metric)
    if direction != "descriptive":
        order = "best first; Rank = 1 + rows whose 95% interval lies entirely better (overlapping rows tie)."
    elif ideal is not None:
        order = f"sorted by distance from {ideal:g} (no bias); Rank counts rows entirely closer."
    else:
        order = "sorted by judge (a descriptive column with no ideal value)."
    parts.append(f"{len(shown)} row(s), {order}")
    labels = shown["Judge"].astype(str) if "Judge" in shown.columns else pd.Series(dtype=str)
    if labels.str.endswith(PAPER_MARK).any():
        parts.append(f"`{PAPER_MARK.strip()}` = numbers reported in a paper, on the subset named.")
    if labels.str.endswith(UNVERIFIED_MARK).any():
        parts.append(f"`{UNVERIFIED_MARK.strip()}` = a submitted run nobody has re-run yet.")
    if labels.str.contains("(hq)", regex=False).any():
        parts.append("`(hq)` rows cover only items where judges agreed with people, so their agreement is inflated.")
    if any(short_average(shown, r) for r in range(len(shown))):
        parts.append("`(k/N)` = Average over k of the N datasets shown.")
    if min_n:
        parts.append(f"Cells on fewer than {min_n} items show {MISSING}.")
    return " ".join(parts)


def write_csv(frame: pd.DataFrame, mode: str, metric: str, directory: str | Path | None = None) -> Path:
    """Write ``frame`` (what the table shows, :func:`csv_frame`) as CSV and return the file's path.

    Files are content-addressed (``<directory>/<sha1 of the CSV>/leaderboard-<mode>-<metric>.csv``):
    two visitors with different filters never overwrite each other's file, the same table is written
    once, and the user still downloads a readable file name.

    Args:
        frame: The table as shown.
        mode: Used in the file name.
        metric: Used in the file name.
        directory: Parent folder (default: ``leaderboard-csv`` in the system's temp folder).
    """
    text = csv_frame(frame).to_csv(index=False, lineterminator="\n")
    root = Path(directory) if directory else Path(tempfile.gettempdir()) / "leaderboard-csv"
    folder = root / hashlib.sha1(text.encode()).hexdigest()[:16]
    path = folder / f"leaderboard-{mode}-{metric}.csv"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        # Write then rename, so a concurrent reader never sees half a file.
        partial = folder / f".{path.name}.{threading.get_ident()}.part"
        partial.write_text(text, encoding="utf-8")
        partial.replace(path)
    return path


# --------------------------------------------------------------------------- HQ inflation


def inflation_table(table: pd.DataFrame, mode: str, metric: str, *, benchmark: str | None = None) -> pd.DataFrame:
    """The same judge's headline value on the HQ subset next to its value on the full benchmark.

    Returns:
        Columns Judge, ``all``, ``hq``, ``hq - all``, one row per judge measured on both (computed
        or reported); empty when no judge is.
    """
    columns = ["Judge", "all", "hq", "hq - all"]
    rows = filter_rows(table, mode, benchmark=benchmark, metrics=[metric], subsets=["all", "hq"])
    rows = rows[rows["dataset"] == (headline_dataset(rows) if len(rows) else AVERAGE)]
    rows = rows[pd.to_numeric(rows["value"], errors="coerce").notna()]
    if rows.empty:
        return pd.DataFrame(columns=columns)
    # One value per judge and subset: a computed run before a reported number.
    rows = rows.assign(_reported=rows["provenance"] == PROVENANCE_PAPER).sort_values("_reported", kind="stable")
    first = rows.drop_duplicates(["judge", "subset"])
    pivot = first.pivot(index="judge", columns="subset", values="value")
    if not {"all", "hq"} <= set(pivot.columns):
        return pd.DataFrame(columns=columns)
    pivot = pivot.dropna(subset=["all", "hq"]).astype(float)
    out = pd.DataFrame(
        {
            "Judge": pivot.index.astype(str),
            "all": pivot["all"].round(3).to_numpy(),
            "hq": pivot["hq"].round(3).to_numpy(),
            "hq - all": (pivot["hq"] - pivot["all"]).round(3).to_numpy(),
        }
    )
    return out.sort_values("hq - all", ascending=False, kind="stable").reset_index(drop=True)
