"""Stored runs -> the long leaderboard table (one row per run x metric x dataset), with bootstrap CIs.

For each mode, every run's judgments are joined with the human labels on ``(split, item_id)``, counted
into small contingency tables per (run, dataset) with ``np.bincount``, and every metric is computed
from those tables (:mod:`leaderboard.metrics.tables`). Confidence intervals come from 1,000 multinomial
resamples of each table (the item bootstrap, stratified by dataset for the ``Average`` rows), drawn
from a generator seeded by ``(seed, run_id)`` so that adding a run never moves another run's interval.

Rows follow :data:`leaderboard.schema.COLUMNS`. ``Average`` = unweighted mean of the per-dataset
values (datasets without a value are skipped and named in ``reason``); its ``n`` is the sum and its
``coverage`` the pooled share. A row exists for a (run, dataset) cell whenever the cell has judgments
that the metric could use (labelled items for agreement metrics), so a cell where nothing parsed shows
NaN with coverage 0 instead of vanishing.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pandas as pd

from judges.tasks import get_task
from leaderboard.benchmarks import dataset_sort_key, display_dataset
from leaderboard.metrics import bias as B
from leaderboard.metrics import tables as M
from leaderboard.metrics.agreement import Agreement, Family, Joined, agreement_for
from leaderboard.metrics.registry import METRIC_NAMES, METRICS_BY_NAME
from leaderboard.schema import AVERAGE, COLUMN_NAMES, COLUMNS, MODES, POOLED
from leaderboard.store.labels import empty_labels
from leaderboard.store.read import Run

HQ_CAVEAT = "HQ subset: chosen where judges agreed with humans (agreement inflated)"


def _label_positions(runs: Sequence[Run], lab: pd.DataFrame) -> np.ndarray:
    """For every record of ``runs`` (in order), its row in ``lab`` (-1 when the item has no label row)."""
    index_by_subset = {
        subset: (pd.Index(group["item_id"].astype(str)), group.index.to_numpy())
        for subset, group in lab.reset_index(drop=True).groupby("subset", sort=False)
    }
    parts = []
    for run in runs:
        found = index_by_subset.get(run.manifest.split)
        if found is None:
            parts.append(np.full(len(run.records), -1, dtype=np.int64))
            continue
        index, rows = found
        where = index.get_indexer(run.records["item_id"].astype(str))
        parts.append(np.where(where >= 0, rows[np.maximum(where, 0)], -1))
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


def _human_codes(agreement: Agreement, lab: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Per label row: the human label in the agreement's encoding, and whether it can be used."""
    text = lab["human_label"].fillna("").astype(str).to_numpy(dtype=object)
    usable = (lab["label_issue"].fillna("").astype(str).to_numpy() == "") & (text != "")
    known = np.full(len(text), None, dtype=object)
    known[usable] = text[usable]
    return agreement.encode(known), usable


def _join(runs: Sequence[Run], labels: pd.DataFrame, mode: str, agreement: Agreement) -> Joined:
    rec = pd.concat([r.records for r in runs], ignore_index=True)
    sizes = [len(r.records) for r in runs]
    lab = labels[labels["mode"] == mode].drop_duplicates(["subset", "item_id"]).reset_index(drop=True)
    pos = _label_positions(runs, lab)
    at = np.where(pos >= 0, pos, len(lab))  # the extra last row stands for "no label row"
    human_rows, usable_rows = _human_codes(agreement, lab)
    human = np.append(human_rows, agreement.missing)[at]  # type: ignore[call-overload]
    labeled = np.append(usable_rows, False)[at]
    label_ds = np.append(lab["dataset"].fillna("").astype(str).to_numpy(dtype=object), "")[at]
    raw_ds = np.where(label_ds != "", label_ds, rec["dataset"].fillna("").to_numpy(dtype=object))
    codes, uniques = pd.factorize(pd.Series(raw_ds, dtype=object))
    shown_codes, shown_names = pd.factorize(pd.Series([display_dataset(u) for u in uniques], dtype=object))
    ds_code = np.asarray(shown_codes, dtype=np.int64)[codes] if len(codes) else np.zeros(0, dtype=np.int64)
    # Lengths are parsed once per label row and gathered.
    per_row = B.lengths_matrix([*lab["response_lengths"].fillna("").astype(str), ""])
    lengths = per_row[at]
    ranks = B.length_ranks(per_row)[at] if agreement.needs_length_ranks else None
    verdict = agreement.encode(rec["verdict"].to_numpy(dtype=object))
    parsed = agreement.parsed(verdict)
    return Joined(
        runs=tuple(runs),
        run_idx=np.repeat(np.arange(len(runs)), sizes),
        ds_code=ds_code,
        datasets=tuple(str(s) for s in shown_names),
        parsed=np.asarray(parsed, dtype=bool),
        labeled=np.asarray(labeled, dtype=bool),
        verdict=verdict,
        human=human,
        lengths=lengths,
        length_ranks=ranks,
        self_consistency=rec["self_consistency"].to_numpy(dtype=float),
        swap_consistent=rec["swap_consistent"].to_numpy(dtype=float),
    )


