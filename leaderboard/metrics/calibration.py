"""Metrics of verdict probabilities: expected-score Pearson, calibration error, Brier score, reliability.

Runs that store a verdict distribution per judgment (:class:`judges.types.VerdictDistribution`:
label -> probability, the expected score, the chosen label's probability) get three more metrics:

* ``pearson_expected``: Pearson correlation between the probability-weighted expected score
  ``sum_k k * p_k`` and the human score (score verdicts);
* ``ece``: expected calibration error. Items fall into 10 equal-width bins of the chosen label's
  probability (``[0, .1), [.1, .2), ..., [.9, 1]``); ECE = sum over bins of
  ``|accuracy - mean confidence|`` weighted by the bin's share of items (accuracy: the verdict equals
  the human label);
* ``brier``: the multi-class Brier score, the mean over items of ``sum_k (p_k - [k = human])^2``
  (0 = certain and right, 2 = certain and wrong).

Like every metric of the engine, each is a function of per-cell sums: of per-item *features*
(:func:`expected_features`, :func:`calibration_features`) rather than of a contingency table, since
probabilities are continuous. A bootstrap resample of items is then a vector of item weights
(:func:`leaderboard.metrics.tables.item_weight_resample`) times the feature matrix, so 1,000
resamples stay a few matrix products. :func:`reliability_bins` gives the data of a reliability
diagram (the UI plots it).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from leaderboard.metrics.tables import NO_ITEMS, TOO_FEW, MetricResult, _nan, _safe_divide

#: Equal-width confidence bins of ``ece`` and the reliability diagram.
N_BINS = 10
NO_SPREAD = "expected scores or human scores are constant (correlation undefined)"


def confidence_bin(confidence: np.ndarray, n_bins: int = N_BINS) -> np.ndarray:
    """The bin of each confidence in ``[0, 1]``: ``floor(c * n_bins)``, 1.0 in the last bin."""
    c = np.clip(np.asarray(confidence, dtype=float), 0.0, 1.0)
    return np.minimum((c * n_bins).astype(np.int64), n_bins - 1)


# --------------------------------------------------------------------------- per-item reference functions


def pearson_expected(expected: Sequence[float], human: Sequence[float]) -> MetricResult:
    """Pearson correlation of expected scores with human scores (the per-item reference)."""
    stats = expected_stats(expected_features(np.asarray(expected, dtype=float), np.asarray(human, dtype=float)).sum(0))
    return MetricResult(float(stats["pearson_expected"]), int(stats["n"]), str(stats["reason:pearson_expected"]))


def expected_calibration_error(
    confidence: Sequence[float], correct: Sequence[bool], n_bins: int = N_BINS
) -> MetricResult:
    """ECE: ``sum_b (n_b / n) * |accuracy_b - confidence_b|`` over equal-width confidence bins.

    Args:
        confidence: Probability of the chosen label, per item, in [0, 1].
        correct: Whether the chosen label equals the human label, aligned.
        n_bins: Number of bins.

    Returns:
        The error (0 = calibrated); NaN for no items.
    """
    c, o = np.asarray(confidence, dtype=float), np.asarray(correct, dtype=float)
    if len(c) != len(o):
        raise ValueError(f"confidence and correct must be aligned; got {len(c)} and {len(o)} values")
    if len(c) == 0:
        return _nan(0, NO_ITEMS)
    gap = np.bincount(confidence_bin(c, n_bins), o - c, minlength=n_bins)
    return MetricResult(float(np.abs(gap).sum() / len(c)), len(c))


def brier_score(probabilities: np.ndarray, human: Sequence[int]) -> MetricResult:
    """Multi-class Brier score: mean over items of ``sum_k (p_k - [k = human])^2``.

    Args:
        probabilities: (n, K) verdict distributions (rows sum to 1).
        human: The human label's class index per item.

    Returns:
        The score (0 best, 2 worst); NaN for no items.
    """
    p = np.asarray(probabilities, dtype=float).reshape(len(human), -1) if len(human) else np.zeros((0, 1))
    if len(p) == 0:
        return _nan(0, NO_ITEMS)
    return MetricResult(float(per_item_brier(p, np.asarray(human, dtype=np.int64)).mean()), len(p))


def per_item_brier(probabilities: np.ndarray, human: np.ndarray) -> np.ndarray:
    """``sum_k (p_k - [k = human])^2`` per row: ``sum p^2 - 2 p_human + 1``."""
    p = np.asarray(probabilities, dtype=float)
    at_human = np.take_along_axis(p, np.asarray(human, dtype=np.int64)[:, None], axis=1)[:, 0]
    return (p * p).sum(-1) - 2 * at_human + 1


def reliability_bins(
    confidence: Sequence[float] | np.ndarray, correct: Sequence[bool] | np.ndarray, n_bins: int = N_BINS
) -> pd.DataFrame:
    """The data of a reliability diagram: per confidence bin, its range, items, accuracy and confidence.

    Args:
        confidence: Probability of the chosen label per item.
        correct: Whether the verdict equals the human label, aligned.
        n_bins: Number of equal-width bins.

    Returns:
        One row per bin (``bin_low``, ``bin_high``, ``n``, ``accuracy``, ``confidence``, ``gap`` =
        accuracy - confidence); accuracy and confidence are NaN in an empty bin. The ``ece`` of the
        same items is ``sum(n * |gap|) / sum(n)``.
    """
    c, o = np.asarray(confidence, dtype=float), np.asarray(correct, dtype=float)
    b = confidence_bin(c, n_bins)
    n = np.bincount(b, minlength=n_bins).astype(float)
    accuracy = _safe_divide(np.bincount(b, o, n_bins), n)
    mean_conf = _safe_divide(np.bincount(b, c, n_bins), n)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    return pd.DataFrame(
        {
            "bin_low": edges[:-1],
            "bin_high": edges[1:],
            "n": n.astype(np.int64),
            "accuracy": accuracy,
            "confidence": mean_conf,
            "gap": accuracy - mean_conf,
        }
    )


# --------------------------------------------------------------------------- features and their statistics


def expected_features(expected: np.ndarray, human: np.ndarray) -> np.ndarray:
    """Per-item features whose sums give ``pearson_expected``: 1, x, y, x^2, y^2, xy (x expected, y human)."""
    x, y = np.asarray(expected, dtype=float), np.asarray(human, dtype=float)
    return np.stack([np.ones_like(x), x, y, x * x, y * y, x * y], axis=-1)


def expected_stats(sums: np.ndarray) -> dict[str, np.ndarray]:
    """``pearson_expected`` from sums of :func:`expected_features` (shape (..., 6))."""
    s = np.asarray(sums, dtype=float)
    n, sx, sy, sxx, syy, sxy = np.moveaxis(s, -1, 0)
    vx, vy = n * sxx - sx * sx, n * syy - sy * sy
    # The expected score is continuous, so its variance is not an exact integer: a relative floor
    # keeps rounding noise of a constant column from passing for spread.
    eps = 1e-9 * np.maximum(n * n, 1) * (1 + np.abs(_safe_divide(sx, n))) ** 2
    ok = (n >= 2) & (vx > eps) & (vy > 0.5)
    value = np.where(ok, _safe_divide(n * sxy - sx * sy, np.sqrt(np.where(ok, vx * vy, 1))), np.nan)
    out = {"pearson_expected": value, "n": n}
    if s.ndim <= 2:  # point estimates; a bootstrap batch (B, C, F) needs no reasons
        out["reason:pearson_expected"] = np.select([n == 0, n < 2, ~ok], [NO_ITEMS, TOO_FEW, NO_SPREAD], "").astype(
            object
        )
    return out


def calibration_features(probabilities: np.ndarray, judge: np.ndarray, human: np.ndarray) -> np.ndarray:
    """Per-item features whose sums give ``ece`` and ``brier``.

    Columns: 1, the item's Brier term, then ``correct - confidence`` in the column of the item's
    confidence bin (:data:`N_BINS` columns, zero elsewhere).

    Args:
        probabilities: (n, K) distributions over the verdict classes.
        judge: The verdict's class per item (its probability is the confidence).
        human: The human label's class per item.
    """
    p = np.asarray(probabilities, dtype=float)
    judge, human = np.asarray(judge, dtype=np.int64), np.asarray(human, dtype=np.int64)
    confidence = np.take_along_axis(p, judge[:, None], axis=1)[:, 0]
    gap = (judge == human).astype(float) - confidence
    out = np.zeros((len(p), 2 + N_BINS))
    out[:, 0] = 1.0
    out[:, 1] = per_item_brier(p, human)
    out[np.arange(len(p)), 2 + confidence_bin(confidence)] = gap
    return out


def calibration_stats(sums: np.ndarray) -> dict[str, np.ndarray]:
    """``ece`` and ``brier`` from sums of :func:`calibration_features` (shape (..., 2 + N_BINS))."""
    s = np.asarray(sums, dtype=float)
    n = s[..., 0]
    out = {"ece": _safe_divide(np.abs(s[..., 2:]).sum(-1), n), "brier": _safe_divide(s[..., 1], n), "n": n}
    if s.ndim <= 2:  # point estimates; a bootstrap batch (B, C, F) needs no reasons
        out["reason:ece"] = out["reason:brier"] = np.where(n == 0, NO_ITEMS, "").astype(object)
    return out
