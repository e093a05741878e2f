"""Chance-corrected agreement: Cohen's kappa (pair verdicts) and quadratic-weighted kappa (scores).

Both come in the two layers of :mod:`leaderboard.metrics.tables`: a per-item reference function
(:func:`cohen_kappa`, :func:`quadratic_weighted_kappa`) that tests check by hand, and a table form
(:func:`kappa_table`) computed from ``table[..., judge, human]`` counts, vectorised over leading axes
so the multinomial bootstrap costs a few array operations.

Definitions (Cohen 1960; Cohen 1968 for the weighted form): with observed proportions
``O[i, j]`` (judge class i, human class j), margins ``r`` (judge) and ``c`` (human), the chance table
``E = r c^T`` and disagreement weights ``w[i, j]``,

    kappa_w = 1 - sum(w * O) / sum(w * E).

Unweighted kappa is ``w = 1 - [i == j]`` (which gives ``(p_o - p_e) / (1 - p_e)``); the quadratic
weights are ``((i - j) / (K - 1))^2``. Kappa is undefined (NaN) when ``sum(w * E) = 0``: judge and
human both use a single, identical class, so chance already explains every agreement.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from leaderboard.metrics.tables import NO_ITEMS, PAIR_LABELS, MetricResult, _nan, _safe_divide

#: Why a kappa is NaN on items that exist.
CHANCE_ONLY = "judge and human use one identical class only (kappa undefined)"


def nominal_weights(k: int) -> np.ndarray:
    """Disagreement weights of plain Cohen's kappa: 0 on the diagonal, 1 elsewhere."""
    return 1.0 - np.eye(k)


def quadratic_weights(k: int) -> np.ndarray:
    """Disagreement weights of quadratic-weighted kappa: ``((i - j) / (k - 1))^2``."""
    i = np.arange(k, dtype=float)
    return ((i[:, None] - i[None, :]) / max(k - 1, 1)) ** 2


def kappa_table(table: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Weighted kappa of count tables ``table[..., judge, human]`` (shape (..., K, K)).

    Args:
        table: Counts; any leading axes.
        weights: (K, K) disagreement weights (:func:`nominal_weights`, :func:`quadratic_weights`).

    Returns:
        Kappa per table, shape (...); NaN for an empty table or where chance explains everything.
    """
    t = np.asarray(table, dtype=float)
    n = t.sum((-2, -1))
    rows, cols = t.sum(-1), t.sum(-2)
    observed = (t * weights).sum((-2, -1))
    # Work in counts, not proportions: sum(w * E) * n = sum_ij w_ij r_i c_j / n * n.
    expected = _safe_divide(np.einsum("...i,ij,...j->...", rows, weights, cols), n)
    value = 1.0 - _safe_divide(observed, expected)
    return np.where((n > 0) & (expected > 0), value, np.nan)


def _kappa(judge: np.ndarray, human: np.ndarray, classes: Sequence[object], weights: np.ndarray) -> MetricResult:
    if len(judge) != len(human):
        raise ValueError(f"judge and human must be aligned item by item; got {len(judge)} and {len(human)} values")
    if len(judge) == 0:
        return _nan(0, NO_ITEMS)
    index = {c: i for i, c in enumerate(classes)}
    bad = sorted({str(v) for v in (*judge, *human) if v not in index})
    if bad:
        raise ValueError(f"labels must be among {list(classes)}; got {bad}")
    table = np.zeros((len(classes), len(classes)))
    np.add.at(table, ([index[v] for v in judge], [index[v] for v in human]), 1)
    value = float(kappa_table(table, weights))
    return MetricResult(value, len(judge), CHANCE_ONLY if np.isnan(value) else "")


def cohen_kappa(judge: Sequence[str], human: Sequence[str], labels: Sequence[str] = PAIR_LABELS) -> MetricResult:
    """Cohen's kappa between judge and human labels over the classes ``labels`` (default A, B, tie).

    Args:
        judge: A label per item.
        human: Aligned human labels.
        labels: The classes.

    Returns:
        ``(p_o - p_e) / (1 - p_e)``; NaN with a reason for no items or a single shared class.
    """
    j, h = list(judge), list(human)
    return _kappa(np.asarray(j, dtype=object), np.asarray(h, dtype=object), tuple(labels), nominal_weights(len(labels)))


def quadratic_weighted_kappa(
    judge: Sequence[float], human: Sequence[float], values: Sequence[int] = (1, 2, 3, 4, 5)
) -> MetricResult:
    """Quadratic-weighted kappa between judge and human scores on the scale ``values``.

    Args:
        judge: A score per item.
        human: Aligned human scores.
        values: The scale's values in order (default 1..5).

    Returns:
        The weighted kappa; NaN with a reason for no items or a single shared score.
    """
    scale = tuple(int(v) for v in values)
    j = np.asarray([int(v) for v in judge], dtype=object)
    h = np.asarray([int(v) for v in human], dtype=object)
    return _kappa(j, h, scale, quadratic_weights(len(scale)))
