"""How judge verdicts of each shape are counted against human labels.

A task's verdict shape (:class:`judges.verdicts.VerdictSpace`) has a ``kind``; each kind has one
:class:`Agreement` here, which knows how to encode verdicts and labels as numbers, which metric
families (contingency tables) apply, and which length signal the bias columns correlate with.
:mod:`leaderboard.metrics.compute` joins runs with labels and builds rows; it asks the agreement
of a task's kind and never branches on a task's name. A new task whose verdicts are a scale, a
choice or a ranking gets these metrics without a line here; a new *kind* adds one class and one
registry entry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import pandas as pd

from judges.verdicts import Choice, Ranking, Scale, VerdictSpace
from leaderboard.errors import LeaderboardError
from leaderboard.metrics import bias as B
from leaderboard.metrics import tables as M


@dataclass(frozen=True)
class Joined:
    """One task's judgments from every run, aligned with their labels (arrays of length N)."""

    runs: tuple
    run_idx: np.ndarray
    ds_code: np.ndarray
    datasets: tuple[str, ...]
    parsed: np.ndarray
    labeled: np.ndarray
    verdict: np.ndarray  # encoded by the kind's Agreement (missing where unparsed)
    human: np.ndarray  # same encoding; meaningless where not labeled
    lengths: np.ndarray  # (N, 8) response lengths in characters, NaN-padded (all NaN when unknown)
    length_ranks: np.ndarray | None  # rankings: average ranks of those lengths, computed once per label row
    self_consistency: np.ndarray
    swap_consistent: np.ndarray


@dataclass(frozen=True)
class Family:
    """Metrics that share one contingency table per (run, dataset) cell.

    Attributes:
        name: Used in the generator seed.
        base: Records the coverage is computed over (mask, shape (N,)).
        use: Records entering the table (mask).
        codes: Category code per record (valid where ``use``).
        n_categories: Size K of the table.
        stats: Maps counts (..., K) to {metric: values (...)} (+ optional "n:<metric>" and "reason:<metric>").
        metrics: Metric names to emit from ``stats``.
        pooled: Metric names also emitted for the whole run (dataset "Pooled"), name -> source stat.
    """

    name: str
    base: np.ndarray
    use: np.ndarray
    codes: np.ndarray
    n_categories: int
    stats: Callable[[np.ndarray], dict[str, np.ndarray]]
    metrics: tuple[str, ...]
    pooled: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class LengthFigure:
    """A length-bias figure per (run, dataset) cell: values, the n behind each, and NaN reasons."""

    value: np.ndarray
    n: np.ndarray
    reason: np.ndarray


class Agreement(Protocol):
    """How verdicts of one kind are counted. See the module docstring.

    Attributes:
        missing: The encoding of "no verdict" / "no label".
        needs_length_ranks: Whether :meth:`length_figure` reads ``Joined.length_ranks``.
    """

    missing: object
    needs_length_ranks: bool

    def encode(self, values: np.ndarray) -> np.ndarray:
        """Stored verdicts or canonical label strings (object array, None for none) -> the encoding."""
        ...

    def parsed(self, encoded: np.ndarray) -> np.ndarray:
        """Which encoded values are verdicts."""
        ...

    def families(self, j: Joined, usable: np.ndarray, everything: np.ndarray) -> list[Family]:
        """The agreement families of this kind (the parse family is common and added by the caller)."""
        ...

    def length_figure(
        self, j: Joined, mask: np.ndarray, values: np.ndarray, group: np.ndarray, n_cells: int
    ) -> LengthFigure | None:
        """The correlation of ``values`` with response length per cell, or None when nothing is known."""
        ...


def _correlation_reasons(n: np.ndarray, judge_constant: np.ndarray, human_constant: np.ndarray) -> np.ndarray:
    return np.select(
        [n == 0, n < 2, judge_constant, human_constant],
        [M.NO_ITEMS, M.TOO_FEW, M.JUDGE_CONSTANT, M.HUMAN_CONSTANT],
        default="",
    ).astype(object)


def _pearson_figure(
    group: np.ndarray, x: np.ndarray, y: np.ndarray, mask: np.ndarray, n_cells: int
) -> LengthFigure | None:
    keep = mask & np.isfinite(x)
    if not keep.any():
        return None
    value, n, reason = B.grouped_pearson(group[keep], x[keep], y[keep], n_cells)
    return LengthFigure(value, n, reason)


