"""Stored runs joined with their human labels: one :class:`~leaderboard.metrics.agreement.Joined` per group.

For one (mode, benchmark), :func:`label_rows` prepares the label rows once (:class:`LabelRows`:
human labels in the agreement's encoding, datasets, response lengths and their ranks, id lookups
per subset, each built on first use), and :func:`join_runs` joins any runs of the group with them:
each record's label row (by pool code when the run was read from its columnar companion, else by
id), its dataset as a code, its verdict encoded once per distinct value, its verdict distribution
and expected score. A run joined alone with its group's :class:`GroupShape` gets exactly the arrays
a join of the whole group gives it, which is what lets :mod:`leaderboard.metrics.compute` compute
and cache runs one at a time.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from leaderboard.benchmarks import BenchmarkError, display_dataset, get_benchmark
from leaderboard.metrics import bias as B
from leaderboard.metrics.agreement import Agreement, Joined
from leaderboard.store.columnar import PoolLookup
from leaderboard.store.labels import rows_where
from leaderboard.store.read import Run, VerdictCodes


def _display(benchmark: str):
    """The dataset display function of a benchmark (the registry-wide one for an unknown name)."""
    try:
        return get_benchmark(benchmark).display_dataset
    except BenchmarkError:
        return display_dataset


@dataclass(frozen=True)
class LabelRows:
    """The label rows of one (mode, benchmark), prepared once for every run joined with them.

    Every per-row array has one extra last entry that stands for "no label row". They are built
    on first use: a table served from the row cache needs only ``lab`` (for the labels' digest).
    """

    lab: pd.DataFrame
    index_by_subset: dict[str, tuple[pd.Index, np.ndarray]]
    agreement: Agreement

    @functools.cached_property
    def _codes(self) -> tuple[np.ndarray, np.ndarray]:
        human_rows, usable_rows = _human_codes(self.agreement, self.lab)
        return np.append(human_rows, self.agreement.missing), np.append(usable_rows, False)  # type: ignore[call-overload]

    @property
    def human(self) -> np.ndarray:
        return self._codes[0]

    @property
    def labeled(self) -> np.ndarray:
        return self._codes[1]

    @functools.cached_property
    def dataset(self) -> np.ndarray:
        return np.append(self.lab["dataset"].fillna("").astype(str).to_numpy(dtype=object), "")

    @functools.cached_property
    def has_dataset(self) -> np.ndarray:
        return self.dataset != ""

    @functools.cached_property
    def lengths(self) -> np.ndarray:
        # Parsed once per label row and gathered per judgment, so only as wide as the widest row
        # (at least two columns, which pair items read): score items have one length, not eight.
        texts = self.lab["response_lengths"].fillna("").astype(str).to_numpy(dtype=object).tolist()
        matrix = B.lengths_matrix([*texts, ""])
        used = np.flatnonzero(~np.isnan(matrix).all(0))
        return np.ascontiguousarray(matrix[:, : max(2, used[-1] + 1 if len(used) else 0)])

    @functools.cached_property
    def dataset_codes(self) -> tuple[np.ndarray, np.ndarray]:
        """Each label row's dataset as a code into the distinct names (what a join gathers per judgment)."""
        codes, names = pd.factorize(pd.Series(self.dataset, dtype=object))
        return codes, np.asarray(names, dtype=object)

    @functools.cached_property
    def length_ranks(self) -> np.ndarray | None:
        return B.length_ranks(self.lengths) if self.agreement.needs_length_ranks else None

    @functools.cached_property
    def ranking_rows(self) -> B.RankingRows | None:
        """Rankings: what each label row gives the judges' length Spearman (:func:`~leaderboard.metrics.bias.ranking_rows`)."""
        return None if self.length_ranks is None else B.ranking_rows(self.lengths, self.length_ranks)

    @functools.cached_property
    def human_length(self) -> np.ndarray | None:
        """Rankings: per label row, the Spearman of the human ranking with the response lengths."""
        if self.length_ranks is None:
            return None
        return B.batch_length_spearman(self.human, self.lengths, self.length_ranks)

    @functools.cached_property
    def lookups(self) -> dict[str, PoolLookup]:
        """Per subset, its ids' lookup by pool code (runs read from columnar companions carry codes)."""
        return {subset: PoolLookup(index) for subset, (index, _) in self.index_by_subset.items()}


def label_rows(labels: pd.DataFrame, mode: str, agreement: Agreement, benchmark: str) -> LabelRows:
    lab = rows_where(labels, (labels["mode"] == mode) & (labels["benchmark"] == benchmark))
    lab = lab.drop_duplicates(["subset", "item_id"]).reset_index(drop=True)
    index_by_subset = {
        subset: (pd.Index(_text(group["item_id"]), dtype=object), group.index.to_numpy())
        for subset, group in lab.groupby("subset", sort=False)
    }
    return LabelRows(lab=lab, index_by_subset=index_by_subset, agreement=agreement)


def _text(values: pd.Series) -> np.ndarray:
    """``values.astype(str)`` as an object array, without the conversion when they already are strings.

    Loaded runs' item ids always are; converting a million of them to pandas' string dtype and back
    costs more than the join they feed.
    """
    raw = values.to_numpy(dtype=object)
    if pd.api.types.infer_dtype(raw, skipna=False) == "string":
        return raw
    return values.astype(str).to_numpy(dtype=object)


def _pooled_ids(runs: Sequence[Run]) -> bool:
    """Whether every run's item ids are strings of the loader's shared pool (no type check needed)."""
    return all(run.item_codes is not None and len(run.item_codes) == len(run.records) for run in runs)


def _label_positions(runs: Sequence[Run], prep: LabelRows) -> np.ndarray:
    """For every record of ``runs`` (in order), its row in ``prep.lab`` (-1 when the item has no label row)."""
    parts = []
    for run in runs:
        found = prep.index_by_subset.get(run.manifest.split)
        if found is None:
            parts.append(np.full(len(run.records), -1, dtype=np.int64))
            continue
        index, rows = found
        codes = run.item_codes
        if codes is not None and len(codes) == len(run.records):
            where = prep.lookups[run.manifest.split].positions(codes)
        else:
            where = index.get_indexer(_text(run.records["item_id"]))
        parts.append(np.where(where >= 0, rows[np.maximum(where, 0)], -1))
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


def _dataset_codes(prep: LabelRows, at: np.ndarray, rec: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Each record's dataset (its label row's, else its own) factorized: codes and names in order of first use.

    When every record's label row names a dataset (the usual case) the codes come from the label
    rows' codes, renumbered in order of first use, which is what factorizing the names gives.
    """
    if len(at) and prep.has_dataset[at].all():
        row_codes, names = prep.dataset_codes
        gathered = row_codes[at]
        # A mode has a handful of datasets: the first record of each, found one dataset at a time.
        used = np.flatnonzero(np.bincount(gathered, minlength=len(names)))
        first = np.array([np.argmax(gathered == code) for code in used], dtype=np.int64)
        order = used[np.argsort(first, kind="stable")]
        renumber = np.empty(len(names), dtype=np.int64)
        renumber[order] = np.arange(len(order))
        return renumber[gathered], names[order]
    label_ds = prep.dataset[at]
    raw_ds = np.where(prep.has_dataset[at], label_ds, rec["dataset"].fillna("").to_numpy(dtype=object))
    codes, uniques = pd.factorize(pd.Series(raw_ds, dtype=object))
    return codes, np.asarray(uniques, dtype=object)


def _encoded(agreement: Agreement, values: np.ndarray, coded: VerdictCodes | None = None) -> np.ndarray:
    """``agreement.encode(values)``, encoding each distinct value once (a run has a handful).

    ``coded``: the same values as codes (:attr:`Run.verdict_codes`), which spares hashing every row.
    The loader leaves None, never NaN, where there is no verdict, so the one missing slot that
    factorize gives both is encoded as None.
    """
    if coded is not None and len(coded.codes) == len(values):
        codes, uniques = coded.codes, coded.values
    else:
        codes, uniques = pd.factorize(pd.Series(values, dtype=object))
    once = agreement.encode(np.append(np.asarray(uniques, dtype=object), None))  # type: ignore[call-overload]
    return once[codes]  # code -1 picks the trailing None's encoding


def _human_codes(agreement: Agreement, lab: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Per label row: the human label in the agreement's encoding, and whether it can be used."""
    text = lab["human_label"].fillna("").astype(str).to_numpy(dtype=object)
    usable = (lab["label_issue"].fillna("").astype(str).to_numpy() == "") & (text != "")
    known = np.full(len(text), None, dtype=object)
    known[usable] = text[usable]
    return agreement.encode(known), usable


def _probability_matrix(agreement: Agreement, values: pd.Series | None) -> np.ndarray | None:
    """(N, K) distributions over the agreement's classes, renormalised; NaN rows where none (None: no record has one)."""
    if values is None:
        return None
    present = np.flatnonzero(values.notna().to_numpy())
    if len(present) == 0:
        return None
    classes = agreement.classes
    out = np.full((len(values), len(classes)), np.nan)
    raw = values.to_numpy(dtype=object)
    rows = np.array([[float(d.get(c, 0.0)) for c in classes] for d in raw[present]], dtype=float)
    total = rows.sum(1, keepdims=True)
    good = (total[:, 0] > 0) & np.isfinite(total[:, 0])
    out[present[good]] = rows[good] / total[good]
    return out if good.any() else None


def _expected_scores(agreement: Agreement, rec: pd.DataFrame, probs: np.ndarray | None) -> np.ndarray | None:
    """The stored expected score, else the distribution's mean when the classes are numbers."""
    stored = rec["expected_score"].to_numpy(dtype=float) if "expected_score" in rec.columns else None
    derived = None
    if probs is not None and all(c.lstrip("-").isdigit() for c in agreement.classes):
        derived = probs @ np.array([float(c) for c in agreement.classes])
    if stored is None:
        return derived
    if derived is not None:
        stored = np.where(np.isfinite(stored), stored, derived)
    return stored if np.isfinite(stored).any() else None


@dataclass(frozen=True)
class GroupShape:
    """What of a run's rows depends on the other runs computed with it (one mode, one benchmark).

    The rows of a run depend only on its records, the labels and its seeded generators, except for
    these: the order of its dataset cells (the generators draw cell by cell), whether verdict
    distributions or expected scores exist anywhere in the group, which optional families and length
    figures the group has (a run without data for one still gets its empty cells), and the category
    values of a ranking table. A run computed alone with its group's shape gives exactly its rows
    of the group; the row cache keys on it.
    """

    datasets: tuple[str, ...]
    probs: bool = False
    expected: bool = False
    optional: frozenset[str] = frozenset()
    distances: tuple[float, ...] | None = None

    def merged(self, other: GroupShape) -> GroupShape:
        """The shape of a group that adds ``other``'s run after this one's."""
        distances = self.distances
        if other.distances is not None:
            distances = tuple(np.unique(np.array([*(distances or ()), *other.distances], dtype=float)).tolist())
        return GroupShape(
            tuple(dict.fromkeys([*self.datasets, *other.datasets])),
            self.probs or other.probs,
            self.expected or other.expected,
            self.optional | other.optional,
            distances,
        )

    def for_run(self, own: GroupShape) -> GroupShape:
        """This group shape as one of its runs (``own``: the run's own shape) is computed with it."""
        position = {name: i for i, name in enumerate(self.datasets)}
        return GroupShape(tuple(sorted(own.datasets, key=position.__getitem__)), *self.flags())

    def flags(self) -> tuple[bool, bool, frozenset[str], tuple[float, ...] | None]:
        """Everything but the datasets."""
        return self.probs, self.expected, self.optional, self.distances

    def to_json(self) -> list:
        """A JSON-able form (for cache keys and entries)."""
        return [list(self.datasets), self.probs, self.expected, sorted(self.optional), self.distances]

    @classmethod
    def from_json(cls, raw: list) -> GroupShape:
        """The inverse of :meth:`to_json`."""
        distances = None if raw[4] is None else tuple(float(x) for x in raw[4])
        return cls(tuple(raw[0]), bool(raw[1]), bool(raw[2]), frozenset(raw[3]), distances)


def join_runs(
    runs: Sequence[Run],
    labels: pd.DataFrame,
    mode: str,
    agreement: Agreement,
    benchmark: str,
    *,
    prep: LabelRows | None = None,
    shape: GroupShape | None = None,
) -> Joined:
    """The records of ``runs`` joined with their labels (``shape``: one run computed as its group would)."""
    prep = prep if prep is not None else label_rows(labels, mode, agreement, benchmark)
    rec = runs[0].records if len(runs) == 1 else pd.concat([r.records for r in runs], ignore_index=True)
    sizes = [len(r.records) for r in runs]
    pos = _label_positions(runs, prep)
    at = np.where(pos >= 0, pos, len(prep.lab))  # the extra last row stands for "no label row"
    human = prep.human[at]
    labeled = prep.labeled[at]
    codes, uniques = _dataset_codes(prep, at, rec)
    display = _display(benchmark)
    shown = [display(u) for u in uniques]
    if shape is None:
        shown_codes, shown_names = pd.factorize(pd.Series(shown, dtype=object))
        datasets = tuple(str(name) for name in shown_names)
    else:
        datasets = shape.datasets
        where = {name: i for i, name in enumerate(datasets)}
        shown_codes = np.array([where[name] for name in shown], dtype=np.int64)
    ds_code = np.asarray(shown_codes, dtype=np.int64)[codes] if len(codes) else np.zeros(0, dtype=np.int64)
    lengths = prep.lengths[at]
    ranks = prep.length_ranks[at] if agreement.needs_length_ranks and prep.length_ranks is not None else None
    verdict = _encoded(
        agreement, rec["verdict"].to_numpy(dtype=object), runs[0].verdict_codes if len(runs) == 1 else None
    )
    parsed = agreement.parsed(verdict)
    probs = _probability_matrix(agreement, rec["probabilities"] if "probabilities" in rec.columns else None)
    if probs is None and shape is not None and shape.probs:
        probs = np.full((len(rec), len(agreement.classes)), np.nan)
    expected = _expected_scores(agreement, rec, probs)
    if expected is None and shape is not None and shape.expected:
        expected = np.full(len(rec), np.nan)
    return Joined(
        runs=tuple(runs),
        run_idx=np.repeat(np.arange(len(runs)), sizes),
        ds_code=ds_code,
        datasets=datasets,
        parsed=np.asarray(parsed, dtype=bool),
        labeled=np.asarray(labeled, dtype=bool),
        verdict=verdict,
        human=human,
        lengths=lengths,
        length_ranks=ranks,
        self_consistency=rec["self_consistency"].to_numpy(dtype=float),
        swap_consistent=rec["swap_consistent"].to_numpy(dtype=float),
        item_ids=rec["item_id"].to_numpy(dtype=object) if _pooled_ids(runs) else _text(rec["item_id"]),
        probs=probs,
        expected=expected,
        force=shape.optional if shape is not None else frozenset(),
        distance_values=None if shape is None or shape.distances is None else np.asarray(shape.distances),
        label_row=at,
        human_length=prep.human_length[at] if ranks is not None and prep.human_length is not None else None,
        ranking_rows=prep.ranking_rows if ranks is not None else None,
    )