# --------------------------------------------------------------------------- row building


def _cell_counts(j: Joined, mask: np.ndarray, codes: np.ndarray, k: int) -> np.ndarray:
    """Counts of shape (R, D, K) over records in ``mask``."""
    r, d = len(j.runs), max(len(j.datasets), 1)
    flat = (j.run_idx[mask] * d + j.ds_code[mask]) * k + codes[mask].astype(np.int64)
    return np.bincount(flat, minlength=r * d * k).reshape(r, d, k)


def _rng(seed: int, run_id: str, family: str) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(run_id.encode()), zlib.crc32(family.encode())])


def _reason_for(metric: str, stats: dict[str, np.ndarray], idx: np.ndarray) -> list[str]:
    """Why each NaN value is NaN (empty string where the value is a number)."""
    key = f"reason:{metric}"
    if key in stats:
        return [str(x) for x in np.asarray(stats[key])[idx]]
    return [""] * len(idx)


def _family_rows(j: Joined, fam: Family, n_boot: int, seed: int, level: float) -> list[dict]:
    counts = _cell_counts(j, fam.use, fam.codes, fam.n_categories)
    zeros = np.zeros(len(j.run_idx), dtype=np.int64)
    base = _cell_counts(j, fam.base, zeros, 1)[..., 0]
    parsed_base = _cell_counts(j, fam.base & j.parsed, zeros, 1)[..., 0]

    def one_run(r: int) -> list[dict]:
        run = j.runs[r]
        cells = np.flatnonzero(base[r] > 0)
        if len(cells) == 0:
            return []
        rows: list[dict] = []
        table = counts[r, cells]
        point = fam.stats(table)
        boot = fam.stats(M.multinomial_resample(table, n_boot, _rng(seed, run.run_id, fam.name)))
        cov = parsed_base[r, cells] / base[r, cells]
        pooled_cov = parsed_base[r, cells].sum() / base[r, cells].sum()
        names = [j.datasets[c] for c in cells]
        for metric in fam.metrics:
            values, boots = np.asarray(point[metric], dtype=float), np.asarray(boot[metric], dtype=float)
            n = np.asarray(point.get(f"n:{metric}", point["n"]), dtype=float)
            lo, hi = M.percentile_interval(boots, level)
            reasons = _reason_for(metric, point, np.arange(len(cells)))
            for c, name in enumerate(names):
                rows.append(_row(run, metric, name, values[c], lo[c], hi[c], n[c], cov[c], reasons[c]))
            rows.append(_average_row(run, metric, values, boots, n, pooled_cov, names, level))
        if fam.pooled:
            total = table.sum(0, keepdims=True)
            p_point = fam.stats(total)
            p_boot = fam.stats(M.multinomial_resample(total, n_boot, _rng(seed, run.run_id, fam.name + "/pooled")))
            for metric, source in fam.pooled:
                lo, hi = M.percentile_interval(np.asarray(p_boot[source], dtype=float), level)
                reason = _reason_for(source, p_point, np.array([0]))[0]
                rows.append(
                    _row(run, metric, POOLED, p_point[source][0], lo[0], hi[0], p_point["n"][0], pooled_cov, reason)
                )
        return rows

    # Runs are independent (each has its own seeded generator) and numpy releases the GIL for most
    # of the work, so a small thread pool uses the machine's cores; results keep the run order.
    with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
        return [row for rows in pool.map(one_run, range(len(j.runs))) for row in rows]


