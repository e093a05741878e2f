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
from leaderboard.metrics import calibration as C
from leaderboard.metrics import kappa as K
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
    item_ids: np.ndarray | None = None  # the records' item ids (paired comparisons align on them)
    probs: np.ndarray | None = None  # (N, K) verdict distributions over the kind's classes; NaN rows: none
    expected: np.ndarray | None = None  # stored expected score per record (NaN: none)
    # One run computed as part of a group (leaderboard.metrics.compute caches rows per run): the
    # optional families and figures the group has even where this run alone has no data for them,
    # and the group's category values of a ranking table, so the numbers are the group's.
    force: frozenset[str] = frozenset()
    distance_values: np.ndarray | None = None
    label_row: np.ndarray | None = None  # each record's label row (the extra last row: none), for per-row work
    # Rankings: each record's Spearman of its human ranking with the response lengths, computed once
    # per label row (it depends on nothing else) instead of once per judgment of every run.
    human_length: np.ndarray | None = None
    # Rankings: what the judge's length Spearman needs from each label row (indexed by label_row).
    ranking_rows: B.RankingRows | None = None


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
        features: When set, (N, F) per-record features: a cell's "table" is the sum of its records'
            features and ``stats`` maps such sums (..., F); ``codes`` and ``n_categories`` are then
            unused and the bootstrap draws item weights instead of a multinomial table.
    """

    name: str
    base: np.ndarray
    use: np.ndarray
    codes: np.ndarray
    n_categories: int
    stats: Callable[[np.ndarray], dict[str, np.ndarray]]
    metrics: tuple[str, ...]
    pooled: tuple[tuple[str, str], ...] = ()
    features: np.ndarray | None = None
    category_values: np.ndarray | None = None  # what each category stands for, when data-dependent


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
        classes: The labels a stored verdict distribution gives probabilities for, in class order
            (calibration metrics compare the distribution with the human label's class).
    """

    missing: object
    needs_length_ranks: bool

    @property
    def classes(self) -> tuple[str, ...]:
        """Probability labels in class order."""
        ...

    def class_index(self, encoded: np.ndarray) -> np.ndarray:
        """The class (index into :attr:`classes`) of encoded verdicts or labels; -1 where none."""
        ...

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
        self,
        j: Joined,
        mask: np.ndarray,
        values: np.ndarray,
        group: np.ndarray,
        n_cells: int,
        force: bool = False,
        per_row: np.ndarray | None = None,
    ) -> LengthFigure | None:
        """The correlation of ``values`` with response length per cell, or None when nothing is known (unless ``force``).

        ``per_row``: when ``values`` are the human labels, each record's per-item figure input
        already computed once per label row (:attr:`Joined.human_length`), if the kind has one.
        """
        ...


def _correlation_reasons(n: np.ndarray, judge_constant: np.ndarray, human_constant: np.ndarray) -> np.ndarray:
    return np.select(
        [n == 0, n < 2, judge_constant, human_constant],
        [M.NO_ITEMS, M.TOO_FEW, M.JUDGE_CONSTANT, M.HUMAN_CONSTANT],
        default="",
    ).astype(object)


