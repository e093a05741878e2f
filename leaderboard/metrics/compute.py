"""Stored runs -> the long leaderboard table (one row per run x metric x dataset), with bootstrap CIs.

For each (mode, benchmark), every run's judgments are joined with the human labels on ``(benchmark,
subset, item_id)`` (:mod:`leaderboard.metrics.join`; the run's manifest names its benchmark and its
subset, ``split``), counted into
small contingency tables per (run, dataset) with ``np.bincount``, and every metric is computed from
those tables (:mod:`leaderboard.metrics.tables`). Metrics of verdict probabilities sum per-item
features instead (:mod:`leaderboard.metrics.calibration`). Confidence intervals come from 1,000
multinomial resamples of each table (the item bootstrap, stratified by dataset for the ``Average``
rows), drawn from a generator seeded by ``(seed, run_id)`` so that adding a run never moves another
run's interval.

Runs are computed one at a time, a few on threads (memory grows with the largest runs, not with all
of them; :class:`~leaderboard.store.read.StreamedRun` s read their records only then): each is
joined alone with its group's :class:`GroupShape` (what of its rows depends on the other runs of its mode
and benchmark), which gives exactly the rows a join of the whole group gives. So a stored run's rows
can be cached (:class:`~leaderboard.store.rowcache.RowCache`, :func:`compute_rows_cached`) under its
content digest, the labels' digest, the code's digest, the bootstrap settings and that shape; a
Refresh or a restart computes only the runs that are new or changed.

Rows follow :data:`leaderboard.schema.COLUMNS`. Dataset display names come from the run's benchmark.
**Minimum n**: a cell (a dataset, or ``Pooled``) resting on fewer than ``min_n`` items (default
:data:`~leaderboard.schema.DEFAULT_MIN_N`) has no value and no interval (NaN, reason ``n < 10``), so
no number on one or two items is shown as if it meant something. ``Average`` = unweighted mean of the
per-dataset values that remain (skipped datasets are named in ``reason``; an Average over fewer
datasets than the benchmark has says ``partial``); its ``n`` is the sum and its ``coverage`` the
pooled share. A row exists for a (run, dataset) cell whenever the cell has judgments that the metric
could use (labelled items for agreement metrics), so a cell where nothing parsed shows NaN with
coverage 0 instead of vanishing.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import zlib
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from judges.tasks import get_task
from leaderboard.benchmarks import BenchmarkError, benchmark_names, get_benchmark
from leaderboard.metrics import bias as B
from leaderboard.metrics import calibration as C
from leaderboard.metrics import tables as M
from leaderboard.metrics.agreement import Agreement, Family, Joined, agreement_for
from leaderboard.metrics.join import GroupShape, LabelRows, join_runs, label_rows
from leaderboard.metrics.registry import METRIC_NAMES, METRICS_BY_NAME
from leaderboard.schema import AVERAGE, COLUMN_NAMES, COLUMNS, DEFAULT_BENCHMARK, DEFAULT_MIN_N, MODES, POOLED
from leaderboard.store.labels import empty_labels, with_benchmark
from leaderboard.store.read import Run, StoredRun
from leaderboard.store.rowcache import RowCache, row_hashes

HQ_CAVEAT = "HQ subset: chosen where judges agreed with humans (agreement inflated)"


#: The reason of a cell whose bootstrap interval is one point (shares get Wilson's interval instead).
SINGLE_POINT = "every resample gives this value (all items agree), so the interval is one point"


def too_few(min_n: int) -> str:
    """The reason of a cell blanked by the minimum-n rule."""
    return f"n < {min_n}"


def run_benchmark(run: StoredRun) -> str:
    """The benchmark a run was made on (its manifest's, the default when it names none)."""
    return run.manifest.benchmark or DEFAULT_BENCHMARK


def _known_benchmark(name: str):
    try:
        return get_benchmark(name)
    except BenchmarkError:
        return None


def _n_datasets(benchmark: str) -> int:
    """How many source datasets a benchmark has (0 when unknown: no partial-average marking)."""
    bench = _known_benchmark(benchmark)
    return len(bench.dataset_order) if bench is not None else 0


# --------------------------------------------------------------------------- row building


@dataclass(frozen=True)
class _Options:
    n_boot: int
    seed: int
    level: float
    min_n: int


def _cell_counts(j: Joined, mask: np.ndarray, codes: np.ndarray, k: int) -> np.ndarray:
    """Counts of shape (R, D, K) over records in ``mask``."""
    r, d = len(j.runs), max(len(j.datasets), 1)
    cells = j.ds_code[mask] if r == 1 else j.run_idx[mask] * d + j.ds_code[mask]  # one run: its cells
    flat = cells if k == 1 else cells * k + codes[mask].astype(np.int64, copy=False)
    return np.bincount(flat, minlength=r * d * k).reshape(r, d, k)


def _cell_sums(j: Joined, mask: np.ndarray, features: np.ndarray) -> np.ndarray:
    """Feature sums of shape (R, D, F) over records in ``mask``."""
    r, d = len(j.runs), max(len(j.datasets), 1)
    group = j.run_idx[mask] * d + j.ds_code[mask]
    sums = [np.bincount(group, features[mask, f], r * d) for f in range(features.shape[1])]
    return np.stack(sums, axis=-1).reshape(r, d, features.shape[1])


def _rng(seed: int, run_id: str, family: str) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(run_id.encode()), zlib.crc32(family.encode())])