def _row(run: Run, metric: str, dataset: str, value, lo, hi, n, cov, reason: str) -> dict:
    m = run.manifest
    value = float(value)
    if not np.isfinite(value):
        lo = hi = float("nan")
    elif m.split == "hq" and METRICS_BY_NAME[metric].needs_labels:
        reason = f"{reason}; {HQ_CAVEAT}" if reason else HQ_CAVEAT
    return {
        "judge": m.judge,
        "mode": m.mode,
        "metric": metric,
        "dataset": dataset,
        "value": value,
        "ci_low": float(lo),
        "ci_high": float(hi),
        "n": int(n) if np.isfinite(n) else None,
        "coverage": float(cov),
        "provenance": m.provenance,
        "subset": m.split,
        "setting": m.setting,
        "run_id": m.run_id,
        "reason": reason,
    }


def _average_row(run, metric, values, boots, n, pooled_cov, names, level) -> dict:
    use = np.isfinite(values)
    skipped = [name for name, ok in zip(names, use, strict=True) if not ok]
    if not use.any():
        return _row(run, metric, AVERAGE, np.nan, np.nan, np.nan, 0, pooled_cov, "no dataset has a value")
    lo: Any = np.nan
    hi: Any = np.nan
    if boots is not None:
        sub = boots[:, use]
        finite = np.isfinite(sub)
        with np.errstate(invalid="ignore", divide="ignore"):
            avg_boot = np.where(finite, sub, 0).sum(1) / finite.sum(1)
        lo, hi = M.percentile_interval(avg_boot, level)
    count = int(use.sum())
    reason = f"unweighted mean over {count} dataset{'s' if count != 1 else ''}"
    if skipped:
        reason += f"; skipped (no value): {', '.join(skipped)}"
    return _row(run, metric, AVERAGE, values[use].mean(), lo, hi, n[use].sum(), pooled_cov, reason)


def _parse_stats(counts: np.ndarray) -> dict[str, np.ndarray]:
    n = counts.sum(-1)
    return {"parse_failure_rate": M._safe_divide(counts[..., 1], n), "n": n}


def _families(j: Joined, agreement: Agreement) -> list[Family]:
    everything = np.ones(len(j.run_idx), dtype=bool)
    parse = Family(
        "parse", everything, everything, (~j.parsed).astype(np.int64), 2, _parse_stats, ("parse_failure_rate",)
    )
    return [parse, *agreement.families(j, j.parsed & j.labeled, everything)]


def _mode_rows(
    runs: Sequence[Run], labels: pd.DataFrame, mode: str, n_boot: int, seed: int, level: float
) -> list[dict]:
    agreement = agreement_for(get_task(mode).verdicts)
    j = _join(runs, labels, mode, agreement)
    rows: list[dict] = []
    for fam in _families(j, agreement):
        rows.extend(_family_rows(j, fam, n_boot, seed, level))
    rows.extend(_descriptive_rows(j, agreement, level))
    return rows


