"""Agreement metrics between a judge and human labels: pure functions, NaN with a reason, never a crash.

Two layers compute the same numbers:

* **Per-item functions** (:func:`pearson`, :func:`pair_accuracy`, ...) take aligned arrays of judge
  verdicts and human labels and return a :class:`MetricResult` (value, n, reason). They are the
  reference definitions and what tests check by hand.
* **Table functions** (:func:`score_table_stats`, :func:`pair_table_stats`, :func:`mean_from_counts`)
  compute the same metrics from contingency tables of counts, vectorised over any leading axes.
  Every metric here depends on the items only through such a table (5x5 judge x human scores, 3x3
  pair verdicts, counts of distinct per-item distances), so a bootstrap resample of items is a
  multinomial draw of a table (:func:`multinomial_resample`): the leaderboard's 1,000 resamples of a
  whole benchmark cost a few array operations instead of a million Python steps.

Metric names and definitions: see :data:`leaderboard.metrics.registry.METRICS` (score: pearson, spearman,
kendall, exact_agreement, within1_agreement, pearson_pooled, spearman_pooled, kendall_pooled,
mean_score_difference; pair: accuracy_with_tie, accuracy_without_tie (authors': drop an item when the
human OR the judge says tie), accuracy_without_tie_human_only (drop only human ties), macro_f1,
choose_a_rate, human_choose_a_rate, position_bias, tie_rate, human_tie_rate; batch:
normalized_levenshtein (lower is better); any mode: length_bias, human_length_correlation,
parse_failure_rate, self_consistency, swap_consistency).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from statistics import NormalDist
from typing import Literal

import numpy as np
from rapidfuzz.distance import Levenshtein

PAIR_LABELS: tuple[str, str, str] = ("A", "B", "tie")
SCORE_VALUES = np.arange(1, 6, dtype=float)

NO_ITEMS = "no parsed, labelled items"
TOO_FEW = "fewer than 2 items"
JUDGE_CONSTANT = "judge verdicts are constant (correlation undefined)"
HUMAN_CONSTANT = "human labels are constant (correlation undefined)"
NO_NON_TIE = "no items left after dropping ties"


@dataclass(frozen=True)
class MetricResult:
    """A metric value, how many items it rests on, and why it is NaN when it is.

    Attributes:
        value: The metric, or NaN.
        n: Items used.
        reason: Empty when ``value`` is a number; otherwise why it is not.
    """

    value: float
    n: int
    reason: str = ""

    @property
    def ok(self) -> bool:
        """Whether ``value`` is a number."""
        return not math.isnan(self.value)


def _nan(n: int, reason: str) -> MetricResult:
    return MetricResult(float("nan"), n, reason)


def _as_float(values: Sequence[float] | np.ndarray) -> np.ndarray:
    return np.asarray(values, dtype=float).ravel()


def _check_aligned(judge: np.ndarray, human: np.ndarray) -> None:
    if len(judge) != len(human):
        raise ValueError(
            f"judge and human arrays must be aligned item by item; got {len(judge)} and {len(human)} values"
        )


# --------------------------------------------------------------------------- per-item: score


def _correlation_guard(judge: np.ndarray, human: np.ndarray) -> MetricResult | None:
    _check_aligned(judge, human)
    n = len(judge)
    if n == 0:
        return _nan(0, NO_ITEMS)
    if n < 2:
        return _nan(n, TOO_FEW)
    if np.all(judge == judge[0]):
        return _nan(n, JUDGE_CONSTANT)
    if np.all(human == human[0]):
        return _nan(n, HUMAN_CONSTANT)
    return None


def _pearson_raw(x: np.ndarray, y: np.ndarray) -> float:
    dx, dy = x - x.mean(), y - y.mean()
    return float((dx * dy).sum() / math.sqrt((dx * dx).sum() * (dy * dy).sum()))


def pearson(judge: Sequence[float], human: Sequence[float]) -> MetricResult:
    """Pearson correlation between judge and human scores.

    Args:
        judge: Judge scores, one per item.
        human: Human scores, aligned with ``judge``.

    Returns:
        The correlation; NaN with a reason for no items, one item, or constant scores.
    """
    x, y = _as_float(judge), _as_float(human)
    return _correlation_guard(x, y) or MetricResult(_pearson_raw(x, y), len(x))


def average_ranks(values: np.ndarray) -> np.ndarray:
    """1-based ranks along the last axis, ties sharing their average rank (like ``rankdata``).

    Rows of a 2-D array are ranked independently by pairwise comparison, which suits the short rows
    of batch rankings (2-8 values); a 1-D array is ranked by sorting.
    """
    values = np.asarray(values, dtype=float)
    if values.ndim == 1:
        _, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
        upper = np.cumsum(counts)
        return (upper - (counts - 1) / 2)[inverse]
    less = (values[..., None, :] < values[..., :, None]).sum(-1)
    equal = (values[..., None, :] == values[..., :, None]).sum(-1)
    return less + (equal + 1) / 2


def spearman(judge: Sequence[float], human: Sequence[float]) -> MetricResult:
    """Spearman rank correlation (Pearson of average ranks) between judge and human scores."""
    x, y = _as_float(judge), _as_float(human)
    return _correlation_guard(x, y) or MetricResult(_pearson_raw(average_ranks(x), average_ranks(y)), len(x))


def kendall(judge: Sequence[float], human: Sequence[float]) -> MetricResult:
    """Kendall's tau-b between judge and human scores."""
    x, y = _as_float(judge), _as_float(human)
    guard = _correlation_guard(x, y)
    if guard:
        return guard
    from scipy.stats import kendalltau

    return MetricResult(float(kendalltau(x, y, variant="b").statistic), len(x))


