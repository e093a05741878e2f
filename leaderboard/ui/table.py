"""What the Leaderboard tab's table shows, without Gradio: the engine's long table, filtered and pivoted.

The engine (:mod:`leaderboard.metrics.compute`, loaded by :mod:`leaderboard.board`) computes every
number; this module only chooses rows, pivots them into one row per judge run with one column per
dataset, sorts them best first and formats them. :mod:`leaderboard.ui.tab` wires these functions to
widgets, and the tests call them directly.
"""

from __future__ import annotations

import hashlib
import math
import re
import tempfile
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from leaderboard.benchmarks import dataset_sort_key
from leaderboard.metrics.registry import HEADLINE_METRIC, METRICS_BY_NAME, metrics_for
from leaderboard.schema import (
    AVERAGE,
    POOLED,
    PROVENANCE_IMPORTED,
    PROVENANCE_PAPER,
    PROVENANCE_RUN,
    PROVENANCE_UNVERIFIED,
)

if TYPE_CHECKING:
    from pandas.io.formats.style import Styler

PROVENANCES: tuple[str, ...] = (PROVENANCE_RUN, PROVENANCE_IMPORTED, PROVENANCE_UNVERIFIED, PROVENANCE_PAPER)
#: Marks rows copied from the paper in the Judge column.
PAPER_MARK = " [paper]"
#: Marks rows of submitted runs nobody has re-run (provenance "unverified submission").
UNVERIFIED_MARK = " [unverified]"