def _descriptive_rows(j: Joined, agreement: Agreement, level: float) -> list[dict]:
    """length_bias, human_length_correlation, self_consistency, swap_consistency (no intervals)."""
    d = max(len(j.datasets), 1)
    n_cells = len(j.runs) * d
    group = j.run_idx * d + j.ds_code
    figures: list[tuple[str, np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
    for metric, mask, values in (
        ("length_bias", j.parsed, j.verdict),
        ("human_length_correlation", j.labeled, j.human),
    ):
        figure = agreement.length_figure(j, mask, values, group, n_cells)
        if figure is not None:
            figures.append((metric, figure.value, figure.n, figure.reason, mask))
    for metric, values in (("self_consistency", j.self_consistency), ("swap_consistency", j.swap_consistent)):
        value, n = B.grouped_mean(group, values, n_cells)
        if (n > 0).any():
            figures.append((metric, value, n, np.full(n_cells, "", dtype=object), np.isfinite(values)))
    rows: list[dict] = []
    for metric, value, n, reason, mask in figures:
        base = np.bincount(group[mask], minlength=n_cells)
        parsed = np.bincount(group[mask & j.parsed], minlength=n_cells)
        for r, run in enumerate(j.runs):
            cells = np.flatnonzero(base[r * d : (r + 1) * d] > 0)
            if len(cells) == 0:
                continue
            at = r * d + cells
            cov = parsed[at] / base[at]
            for k, cell in enumerate(cells):
                rows.append(
                    _row(run, metric, j.datasets[cell], value[at[k]], np.nan, np.nan, n[at[k]], cov[k], reason[at[k]])
                )
            pooled = parsed[at].sum() / base[at].sum()
            rows.append(
                _average_row(run, metric, value[at], None, n[at], pooled, [j.datasets[c] for c in cells], level)
            )
    return rows


def compute_rows(
    runs: Sequence[Run],
    labels: pd.DataFrame | None,
    *,
    modes: Sequence[str] | None = None,
    n_resamples: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> pd.DataFrame:
    """Every computed leaderboard row of ``runs`` (no reference rows).

    Args:
        runs: Loaded runs (:func:`leaderboard.store.read.load_runs`).
        labels: The label table; None or empty leaves only label-free metrics.
        modes: Modes to include (default all).
        n_resamples: Bootstrap resamples per cell (0 for no intervals).
        seed: Base seed of the bootstrap.
        level: Coverage of the intervals.

    Returns:
        A DataFrame with :data:`leaderboard.schema.COLUMN_NAMES`, sorted.
    """
    labels = empty_labels() if labels is None else labels
    rows: list[dict] = []
    for mode in modes or MODES:
        mode_runs = [r for r in runs if r.manifest.mode == mode and len(r.records)]
        if mode_runs:
            rows.extend(_mode_rows(mode_runs, labels, mode, max(n_resamples, 1), seed, level))
    frame = pd.DataFrame(rows, columns=list(COLUMN_NAMES))
    if n_resamples <= 0:
        frame[["ci_low", "ci_high"]] = np.nan
    return finish_table(frame)


def finish_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Cast to the column dtypes and sort: mode, provenance, judge, run, metric, dataset."""
    frame = frame.reindex(columns=list(COLUMN_NAMES))
    for col in COLUMNS:
        frame[col.name] = frame[col.name].astype(col.dtype)
    if frame.empty:
        return frame.reset_index(drop=True)
    key = pd.DataFrame(
        {
            "m": frame["mode"].map({m: i for i, m in enumerate(MODES)}).fillna(9),
            "p": (frame["provenance"] == "reported in paper").astype(int),
            "j": frame["judge"].str.lower(),
            "r": frame["run_id"],
            "x": frame["metric"].map({m: i for i, m in enumerate(METRIC_NAMES)}).fillna(99),
            "d": frame["dataset"].map(lambda d: dataset_sort_key(str(d))),
        }
    )
    order = key.sort_values(list(key.columns), kind="stable").index
    return frame.loc[order].reset_index(drop=True)


def build_leaderboard(
    runs: Sequence[Run],
    labels: pd.DataFrame | None,
    reference: pd.DataFrame | None = None,
    *,
    modes: Sequence[str] | None = None,
    n_resamples: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> pd.DataFrame:
    """Computed rows plus the paper's reference rows (kept as separate rows, never mixed in).

    Args:
        runs: Loaded runs.
        labels: The label table.
        reference: Rows from a benchmark's ``reference_rows``, or None for none.
        modes: Modes to include (default all).
        n_resamples: Bootstrap resamples.
        seed: Base seed.
        level: Interval coverage.

    Returns:
        The long leaderboard table.
    """
    computed = compute_rows(runs, labels, modes=modes, n_resamples=n_resamples, seed=seed, level=level)
    if reference is None or reference.empty:
        return computed
    ref = reference if modes is None else reference[reference["mode"].isin(list(modes))]
    return finish_table(pd.concat([computed, ref], ignore_index=True))