def _reason_for(metric: str, stats: dict[str, np.ndarray], idx: np.ndarray) -> list[str]:
    """Why each NaN value is NaN (empty string where the value is a number)."""
    key = f"reason:{metric}"
    if key in stats:
        return [str(x) for x in np.asarray(stats[key])[idx]]
    return [""] * len(idx)


def _feature_boot(j: Joined, fam: Family, r: int, cells: np.ndarray, n_boot: int, rng) -> np.ndarray:
    """Resampled feature sums (B, len(cells), F) of run ``r``: item weights per cell times its features."""
    assert fam.features is not None  # only called for feature families
    out = np.zeros((n_boot, len(cells), fam.features.shape[1]))
    mine = fam.use & (j.run_idx == r)
    for c, cell in enumerate(cells):
        rows = np.flatnonzero(mine & (j.ds_code == cell))
        out[:, c] = M.item_weight_resample(len(rows), n_boot, rng) @ fam.features[rows]
    return out


def _interval(metric: str, values: np.ndarray, n: np.ndarray, boots: np.ndarray, level: float):
    """The interval of each cell: the bootstrap's percentiles, Wilson's for a share at 0 or 1."""
    lo, hi = M.percentile_interval(boots, level)
    if METRICS_BY_NAME[metric].share:
        return M.wilson_at_bounds(values, n, lo, hi, level)
    return lo, hi


def _note_single_points(values: np.ndarray, lo: np.ndarray, hi: np.ndarray, reasons: list[str]) -> list[str]:
    """Reasons that say so where an interval is one point (every item agrees, so every resample does)."""
    single = np.isfinite(values) & (np.asarray(lo) == np.asarray(hi))
    if not single.any():
        return reasons
    noted = (f"{why}; {SINGLE_POINT}" if why else SINGLE_POINT for why in reasons)
    return [note if flat else why for flat, note, why in zip(single, noted, reasons, strict=True)]


def _blank_small(values, boots, n, reasons: list[str], min_n: int):
    """The minimum-n rule on one metric's cells: values, resamples and reasons with small cells blanked."""
    small = n < min_n
    if not small.any():
        return values, boots, reasons
    values = np.where(small, np.nan, values)
    if boots is not None:
        boots = np.where(small[None, :], np.nan, boots)
    # A cell with no item at all keeps its own reason (nothing parsed, no label ...), which says more.
    reasons = [
        too_few(min_n) if s and not (k == 0 and why) else why for s, k, why in zip(small, n, reasons, strict=True)
    ]
    return values, boots, reasons