def _pearson_figure(
    group: np.ndarray, x: np.ndarray, y: np.ndarray, mask: np.ndarray, n_cells: int, force: bool = False
) -> LengthFigure | None:
    keep = mask & np.isfinite(x)
    if not keep.any() and not force:
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

    @property
    def classes(self) -> tuple[str, ...]:
        return tuple(str(v) for v in self.space.values)

    def class_index(self, encoded: np.ndarray) -> np.ndarray:
        code = np.nan_to_num(np.asarray(encoded, dtype=float), nan=-1.0) - self.space.low
        return np.where((code >= 0) & (code < len(self.space.values)), code, -1).astype(np.int64)

    def families(self, j: Joined, usable: np.ndarray, everything: np.ndarray) -> list[Family]:
        k, low = len(self.space.values), self.space.low
        codes = np.where(usable, (np.nan_to_num(j.verdict) - low) * k + (np.nan_to_num(j.human) - low), 0)
        metrics = (
            "pearson", "spearman", "kendall", "exact_agreement", "within1_agreement", "quadratic_weighted_kappa",
            "mean_score_difference",
        )  # fmt: skip
        pooled = (("pearson_pooled", "pearson"), ("spearman_pooled", "spearman"), ("kendall_pooled", "kendall"))
        families = [Family("agree", j.labeled, usable, codes.astype(np.int64), k * k, _score_stats, metrics, pooled)]
        if j.expected is not None:
            use = usable & np.isfinite(j.expected)
            if use.any() or "expected" in j.force:
                features = C.expected_features(np.nan_to_num(j.expected), np.nan_to_num(j.human.astype(float)))
                zeros = np.zeros(len(use), dtype=np.int64)
                families.append(
                    Family("expected", j.labeled, use, zeros, 1, C.expected_stats, ("pearson_expected",), (), features)
                )
        return families

    def length_figure(
        self,
        j: Joined,
        mask: np.ndarray,
        values: np.ndarray,
        group: np.ndarray,
        n_cells: int,
        force: bool = False,
        per_row: np.ndarray | None = None,
    ) -> LengthFigure | None:
        return _pearson_figure(group, B.single_length(j.lengths), values.astype(float), mask, n_cells, force)


def _resampled(counts: np.ndarray) -> bool:
    """Whether stats are asked for a bootstrap batch (B, C, K): only values are read then, never reasons.

    NaN reasons are strings in object arrays; building them for 1,000 resamples of every cell would
    cost more than the metrics themselves.
    """
    return np.ndim(counts) > 2


def _score_stats(counts: np.ndarray) -> dict[str, np.ndarray]:
    s = M.score_table_stats(counts.reshape(*counts.shape[:-1], 5, 5))
    s["quadratic_weighted_kappa"] = K.kappa_table(counts.reshape(*counts.shape[:-1], 5, 5), _QUADRATIC)
    if _resampled(counts):
        return s
    why = _correlation_reasons(s["n"], s["judge_constant"], s["human_constant"])
    plain = np.where(s["n"] == 0, M.NO_ITEMS, "").astype(object)
    for name in ("pearson", "spearman", "kendall"):
        s[f"reason:{name}"] = why
    for name in ("exact_agreement", "within1_agreement", "mean_score_difference"):
        s[f"reason:{name}"] = plain
    s["reason:quadratic_weighted_kappa"] = _kappa_reasons(s["n"])
    return s


_QUADRATIC = K.quadratic_weights(5)
_NOMINAL = K.nominal_weights(3)


def _kappa_reasons(n: np.ndarray) -> np.ndarray:
    # Only read where the value is NaN: no items, or one shared class (chance explains everything).
    return np.where(n == 0, M.NO_ITEMS, K.CHANCE_ONLY).astype(object)


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

    @property
    def classes(self) -> tuple[str, ...]:
        return tuple(self.space.labels)

    def class_index(self, encoded: np.ndarray) -> np.ndarray:
        return np.nan_to_num(np.asarray(encoded, dtype=float), nan=-1.0).astype(np.int64)

    def families(self, j: Joined, usable: np.ndarray, everything: np.ndarray) -> list[Family]:
        k = len(self.space.labels)
        codes = np.where(usable, np.nan_to_num(j.verdict) * k + np.nan_to_num(j.human), 0).astype(np.int64)
        metrics = (
            "accuracy_with_tie", "accuracy_without_tie", "accuracy_without_tie_human_only", "macro_f1",
            "cohen_kappa", "human_choose_a_rate", "position_bias", "human_tie_rate",
        )  # fmt: skip
        judge_codes = np.nan_to_num(j.verdict).astype(np.int64)
        return [
            Family("agree", j.labeled, usable, codes, k * k, _pair_stats, metrics),
            Family("judge", everything, j.parsed, judge_codes, k, _judge_label_stats, ("choose_a_rate", "tie_rate")),
        ]

    def length_figure(
        self,
        j: Joined,
        mask: np.ndarray,
        values: np.ndarray,
        group: np.ndarray,
        n_cells: int,
        force: bool = False,
        per_row: np.ndarray | None = None,
    ) -> LengthFigure | None:
        # +1 when the first response is preferred, -1 for the second, 0 for a tie.
        y = np.select([values == 0, values == 1], [1.0, -1.0], 0.0)
        return _pearson_figure(group, B.pair_length_signal(j.lengths), y, mask, n_cells, force)