def exact_agreement(judge: Sequence[float], human: Sequence[float]) -> MetricResult:
    """Share of items where the judge's score equals the human score."""
    return within_agreement(judge, human, tolerance=0)


def within_agreement(judge: Sequence[float], human: Sequence[float], tolerance: float = 1) -> MetricResult:
    """Share of items where ``|judge - human| <= tolerance`` (tolerance 1 = "within-1 agreement")."""
    x, y = _as_float(judge), _as_float(human)
    _check_aligned(x, y)
    if len(x) == 0:
        return _nan(0, NO_ITEMS)
    return MetricResult(float(np.mean(np.abs(x - y) <= tolerance)), len(x))


def mean_difference(judge: Sequence[float], human: Sequence[float]) -> MetricResult:
    """Mean of judge minus human score (above 0: the judge is more lenient)."""
    x, y = _as_float(judge), _as_float(human)
    _check_aligned(x, y)
    if len(x) == 0:
        return _nan(0, NO_ITEMS)
    return MetricResult(float(np.mean(x - y)), len(x))


# --------------------------------------------------------------------------- per-item: pair

TieRule = Literal["with_tie", "authors", "human_only"]


def _pair_array(values: Sequence[str], who: str) -> np.ndarray:
    arr = np.asarray(values, dtype=object).ravel()
    bad = sorted({str(v) for v in arr if v not in PAIR_LABELS})
    if bad:
        raise ValueError(f"{who} pair labels must be 'A', 'B' or 'tie' (map 'C' to 'tie' first); got {bad}")
    return arr


def pair_accuracy(judge: Sequence[str], human: Sequence[str], ties: TieRule = "with_tie") -> MetricResult:
    """Share of items where the judge's pair verdict equals the human's.

    Args:
        judge: "A", "B" or "tie" per item.
        human: Aligned human labels.
        ties: ``with_tie`` keeps every item ("w. tie"); ``authors`` drops an item when the human OR
            the judge says tie (the authors' released code, the default "w.o. tie"); ``human_only``
            drops only items the human calls a tie (a judge's tie then counts as wrong).

    Returns:
        The accuracy; NaN when no item is left.
    """
    j, h = _pair_array(judge, "judge"), _pair_array(human, "human")
    _check_aligned(j, h)
    keep = np.ones(len(j), dtype=bool)
    if ties == "authors":
        keep = (j != "tie") & (h != "tie")
    elif ties == "human_only":
        keep = h != "tie"
    elif ties != "with_tie":
        raise ValueError(f"ties must be 'with_tie', 'authors' or 'human_only', got {ties!r}")
    n = int(keep.sum())
    if len(j) == 0:
        return _nan(0, NO_ITEMS)
    if n == 0:
        return _nan(0, NO_NON_TIE)
    return MetricResult(float(np.mean(j[keep] == h[keep])), n)