def _family_rows(j: Joined, fam: Family, opt: _Options) -> list[dict]:
    zeros = np.zeros(len(j.run_idx), dtype=np.int64)
    if fam.features is None:
        counts = _cell_counts(j, fam.use, fam.codes, fam.n_categories)
    else:
        counts = _cell_sums(j, fam.use, fam.features)
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
        rng = _rng(opt.seed, run.run_id, fam.name)
        if fam.features is None:
            boot = fam.stats(M.multinomial_resample(table, opt.n_boot, rng))
        else:
            boot = fam.stats(_feature_boot(j, fam, r, cells, opt.n_boot, rng))
        cov = parsed_base[r, cells] / base[r, cells]
        pooled_cov = parsed_base[r, cells].sum() / base[r, cells].sum()
        names = [j.datasets[c] for c in cells]
        for metric in fam.metrics:
            values, boots = np.asarray(point[metric], dtype=float), np.asarray(boot[metric], dtype=float)
            n = np.asarray(point.get(f"n:{metric}", point["n"]), dtype=float)
            reasons = _reason_for(metric, point, np.arange(len(cells)))
            values, boots, reasons = _blank_small(values, boots, n, reasons, opt.min_n)
            lo, hi = _interval(metric, values, n, boots, opt.level)
            reasons = _note_single_points(values, lo, hi, reasons)
            for c, name in enumerate(names):
                rows.append(_row(run, metric, name, values[c], lo[c], hi[c], n[c], cov[c], reasons[c]))
            rows.append(_average_row(run, metric, values, boots, n, pooled_cov, names, reasons, opt.level, opt.min_n))
        if fam.pooled:
            total = table.sum(0, keepdims=True)
            p_point = fam.stats(total)
            p_rng = _rng(opt.seed, run.run_id, fam.name + "/pooled")
            p_boot = fam.stats(M.multinomial_resample(total, opt.n_boot, p_rng))
            for metric, source in fam.pooled:
                n = np.asarray(p_point["n"], dtype=float)
                reasons = _reason_for(source, p_point, np.array([0]))
                values, boots, reasons = _blank_small(
                    np.asarray(p_point[source], dtype=float), np.asarray(p_boot[source], dtype=float), n, reasons,
                    opt.min_n,
                )  # fmt: skip
                lo, hi = _interval(metric, values, n, boots, opt.level)
                reasons = _note_single_points(values, lo, hi, reasons)
                rows.append(_row(run, metric, POOLED, values[0], lo[0], hi[0], n[0], pooled_cov, reasons[0]))
        return rows

    if len(j.runs) == 1:  # one run of a group (compute_rows): its caller spreads runs over threads
        return one_run(0)
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
        "benchmark": run_benchmark(run),
        "subset": m.split,
        "setting": m.setting,
        "run_id": m.run_id,
        "reason": reason,
    }


def average_reason(used: Sequence[str], skipped: Sequence[tuple[str, str]], n_benchmark: int, min_n: int) -> str:
    """The ``reason`` of an Average row: how many datasets it averages, and which it skipped and why.

    Args:
        used: The datasets averaged.
        skipped: ``(dataset, why)`` of the cells left out (NaN values).
        n_benchmark: How many datasets the benchmark has (0: unknown).
        min_n: The minimum-n threshold (cells blanked by it are listed apart).

    Returns:
        e.g. ``partial: unweighted mean over 9 of 14 datasets; skipped (n < 10): WIT``.
    """
    count = len(used)
    if n_benchmark > 0 and count < n_benchmark:
        text = f"partial: unweighted mean over {count} of {n_benchmark} datasets"
    else:
        text = f"unweighted mean over {count} dataset{'s' if count != 1 else ''}"
    small = [name for name, why in skipped if why == too_few(min_n)]
    other = [name for name, why in skipped if why != too_few(min_n)]
    if small:
        text += f"; skipped ({too_few(min_n)}): {', '.join(small)}"
    if other:
        text += f"; skipped (no value): {', '.join(other)}"
    return text


def _average_row(run, metric, values, boots, n, pooled_cov, names, reasons, level, min_n) -> dict:
    use = np.isfinite(values)
    if not use.any():
        small = [name for name, why in zip(names, reasons, strict=True) if why == too_few(min_n)]
        why = "no dataset has a value" + (f" ({too_few(min_n)}: {', '.join(small)})" if small else "")
        return _row(run, metric, AVERAGE, np.nan, np.nan, np.nan, 0, pooled_cov, why)
    lo: Any = np.nan
    hi: Any = np.nan
    if boots is not None:
        sub = boots[:, use]
        finite = np.isfinite(sub)
        with np.errstate(invalid="ignore", divide="ignore"):
            avg_boot = np.where(finite, sub, 0).sum(1) / finite.sum(1)
        # A share averages to 0 or 1 only when every dataset's items all agree: the items pooled.
        lo, hi = _interval(metric, values[use].mean(), n[use].sum(), avg_boot, level)
    used = [name for name, ok in zip(names, use, strict=True) if ok]
    skipped = [(name, why) for name, ok, why in zip(names, use, reasons, strict=True) if not ok]
    reason = average_reason(used, skipped, _n_datasets(run_benchmark(run)), min_n)
    if boots is not None:
        (reason,) = _note_single_points(np.array([values[use].mean()]), np.array([lo]), np.array([hi]), [reason])
    return _row(run, metric, AVERAGE, values[use].mean(), lo, hi, n[use].sum(), pooled_cov, reason)


