"""Reading stored runs: read, validate and merge run folders without ever stopping at bad input.

Every problem becomes a :class:`LoadProblem` (file, line, reason) and the rest is kept: a malformed
JSONL line is skipped; an unknown schema version, or any manifest field of the wrong type (checked
by :meth:`~leaderboard.store.format.Manifest.from_dict`), skips its run; a ``judgments.jsonl`` with
no ``manifest.json`` beside it is listed; an item id that is not in the benchmark is kept for
label-free columns only; a verdict outside the mode's labels is counted as unscored; a repeated item
id keeps its first line; a number that is no finite float (a 400-digit integer, NaN) reads as
unknown; JSON nested too deeply to parse skips its line or run; an empty run adds no rows; a torn
final line (an interrupted write) is ignored. Nothing is dropped silently and nothing is counted twice.

A run whose columnar companion (:mod:`~leaderboard.store.columnar`) is current is read from it: its
typed columns are validated whole, with the same rules, records and problems (each still named by
its JSONL line) as the line-by-line path, which reads every other run. :func:`load_runs` given the
previous result reuses the folders whose files and labels did not change (a refresh).

This module depends on :mod:`~leaderboard.store.format` and :mod:`~leaderboard.store.columnar`, never
on the writer.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

import numpy as np
import pandas as pd

from judges.tasks import get_task
from leaderboard.errors import LeaderboardError
from leaderboard.store.columnar import (
    COLUMNAR_NAME,
    Columns,
    PoolLookup,
    nested_number,
    numbers,
    probability_parts,
    read_columnar,
)
from leaderboard.store.format import JUDGMENTS_NAME, MANIFEST_NAME, Manifest, verdict_problem
from leaderboard.store.labels import rows_where, with_benchmark
from leaderboard.store.rowcache import row_hashes


@dataclass(frozen=True)
class LoadProblem:
    """Something wrong in the input, and what was done about it.

    Attributes:
        file: The file concerned.
        line: 1-based line number, or None for a whole-file problem.
        reason: What is wrong and what the loader did.
    """

    file: str
    line: int | None
    reason: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        return f"{where}: {self.reason}"


@dataclass(frozen=True)
class VerdictCodes:
    """A run's verdicts as codes into their distinct values, as a columnar companion's dictionary gives them.

    Attributes:
        codes: Per record, the position of its verdict in ``values``; -1 where it has none.
        values: The distinct verdicts (an object array; some may no longer be used).
    """

    codes: np.ndarray
    values: np.ndarray


@dataclass(frozen=True)
class Run:
    """A loaded run.

    Attributes:
        manifest: Its manifest (``run_id`` may carry a ``~2`` suffix after a collision).
        records: One row per judgment with :data:`RECORD_COLUMNS`.
        path: The run's folder.
        digest: SHA-1 of its ``judgments.jsonl``, set by the loader only ("" for a run built or
            changed in memory); with the manifest it identifies the records (the leaderboard caches
            rows under it).
    """

    manifest: Manifest
    records: pd.DataFrame = field(repr=False)
    path: Path
    # Not an init field: ``dataclasses.replace(run, records=...)`` (a restricted copy) gets "" and is
    # never mistaken for the stored content.
    digest: str = field(default="", init=False, compare=False)
    #: Each record's item id as its code in the loader's shared pool of ids
    #: (:class:`~leaderboard.store.columnar.PoolLookup`), set by the loader for runs read from a
    #: columnar companion; None otherwise (and for copies), when ids are looked up as strings.
    item_codes: np.ndarray | None = field(default=None, init=False, compare=False, repr=False)
    #: Each record's verdict as a code into its run's distinct verdicts (:class:`VerdictCodes`), set
    #: by the loader for runs read from a columnar companion; None otherwise.
    verdict_codes: VerdictCodes | None = field(default=None, init=False, compare=False, repr=False)

    @property
    def run_id(self) -> str:
        """The run id."""
        return self.manifest.run_id

    @property
    def n_records(self) -> int:
        """How many records it has."""
        return len(self.records)

    def materialized(self) -> Run:
        """The run with its records in memory: itself."""
        return self

    def renamed(self, manifest: Manifest) -> Run:
        """The same run under another manifest (a ``~2`` run id after a collision)."""
        return _with_digest(Run(manifest, self.records, self.path), self.digest, self.item_codes, self.verdict_codes)


@dataclass(frozen=True)
class StreamedRun:
    """A checked run whose records stay on disk: read again, and checked again, each time they are needed.

    :func:`scan_runs` gives these, so that what a whole table holds in
    memory is the runs' manifests and problems, and each run's records only while its rows are
    computed (``python -m leaderboard table --stream``: memory grows with the largest run, not with
    all of them). The records are the same as :class:`Run`'s: the files are read by the same code and
    checked against the same labels; a folder that changed since fails loudly instead of mixing data.

    Attributes:
        manifest: Its manifest (with a ``~2`` run id after a collision).
        path: The run's folder.
        digest: SHA-1 of its ``judgments.jsonl`` when it was loaded.
        n_records: How many records it had then.
    """

    manifest: Manifest
    path: Path
    digest: str
    n_records: int
    labels: pd.DataFrame | None = field(default=None, repr=False, compare=False)
    label_cache: _LabelCache | None = field(default=None, repr=False, compare=False)

    @property
    def run_id(self) -> str:
        """The run id."""
        return self.manifest.run_id

    @property
    def records(self) -> pd.DataFrame:
        """The records, read from disk (each access reads them again: use :meth:`materialized`)."""
        return self.materialized().records

    def materialized(self) -> Run:
        """The run with its records read and checked again, as :func:`load_runs` loaded it.

        Raises:
            LeaderboardError: The run's files changed since they were loaded.
        """
        run, _, digest = load_run(self.path)
        if run is None or digest != self.digest or len(run.records) != self.n_records:
            raise LeaderboardError(f"{self.path}: the run changed while the table was computed; run the command again.")
        if self.labels is not None:
            check_against_labels(run, self.labels, self.label_cache)
        return _with_digest(Run(self.manifest, run.records, run.path), digest, run.item_codes, run.verdict_codes)

    def renamed(self, manifest: Manifest) -> StreamedRun:
        """The same run under another manifest."""
        return StreamedRun(manifest, self.path, self.digest, self.n_records, self.labels, self.label_cache)

    @classmethod
    def of(cls, run: Run, labels: pd.DataFrame | None, label_cache: _LabelCache | None = None) -> StreamedRun:
        """A loaded run, without its records (``label_cache``: the loader's, reused when checking again)."""
        return cls(run.manifest, run.path, run.digest, len(run.records), labels, label_cache)


@dataclass(frozen=True)
class _Loaded:
    """One run folder as loaded and checked against the labels, kept for the next load."""

    stamp: tuple
    labels_digest: str
    run: Run | StreamedRun | None
    problems: tuple[LoadProblem, ...]  # the folder's own: reading it, then checking it against the labels
    label_problems: int  # how many of ``problems`` (at the end) the label check gave
    digest: str


@dataclass(frozen=True)
class LoadResult:
    """Runs loaded from one or more sources, and every problem met on the way.

    ``folders`` keeps each run folder's load (by its real path) so that a later :func:`load_runs`
    given this result as ``previous`` reuses the folders whose files and labels did not change.
    """

    runs: tuple[Run, ...]
    problems: tuple[LoadProblem, ...]
    folders: dict[Path, _Loaded] = field(default_factory=dict, repr=False, compare=False)


#: A run as the leaderboard computes it: in memory, or read again from disk when needed.
StoredRun = Run | StreamedRun


def read_judgment_lines(path: Path) -> tuple[np.ndarray, list[dict], list[LoadProblem], str]:
    """Read a JSONL file into objects and their 1-based line numbers, reporting bad lines.

    A clean file is parsed in one C-level call; only a file with a bad line is read line by line.
    A final line without a newline that is not valid JSON is a torn write: reported and ignored.

    Returns:
        Line numbers, the objects, the problems, and a digest of the file's bytes.
    """
    data = path.read_bytes()
    digest = hashlib.sha1(data).hexdigest()
    text = data.decode("utf-8", errors="replace")
    problems: list[LoadProblem] = []
    cut = text.rfind("\n") + 1
    body, tail = text[:cut], text[cut:]
    n_lines = body.count("\n")
    objects: list = []
    fast = False
    if n_lines:
        try:
            objects = json.loads("[" + body[:-1].replace("\n", ",") + "]")
            fast = len(objects) == n_lines and all(type(o) is dict for o in objects)
        except (ValueError, RecursionError):  # a bad line somewhere: found line by line below
            fast = False
    if fast:
        numbers = list(range(1, n_lines + 1))
    else:
        numbers, objects = [], []
        for number, line in enumerate(body.split("\n")[:n_lines], start=1):
            if line.strip():
                rec = _parse_line(str(path), number, line, problems)
                if rec is not None:
                    numbers.append(number)
                    objects.append(rec)
    if tail.strip():
        number = n_lines + 1
        try:
            rec = json.loads(tail)
        except (ValueError, RecursionError):
            problems.append(LoadProblem(str(path), number, "last line is incomplete (interrupted write); ignored"))
        else:
            if isinstance(rec, dict):
                numbers.append(number)
                objects.append(rec)
            else:
                problems.append(LoadProblem(str(path), number, "line is not a JSON object; skipped"))
    return np.asarray(numbers, dtype=np.int64), objects, problems, digest


def _parse_line(file: str, number: int, line: str, problems: list[LoadProblem]) -> dict | None:
    try:
        rec = json.loads(line)
    except ValueError as exc:  # JSONDecodeError, or a number too long to convert
        problems.append(
            LoadProblem(
                file,
                number,
                f"not valid JSON ({getattr(exc, 'msg', exc)}); line skipped. If the run was cut short "
                "(a torn write), start the runner on it again: it removes the line and judges the item again",
            )
        )
        return None
    except RecursionError:
        problems.append(LoadProblem(file, number, "JSON nested too deeply to read; line skipped"))
        return None
    if not isinstance(rec, dict):
        problems.append(LoadProblem(file, number, "line is not a JSON object; skipped"))
        return None
    return rec


def records_frame(mode: str, records: list[tuple[int, dict]], file: str) -> tuple[pd.DataFrame, list[LoadProblem]]:
    """Validate the records of one run and turn them into a DataFrame.

    Invalid verdicts become unscored (``unscored_reason`` says why); records without an item id and
    repeated item ids are dropped; each case is reported with its line.

    Args:
        mode: The run's mode.
        records: ``(line number, object)`` pairs.
        file: The judgments file, for problem reports.

    Returns:
        The records frame (:data:`RECORD_COLUMNS`) and the problems.
    """
    lines = np.asarray([number for number, _ in records], dtype=np.int64)
    return _records_frame(mode, lines, [obj for _, obj in records], file)


def _records_frame(
    mode: str, lines: np.ndarray, objects: list[dict], file: str
) -> tuple[pd.DataFrame, list[LoadProblem]]:
    """:func:`records_frame` on parallel arrays, column by column (the loader's JSONL path)."""

    def column(key: str) -> np.ndarray:
        out = np.empty(len(objects), dtype=object)
        out[:] = [o.get(key) for o in objects]
        return out

    items = column("item_id")
    is_int = np.array([type(v) is int for v in items], dtype=bool)
    is_str = np.array([type(v) is str for v in items], dtype=bool)
    items[is_int] = [str(v) for v in items[is_int]]
    items[~(is_int | is_str)] = None
    datasets = column("dataset")
    datasets[np.array([type(d) is not str for d in datasets], dtype=bool)] = None
    reasons = column("unscored_reason")
    reasons[np.array([type(r) is not str for r in reasons], dtype=bool)] = None
    probs, expected, confidence = probability_parts(column("probabilities"))
    frame, problems, _, _ = _frame(
        mode,
        file,
        lines=lines,
        items=items,
        datasets=datasets,
        verdicts=column("verdict"),
        reasons=reasons,
        numbers={
            "self_consistency": nested_number(column("consistency"), "agreement", bool_ok=False),
            "swap_consistent": nested_number(column("swap"), "consistent", bool_ok=True),
            "latency_s": numbers(column("latency_s")),
            "probabilities": probs,
            "expected_score": expected,
            "confidence": confidence,
        },
        typed=False,
    )
    return frame, problems


def _columnar_frame(
    mode: str, cols: Columns, file: str
) -> tuple[pd.DataFrame, list[LoadProblem], np.ndarray | None, VerdictCodes | None]:
    """:func:`records_frame` from a current columnar companion (:mod:`~leaderboard.store.columnar`).

    The companion's columns already hold what :func:`_records_frame` derives from each object, so
    only the checks that depend on values run here, on whole columns. Also returns the kept
    records' item codes (:attr:`Run.item_codes`) and verdict codes (:attr:`Run.verdict_codes`).
    """
    verdict_codes = None
    if cols.verdict_codes is not None and cols.verdict_values is not None:
        verdict_codes = VerdictCodes(cols.verdict_codes, cols.verdict_values)
    frame, problems, keep, kept_verdicts = _frame(
        mode,
        file,
        lines=cols.line,
        items=cols.item_id,
        datasets=cols.dataset,
        verdicts=cols.verdict,
        reasons=cols.unscored_reason,
        numbers={
            "self_consistency": cols.self_consistency,
            "swap_consistent": cols.swap_consistent,
            "latency_s": cols.latency_s,
            "probabilities": cols.probabilities,
            "expected_score": cols.expected_score,
            "confidence": cols.confidence,
        },
        typed=True,
        valid=cols.valid,
        codes=cols.item_codes,
        verdict_codes=verdict_codes,
    )
    return frame, problems, None if cols.item_codes is None else cols.item_codes[keep], kept_verdicts


def _present(values: np.ndarray) -> np.ndarray:
    """Which entries of an object array are not None (one C-level pass)."""
    return pd.notna(pd.Series(values, dtype=object)).to_numpy(dtype=bool) if len(values) else np.zeros(0, dtype=bool)


def _frame(
    mode: str,
    file: str,
    *,
    lines: np.ndarray,
    items: np.ndarray,
    datasets: np.ndarray,
    verdicts: np.ndarray,
    reasons: np.ndarray,
    numbers: dict[str, np.ndarray],
    typed: bool,
    valid: dict[str, np.ndarray] | None = None,
    codes: np.ndarray | None = None,
    verdict_codes: VerdictCodes | None = None,
) -> tuple[pd.DataFrame, list[LoadProblem], np.ndarray, VerdictCodes | None]:
    """Validate normalised columns of one run (ids, datasets and reasons: strings or None).

    ``typed``: every verdict already is None or of the mode's stored type (a columnar companion),
    so the per-value type checks are skipped; ``valid`` gives its columns' non-null masks,
    ``codes`` its ids' pool codes (repeats are then found on integers) and ``verdict_codes`` its
    verdicts' dictionary (each distinct verdict is then checked once without hashing every row).
    Also returns which input rows were kept, and the kept rows' verdict codes.
    """
    known = valid or {}

    def present_of(name: str, values: np.ndarray) -> np.ndarray:
        return known[name] if name in known else _present(values)

    problems: list[LoadProblem] = []
    has_item = present_of("item_id", items)
    keep = has_item.copy()
    keep[has_item] = items[has_item] != ""
    for line in lines[~keep]:
        problems.append(LoadProblem(file, int(line), "record has no item_id; skipped"))
    if codes is not None:
        # One code per distinct id; rows not kept have a null id (-1) or "" , neither of which is kept.
        repeated = keep & pd.Series(np.where(keep, codes, -1)).duplicated(keep="first").to_numpy()
    else:
        repeated = keep & pd.Series(np.where(keep, items, None), dtype=object).duplicated(keep="first").to_numpy()  # type: ignore[call-overload]
    if repeated.any():
        first_line = dict(zip(items[keep & ~repeated], lines[keep & ~repeated], strict=True))
        for item, line in zip(items[repeated], lines[repeated], strict=True):
            problems.append(
                LoadProblem(
                    file, int(line), f"item {item} already judged on line {first_line[item]}; this line is ignored"
                )
            )
    keep &= ~repeated
    everything = bool(keep.all())

    def kept(values: np.ndarray) -> np.ndarray:
        # Every row is kept in a clean run: its (fresh, private) arrays are used as they are, since
        # gathering an object array touches every element's reference count.
        return values if everything else values[keep]

    verdicts, reasons = kept(verdicts), kept(reasons)
    kept_lines = kept(lines)
    wanted = get_task(mode).verdicts.stored_type
    # `is not None`, not notna: a NaN verdict is a value of the wrong type, reported as such (a
    # companion's typed column holds no NaN, so notna is the same there and one C-level pass).
    if typed:
        present = kept(known["verdict"]) if "verdict" in known else _present(verdicts)
    else:
        present = np.fromiter((v is not None for v in verdicts), bool, len(verdicts))
    typed_mask = present if typed else np.array([type(v) is wanted for v in verdicts], dtype=bool)
    if typed and verdict_codes is not None:
        codes, uniques = kept(verdict_codes.codes), verdict_codes.values  # -1 exactly where not present
    else:
        codes, uniques = pd.factorize(pd.Series(np.where(typed_mask, verdicts, None), dtype=object))  # type: ignore[call-overload]
    unique_problem = np.array([verdict_problem(mode, u) for u in uniques] + [""], dtype=object)
    bad = (unique_problem != "")[codes]  # code -1 (untyped) picks the trailing ""
    problem = unique_problem[np.where(bad, codes, -1)] if bad.any() else None
    if not typed:
        untyped = ~typed_mask & present
        if untyped.any():
            # A value of another type is judged by the task's own check, which tests types itself: the
            # rubric task stores an int for one response and a letter for two.
            problem = unique_problem[np.where(bad, codes, -1)] if problem is None else problem
            problem[untyped] = [verdict_problem(mode, v) for v in verdicts[untyped]]
            bad = problem != ""
    if problem is not None and bad.any():
        for line, why in zip(kept_lines[bad], problem[bad], strict=True):
            problems.append(LoadProblem(file, int(line), f"{why}; counted as unscored"))
        verdicts = verdicts.copy()
        verdicts[bad] = None
    kept_codes = None
    if typed and verdict_codes is not None:
        kept_codes = VerdictCodes(np.where(bad, -1, codes), verdict_codes.values)
    unscored = ~(present & ~bad)
    has_reason = kept(known["unscored_reason"]) if "unscored_reason" in known else _present(reasons)
    reason_ok = has_reason.copy()
    reason_ok[has_reason] = reasons[has_reason] != ""
    out_reasons = np.full(len(verdicts), None, dtype=object)
    out_reasons[unscored & reason_ok] = reasons[unscored & reason_ok]
    out_reasons[unscored & ~reason_ok] = "unscored (no reason recorded)"
    if problem is not None and bad.any():
        out_reasons[bad] = ["invalid stored verdict: " + str(p) for p in problem[bad]]
    datasets = kept(datasets)
    no_dataset = ~(kept(known["dataset"]) if "dataset" in known else _present(datasets))
    if no_dataset.any():
        for line in kept_lines[no_dataset]:
            problems.append(LoadProblem(file, int(line), "record has no dataset; the label table's is used"))
        datasets = datasets.copy()
        datasets[no_dataset] = ""

    def column(values: np.ndarray, dtype: str) -> pd.Series:
        return pd.Series(values, dtype=dtype, copy=False)

    frame = pd.DataFrame(
        {
            "item_id": column(kept(items), "object"),
            "dataset": column(datasets, "object"),
            "verdict": column(verdicts, "object"),
            "unscored_reason": column(out_reasons, "object"),
            "line": pd.Series(kept_lines, dtype="int64"),  # a copy: the caller may hold the lines
            "self_consistency": numbers["self_consistency"][keep],
            "swap_consistent": numbers["swap_consistent"][keep],
            "latency_s": numbers["latency_s"][keep],
            "probabilities": column(kept(numbers["probabilities"]), "object"),
            "expected_score": pd.Series(numbers["expected_score"][keep], dtype="float64"),
            "confidence": pd.Series(numbers["confidence"][keep], dtype="float64"),
        },
        # No copy of the object columns (the caller's arrays are its own, made for this run; numbers
        # are gathered, which copies them, as they may be read-only views of a Parquet buffer), and no
        # consolidation into 2-D blocks (which copied every column of every run once more).
        copy=False,
    )
    return frame, problems, keep, kept_codes


def probability_columns(values: np.ndarray) -> dict[str, pd.Series]:
    """The verdict distributions of records as three columns (see :class:`judges.types.VerdictDistribution`).

    ``probabilities`` is the label -> probability mapping (None where a record has none or it is not
    a mapping of numbers), ``expected_score`` the probability-weighted score and ``confidence`` the
    probability of the chosen label (NaN where not stored). The metrics read these columns for
    ``pearson_expected``, ``ece`` and ``brier``.
    """
    probs, expected, confidence = probability_parts(values)
    return {
        "probabilities": pd.Series(probs, dtype=object),
        "expected_score": pd.Series(expected, dtype="float64"),
        "confidence": pd.Series(confidence, dtype="float64"),
    }


def load_run(run_dir: str | Path) -> tuple[Run | None, list[LoadProblem], str]:
    """Load one run folder.

    Returns:
        The run (None when the manifest is unusable), the problems, and a content digest.
    """
    run_dir = Path(run_dir)
    manifest_path = run_dir / MANIFEST_NAME
    try:
        manifest = Manifest.from_dict(json.loads(manifest_path.read_text(encoding="utf-8")))
    except (OSError, ValueError) as exc:  # RunFormatError is a ValueError; so is bad JSON
        return None, [LoadProblem(str(manifest_path), None, f"{_plain_error(exc)}; run skipped")], ""
    except RecursionError:
        why = "manifest.json nests too deeply to read (it should be a flat JSON object); run skipped"
        return None, [LoadProblem(str(manifest_path), None, why)], ""
    path = run_dir / JUDGMENTS_NAME
    if not path.exists():
        return None, [LoadProblem(str(path), None, "missing judgments file; run skipped")], ""
    columns = read_columnar(run_dir, manifest.mode)
    if columns is not None:
        # A current columnar companion: the same records and problems without parsing each line.
        problems: list[LoadProblem] = []
        frame, more, codes, verdict_codes = _columnar_frame(manifest.mode, columns, str(path))
        digest = columns.digest
    else:
        try:
            lines, objects, problems, digest = read_judgment_lines(path)
        except OSError as exc:
            return None, [LoadProblem(str(path), None, f"cannot be read ({_plain_error(exc)}); run skipped")], ""
        frame, more = _records_frame(manifest.mode, lines, objects, str(path))
        codes, verdict_codes = None, None
    problems.extend(more)
    if frame.empty:
        problems.append(LoadProblem(str(path), None, "run has no judgments; it adds no rows"))
    return _with_digest(Run(manifest, frame, run_dir), digest, codes, verdict_codes), problems, digest


def _with_digest(
    run: Run, digest: str, codes: np.ndarray | None = None, verdict_codes: VerdictCodes | None = None
) -> Run:
    # Frozen; set once, by the loader, right after building it.
    object.__setattr__(run, "digest", digest)
    object.__setattr__(run, "item_codes", codes)
    object.__setattr__(run, "verdict_codes", verdict_codes)
    return run


def _plain_error(exc: BaseException) -> str:
    """An exception as a person reads it: an OSError without its ``[Errno N]`` prefix."""
    if isinstance(exc, OSError) and exc.strerror:
        return f"{exc.strerror}: {exc.filename}" if exc.filename else exc.strerror
    return str(exc)


def find_run_dirs(source: str | Path) -> list[Path]:
    """Every folder under ``source`` (itself included) that holds a ``manifest.json``."""
    source = Path(source)
    if (source / MANIFEST_NAME).exists():
        return [source]
    return sorted(p.parent for p in source.rglob(MANIFEST_NAME))


def find_orphan_judgments(source: str | Path) -> list[Path]:
    """Every ``judgments.jsonl`` under ``source`` whose folder holds no ``manifest.json``.

    Such a folder is not a run the loader can read (nothing says which judge or mode it is); it is
    listed as a problem rather than skipped without a word.
    """
    source = Path(source)
    if (source / MANIFEST_NAME).exists():
        return []
    return sorted(p for p in source.rglob(JUDGMENTS_NAME) if not (p.parent / MANIFEST_NAME).exists())


#: Threads that read run folders ahead of the merge in :func:`load_runs` (at most one per core).
LOAD_THREADS = 4


def _folder_stamp(run_dir: Path) -> tuple:
    """What says a run folder's files are unchanged: size, modification time and inode of each."""
    out: list[object] = []
    for name in (MANIFEST_NAME, JUDGMENTS_NAME, COLUMNAR_NAME):
        try:
            st = (run_dir / name).stat()
        except OSError:
            out.append(None)
        else:
            out.append((st.st_size, st.st_mtime_ns, st.st_ino))
    return tuple(out)


def _labels_digest(labels: pd.DataFrame | None) -> str:
    if labels is None:
        return "none"
    hashed = row_hashes(labels)
    return hashlib.sha1(",".join(map(str, labels.columns)).encode() + hashed.tobytes()).hexdigest()


def load_runs(
    sources: Sequence[str | Path],
    labels: pd.DataFrame | None = None,
    previous: LoadResult | None = None,
    *,
    reusable: bool = True,
) -> LoadResult:
    """Load and merge runs from several source folders (see :func:`_load`).

    ``reusable=False``: the result will not be given back as ``previous`` (a one-off command), so
    the labels' digest that a refresh compares is not computed (half a second at 10M judgments).
    """
    return _load(sources, labels, previous, keep_records=True, reusable=reusable)


def scan_runs(
    sources: Sequence[str | Path], labels: pd.DataFrame | None = None
) -> tuple[tuple[StreamedRun, ...], tuple[LoadProblem, ...]]:
    """:func:`load_runs` keeping no records: every run is read and checked once, then left on disk.

    Returns:
        The runs as :class:`StreamedRun` (each reads its records again when a table needs them),
        and every problem, exactly as :func:`load_runs` reports them.
    """
    result = _load(sources, labels, None, keep_records=False, reusable=False)
    return cast("tuple[StreamedRun, ...]", result.runs), result.problems


def _load(
    sources: Sequence[str | Path],
    labels: pd.DataFrame | None,
    previous: LoadResult | None,
    *,
    keep_records: bool,
    reusable: bool = True,
) -> LoadResult:
    """Load and merge runs from several source folders.

    The same folder given twice, or an identical copy of a run in two sources, is loaded once. Two
    different runs with the same ``run_id`` are both kept; the second gets a ``~2`` suffix.
    With ``labels``, item ids not in the benchmark and batch rankings of the wrong length are reported.

    Args:
        sources: Folders holding runs (an assets folder, a ``runs/`` folder or one run folder).
        labels: The label table (:mod:`leaderboard.store.labels`), or None to skip those checks.
        previous: An earlier result (a refresh): folders whose files (size, time, inode) and labels
            are unchanged are taken from it, with the same problems, instead of being read again.

    Returns:
        The runs in a stable order and every problem met.
    """
    labels_digest = _labels_digest(labels) if reusable else ""  # "": never reused by a later load
    label_cache = _LabelCache()

    def read(run_dir: Path, stamp: tuple) -> _Loaded:
        run, more, digest = load_run(run_dir)
        checked = check_against_labels(run, labels, label_cache) if run is not None and labels is not None else []
        kept: Run | StreamedRun | None = run
        if run is not None and not keep_records:
            kept = StreamedRun.of(run, labels, label_cache)  # the records are dropped here, once checked
        return _Loaded(stamp, labels_digest, kept, (*more, *checked), len(checked), digest)

    # Folders are read ahead on a few threads (Parquet decoding and much of the checking release the
    # GIL), and taken in order below, so runs and problems come out as a sequential read gives them.
    with ThreadPoolExecutor(max_workers=min(LOAD_THREADS, os.cpu_count() or 1), thread_name_prefix="load-runs") as pool:
        return _merge_runs(sources, previous, labels_digest, lambda run_dir, stamp: pool.submit(read, run_dir, stamp))


def _merge_runs(
    sources: Sequence[str | Path],
    previous: LoadResult | None,
    labels_digest: str,
    read_ahead: Callable[[Path, tuple], Future[_Loaded]],
) -> LoadResult:
    """:func:`load_runs`'s walk over the sources, with folders read by ``read_ahead``."""
    folders: dict[Path, _Loaded] = {}
    runs: list[Run | StreamedRun] = []
    problems: list[LoadProblem] = []
    seen_dirs: set[Path] = set()
    seen_orphans: set[Path] = set()
    by_id: dict[str, tuple[str, Path]] = {}
    plan: list[tuple[Path, Path, tuple, _Loaded | Future[_Loaded]] | LoadProblem] = []
    for source in sources:
        if not Path(source).exists():
            plan.append(LoadProblem(str(source), None, "folder not found; nothing loaded from it"))
            continue
        try:
            run_dirs = find_run_dirs(source)
            orphans = find_orphan_judgments(source)
        except OSError as exc:
            plan.append(LoadProblem(str(source), None, f"cannot be searched ({_plain_error(exc)}); skipped"))
            continue
        for orphan in orphans:
            if orphan.parent.resolve() in seen_orphans:
                continue
            seen_orphans.add(orphan.parent.resolve())
            plan.append(
                LoadProblem(
                    str(orphan),
                    None,
                    f"no {MANIFEST_NAME} beside it, so it is not loaded; add the run's manifest "
                    "(see leaderboard/store/format.py) or remove the folder",
                )
            )
        for run_dir in run_dirs:
            real = run_dir.resolve()
            if real in seen_dirs:
                continue
            seen_dirs.add(real)
            stamp = _folder_stamp(run_dir)
            earlier = previous.folders.get(real) if previous is not None else None
            reuse = (
                earlier is not None
                and earlier.labels_digest != ""
                and (earlier.stamp, earlier.labels_digest) == (stamp, labels_digest)
            )
            plan.append(
                (run_dir, real, stamp, earlier if reuse and earlier is not None else read_ahead(run_dir, stamp))
            )
    for step in plan:
        if isinstance(step, LoadProblem):
            problems.append(step)
            continue
        run_dir, real, _stamp, pending = step
        loaded = pending if isinstance(pending, _Loaded) else pending.result()
        folders[real] = loaded
        run, digest = loaded.run, loaded.digest
        own = loaded.problems[: len(loaded.problems) - loaded.label_problems]
        label_problems = loaded.problems[len(own) :]
        problems.extend(own)
        if run is None:
            continue
        fingerprint = digest + json.dumps(run.manifest.to_dict(), sort_keys=True)
        run_id = run.run_id
        if run_id in by_id:
            if by_id[run_id][0] == fingerprint:
                problems.append(LoadProblem(str(run_dir), None, f"same run as {by_id[run_id][1]}; loaded once"))
                continue
            k = 2
            while f"{run_id}~{k}" in by_id:
                k += 1
            new_id = f"{run_id}~{k}"
            problems.append(
                LoadProblem(
                    str(run_dir),
                    None,
                    f"run_id {run_id!r} also used by {by_id[run_id][1]} for other data; kept as {new_id!r}",
                )
            )
            run = run.renamed(_with_run_id(run.manifest, new_id))
            run_id = new_id
        by_id[run_id] = (fingerprint, run_dir)
        problems.extend(label_problems)
        runs.append(run)
    # Runs only when keep_records (load_runs); scan_runs reads them back as what they are.
    return LoadResult(cast("tuple[Run, ...]", tuple(runs)), tuple(problems), folders)


def _with_run_id(manifest: Manifest, run_id: str) -> Manifest:
    data = manifest.to_dict()
    data["run_id"] = run_id
    return Manifest.from_dict(data)


@dataclass(frozen=True)
class _LabelIndex:
    """The response count of each labelled item of one (benchmark, mode, subset), and its lookup by pool code."""

    n_by_item: pd.Series
    lookup: PoolLookup

    def positions(self, run: Run) -> np.ndarray:
        """Each record's position in ``n_by_item`` (-1: not labelled)."""
        codes = run.item_codes
        if codes is not None and len(codes) == len(run.records):
            return self.lookup.positions(codes)
        # The ids are strings (the loader made them so): one hash lookup each, no conversion to pandas' strings.
        return self.n_by_item.index.get_indexer(run.records["item_id"].to_numpy(dtype=object))


class _LabelCache:
    """:func:`check_against_labels`'s indexes by (benchmark, mode, subset), shared by the loading threads
    (and by streamed runs, which are checked again each time they are read)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._normalized: pd.DataFrame | None = None
        self._indexes: dict[tuple[str, str, str], _LabelIndex | None] = {}

    def index(self, labels: pd.DataFrame, key: tuple[str, str, str]) -> _LabelIndex | None:
        """The index of ``key``'s labels (``labels`` must be the same table at every call)."""
        with self._lock:
            if key not in self._indexes:
                if self._normalized is None:
                    self._normalized = with_benchmark(labels)
                self._indexes[key] = _label_index(self._normalized, *key)
            return self._indexes[key]


def _label_index(labels: pd.DataFrame, benchmark: str, mode: str, split: str) -> _LabelIndex | None:
    """The index of one (benchmark, mode, subset) of ``labels`` (a table :func:`with_benchmark` gave)."""
    rows = rows_where(
        labels, (labels["benchmark"] == benchmark) & (labels["mode"] == mode) & (labels["subset"] == split)
    )
    if rows.empty:
        return None
    ids = pd.Index(rows["item_id"].astype(str).to_numpy(dtype=object), dtype=object)
    n_by_item = pd.Series(rows["n_responses"].to_numpy(dtype=float), index=ids)
    n_by_item = n_by_item[~n_by_item.index.duplicated()]
    return _LabelIndex(n_by_item, PoolLookup(n_by_item.index))


def check_against_labels(run: Run, labels: pd.DataFrame, _cache: _LabelCache | None = None) -> list[LoadProblem]:
    """Report records whose item is not in the benchmark, and batch rankings of the wrong length.

    A ranking that does not fit its item's response count is set to unscored in ``run.records``.

    Args:
        run: A loaded run.
        labels: The label table.
        _cache: Shared between calls by :func:`load_runs` so each (benchmark, mode, split) is indexed once.

    Returns:
        One problem per offending record (or one for the run when no labels exist for it).
    """
    file = str(run.path / JUDGMENTS_NAME)
    benchmark, mode, split = run.manifest.benchmark, run.manifest.mode, run.manifest.split
    found = (_cache if _cache is not None else _LabelCache()).index(labels, (benchmark, mode, split))
    if found is None:
        return [
            LoadProblem(
                file,
                None,
                f"no {benchmark} labels for mode {mode!r}, subset {split!r}; "
                "metrics that need human labels are left out (import the benchmark first)",
            )
        ]
    problems: list[LoadProblem] = []
    records = run.records
    where = found.positions(run)
    n = np.where(where >= 0, found.n_by_item.to_numpy(dtype=float)[np.maximum(where, 0)], np.nan)
    missing = np.isnan(n)
    for line, item in zip(records["line"].to_numpy()[missing], records["item_id"].to_numpy()[missing], strict=True):
        problems.append(
            LoadProblem(
                file,
                int(line),
                f"item {item} is not in the benchmark ({benchmark}, {mode}, {split}); kept for label-free columns only",
            )
        )
    # Validity may depend on the item's response count (a ranking must rank them all).
    space = get_task(mode).verdicts
    verdicts = records["verdict"].to_numpy(dtype=object)
    coded = (
        run.verdict_codes if run.verdict_codes is not None and len(run.verdict_codes.codes) == len(records) else None
    )
    # The loader leaves None, never NaN, for no verdict; the codes have -1 there.
    has_verdict = coded.codes >= 0 if coded is not None else records["verdict"].notna().to_numpy()
    for k in np.unique(n[has_verdict & ~missing]):
        rows = np.flatnonzero(has_verdict & (n == k))
        if coded is not None:
            codes, uniques = coded.codes[rows], coded.values
        else:
            codes, uniques = pd.factorize(pd.Series(verdicts[rows], dtype=object))
        each = np.array([space.stored_problem(u, int(k)) for u in uniques] + [""], dtype=object)
        wrong = (each != "")[codes]
        for row, problem in zip(rows[wrong], each[codes[wrong]], strict=True):
            problems.append(LoadProblem(file, int(records.at[row, "line"]), f"{problem}; counted as unscored"))
            records.at[row, "unscored_reason"] = f"invalid stored verdict: {problem}"
            records.at[row, "verdict"] = None
            if coded is not None:
                coded.codes[row] = -1  # the codes stay those of the records
    return problems