def _pair_stats(counts: np.ndarray) -> dict[str, np.ndarray]:
    s = M.pair_table_stats(counts.reshape(*counts.shape[:-1], 3, 3))
    s["cohen_kappa"] = K.kappa_table(counts.reshape(*counts.shape[:-1], 3, 3), _NOMINAL)
    s["n:accuracy_without_tie"] = s["n_without_tie"]
    s["n:accuracy_without_tie_human_only"] = s["n_without_human_tie"]
    if _resampled(counts):
        return s
    s["reason:cohen_kappa"] = _kappa_reasons(s["n"])
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

    @property
    def classes(self) -> tuple[str, ...]:
        # A ranking's distribution is over the letter ranked first (judges.types.VerdictDistribution).
        return tuple(chr(65 + k) for k in range(8))

    def class_index(self, encoded: np.ndarray) -> np.ndarray:
        first = [ord(v[0]) - 65 if isinstance(v, str) and v else -1 for v in encoded]
        code = np.asarray(first, dtype=np.int64)
        return np.where((code >= 0) & (code < 8), code, -1)

    def families(self, j: Joined, usable: np.ndarray, everything: np.ndarray) -> list[Family]:
        distance = np.zeros(len(j.run_idx))
        distance[usable] = M.normalized_levenshtein_many(j.verdict[usable], j.human[usable])
        rounded = np.round(distance, 9)
        if j.distance_values is None:
            values, codes = np.unique(rounded, return_inverse=True)
        else:  # the group's values (a superset of this run's): the same table as in the group
            values = j.distance_values
            codes = np.minimum(np.searchsorted(values, rounded), len(values) - 1)
            if not np.array_equal(values[codes], rounded):
                raise LeaderboardError("a ranking distance is missing from its group's values; this is a bug")

        def lev_stats(counts: np.ndarray, values: np.ndarray = values) -> dict[str, np.ndarray]:
            total = counts.sum(-1)
            out = {"normalized_levenshtein": M.mean_from_counts(counts, values), "n": total}
            if not _resampled(counts):
                out["reason:normalized_levenshtein"] = np.where(total == 0, M.NO_ITEMS, "").astype(object)
            return out

        return [
            Family(
                "agree",
                j.labeled,
                usable,
                codes.astype(np.int64),
                len(values),
                lev_stats,
                ("normalized_levenshtein",),
                category_values=values,
            )
        ]

    def length_figure(
        self,
        j: Joined,
        mask: np.ndarray,
        values: np.ndarray,
        group: np.ndarray,
        n_cells: int,
        force: bool = False,
        per_row: np.ndarray | None = None,
    ) -> LengthFigure | None:
        if j.length_ranks is None:
            return None
        per_item = np.full(len(group), np.nan)
        if per_row is not None:
            per_item[mask] = per_row[mask]
        elif j.ranking_rows is not None and j.label_row is not None:
            per_item[mask] = B.batch_length_spearman_rows(values[mask], j.label_row[mask], j.ranking_rows)
        else:
            rows = j.label_row[mask] if j.label_row is not None else None
            per_item[mask] = B.batch_length_spearman(values[mask], j.lengths[mask], j.length_ranks[mask], rows)
        value, n = B.grouped_mean(group, per_item, n_cells)
        if not (n > 0).any() and not force:
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