def _parse_stats(counts: np.ndarray) -> dict[str, np.ndarray]:
    n = counts.sum(-1)
    return {"parse_failure_rate": M._safe_divide(counts[..., 1], n), "n": n}


def _calibration_family(j: Joined, agreement: Agreement, usable: np.ndarray) -> Family | None:
    """``ece`` and ``brier`` over the usable records that carry a verdict distribution."""
    if j.probs is None:
        return None
    k = j.probs.shape[1]
    judge, human = agreement.class_index(j.verdict), agreement.class_index(j.human)
    use = usable & np.isfinite(j.probs).all(1) & (judge >= 0) & (judge < k) & (human >= 0) & (human < k)
    if not use.any() and "calibration" not in j.force:
        return None
    features = np.zeros((len(use), 2 + C.N_BINS))
    features[use] = C.calibration_features(j.probs[use], judge[use], human[use])
    zeros = np.zeros(len(use), dtype=np.int64)
    return Family("calibration", j.labeled, use, zeros, 1, C.calibration_stats, ("ece", "brier"), (), features)


def metric_families(j: Joined, agreement: Agreement) -> list[Family]:
    """Every family of interval metrics of joined records: parse failures, the kind's, calibration."""
    everything = np.ones(len(j.run_idx), dtype=bool)
    parse = Family(
        "parse", everything, everything, (~j.parsed).astype(np.int64), 2, _parse_stats, ("parse_failure_rate",)
    )
    usable = j.parsed & j.labeled
    calibration = _calibration_family(j, agreement, usable)
    return [parse, *agreement.families(j, usable, everything), *([calibration] if calibration else [])]


def joined(runs: Sequence[Run], labels: pd.DataFrame | None, mode: str, benchmark: str) -> tuple[Joined, Agreement]:
    """The records of ``runs`` (one mode, one benchmark) joined with their labels, and their agreement.

    Used by :mod:`leaderboard.metrics.paired` to compare runs on the items they share.
    """
    agreement = agreement_for(get_task(mode).verdicts)
    labels = with_benchmark(empty_labels() if labels is None else labels)
    return join_runs(runs, labels, mode, agreement, benchmark), agreement


#: Bump when the rows computed from the same inputs change in a way the code digest cannot see.
ROWS_CACHE_VERSION = 1
#: Families and figures a group may or may not have (see :class:`GroupShape`).
_OPTIONAL_FAMILIES = ("expected", "calibration")


@dataclass(frozen=True)
class _Parts:
    """What the rows and the shape of one join are made from, computed once for both."""

    families: list[Family]
    figures: list[tuple[str, Any, np.ndarray]]


def _parts(j: Joined, agreement: Agreement) -> _Parts:
    return _Parts(metric_families(j, agreement), _length_figures(j, agreement))


def _rows_of(j: Joined, parts: _Parts, opt: _Options) -> list[dict]:
    rows: list[dict] = []
    for fam in parts.families:
        rows.extend(_family_rows(j, fam, opt))
    rows.extend(_descriptive_rows(j, parts, opt))
    return rows


def _own_shape(j: Joined, parts: _Parts) -> GroupShape:
    """The shape of one run's join computed alone (see :class:`GroupShape`)."""
    families = parts.families
    optional = {f.name for f in families if f.name in _OPTIONAL_FAMILIES}
    optional |= {metric for metric, *_ in parts.figures}
    distances = None
    for fam in families:
        if fam.category_values is not None:
            distances = tuple(float(x) for x in fam.category_values)
    return GroupShape(j.datasets, j.probs is not None, j.expected is not None, frozenset(optional), distances)


