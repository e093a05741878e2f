"""Descriptive bias and reliability figures, vectorised over groups of judgments.

These feed the leaderboard's ``length_bias``, ``human_length_correlation``, ``self_consistency`` and
``swap_consistency`` columns. They describe a judge rather than score it, so they carry no bootstrap
interval. Position bias and tie rate come from the pair contingency table instead
(:func:`leaderboard.metrics.tables.pair_table_stats`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from leaderboard.metrics import tables as M


def grouped_pearson(
    groups: np.ndarray, x: np.ndarray, y: np.ndarray, n_groups: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pearson correlation of ``x`` and ``y`` within each group, from running sums.

    Args:
        groups: Group index per observation (0..n_groups-1).
        x: First variable.
        y: Second variable.
        n_groups: Number of groups.

    Returns:
        (correlation, n, reason) arrays of length ``n_groups``; NaN with a reason where a group has
        fewer than two observations or a constant variable.
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    n = np.bincount(groups, minlength=n_groups).astype(float)
    sx = np.bincount(groups, x, n_groups)
    sy = np.bincount(groups, y, n_groups)
    mx, my = M._safe_divide(sx, n), M._safe_divide(sy, n)
    # Centre before squaring so that a constant variable gives an exact zero variance.
    dx, dy = x - mx[groups], y - my[groups]
    sxx = np.bincount(groups, dx * dx, n_groups)
    syy = np.bincount(groups, dy * dy, n_groups)
    sxy = np.bincount(groups, dx * dy, n_groups)
    eps = np.maximum(n, 1) * 1e-12 * (1 + np.abs(mx) + np.abs(my)) ** 2
    ok = (n >= 2) & (sxx > eps) & (syy > eps)
    r = np.where(ok, M._safe_divide(sxy, np.sqrt(sxx * syy)), np.nan)
    reason = np.select(
        [n == 0, n < 2, sxx <= eps, syy <= eps],
        [M.NO_ITEMS, M.TOO_FEW, "lengths are all equal", "verdicts or labels are constant (correlation undefined)"],
        default="",
    ).astype(object)
    return r, n, reason


def grouped_mean(groups: np.ndarray, values: np.ndarray, n_groups: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean of the finite ``values`` per group, and how many there were (NaN mean for none)."""
    values = np.asarray(values, dtype=float)
    ok = np.isfinite(values)
    n = np.bincount(groups[ok], minlength=n_groups).astype(float)
    total = np.bincount(groups[ok], values[ok], n_groups)
    return M._safe_divide(total, n), n


def lengths_matrix(texts: Sequence[str], width: int = 8) -> np.ndarray:
    """Parse "120|88|301" length strings into a (len(texts), width) float matrix padded with NaN."""
    out = np.full((len(texts), width), np.nan)
    # One split and one float() per value over all rows at once, instead of a list per row.
    counts = np.fromiter((text.count("|") + 1 if text else 0 for text in texts), dtype=np.int64, count=len(texts))
    total = int(counts.sum())
    if total:
        values = np.fromiter(map(float, "|".join(text for text in texts if text).split("|")), dtype=float, count=total)
        rows = np.repeat(np.arange(len(texts)), counts)
        cols = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
        keep = cols < width
        out[rows[keep], cols[keep]] = values[keep]
    return out


def single_length(lengths: np.ndarray) -> np.ndarray:
    """The response length of score items: column 0 where exactly one length is known, else NaN."""
    known = np.isfinite(lengths).sum(-1)
    return np.where(known == 1, lengths[:, 0], np.nan)


def pair_length_signal(lengths: np.ndarray) -> np.ndarray:
    """``(len A - len B) / (len A + len B)`` per item; NaN when lengths are unknown or both zero."""
    known = np.isfinite(lengths).sum(-1)
    a, b = lengths[:, 0], lengths[:, 1]
    return np.where((known == 2) & (a + b > 0), M._safe_divide(a - b, a + b), np.nan)


def _positions(ranking: object, width: int) -> tuple[np.ndarray, int]:
    """Rank-from-best per letter (first of n gets n) padded with NaN, and n (0 when not a ranking)."""
    out = np.full(width, np.nan)
    if not isinstance(ranking, str) or sorted(ranking) != [chr(65 + k) for k in range(len(ranking))]:
        return out, 0
    if len(ranking) > width:  # more responses than any item has lengths for: never usable
        return out, len(ranking)
    for place, letter in enumerate(ranking):
        out[ord(letter) - 65] = len(ranking) - place
    return out, len(ranking)


def _ranking_positions(rankings: Sequence[str | None] | np.ndarray, width: int) -> tuple[np.ndarray, ...]:
    """Each item's ranking as a code, and per code (the last row: none) its :func:`_positions` and size."""
    codes, uniques = pd.factorize(pd.Series(rankings, dtype=object))
    parts = [_positions(u, width) for u in uniques] + [(np.full(width, np.nan), 0)]
    return codes, np.array([p for p, _ in parts]), np.array([n for _, n in parts])  # code -1 picks the last


def length_ranks(lengths: np.ndarray) -> np.ndarray:
    """Average ranks of each row's known lengths (the first k columns), NaN where unknown."""
    lengths = np.asarray(lengths, dtype=float)
    out = np.full(lengths.shape, np.nan)
    known = np.isfinite(lengths).sum(-1)
    for k in np.unique(known[known >= 2]):
        idx = np.flatnonzero(known == k)
        out[idx, :k] = M.average_ranks(lengths[idx, :k])
    return out