# --------------------------------------------------------------------------- scale


@dataclass(frozen=True)
class ScaleAgreement:
    """Scores against human scores: correlations, exact and within-one agreement, mean difference."""

    space: Scale
    missing: object = np.nan
    needs_length_ranks: bool = False

    def __post_init__(self) -> None:
        if self.space.values != tuple(int(v) for v in M.SCORE_VALUES):
            raise LeaderboardError(
                f"agreement tables exist for the 1-5 scale only, not {self.space.describe()}; "
                "generalise leaderboard.metrics.tables.score_table_stats first"
            )

    def encode(self, values: np.ndarray) -> np.ndarray:
        return pd.to_numeric(pd.Series(values, dtype=object), errors="coerce").to_numpy(dtype=float)

    def parsed(self, encoded: np.ndarray) -> np.ndarray:
        return ~np.isnan(encoded)

    def families(self, j: Joined, usable: np.ndarray, everything: np.ndarray) -> list[Family]:
        k, low = len(self.space.values), self.space.low
        codes = np.where(usable, (np.nan_to_num(j.verdict) - low) * k + (np.nan_to_num(j.human) - low), 0)
        metrics = ("pearson", "spearman", "kendall", "exact_agreement", "within1_agreement", "mean_score_difference")
        pooled = (("pearson_pooled", "pearson"), ("spearman_pooled", "spearman"), ("kendall_pooled", "kendall"))
        return [Family("agree", j.labeled, usable, codes.astype(np.int64), k * k, _score_stats, metrics, pooled)]

    def length_figure(
        self, j: Joined, mask: np.ndarray, values: np.ndarray, group: np.ndarray, n_cells: int
    ) -> LengthFigure | None:
        return _pearson_figure(group, B.single_length(j.lengths), values.astype(float), mask, n_cells)


def _score_stats(counts: np.ndarray) -> dict[str, np.ndarray]:
    s = M.score_table_stats(counts.reshape(*counts.shape[:-1], 5, 5))
    why = _correlation_reasons(s["n"], s["judge_constant"], s["human_constant"])
    plain = np.where(s["n"] == 0, M.NO_ITEMS, "").astype(object)
    for name in ("pearson", "spearman", "kendall"):
        s[f"reason:{name}"] = why
    for name in ("exact_agreement", "within1_agreement", "mean_score_difference"):
        s[f"reason:{name}"] = plain
    return s


# --------------------------------------------------------------------------- choice


@dataclass(frozen=True)
class ChoiceAgreement:
    """A / B / tie against the human choice: accuracies with and without ties, F1, position bias."""

    space: Choice
    missing: object = np.nan
    needs_length_ranks: bool = False

    def __post_init__(self) -> None:
        if self.space.labels != M.PAIR_LABELS:
            raise LeaderboardError(
                f"agreement tables exist for A / B / tie only, not {', '.join(self.space.labels)}; "
                "generalise leaderboard.metrics.tables.pair_table_stats first"
            )

    def encode(self, values: np.ndarray) -> np.ndarray:
        code = {label: i for i, label in enumerate(self.space.labels)}
        return pd.Series(values, dtype=object).map(code).to_numpy(dtype=float)

    def parsed(self, encoded: np.ndarray) -> np.ndarray:
        return ~np.isnan(encoded)

    def families(self, j: Joined, usable: np.ndarray, everything: np.ndarray) -> list[Family]:
        k = len(self.space.labels)
        codes = np.where(usable, np.nan_to_num(j.verdict) * k + np.nan_to_num(j.human), 0).astype(np.int64)
        metrics = (
            "accuracy_with_tie", "accuracy_without_tie", "accuracy_without_tie_human_only", "macro_f1",
            "human_choose_a_rate", "position_bias", "human_tie_rate",
        )  # fmt: skip
        judge_codes = np.nan_to_num(j.verdict).astype(np.int64)
        return [
            Family("agree", j.labeled, usable, codes, k * k, _pair_stats, metrics),
            Family("judge", everything, j.parsed, judge_codes, k, _judge_label_stats, ("choose_a_rate", "tie_rate")),
        ]

    def length_figure(
        self, j: Joined, mask: np.ndarray, values: np.ndarray, group: np.ndarray, n_cells: int
    ) -> LengthFigure | None:
        # +1 when the first response is preferred, -1 for the second, 0 for a tie.
        y = np.select([values == 0, values == 1], [1.0, -1.0], 0.0)
        return _pearson_figure(group, B.pair_length_signal(j.lengths), y, mask, n_cells)