@functools.cache
def _code_digest() -> str:
    """A digest of the code the rows depend on (metrics, tasks, verdicts, benchmarks, the loader)."""
    root = Path(__file__).resolve().parents[2]
    digest = hashlib.sha256()
    for folder in ("leaderboard/metrics", "leaderboard/benchmarks", "leaderboard/store", "judges/tasks"):
        for path in sorted((root / folder).rglob("*.py")):
            digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())
    for name in ("leaderboard/schema.py", "judges/verdicts.py"):
        with contextlib.suppress(OSError):
            digest.update(name.encode() + b"\0" + (root / name).read_bytes())
    return digest.hexdigest()


def _labels_digest(prep: LabelRows, subset: str) -> str:
    found = prep.index_by_subset.get(subset)
    if found is None:
        return "none"
    rows = prep.lab.iloc[found[1]]
    hashed = row_hashes(rows)
    return hashlib.sha256(",".join(rows.columns).encode() + hashed.tobytes()).hexdigest()


def _key(kind: str, run: StoredRun, labels_digest: str, opt: _Options, shape: GroupShape | None) -> str:
    parts = [
        ROWS_CACHE_VERSION, _code_digest(), kind, run.digest, run.manifest.to_dict(), labels_digest,
        [opt.n_boot, opt.seed, opt.level, opt.min_n], shape.to_json() if shape is not None else None,
    ]  # fmt: skip
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def _group_rows(
    runs: Sequence[StoredRun],
    labels: pd.DataFrame,
    mode: str,
    benchmark: str,
    opt: _Options,
    cache: RowCache | None = None,
) -> list[dict]:
    """The rows of one (mode, benchmark)'s runs, computed run by run (memory: the largest run).

    Each run is joined alone with its group's :class:`GroupShape`, which gives exactly the rows a join
    of the whole group would; with ``cache``, the rows of a stored run (one with a digest) are read
    back instead of computed when nothing they depend on changed.
    """
    agreement = agreement_for(get_task(mode).verdicts)
    prep = label_rows(labels, mode, agreement, benchmark)
    label_digests: dict[str, str] = {}

    def keyed(run: StoredRun) -> bool:
        return cache is not None and bool(run.digest)

    def labels_digest(run: StoredRun) -> str:
        split = run.manifest.split
        if split not in label_digests:
            label_digests[split] = _labels_digest(prep, split)
        return label_digests[split]

    # Rows computed with a run's own shape while finding it: most groups have one shape (the same
    # datasets in the same order, the same optional figures), so they are usually the group's rows
    # too and the run is joined once. Kept until the group's shape is known; small (rows, not records).
    guessed: dict[int, list[dict]] = {}

    def own(at: int) -> GroupShape:
        run = runs[at]
        key = _key("shape", run, labels_digest(run), opt, None) if keyed(run) else ""
        if key and cache is not None:
            found = cache.get(key)
            if found is not None:
                return GroupShape.from_json(found)
        j = join_runs([run.materialized()], labels, mode, agreement, benchmark, prep=prep)
        parts = _parts(j, agreement)
        shape = _own_shape(j, parts)
        guessed[at] = _rows_of(j, parts, opt)
        if key and cache is not None:
            cache.put(key, shape.to_json())
        return shape

    def rows(at: int, own_shape: GroupShape, group: GroupShape) -> list[dict]:
        run, shape = runs[at], group.for_run(own_shape)
        key = _key("rows", run, labels_digest(run), opt, shape) if keyed(run) else ""
        out = guessed.pop(at, None) if shape == own_shape else None
        if out is None and key and cache is not None:
            out = cache.get(key)
            if out is not None:
                return out
        if out is None:
            guessed.pop(at, None)
            j = join_runs([run.materialized()], labels, mode, agreement, benchmark, prep=prep, shape=shape)
            out = _rows_of(j, _parts(j, agreement), opt)
        if key and cache is not None:
            cache.put(key, out)
        return out

    for run in runs:  # the label digests are shared: fill them before the threads read them
        if keyed(run):
            labels_digest(run)
    # Runs are independent (each has its own seeded generators) and numpy releases the GIL for much
    # of the work, so a small thread pool uses the machine's cores; results keep the run order.
    with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
        shapes = list(pool.map(own, range(len(runs))))
        group = functools.reduce(GroupShape.merged, shapes)
        parts = pool.map(lambda at: rows(at, shapes[at], group), range(len(runs)))
        return [row for part in parts for row in part]