def macro_f1(judge: Sequence[str], human: Sequence[str]) -> MetricResult:
    """Unweighted mean F1 over the classes A, B and tie that occur in the judge's or human labels."""
    j, h = _pair_array(judge, "judge"), _pair_array(human, "human")
    _check_aligned(j, h)
    if len(j) == 0:
        return _nan(0, NO_ITEMS)
    scores = []
    for label in PAIR_LABELS:
        tp = int(np.sum((j == label) & (h == label)))
        fp = int(np.sum((j == label) & (h != label)))
        fn = int(np.sum((j != label) & (h == label)))
        if tp + fp + fn:
            scores.append(2 * tp / (2 * tp + fp + fn))
    return MetricResult(float(np.mean(scores)), len(j))


# --------------------------------------------------------------------------- per-item: batch


def normalized_levenshtein(judge: str, human: str) -> float:
    """Edit distance between two ranking strings divided by the length of the longer one (0 = same).

    Two empty strings have distance 0.
    """
    return float(Levenshtein.normalized_distance(judge, human))


def normalized_levenshtein_many(judge: Sequence[str], human: Sequence[str]) -> np.ndarray:
    """:func:`normalized_levenshtein` for aligned sequences, computed in C on all cores."""
    from rapidfuzz.process import cpdist

    if len(judge) != len(human):
        raise ValueError(f"judge and human rankings must be aligned; got {len(judge)} and {len(human)}")
    if len(judge) == 0:
        return np.zeros(0)
    return np.asarray(cpdist(list(judge), list(human), scorer=Levenshtein.normalized_distance, workers=-1))


def mean_normalized_levenshtein(judge: Sequence[str], human: Sequence[str]) -> MetricResult:
    """Mean normalized Levenshtein distance between judge and human rankings (lower is better)."""
    if len(judge) == 0 and len(human) == 0:
        return _nan(0, NO_ITEMS)
    values = normalized_levenshtein_many(judge, human)
    return MetricResult(float(values.mean()), len(values))


def coverage(n_parsed: int, n_total: int) -> MetricResult:
    """Parsed judgments / all judgments (NaN when there are none)."""
    if n_total <= 0:
        return _nan(0, "no judgments")
    if not 0 <= n_parsed <= n_total:
        raise ValueError(f"n_parsed must be between 0 and n_total ({n_total}), got {n_parsed}")
    return MetricResult(n_parsed / n_total, n_total)


# --------------------------------------------------------------------------- table functions