#: Optional column groups of the wide table, in display order; "Datasets" stands for every
#: per-dataset column and "Dataset CIs" writes each cell as "value [low, high]".
OPTIONAL_COLUMNS: tuple[str, ...] = (
    "95% CI",
    "Datasets",
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
DEFAULT_COLUMNS: tuple[str, ...] = ("95% CI", "Datasets", "Coverage", "n", "Provenance", "Subset")


# --------------------------------------------------------------------------- choices


def judge_family(judge: str) -> str:
    """The family of a judge name: the catalog's family, else the name's first word ("GPT-4V" -> "GPT")."""
    from judges import CATALOG

    spec = CATALOG.get(judge)
    if spec is not None:
        return spec.family
    head = re.split(r"[-\s_/.:]", judge.strip(), maxsplit=1)[0]
    return head or judge


def metric_choices(table: pd.DataFrame, mode: str) -> list[tuple[str, str]]:
    """(label, name) pairs of the metrics that have rows for ``mode``, headline first."""
    present = set(table.loc[table["mode"] == mode, "metric"].astype(str))
    names = [m.name for m in metrics_for(mode) if m.name in present]
    headline = HEADLINE_METRIC.get(mode)
    if headline in names:
        names.remove(headline)
        names.insert(0, headline)
    return [(metric_label(n), n) for n in names]


def metric_label(name: str) -> str:
    """A metric's name with its direction ("pearson ↑", "normalized_levenshtein ↓")."""
    spec = METRICS_BY_NAME.get(name)
    arrow = "" if spec is None or spec.higher_is_better is None else (" ↑" if spec.higher_is_better else " ↓")
    return f"{name}{arrow}"


def resolve_metric(table: pd.DataFrame, mode: str, metric: str | None) -> str:
    """``metric`` when it belongs to ``mode``, else the mode's headline metric."""
    names = [n for _, n in metric_choices(table, mode)]
    if metric in names:
        return metric
    return HEADLINE_METRIC.get(mode, names[0] if names else "")


def family_choices(table: pd.DataFrame) -> list[str]:
    """Judge families present in the table, sorted."""
    return sorted({judge_family(str(j)) for j in table["judge"].dropna().unique()})


# --------------------------------------------------------------------------- filtering and pivoting


def filter_rows(
    table: pd.DataFrame,
    mode: str,
    *,
    families: Iterable[str] | None = None,
    provenances: Iterable[str] | None = None,
    subsets: Iterable[str] | None = None,
    metrics: Iterable[str] | None = None,
) -> pd.DataFrame:
    """The long rows of one mode that pass the filters; an empty or None filter keeps everything."""
    rows = table[table["mode"] == mode]
    if metrics:
        rows = rows[rows["metric"].isin(list(metrics))]
    if provenances:
        rows = rows[rows["provenance"].isin(list(provenances))]
    if subsets:
        rows = rows[rows["subset"].isin(list(subsets))]
    if families:
        wanted = set(families)
        rows = rows[rows["judge"].map(lambda j: judge_family(str(j)) in wanted).astype(bool)]
    return rows


def headline_dataset(rows: pd.DataFrame) -> str:
    """The column a table is ranked by: ``Average`` when present, else ``Pooled``."""
    present = set(rows["dataset"].astype(str))
    return AVERAGE if AVERAGE in present or POOLED not in present else POOLED


def _fmt(value: float | None, digits: int = 3) -> float | None:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return None
    return round(float(value), digits)


def _interval(low: object, high: object) -> str:
    lo, hi = _fmt(low), _fmt(high)  # type: ignore[arg-type]
    return "" if lo is None or hi is None else f"[{lo:.3f}, {hi:.3f}]"


def sort_ascending(metric: str) -> bool | None:
    """True when lower is better, False when higher is better, None for descriptive metrics."""
    spec = METRICS_BY_NAME.get(metric)
    if spec is None or spec.higher_is_better is None:
        return None
    return not spec.higher_is_better


def wide_table(
    table: pd.DataFrame,
    mode: str,
    metric: str | None = None,
    *,
    families: Iterable[str] | None = None,
    provenances: Iterable[str] | None = None,
    subsets: Iterable[str] | None = None,
    columns: Sequence[str] | None = None,
) -> pd.DataFrame:
    """One row per judge run for one metric: Judge, Average, then one column per dataset.

    Rows are sorted best first for the metric's direction (descriptive metrics: by judge), rows
    without a value last. Paper rows and unverified submissions are marked in the Judge column.

    Args:
        table: The engine's long table.
        mode: score, pair or batch.
        metric: A metric of the mode (default or unknown: the mode's headline metric).
        families: Keep these judge families (empty: all).
        provenances: Keep these provenances (empty: all).
        subsets: Keep these benchmark subsets (empty: all).
        columns: Optional column groups to show (see :data:`OPTIONAL_COLUMNS`); None: the defaults.

    Returns:
        The display table (numbers rounded to 3 decimals, missing values as None).
    """
    metric = resolve_metric(table, mode, metric)
    rows = filter_rows(table, mode, families=families, provenances=provenances, subsets=subsets, metrics=[metric])
    shown = set(DEFAULT_COLUMNS if columns is None else columns)
    if rows.empty:
        return pd.DataFrame(columns=["Judge", AVERAGE])
    head = headline_dataset(rows)
    datasets = sorted({str(d) for d in rows["dataset"].unique()} - {AVERAGE, POOLED}, key=lambda d: dataset_sort_key(d))
    with_cis = "Dataset CIs" in shown
    records = []
    for (judge, run_id), group in rows.groupby(["judge", "run_id"], sort=False, dropna=False):
        by_dataset = {str(r.dataset): r for r in group.itertuples(index=False)}
        top = by_dataset.get(head)
        provenance = str(group["provenance"].iloc[0])
        mark = {PROVENANCE_PAPER: PAPER_MARK, PROVENANCE_UNVERIFIED: UNVERIFIED_MARK}.get(provenance, "")
        record: dict[str, object] = {
            "Judge": f"{judge}{mark}",
            head: _fmt(top.value) if top is not None else None,
        }
        if "95% CI" in shown:
            record["95% CI"] = _interval(top.ci_low, top.ci_high) if top is not None else ""
        if "Datasets" in shown:
            for name in datasets:
                cell = by_dataset.get(name)
                value = _fmt(cell.value) if cell is not None else None
                if with_cis and cell is not None and value is not None:
                    interval = _interval(cell.ci_low, cell.ci_high)
                    record[name] = f"{value:.3f} {interval}".strip()
                else:
                    record[name] = value
        optional = {
            "Coverage": _fmt(top.coverage) if top is not None else None,
            "n": None if top is None or pd.isna(top.n) else int(top.n),
            "Provenance": provenance,
            "Subset": str(group["subset"].iloc[0]),
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
    ascending = sort_ascending(metric)
    if ascending is None:
        wide = wide.sort_values("Judge", kind="stable")
    else:
        key = pd.to_numeric(wide[head], errors="coerce")
        wide = wide.assign(_key=key).sort_values("_key", ascending=ascending, na_position="last", kind="stable")
        wide = wide.drop(columns="_key")
    return wide.reset_index(drop=True)


#: Background of rows copied from the paper: translucent, so it reads in light and dark themes.
PAPER_ROW_STYLE = "background-color: rgba(245, 165, 36, 0.14); font-style: italic"


def _cell_text(value: object) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def style_table(wide: pd.DataFrame) -> Styler:
    """The display form of :func:`wide_table`: 3 decimals, "–" for missing values, paper rows tinted.

    The values underneath stay numbers, so sorting in the browser and the CSV are unaffected.
    """
    paper = wide["Judge"].astype(str).str.endswith(PAPER_MARK) if "Judge" in wide.columns else None

    def row_style(row: pd.Series) -> list[str]:
        marked = paper is not None and bool(paper.loc[row.name])
        return [PAPER_ROW_STYLE if marked else ""] * len(row)

    return wide.style.format(_cell_text).apply(row_style, axis=1)


def table_caption(table: pd.DataFrame, mode: str, metric: str | None, shown: pd.DataFrame) -> str:
    """One Markdown line under the table: what the numbers are, their direction and caveats."""
    metric = resolve_metric(table, mode, metric)
    spec = METRICS_BY_NAME.get(metric)
    direction = {True: "higher is better", False: "lower is better", None: "descriptive"}[
        None if spec is None else spec.higher_is_better
    ]
    parts = [f"**{metric}** ({direction}): {spec.definition if spec else ''}"]
    parts.append(f"{len(shown)} row(s), best first. `{PAPER_MARK.strip()}` = numbers reported in the paper.")
    if "Judge" in shown.columns and shown["Judge"].astype(str).str.endswith(UNVERIFIED_MARK).any():
        parts.append(f"`{UNVERIFIED_MARK.strip()}` = a submitted run nobody has re-run yet.")
    if "Subset" in shown.columns and (shown["Subset"] == "hq").any():
        parts.append("HQ rows cover only items where judges agreed with people, so their agreement is inflated.")
    return " ".join(parts)


def write_csv(frame: pd.DataFrame, mode: str, metric: str, directory: str | Path | None = None) -> Path:
    """Write ``frame`` (what the table shows) as CSV and return the file's path.

    Files are content-addressed (``<directory>/<sha1 of the CSV>/leaderboard-<mode>-<metric>.csv``):
    two visitors with different filters never overwrite each other's file, the same table is written
    once, and the user still downloads a readable file name.

    Args:
        frame: The table as shown.
        mode: Used in the file name.
        metric: Used in the file name.
        directory: Parent folder (default: ``leaderboard-csv`` in the system's temp folder).
    """
    text = frame.to_csv(index=False, lineterminator="\n")
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