def _length_figures(j: Joined, agreement: Agreement) -> list[tuple[str, Any, np.ndarray]]:
    """(metric, figure, coverage base) of the length figures ``j`` has."""
    d = max(len(j.datasets), 1)
    n_cells = len(j.runs) * d
    group = j.run_idx * d + j.ds_code
    out = []
    for metric, mask, values, per_row in (
        ("length_bias", j.parsed, j.verdict, None),
        ("human_length_correlation", j.labeled, j.human, j.human_length),
    ):
        figure = agreement.length_figure(j, mask, values, group, n_cells, force=metric in j.force, per_row=per_row)
        if figure is not None:
            # Coverage counts every judgment of the cell, unscored ones too, as for every other metric.
            base = np.ones(len(group), dtype=bool) if metric == "length_bias" else mask
            out.append((metric, figure, base))
    return out


def _descriptive_rows(j: Joined, parts: _Parts, opt: _Options) -> list[dict]:
    """length_bias, human_length_correlation, self_consistency, swap_consistency (no intervals)."""
    d = max(len(j.datasets), 1)
    n_cells = len(j.runs) * d
    group = j.run_idx * d + j.ds_code
    figures: list[tuple[str, np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = [
        (metric, figure.value, figure.n, figure.reason, base) for metric, figure, base in parts.figures
    ]
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
            values, _, reasons = _blank_small(value[at], None, n[at], [str(x) for x in reason[at]], opt.min_n)
            names = [j.datasets[c] for c in cells]
            for k, name in enumerate(names):
                rows.append(_row(run, metric, name, values[k], np.nan, np.nan, n[at[k]], cov[k], reasons[k]))
            pooled = parsed[at].sum() / base[at].sum()
            rows.append(_average_row(run, metric, values, None, n[at], pooled, names, reasons, opt.level, opt.min_n))
    return rows


def compute_rows(
    runs: Sequence[StoredRun],
    labels: pd.DataFrame | None,
    *,
    modes: Sequence[str] | None = None,
    n_resamples: int = 1000,
    seed: int = 0,
    level: float = 0.95,
    min_n: int = DEFAULT_MIN_N,
) -> pd.DataFrame:
    """Every computed leaderboard row of ``runs`` (no reference rows); :func:`compute_rows_cached` without a cache."""
    return compute_rows_cached(
        runs, labels, None, modes=modes, n_resamples=n_resamples, seed=seed, level=level, min_n=min_n
    )


def compute_rows_cached(
    runs: Sequence[StoredRun],
    labels: pd.DataFrame | None,
    cache: RowCache | None,
    *,
    modes: Sequence[str] | None = None,
    n_resamples: int = 1000,
    seed: int = 0,
    level: float = 0.95,
    min_n: int = DEFAULT_MIN_N,
) -> pd.DataFrame:
    """Every computed leaderboard row of ``runs`` (no reference rows), stored runs' rows from ``cache``.

    Args:
        runs: Loaded runs (:func:`leaderboard.store.read.load_runs`), of any benchmarks.
        labels: The label table; None or empty leaves only label-free metrics.
        cache: Where to keep and find the rows of stored runs (:class:`~leaderboard.store.rowcache.RowCache`);
            None computes every run. The rows are the same either way.
        modes: Modes to include (default all).
        n_resamples: Bootstrap resamples per cell (0 for no intervals).
        seed: Base seed of the bootstrap.
        level: Coverage of the intervals.
        min_n: A cell on fewer items has no value (reason ``n < min_n``) and is left out of Average;
            1 keeps every cell.

    Returns:
        A DataFrame with :data:`leaderboard.schema.COLUMN_NAMES`, sorted.
    """
    labels = with_benchmark(empty_labels() if labels is None else labels)
    opt = _Options(max(n_resamples, 1), seed, level, max(int(min_n), 0))
    groups = []
    for mode in modes or MODES:
        mode_runs = [r for r in runs if r.manifest.mode == mode and r.n_records]
        for benchmark in dict.fromkeys(run_benchmark(r) for r in mode_runs):
            groups.append((mode, benchmark, [r for r in mode_runs if run_benchmark(r) == benchmark]))
    # Two groups at a time: a group's start (its label rows) and end (its last run) use one thread,
    # which the other group's runs fill. Streamed runs keep one group at a time, so that memory
    # stays that of the runs on one group's threads.
    streamed = any(not isinstance(r, Run) for r in runs)
    with ThreadPoolExecutor(max_workers=1 if streamed else 2) as pool:
        parts = pool.map(lambda g: _group_rows(g[2], labels, g[0], g[1], opt, cache), groups)
        rows: list[dict] = [row for part in parts for row in part]
    frame = pd.DataFrame(rows, columns=list(COLUMN_NAMES))
    if n_resamples <= 0:
        frame[["ci_low", "ci_high"]] = np.nan
    return finish_table(frame)


def _dataset_key(benchmark: str, display: str) -> tuple[int, int, str]:
    """Datasets in their benchmark's order, unknown ones after by name, Average and Pooled last."""
    if display == AVERAGE:
        return (2, 0, "")
    if display == POOLED:
        return (3, 0, "")
    bench = _known_benchmark(benchmark)
    if bench is not None and display in bench.dataset_order:
        return (0, bench.dataset_order.index(display), "")
    return (1, 0, display.lower())


def finish_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Cast to the column dtypes and sort: benchmark, mode, provenance, judge, run, metric, dataset.

    Rows without a benchmark (reference rows made before the column existed) get the default one.
    """
    frame = frame.reindex(columns=list(COLUMN_NAMES))
    frame["benchmark"] = frame["benchmark"].where(frame["benchmark"].notna(), DEFAULT_BENCHMARK)
    for col in COLUMNS:
        frame[col.name] = frame[col.name].astype(col.dtype)
    if frame.empty:
        return frame.reset_index(drop=True)
    bench_order = {b: i for i, b in enumerate(benchmark_names())}
    key = pd.DataFrame(
        {
            "b": frame["benchmark"].map(lambda b: (bench_order.get(b, len(bench_order)), b)),
            "m": frame["mode"].map({m: i for i, m in enumerate(MODES)}).fillna(9),
            "p": (frame["provenance"] == "reported in paper").astype(int),
            "j": frame["judge"].str.lower(),
            "r": frame["run_id"],
            "x": frame["metric"].map({m: i for i, m in enumerate(METRIC_NAMES)}).fillna(99),
            "d": [_dataset_key(str(b), str(d)) for b, d in zip(frame["benchmark"], frame["dataset"], strict=True)],
        }
    )
    order = key.sort_values(list(key.columns), kind="stable").index
    return frame.loc[order].reset_index(drop=True)


def build_leaderboard(
    runs: Sequence[StoredRun],
    labels: pd.DataFrame | None,
    reference: pd.DataFrame | None = None,
    *,
    modes: Sequence[str] | None = None,
    n_resamples: int = 1000,
    seed: int = 0,
    level: float = 0.95,
    min_n: int = DEFAULT_MIN_N,
    benchmarks: Sequence[str] | None = None,
    subsets: Sequence[str] | None = None,
    cache: RowCache | None = None,
) -> pd.DataFrame:
    """Computed rows plus reference rows (kept as separate rows, never mixed in).

    Args:
        runs: Loaded runs.
        labels: The label table.
        reference: Rows from the benchmarks' ``reference_rows``, or None for none.
        modes: Modes to include (default all).
        n_resamples: Bootstrap resamples.
        seed: Base seed.
        level: Interval coverage.
        min_n: Minimum items per cell (see :func:`compute_rows`).
        benchmarks: Only these benchmarks (default every one).
        subsets: Only these subsets (default every one).
        cache: Row cache for stored runs (see :func:`compute_rows_cached`).

    Returns:
        The long leaderboard table.
    """
    chosen = [
        r
        for r in runs
        if (benchmarks is None or run_benchmark(r) in benchmarks) and (subsets is None or r.manifest.split in subsets)
    ]
    computed = compute_rows_cached(
        chosen, labels, cache, modes=modes, n_resamples=n_resamples, seed=seed, level=level, min_n=min_n
    )
    if reference is None or reference.empty:
        return computed
    ref = finish_table(reference)
    keep = np.ones(len(ref), dtype=bool)
    for column, allowed in (("mode", modes), ("benchmark", benchmarks), ("subset", subsets)):
        if allowed is not None:
            keep &= ref[column].isin(list(allowed)).to_numpy()
    return finish_table(pd.concat([computed, ref[keep]], ignore_index=True))