def _pair_stats(counts: np.ndarray) -> dict[str, np.ndarray]:
    s = M.pair_table_stats(counts.reshape(*counts.shape[:-1], 3, 3))
    s["n:accuracy_without_tie"] = s["n_without_tie"]
    s["n:accuracy_without_tie_human_only"] = s["n_without_human_tie"]
    empty = np.where(s["n"] == 0, M.NO_ITEMS, "").astype(object)
    for name in ("accuracy_with_tie", "macro_f1", "human_choose_a_rate", "position_bias", "human_tie_rate"):
        s[f"reason:{name}"] = empty
    for name, key in (
        ("accuracy_without_tie", "n_without_tie"),
        ("accuracy_without_tie_human_only", "n_without_human_tie"),
    ):
        s[f"reason:{name}"] = np.where(s["n"] == 0, M.NO_ITEMS, np.where(s[key] == 0, M.NO_NON_TIE, "")).astype(object)
    return s


def _judge_label_stats(counts: np.ndarray) -> dict[str, np.ndarray]:
    n = counts.sum(-1)
    return {"choose_a_rate": M._safe_divide(counts[..., 0], n), "tie_rate": M._safe_divide(counts[..., 2], n), "n": n}


# --------------------------------------------------------------------------- ranking


@dataclass(frozen=True)
class RankingAgreement:
    """Rankings against the human ranking: mean normalised Levenshtein distance."""

    space: Ranking
    missing: object = None
    needs_length_ranks: bool = True

    def encode(self, values: np.ndarray) -> np.ndarray:
        return np.where(pd.notna(values), values, None)  # type: ignore[call-overload]

    def parsed(self, encoded: np.ndarray) -> np.ndarray:
        return np.asarray(pd.notna(encoded), dtype=bool)

    def families(self, j: Joined, usable: np.ndarray, everything: np.ndarray) -> list[Family]:
        distance = np.zeros(len(j.run_idx))
        distance[usable] = M.normalized_levenshtein_many(j.verdict[usable], j.human[usable])
        values, codes = np.unique(np.round(distance, 9), return_inverse=True)

        def lev_stats(counts: np.ndarray, values: np.ndarray = values) -> dict[str, np.ndarray]:
            total = counts.sum(-1)
            return {
                "normalized_levenshtein": M.mean_from_counts(counts, values),
                "n": total,
                "reason:normalized_levenshtein": np.where(total == 0, M.NO_ITEMS, "").astype(object),
            }

        return [
            Family(
                "agree", j.labeled, usable, codes.astype(np.int64), len(values), lev_stats, ("normalized_levenshtein",)
            )
        ]

    def length_figure(
        self, j: Joined, mask: np.ndarray, values: np.ndarray, group: np.ndarray, n_cells: int
    ) -> LengthFigure | None:
        if j.length_ranks is None:
            return None
        per_item = np.full(len(group), np.nan)
        per_item[mask] = B.batch_length_spearman(values[mask], j.lengths[mask], j.length_ranks[mask])
        value, n = B.grouped_mean(group, per_item, n_cells)
        if not (n > 0).any():
            return None
        reason = np.where(n == 0, "no item with known lengths and a full ranking", "").astype(object)
        return LengthFigure(value, n, reason)


#: Verdict kind -> the agreement that counts it. A new verdict kind adds one entry.
_AGREEMENTS: dict[str, Callable[[VerdictSpace], Agreement]] = {
    "scale": ScaleAgreement,  # type: ignore[dict-item]
    "choice": ChoiceAgreement,  # type: ignore[dict-item]
    "ranking": RankingAgreement,  # type: ignore[dict-item]
}


def agreement_for(space: VerdictSpace) -> Agreement:
    """The agreement of a verdict shape.

    Raises:
        LeaderboardError: No agreement is registered for the shape's kind.
    """
    try:
        make = _AGREEMENTS[space.kind]
    except KeyError:
        raise LeaderboardError(
            f"no agreement metrics for verdicts of kind {space.kind!r}; add one in leaderboard.metrics.agreement"
        ) from None
    return make(space)
