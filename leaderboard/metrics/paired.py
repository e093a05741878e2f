"""Paired comparison of two runs on the items both judged, and a runs x runs matrix of significant wins.

Two rows of the leaderboard rest on different items whenever the runs' coverage differs, and their
intervals are computed independently, so overlapping intervals say little about which judge is
better. A paired comparison restricts both runs to their **common items** (judged, parsed and
labelled in both, for agreement metrics), computes the metric for each on exactly those items, and
bootstraps the **difference** with one resample of items shared by both runs (the paired bootstrap).
The difference is significant at ``level`` when its percentile interval excludes 0.

It reuses the engine's families (:mod:`leaderboard.metrics.agreement`): an item of a family is one
category of a contingency table, so a pair of runs is one category of the joint table ``K x K``, and
a resample of common items is a multinomial draw of that joint table, whose two margins are the two
runs' resampled tables. Families of per-item features (probabilities) draw shared item weights.
``Average`` is the unweighted mean over the datasets where both runs have a value on at least
``min_n`` common items, as in the long table.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from leaderboard.errors import LeaderboardError
from leaderboard.metrics import tables as M
from leaderboard.metrics.agreement import Family, Joined
from leaderboard.metrics.compute import joined, metric_families, run_benchmark
from leaderboard.metrics.registry import metric_spec
from leaderboard.schema import AVERAGE, DEFAULT_MIN_N, POOLED
from leaderboard.store.read import Run


@dataclass(frozen=True)
class PairedComparison:
    """Run A against run B on one metric, on the items both judged.

    Attributes:
        run_a: Run id of A.
        run_b: Run id of B.
        metric: The metric.
        dataset: A dataset display name, ``Average`` or ``Pooled``.
        value_a: A's value on the common items.
        value_b: B's value on the same items.
        difference: ``value_a - value_b``.
        ci_low: Lower end of the paired bootstrap interval of the difference.
        ci_high: Upper end.
        n: Common items used (summed over the datasets averaged).
        significant: Whether the interval excludes 0.
        winner: The run id that is significantly better (by the metric's direction), or "" when
            neither is or the metric has no direction.
        reason: Why the difference is NaN, or what it averages.
    """

    run_a: str
    run_b: str
    metric: str
    dataset: str
    value_a: float
    value_b: float
    difference: float
    ci_low: float
    ci_high: float
    n: int
    significant: bool
    winner: str
    reason: str = ""


def _family_of(families: Sequence[Family], metric: str) -> tuple[Family, str]:
    for fam in families:
        if metric in fam.metrics:
            return fam, metric
        for name, source in fam.pooled:
            if name == metric:
                return fam, source
    raise LeaderboardError(
        f"no paired comparison for {metric!r}: it is not an interval metric of these runs "
        "(descriptive metrics, and probability metrics of runs without probabilities, have none)"
    )


def _common_rows(j: Joined, fam: Family) -> tuple[np.ndarray, np.ndarray]:
    """Record positions of run 0 and run 1 for the items both have in ``fam.use``, aligned by item id."""
    assert j.item_ids is not None  # joined() always sets it
    a = pd.Series(np.flatnonzero(fam.use & (j.run_idx == 0)))
    b = pd.Series(np.flatnonzero(fam.use & (j.run_idx == 1)))
    left = pd.DataFrame({"item": j.item_ids[a.to_numpy()], "a": a.to_numpy()}).drop_duplicates("item")
    right = pd.DataFrame({"item": j.item_ids[b.to_numpy()], "b": b.to_numpy()}).drop_duplicates("item")
    both = left.merge(right, on="item", how="inner")
    return both["a"].to_numpy(dtype=np.int64), both["b"].to_numpy(dtype=np.int64)


def _tables(
    j: Joined, fam: Family, rows_a: np.ndarray, rows_b: np.ndarray, cells: np.ndarray, n_boot: int, rng
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Point and resampled tables (or feature sums) of A and B per cell: (C, K), (C, K), (B, C, K), (B, C, K)."""
    cell_of = np.searchsorted(cells, j.ds_code[rows_a])
    if fam.features is None:
        k = fam.n_categories
        joint = fam.codes[rows_a].astype(np.int64) * k + fam.codes[rows_b].astype(np.int64)
        counts = np.bincount(cell_of * k * k + joint, minlength=len(cells) * k * k).reshape(len(cells), k * k)
        boot = M.multinomial_resample(counts, n_boot, rng).reshape(n_boot, len(cells), k, k)
        point = counts.reshape(len(cells), k, k)
        return point.sum(2), point.sum(1), boot.sum(3), boot.sum(2)
    assert fam.features is not None
    fa, fb = fam.features[rows_a], fam.features[rows_b]
    f = fa.shape[1]
    pa, pb = np.zeros((len(cells), f)), np.zeros((len(cells), f))
    ba, bb = np.zeros((n_boot, len(cells), f)), np.zeros((n_boot, len(cells), f))
    for c in range(len(cells)):
        mine = np.flatnonzero(cell_of == c)
        pa[c], pb[c] = fa[mine].sum(0), fb[mine].sum(0)
        weights = M.item_weight_resample(len(mine), n_boot, rng)
        ba[:, c], bb[:, c] = weights @ fa[mine], weights @ fb[mine]
    return pa, pb, ba, bb


def _nan_mean(values: np.ndarray, use: np.ndarray) -> np.ndarray:
    sub = np.where(use, values, np.nan)
    finite = np.isfinite(sub)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(finite, sub, 0).sum(-1) / finite.sum(-1)


def paired_comparison(
    run_a: Run,
    run_b: Run,
    labels: pd.DataFrame | None,
    metric: str,
    *,
    dataset: str = AVERAGE,
    n_resamples: int = 1000,
    seed: int = 0,
    level: float = 0.95,
    min_n: int = DEFAULT_MIN_N,
) -> PairedComparison:
    """Compare two runs of one task and benchmark on their common items.

    Args:
        run_a: First run.
        run_b: Second run.
        labels: The label table.
        metric: An interval metric of the runs' task (e.g. ``pearson``, ``accuracy_without_tie``).
        dataset: A dataset display name, ``Average`` (default) or ``Pooled`` (all common items as one
            cell; the ``*_pooled`` metrics use it whatever is given).
        n_resamples: Paired bootstrap resamples.
        seed: Base seed.
        level: Interval coverage.
        min_n: A dataset with fewer common items is left out (and a single dataset gives NaN).

    Returns:
        The comparison; NaN difference with a reason when there are too few common items.

    Raises:
        LeaderboardError: The runs differ in task or benchmark, or the metric has no paired form.
    """
    if run_a.manifest.mode != run_b.manifest.mode or run_benchmark(run_a) != run_benchmark(run_b):
        raise LeaderboardError(
            f"runs {run_a.run_id!r} and {run_b.run_id!r} are not comparable: compare runs of one task and one benchmark"
        )
    spec = metric_spec(metric)
    j, agreement = joined([run_a, run_b], labels, run_a.manifest.mode, run_benchmark(run_a))
    fam, source = _family_of(metric_families(j, agreement), metric)
    if any(name == metric for name, _ in fam.pooled):
        dataset = POOLED
    rows_a, rows_b = _common_rows(j, fam)

    def result(va: float, vb: float, lo: float, hi: float, n: int, reason: str) -> PairedComparison:
        diff = va - vb
        significant = bool(np.isfinite(lo) and np.isfinite(hi) and (lo > 0 or hi < 0))
        winner = ""
        if significant and spec.higher_is_better is not None:
            a_better = (lo > 0) == spec.higher_is_better
            winner = run_a.run_id if a_better else run_b.run_id
        return PairedComparison(
            run_a.run_id, run_b.run_id, metric, dataset, va, vb, diff, lo, hi, n, significant, winner, reason
        )

    nan = math.nan
    if len(rows_a) == 0:
        return result(nan, nan, nan, nan, 0, "no common items")
    if dataset == POOLED:
        cells = np.array([0])
        j = replace(j, ds_code=np.zeros_like(j.ds_code))
    else:
        cells = np.unique(j.ds_code[rows_a])
        if dataset != AVERAGE:
            if dataset not in j.datasets:
                return result(nan, nan, nan, nan, 0, f"no common items in {dataset}")
            wanted = j.datasets.index(dataset)
            keep = j.ds_code[rows_a] == wanted
            rows_a, rows_b, cells = rows_a[keep], rows_b[keep], np.array([wanted])
            if len(rows_a) == 0:
                return result(nan, nan, nan, nan, 0, f"no common items in {dataset}")
    rng = np.random.default_rng(
        [seed, zlib.crc32(f"{run_a.run_id}|{run_b.run_id}".encode()), zlib.crc32(fam.name.encode())]
    )
    pa, pb, ba, bb = _tables(j, fam, rows_a, rows_b, cells, max(n_resamples, 1), rng)
    sa, sb, boot_a, boot_b = fam.stats(pa), fam.stats(pb), fam.stats(ba), fam.stats(bb)
    va, vb = np.asarray(sa[source], dtype=float), np.asarray(sb[source], dtype=float)
    na = np.asarray(sa.get(f"n:{source}", sa["n"]), dtype=float)
    nb = np.asarray(sb.get(f"n:{source}", sb["n"]), dtype=float)
    use = np.isfinite(va) & np.isfinite(vb) & (na >= min_n) & (nb >= min_n)
    n_items = np.bincount(np.searchsorted(cells, j.ds_code[rows_a]), minlength=len(cells))
    if not use.any():
        return result(nan, nan, nan, nan, int(n_items.sum()), f"no dataset with a value on n >= {min_n} common items")
    point_a, point_b = float(va[use].mean()), float(vb[use].mean())
    diff_boot = _nan_mean(np.asarray(boot_a[source], dtype=float), use) - _nan_mean(
        np.asarray(boot_b[source], dtype=float), use
    )
    lo, hi = M.percentile_interval(diff_boot, level)
    count = int(use.sum())
    reason = f"mean over {count} dataset{'s' if count != 1 else ''}" if dataset == AVERAGE else ""
    return result(point_a, point_b, float(lo), float(hi), int(n_items[use].sum()), reason)


def paired_comparisons(
    runs: Sequence[Run], labels: pd.DataFrame | None, metric: str, **options
) -> list[PairedComparison]:
    """Every comparable pair of ``runs`` compared on ``metric`` (pairs of other tasks or benchmarks skipped).

    Args:
        runs: Runs, typically of one task and benchmark.
        labels: The label table.
        metric: The metric.
        **options: Passed to :func:`paired_comparison` (dataset, n_resamples, seed, level, min_n).
    """
    out = []
    for i, a in enumerate(runs):
        for b in runs[i + 1 :]:
            if a.manifest.mode == b.manifest.mode and run_benchmark(a) == run_benchmark(b):
                out.append(paired_comparison(a, b, labels, metric, **options))
    return out


def win_matrix(runs: Sequence[Run], labels: pd.DataFrame | None, metric: str, **options) -> pd.DataFrame:
    """A runs x runs matrix: 1 where the row's run is significantly better than the column's, else 0.

    NaN on the diagonal and where two runs cannot be compared (another task or benchmark, or too
    few common items). A row's sum is how many runs it significantly beats.

    Args:
        runs: The runs (index and columns, by run id, in this order).
        labels: The label table.
        metric: A metric with a direction (``higher_is_better`` not None).
        **options: Passed to :func:`paired_comparison`.
    """
    ids = [r.run_id for r in runs]
    matrix = pd.DataFrame(np.nan, index=ids, columns=ids)
    for comparison in paired_comparisons(runs, labels, metric, **options):
        if not (np.isfinite(comparison.ci_low) and np.isfinite(comparison.ci_high)):
            continue
        a, b = comparison.run_a, comparison.run_b
        matrix.loc[a, b] = float(comparison.winner == a)
        matrix.loc[b, a] = float(comparison.winner == b)
    return matrix