def _safe_divide(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    num, den = np.asarray(num, dtype=float), np.asarray(den, dtype=float)
    out = np.full(np.broadcast(num, den).shape, np.nan)
    np.divide(num, den, out=out, where=den != 0)
    return out


def _mid_ranks(marginal: np.ndarray) -> np.ndarray:
    """Average rank (1-based) of each category given its count, categories in ascending order."""
    before = np.cumsum(marginal, axis=-1) - marginal
    return before + (marginal + 1) / 2


def _kendall_weights(rows: int, cols: int) -> np.ndarray:
    """W with ``t_flat @ W @ t_flat`` = concordant - discordant pairs of a (rows, cols) table.

    A pair of cells (i, j), (i2, j2) with i2 > i is concordant when j2 > j and discordant when
    j2 < j, so W[(i2, j2), (i, j)] = [i2 > i] * sign(j2 - j).
    """
    later = (np.arange(rows)[:, None] > np.arange(rows)[None, :]).astype(float)  # [i2, i]
    sign = np.sign(np.arange(cols)[:, None] - np.arange(cols)[None, :]).astype(float)  # [j2, j]
    return (later[:, None, :, None] * sign[None, :, None, :]).reshape(rows * cols, rows * cols)


def kendall_tau_b_table(table: np.ndarray) -> np.ndarray:
    """Kendall's tau-b of a contingency table whose rows and columns are in ascending value order."""
    t = np.asarray(table, dtype=float)
    rows, cols = t.shape[-2], t.shape[-1]
    flat = t.reshape(*t.shape[:-2], rows * cols)
    balance = ((flat @ _kendall_weights(rows, cols)) * flat).sum(-1)
    n = flat.sum(-1)
    px, py = t.sum(-1), t.sum(-2)
    n0 = n * (n - 1) / 2
    n1 = (px * (px - 1) / 2).sum(-1)
    n2 = (py * (py - 1) / 2).sum(-1)
    return _safe_divide(balance, np.sqrt((n0 - n1) * (n0 - n2)))


def _score_weights() -> np.ndarray:
    """Columns that turn a flattened 5x5 table into the sums every score metric needs."""
    x = np.repeat(SCORE_VALUES, 5)  # judge score of cell (i, j) = i + 1
    y = np.tile(SCORE_VALUES, 5)  # human score = j + 1
    columns = [np.ones(25), (x == y), (np.abs(x - y) <= 1), x - y, x, y, x * x, y * y, x * y]
    columns += [(x == v) for v in SCORE_VALUES] + [(y == v) for v in SCORE_VALUES]
    return np.stack(columns, axis=1).astype(float)


_SCORE_W = _score_weights()


def score_table_stats(table: np.ndarray) -> dict[str, np.ndarray]:
    """Score-mode metrics from ``table[..., judge - 1, human - 1]`` (counts, shape (..., 5, 5)).

    Counts are integers, so the raw moments below are exact in float64 (no cancellation): a constant
    side gives exactly zero variance and a NaN correlation, never a noisy number.

    Returns:
        Arrays of shape (...) for pearson, spearman, kendall, exact_agreement, within1_agreement,
        mean_score_difference, plus n, judge_constant and human_constant (for NaN reasons).
    """
    t = np.asarray(table, dtype=float)
    sums = t.reshape(*t.shape[:-2], 25) @ _SCORE_W
    n, exact, within, diff, sx, sy, sxx, syy, sxy = np.moveaxis(sums[..., :9], -1, 0)
    px, py = sums[..., 9:14], sums[..., 14:19]
    vx, vy = n * sxx - sx * sx, n * syy - sy * sy
    pearson_r = np.where((n >= 2) & (vx > 0) & (vy > 0), _safe_divide(n * sxy - sx * sy, np.sqrt(vx * vy)), np.nan)
    # Spearman: Pearson of mid-ranks; the mean rank is (n + 1) / 2, so centre on it exactly.
    centre = ((n + 1) / 2)[..., None]
    rx, ry = _mid_ranks(px) - centre, _mid_ranks(py) - centre
    rxx, ryy = (px * rx * rx).sum(-1), (py * ry * ry).sum(-1)
    rxy = np.einsum("...i,...ij,...j->...", rx, t, ry)
    spearman_r = np.where((n >= 2) & (rxx > 0) & (ryy > 0), _safe_divide(rxy, np.sqrt(rxx * ryy)), np.nan)
    return {
        "pearson": pearson_r,
        "spearman": spearman_r,
        "kendall": np.where(n >= 2, kendall_tau_b_table(t), np.nan),
        "exact_agreement": _safe_divide(exact, n),
        "within1_agreement": _safe_divide(within, n),
        "mean_score_difference": _safe_divide(diff, n),
        "n": n,
        "judge_constant": (px > 0).sum(-1) <= 1,
        "human_constant": (py > 0).sum(-1) <= 1,
    }


def _pair_weights() -> np.ndarray:
    j = np.repeat(np.arange(3), 3)  # judge label of cell (j, h): 0 A, 1 B, 2 tie
    h = np.tile(np.arange(3), 3)
    columns: list[np.ndarray] = [np.ones(9)]
    columns += [(j == k) & (h == k) for k in range(3)]  # hits per class
    columns += [(j == k) for k in range(3)] + [(h == k) for k in range(3)]  # judge / human counts
    columns += [(j < 2) & (h < 2), (h < 2)]  # both decided, human decided
    return np.stack(columns, axis=1).astype(float)


_PAIR_W = _pair_weights()


def pair_table_stats(table: np.ndarray) -> dict[str, np.ndarray]:
    """Pair-mode metrics from ``table[..., judge, human]`` with labels in order A, B, tie (shape (..., 3, 3)).

    Returns:
        Arrays of shape (...) for accuracy_with_tie, accuracy_without_tie (authors'),
        accuracy_without_tie_human_only, macro_f1, judge_choose_a_rate, human_choose_a_rate,
        position_bias, human_tie_rate, plus n, n_without_tie, n_without_human_tie.
    """
    t = np.asarray(table, dtype=float)
    sums = t.reshape(*t.shape[:-2], 9) @ _PAIR_W
    n = sums[..., 0]
    diag, judge_counts, human_counts = sums[..., 1:4], sums[..., 4:7], sums[..., 7:10]
    both_decided, human_decided = sums[..., 10], sums[..., 11]
    hits_ab = diag[..., 0] + diag[..., 1]
    f1_den = judge_counts + human_counts
    f1 = _safe_divide(2 * diag, f1_den)
    present = f1_den > 0
    macro = _safe_divide(np.where(present, f1, 0).sum(-1), present.sum(-1))
    judge_a = _safe_divide(judge_counts[..., 0], n)
    human_a = _safe_divide(human_counts[..., 0], n)
    return {
        "accuracy_with_tie": _safe_divide(diag.sum(-1), n),
        "accuracy_without_tie": _safe_divide(hits_ab, both_decided),
        "accuracy_without_tie_human_only": _safe_divide(hits_ab, human_decided),
        "macro_f1": macro,
        "judge_choose_a_rate": judge_a,
        "human_choose_a_rate": human_a,
        "position_bias": judge_a - human_a,
        "human_tie_rate": _safe_divide(human_counts[..., 2], n),
        "n": n,
        "n_without_tie": both_decided,
        "n_without_human_tie": human_decided,
    }


def mean_from_counts(counts: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Mean of a variable from counts of its distinct values (``counts[..., k]`` items equal ``values[k]``)."""
    c = np.asarray(counts, dtype=float)
    return _safe_divide((c * values).sum(-1), c.sum(-1))


# --------------------------------------------------------------------------- bootstrap


def multinomial_resample(tables: np.ndarray, n_resamples: int, rng: np.random.Generator) -> np.ndarray:
    """Bootstrap resamples of count tables.

    Drawing n items with replacement from a cell and tabulating them is a multinomial draw with the
    cell's observed proportions, so this equals the item-level bootstrap for any metric that depends
    on the items only through the table.

    Args:
        tables: Counts, shape (C, K) (flatten 2-D tables first); a row may be all zero.
        n_resamples: Number of resamples B.
        rng: A seeded generator.

    Returns:
        Resampled counts, shape (B, C, K).
    """
    tables = np.asarray(tables, dtype=np.int64)
    n = tables.sum(-1)
    k = tables.shape[-1]
    p = np.where(n[:, None] > 0, tables / np.maximum(n, 1)[:, None], 1.0 / k)
    return rng.multinomial(n, p, size=(n_resamples, len(tables)))


def item_weight_resample(n: int, n_resamples: int, rng: np.random.Generator) -> np.ndarray:
    """Bootstrap resamples of ``n`` items as weights: how often each item is drawn, shape (B, n).

    For metrics of per-item features (probabilities are continuous, so no small table holds them),
    ``weights @ features`` gives each resample's feature sums; a row of weights is one item-level
    resample drawn with replacement.
    """
    if n == 0:
        return np.zeros((n_resamples, 0), dtype=np.int64)
    idx = rng.integers(0, n, size=(n_resamples, n)) + (np.arange(n_resamples, dtype=np.int64) * n)[:, None]
    return np.bincount(idx.ravel(), minlength=n_resamples * n).reshape(n_resamples, n)


def percentile_interval(boot: np.ndarray, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Percentile interval over axis 0, ignoring NaN resamples (NaN where none is finite).

    Args:
        boot: Resampled statistics, shape (B, ...).
        level: Coverage of the interval.

    Returns:
        Lower and upper ends, each of shape (...).
    """
    boot = np.asarray(boot, dtype=float)
    ordered = np.sort(boot, axis=0)  # NaN sorts last
    finite = np.isfinite(boot).sum(axis=0)
    ends = []
    for q in ((1 - level) / 2, (1 + level) / 2):
        pos = q * np.maximum(finite - 1, 0)
        lo = np.floor(pos).astype(np.int64)
        hi = np.minimum(lo + 1, np.maximum(finite - 1, 0))
        a = np.take_along_axis(ordered, lo[None, ...], axis=0)[0]
        b = np.take_along_axis(ordered, hi[None, ...], axis=0)[0]
        ends.append(np.where(finite > 0, a + (b - a) * (pos - lo), np.nan))
    return ends[0], ends[1]


def wilson_at_bounds(
    values: np.ndarray, n: np.ndarray, lo: np.ndarray, hi: np.ndarray, level: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Intervals of shares of items, with the Wilson score interval where a share is 0 or 1.

    At a share of 0 or 1 every bootstrap resample repeats the value, so the percentile interval is
    that single point: a certainty no finite sample gives. There the Wilson score interval (Wilson
    1927; recommended by Brown, Cai and DasGupta 2001) is used: ``[n / (n + z^2), 1]`` at 1 and
    ``[0, z^2 / (n + z^2)]`` at 0, ``z`` the standard normal quantile of ``(1 + level) / 2``.
    Everywhere else the bootstrap interval is kept as it is.

    Args:
        values: The shares, shape (C,).
        n: The items each share is over, shape (C,).
        lo: The bootstrap interval's lower ends, shape (C,).
        hi: Its upper ends, shape (C,).
        level: Coverage of the interval.

    Returns:
        Lower and upper ends, shape (C,).
    """
    values, n = np.asarray(values, dtype=float), np.asarray(n, dtype=float)
    z2 = NormalDist().inv_cdf((1 + level) / 2) ** 2
    width = z2 / (np.maximum(n, 1) + z2)
    one, zero = (values == 1) & (n > 0), (values == 0) & (n > 0)
    lo = np.where(one, 1 - width, np.where(zero, 0.0, lo))
    hi = np.where(zero, width, np.where(one, 1.0, hi))
    return lo, hi


def bootstrap_ci(
    statistic: Callable[..., np.ndarray],
    *arrays: Sequence[float] | np.ndarray,
    n_resamples: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> tuple[float, float]:
    """Item-level percentile bootstrap interval, vectorised: one (B, n) index draw, one statistic call.

    Args:
        statistic: Maps arrays of shape (B, n) (one per input, resampled together) to shape (B,).
        *arrays: Aligned per-item arrays.
        n_resamples: Number of resamples.
        seed: Seed of the generator (same seed, same interval).
        level: Coverage of the interval.

    Returns:
        (low, high); NaN for empty input.
    """
    columns = [np.asarray(a) for a in arrays]
    n = len(columns[0]) if columns else 0
    if n == 0:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, n, size=(n_resamples, n))
    boot = np.asarray(statistic(*(c[idx] for c in columns)), dtype=float)
    low, high = percentile_interval(boot, level)
    return float(low), float(high)


def pearson_rows(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Pearson correlation along the last axis (NaN where a row is constant); for :func:`bootstrap_ci`."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    dx = x - x.mean(-1, keepdims=True)
    dy = y - y.mean(-1, keepdims=True)
    sxx, syy = (dx * dx).sum(-1), (dy * dy).sum(-1)
    scale = x.shape[-1] * 1e-12
    return np.where((sxx > scale) & (syy > scale), _safe_divide((dx * dy).sum(-1), np.sqrt(sxx * syy)), np.nan)