def batch_length_spearman(
    rankings: Sequence[str | None] | np.ndarray,
    lengths: np.ndarray,
    ranks: np.ndarray | None = None,
    rows: np.ndarray | None = None,
) -> np.ndarray:
    """Per item, Spearman correlation between response lengths and how high each response is ranked.

    A response ranked first of n gets rank n, the last gets 1, so a positive value means longer
    responses are ranked higher. Items whose ranking is missing, does not cover exactly the known
    responses, or whose lengths are all equal give NaN.

    Args:
        rankings: Letters best-first ("CADB") or None, per item.
        lengths: Response lengths in letter order (A, B, C, ...), shape (items, width), NaN-padded.
        ranks: :func:`length_ranks` of ``lengths`` when already known (items sharing a label row
            can then share the work).
        rows: The label row of each item, when known: items with the same row and the same ranking
            (judges that agree) are computed once.

    Returns:
        One value per item.
    """
    lengths = np.asarray(lengths, dtype=float)
    ranks = length_ranks(lengths) if ranks is None else ranks
    out = np.full(len(lengths), np.nan)
    codes, by_code, sizes = _ranking_positions(rankings, lengths.shape[1])
    positions, size = by_code[codes], sizes[codes]
    known = np.isfinite(lengths).sum(-1)
    usable = (size >= 2) & (size == known)
    for k in np.unique(size[usable]):
        idx = np.flatnonzero(usable & (size == k))
        if rows is not None and np.bincount(np.asarray(rows, dtype=np.int64)[idx]).max(initial=0) > 1:
            # One correlation per (label row, ranking): row-wise, so the same inputs give the same value.
            # (Items of one run have a row each: nothing to share there.)
            pair = np.asarray(rows, dtype=np.int64)[idx] * len(sizes) + codes[idx]
            _, first, back = np.unique(pair, return_index=True, return_inverse=True)
            once = idx[first]
            out[idx] = M.pearson_rows(ranks[once, :k], positions[once, :k])[back]
        else:
            out[idx] = M.pearson_rows(ranks[idx, :k], positions[idx, :k])
    return out


@dataclass(frozen=True)
class RankingRows:
    """What the length Spearman of a ranking needs from each label row, computed once per row.

    Made by :func:`ranking_rows` from a label table's lengths and :func:`length_ranks`; the
    per-judgment part (:func:`batch_length_spearman_rows`) is then a few gathers and one product.

    Attributes:
        known: How many lengths each row knows.
        ranks: The rows' length ranks (:func:`length_ranks`).
        clean: Rows whose known lengths are their first ``known`` columns, so that their ranks are a
            proper average ranking of 1..k.
        centred: Clean rows' ranks minus their mean (k + 1) / 2.
        sxx: Clean rows' sums of squared centred ranks.
    """

    known: np.ndarray
    ranks: np.ndarray
    clean: np.ndarray
    centred: np.ndarray
    sxx: np.ndarray


def ranking_rows(lengths: np.ndarray, ranks: np.ndarray) -> RankingRows:
    """:class:`RankingRows` of label rows with ``lengths`` and their :func:`length_ranks` ``ranks``."""
    lengths = np.asarray(lengths, dtype=float)
    finite = np.isfinite(lengths)
    known = finite.sum(-1)
    first = np.arange(lengths.shape[1]) < known[:, None]
    clean = (finite == first).all(-1) & (known >= 2)
    centred = np.where(first & clean[:, None], ranks - ((known + 1) / 2)[:, None], 0.0)
    return RankingRows(known, ranks, clean, centred, (centred * centred).sum(-1))


def batch_length_spearman_rows(
    rankings: Sequence[str | None] | np.ndarray, rows: np.ndarray, table: RankingRows
) -> np.ndarray:
    """:func:`batch_length_spearman` of items given by their label rows (``rows``) in ``table``.

    The same numbers to the last bit, computed without gathering each item's lengths: for a clean
    row, the ranks centred on (k + 1) / 2 and a full ranking's positions centred the same way are
    multiples of 1/2, so the correlation's sums are exact whatever their order and each item's part
    is one product of gathered rows. Other rows go through :func:`batch_length_spearman`'s own
    arithmetic.
    """
    rows = np.asarray(rows, dtype=np.int64)
    out = np.full(len(rows), np.nan)
    codes, positions, sizes = _ranking_positions(rankings, table.ranks.shape[1])
    size = sizes[codes]
    usable = (size >= 2) & (size == table.known[rows])
    for k in np.unique(size[usable]):
        idx = np.flatnonzero(usable & (size == k))
        clean = table.clean[rows[idx]]
        fast, slow = idx[clean], idx[~clean]
        if len(fast):
            centred = positions[:, :k] - (k + 1) / 2
            dy = centred[codes[fast]]
            dx = table.centred[rows[fast], :k]
            syy = (centred * centred).sum(-1)[codes[fast]]
            sxx = table.sxx[rows[fast]]
            scale = k * 1e-12
            r = M._safe_divide((dx * dy).sum(-1), np.sqrt(sxx * syy))
            out[fast] = np.where((sxx > scale) & (syy > scale), r, np.nan)
        if len(slow):
            out[slow] = M.pearson_rows(table.ranks[rows[slow], :k], positions[codes[slow], :k])
    return out
