"""The columnar companion of a run: ``judgments.parquet`` beside ``judgments.jsonl``.

``judgments.jsonl`` stays the append log and the authority (the runner resumes from it; people and
the Hub read it). Once a run is complete (the runner finished, an importer or an accepted submission
wrote it), :func:`write_columnar` also keeps its judgments as typed columns, so the loader reads a
large run without parsing one JSON object per line. The Parquet file records the size, modification
time and SHA-1 of the JSONL it was made from (:data:`STAMP_KEY` in its metadata); :func:`read_columnar`
returns nothing when that no longer matches (the JSONL was appended to, edited or replaced), and the
loader then reads the JSONL, which is what it would read without a companion.

The columns hold what the loader derives from each object, not the raw values: ``item_id`` as a
string (an integer id reads as its decimal string; any other type as missing, which the loader
reports as it does for the JSONL), ``dataset`` and ``unscored_reason`` as strings (other types as
missing, which reads the same), ``verdict`` typed by the mode, the three numbers the loader reads from
``consistency``, ``swap`` and ``latency_s``, and the verdict distribution as normalised JSON. A run
whose values do not fit (a verdict of the wrong type, a file with a bad line) gets no companion: only
the JSONL path can report such lines with their numbers. ``details`` (task-specific structured parts
of a judgment) is kept as JSON text.

Runs below :data:`MIN_COLUMNAR_LINES` judgments get no companion: their JSONL reads in milliseconds.
pyarrow is imported only here and only when a companion is written or read; without it everything
reads the JSONL.

This module depends on :mod:`~leaderboard.store.format` only.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import math
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from judges.tasks import get_task
from leaderboard.store.format import JUDGMENTS_NAME, MANIFEST_NAME

if TYPE_CHECKING:
    import pandas as pd

logger = logging.getLogger(__name__)

COLUMNAR_NAME = "judgments.parquet"
#: Bump when the columns or their meaning change: companions of another version are not read.
COLUMNAR_VERSION = 1
#: Metadata key of the JSONL stamp (size, mtime_ns, sha1, version) in the Parquet file.
STAMP_KEY = b"mllm-judge-jsonl-stamp"
#: Runs with fewer judgments get no companion (see the module docstring).
MIN_COLUMNAR_LINES = 1000


# --------------------------------------------------------------------------- value rules (shared with read)


def number(value: object) -> float:
    """A finite float, or NaN for anything else (a 400-digit integer, NaN, Infinity, a string)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return np.nan
    try:
        out = float(value)
    except OverflowError:
        return np.nan
    return out if math.isfinite(out) else np.nan


def numbers(values: np.ndarray) -> np.ndarray:
    """:func:`number` of every entry (None -> NaN)."""
    out = np.full(len(values), np.nan)
    present = np.flatnonzero([v is not None for v in values])
    out[present] = [number(values[i]) for i in present]
    return out


def nested_number(values: np.ndarray, key: str, *, bool_ok: bool) -> np.ndarray:
    """``value[key]`` of dict entries as floats (True -> 1.0 when ``bool_ok``); NaN elsewhere."""
    out = np.full(len(values), np.nan)
    for i in np.flatnonzero([isinstance(v, dict) for v in values]):
        inner = values[i].get(key)
        if isinstance(inner, bool):
            out[i] = float(inner) if bool_ok else np.nan
        elif not bool_ok:
            out[i] = number(inner)
    return out


def probability_parts(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The stored verdict distributions as (label -> probability dicts or None, expected, confidence).

    A mapping whose probabilities are not all finite non-negative numbers reads as None; the
    expected score and the confidence are NaN where not stored.
    """
    probs = np.full(len(values), None, dtype=object)
    expected, confidence = np.full(len(values), np.nan), np.full(len(values), np.nan)
    for i in np.flatnonzero([isinstance(v, dict) for v in values]):
        inner = values[i].get("probabilities")
        if isinstance(inner, dict) and inner and all(number(p) >= 0 for p in inner.values()):
            probs[i] = {str(k): float(p) for k, p in inner.items()}
        expected[i] = number(values[i].get("expected_score"))
        confidence[i] = number(values[i].get("confidence"))
    return probs, expected, confidence


# --------------------------------------------------------------------------- stamp


@dataclass(frozen=True)
class Stamp:
    """What a companion was made from: the JSONL's size, modification time and SHA-1."""

    size: int
    mtime_ns: int
    sha1: str
    mode: str
    version: int = COLUMNAR_VERSION

    def to_bytes(self) -> bytes:
        """The stamp as JSON, for the Parquet metadata."""
        raw = {"size": self.size, "mtime_ns": self.mtime_ns, "sha1": self.sha1, "mode": self.mode}
        return json.dumps({**raw, "version": self.version}).encode()

    @classmethod
    def from_bytes(cls, data: bytes) -> Stamp | None:
        """The stamp of :meth:`to_bytes`, or None for anything else."""
        try:
            raw = json.loads(data)
            return cls(int(raw["size"]), int(raw["mtime_ns"]), str(raw["sha1"]), str(raw["mode"]), int(raw["version"]))
        except (ValueError, KeyError, TypeError):
            return None


# --------------------------------------------------------------------------- columns


def _verdict_type(mode: str) -> tuple[type, Any]:
    import pyarrow as pa

    wanted = get_task(mode).verdicts.stored_type
    return wanted, (pa.int64() if wanted is int else pa.string())


def typed_columns(mode: str, objects: list[dict]) -> dict[str, Any] | None:
    """The companion's columns of a run's objects (in line order), or None when a value does not fit.

    Returns:
        name -> pyarrow array; None when a verdict has another type than the mode stores (the JSONL
        path reports it with its line).
    """
    import pyarrow as pa

    n = len(objects)

    def column(key: str) -> np.ndarray:
        out = np.empty(n, dtype=object)
        out[:] = [o.get(key) for o in objects]
        return out

    wanted, verdict_type = _verdict_type(mode)
    verdicts = column("verdict")
    if not all(v is None or type(v) is wanted for v in verdicts):
        return None
    if wanted is int and any(v is not None and not -(2**63) <= v < 2**63 for v in verdicts):
        return None
    items = [v if type(v) is str else str(v) if type(v) is int else None for v in column("item_id")]
    probs, expected, confidence = probability_parts(column("probabilities"))
    details = column("details")
    columns: dict[str, Any] = {
        "line": pa.array(np.arange(1, n + 1, dtype=np.int64)),
        "item_id": pa.array(items, type=pa.string()),
        "dataset": pa.array([d if type(d) is str else None for d in column("dataset")], type=pa.string()),
        "verdict": pa.array(list(verdicts), type=verdict_type),
        "unscored_reason": pa.array([r if type(r) is str else None for r in column("unscored_reason")], pa.string()),
        "self_consistency": pa.array(nested_number(column("consistency"), "agreement", bool_ok=False)),
        "swap_consistent": pa.array(nested_number(column("swap"), "consistent", bool_ok=True)),
        "latency_s": pa.array(numbers(column("latency_s"))),
        "probabilities": pa.array([None if p is None else json.dumps(p) for p in probs], type=pa.string()),
        "expected_score": pa.array(expected),
        "confidence": pa.array(confidence),
    }
    if any(d is not None for d in details):
        columns["details"] = pa.array(
            [None if d is None else json.dumps(d, separators=(",", ":")) for d in details], type=pa.string()
        )
    return columns


def _clean_objects(data: bytes) -> list[dict] | None:
    """Every line of a JSONL file as an object, or None unless every line is one (no torn tail)."""
    if not data.endswith(b"\n"):
        return None
    body = data[:-1]
    if not body:
        return []
    try:
        objects = json.loads(b"[" + body.replace(b"\n", b",") + b"]")
    except (ValueError, RecursionError):
        return None
    if len(objects) != body.count(b"\n") + 1 or not all(type(o) is dict for o in objects):
        return None
    return objects


def write_columnar(run_dir: str | Path, *, min_lines: int | None = None) -> Path | None:
    """Write (or replace) the companion of a run folder; never raises.

    Args:
        run_dir: A run folder (``manifest.json`` + ``judgments.jsonl``).
        min_lines: Runs with fewer judgments get none (and lose a stale one); default
            :data:`MIN_COLUMNAR_LINES`.

    Returns:
        The Parquet file, or None when none was written (small run, a line the JSONL path must
        report, pyarrow missing, a write error: logged).
    """
    run_dir = Path(run_dir)
    target = run_dir / COLUMNAR_NAME
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        return None
    try:
        mode = json.loads((run_dir / MANIFEST_NAME).read_text(encoding="utf-8"))["mode"]
        jsonl = run_dir / JUDGMENTS_NAME
        before = jsonl.stat()
        data = jsonl.read_bytes()
        objects = _clean_objects(data)
        columns = None
        if objects is not None and len(objects) >= (MIN_COLUMNAR_LINES if min_lines is None else min_lines):
            columns = typed_columns(str(mode), objects)
        if columns is None:
            with contextlib.suppress(FileNotFoundError):
                target.unlink()  # a stale companion must not outlive the data it was made from
            return None
        after = jsonl.stat()
        if (after.st_size, after.st_mtime_ns) != (before.st_size, before.st_mtime_ns) or after.st_size != len(data):
            return None  # written to while we read it: the next close makes the companion
        stamp = Stamp(len(data), after.st_mtime_ns, hashlib.sha1(data).hexdigest(), str(mode))
        table = pa.table(columns).replace_schema_metadata({STAMP_KEY: stamp.to_bytes()})
        tmp = target.with_name(target.name + ".tmp")
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        try:
            pq.write_table(table, tmp, compression="zstd")
            os.replace(tmp, target)
        finally:
            with contextlib.suppress(OSError):
                tmp.unlink()
    except (OSError, ValueError, KeyError, TypeError, RecursionError, pa.ArrowException) as exc:
        logger.warning("%s: no columnar copy written (%s); the JSONL is read instead", run_dir, exc)
        return None
    return target


class _SharedStrings:
    """One Python string per distinct item id across every run read in this process.

    Runs of one benchmark judge the same items: without sharing, each run's ids are their own
    string objects (about 55 bytes each, so half a gigabyte at 10M judgments). Thread-safe; it holds
    the distinct ids seen, which the label table bounds.
    """

    #: How many recent columns are remembered with their codes, and how many ids in all (about 22
    #: bytes each): runs of one benchmark usually list the same items in the same order (an import,
    #: a rerun), and comparing two equal columns is a memcmp (0.1 ms for 166k ids) where looking
    #: every id up again is a hash probe each (10 ms).
    RECENT = 8
    RECENT_IDS = 2_000_000

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._known: Any = None  # a pyarrow string array of the ids seen, in pool order
        self._objects = np.empty(0, dtype=object)
        self._with_none = np.array([None], dtype=object)  # the pool and a last None (code -1 picks it)
        self._recent: list[tuple[Any, np.ndarray]] = []  # (column, its codes), newest last

    @property
    def pool(self) -> np.ndarray:
        """Every distinct id seen, in pool order: :meth:`codes` index it."""
        return self._objects

    def share(self, column: Any) -> np.ndarray:
        """``column`` (a pyarrow string array) as an object array of shared strings (None for nulls)."""
        return self.coded(column)[0]

    def coded(self, column: Any) -> tuple[np.ndarray, np.ndarray]:
        """``column`` as shared strings, and each one's position in :attr:`pool` (-1 for nulls)."""
        import pyarrow as pa
        import pyarrow.compute as pc

        if column.type != pa.string():
            column = column.cast(pa.string())
        with self._lock:
            for seen, codes in reversed(self._recent):
                if len(seen) == len(column) and seen.equals(column):
                    return self._with_none[codes], codes
            if self._known is None:
                self._known = pa.array([], type=pa.string())
            where = pc.index_in(column, value_set=self._known)
            new = pc.and_(pc.is_null(where), pc.is_valid(column))
            if pc.any(new).as_py():
                fresh = pc.unique(column.filter(new))
                self._known = pa.concat_arrays([self._known, fresh])
                self._objects = np.concatenate([self._objects, fresh.to_numpy(zero_copy_only=False).astype(object)])
                self._with_none = np.append(self._objects, None)  # type: ignore[call-overload]
                where = pc.index_in(column, value_set=self._known)
            codes = pc.fill_null(where, len(self._objects)).to_numpy(zero_copy_only=False)
            # The None slot moves as the pool grows: remembered codes point at it by a -1.
            signed = np.where(codes == len(self._objects), -1, codes)
            recent = [*self._recent[-(self.RECENT - 1) :], (column, signed)]
            while sum(len(c) for c, _ in recent) > self.RECENT_IDS:
                recent.pop(0)
            self._recent = recent
            return self._with_none[signed], signed


_SHARED_IDS = _SharedStrings()
#: String columns read as dictionaries (see :func:`read_columnar`).
_FEW_VALUES = ("dataset", "verdict", "unscored_reason")


class PoolLookup:
    """Where each shared item id (by its pool code) sits in one index of ids: computed once per id.

    Runs read from columnar companions carry their ids' pool codes (:attr:`Columns.item_codes`),
    so matching a run against the labels is an array take instead of a string hash per record.
    """

    def __init__(self, index: pd.Index) -> None:
        """Args:
        index: Unique item ids (strings); positions come from ``index.get_indexer``.
        """
        self._index = index
        self._table = np.full(1, -1, dtype=np.int64)  # per pool code, and a last -1 that code -1 picks
        self._lock = threading.Lock()

    def positions(self, codes: np.ndarray) -> np.ndarray:
        """The position in the index of each coded id (-1: not in it, or a null id)."""
        with self._lock:
            pool = _SHARED_IDS.pool
            seen = len(self._table) - 1
            if seen < len(pool):  # the pool grew: look the new ids up, once each
                fresh = self._index.get_indexer(pool[seen:])
                self._table = np.concatenate([self._table[:-1], np.asarray(fresh, dtype=np.int64), [-1]])
            table = self._table
        return table[codes]  # code -1 (a null id) picks the trailing -1


@dataclass(frozen=True)
class Columns:
    """A companion's columns as numpy arrays (object arrays for strings), and the JSONL digest."""

    line: np.ndarray
    item_id: np.ndarray
    dataset: np.ndarray
    verdict: np.ndarray
    unscored_reason: np.ndarray
    self_consistency: np.ndarray
    swap_consistent: np.ndarray
    latency_s: np.ndarray
    probabilities: np.ndarray
    expected_score: np.ndarray
    confidence: np.ndarray
    digest: str
    valid: dict[str, np.ndarray] = field(default_factory=dict)  # string columns: which rows are not null
    item_codes: np.ndarray | None = None  # each id's position in the shared pool (PoolLookup), -1 for null
    #: Verdicts as codes into their distinct values (-1 for null): ``verdict`` is
    #: ``verdict_values[verdict_codes]`` with -1 picking None.
    verdict_codes: np.ndarray | None = None
    verdict_values: np.ndarray | None = None


_DERIVED = ("digest", "valid", "item_codes", "verdict_codes", "verdict_values")  # not stored columns


def read_columnar(run_dir: str | Path, mode: str) -> Columns | None:
    """The companion of a run when it is current (made from the JSONL as it is now, for ``mode``), else None.

    Current means the JSONL's size and modification time match the stamp; when only the time differs
    (a copy, a Hub download) the JSONL's SHA-1 is compared instead. Any problem reading the Parquet
    file gives None (the JSONL is read then).
    """
    run_dir = Path(run_dir)
    target = run_dir / COLUMNAR_NAME
    if not target.is_file():
        return None
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        return None
    jsonl = run_dir / JUDGMENTS_NAME
    try:
        pf = pq.ParquetFile(target)
        stamp = Stamp.from_bytes((pf.schema_arrow.metadata or {}).get(STAMP_KEY, b""))
        # Columns of few distinct strings come back dictionary-encoded, as Parquet stores them:
        # decoding them to one string per row only to encode them again took most of their time.
        coded_columns = [
            name
            for name in _FEW_VALUES
            if name in pf.schema_arrow.names and pf.schema_arrow.field(name).type == pa.string()
        ]
        if coded_columns:
            pf = pq.ParquetFile(target, read_dictionary=coded_columns)
        st = jsonl.stat()
        if stamp is None or (stamp.version, stamp.mode, stamp.size) != (COLUMNAR_VERSION, mode, st.st_size):
            return None
        if stamp.mtime_ns != st.st_mtime_ns and hashlib.sha1(jsonl.read_bytes()).hexdigest() != stamp.sha1:
            return None
        wanted = [f.name for f in Columns.__dataclass_fields__.values() if f.name not in _DERIVED]
        table = pf.read(columns=wanted)
    except Exception as exc:  # noqa: BLE001 - pyarrow raises many kinds; any of them means "read the JSONL"
        logger.warning("%s: columnar copy not usable (%s); reading the JSONL", target, exc)
        return None

    def strings(name: str) -> np.ndarray:
        return table.column(name).to_numpy(zero_copy_only=False).astype(object, copy=False)

    def coded(name: str) -> tuple[np.ndarray, np.ndarray]:
        """A column of few distinct strings as codes (-1 for null) into its distinct values."""
        column = table.column(name)
        if pa.types.is_dictionary(column.type):
            dictionary = (column.unify_dictionaries() if column.num_chunks > 1 else column).combine_chunks()
        else:
            dictionary = column.combine_chunks().dictionary_encode()
        values = dictionary.dictionary.to_numpy(zero_copy_only=False).astype(object)
        codes = dictionary.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64, copy=False)
        return codes, values

    def labels(name: str, parts: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
        """A column of few distinct strings (datasets, reasons, verdicts): one Python string per value
        shared by its rows, instead of one per row (less memory, and faster to build)."""
        codes, values = parts if parts is not None else coded(name)
        return np.append(values, None)[codes]  # type: ignore[call-overload]  # -1 picks the None

    def floats(name: str) -> np.ndarray:
        return table.column(name).to_numpy(zero_copy_only=False).astype(float, copy=False)

    verdict_col = table.column("verdict")
    verdict_parts: tuple[np.ndarray, np.ndarray] | tuple[None, None] = (None, None)
    if pa.types.is_integer(verdict_col.type):
        # Python ints where present, None where not (nullable ints would come back as floats), coded
        # like the string columns: a run has a handful of distinct scores.
        valid = verdict_col.is_valid().to_numpy(zero_copy_only=False)
        numbers, where = np.unique(verdict_col.drop_null().to_numpy(), return_inverse=True)
        codes = np.full(len(valid), -1, dtype=np.int64)
        codes[valid] = where
        verdict_parts = (codes, np.array([int(v) for v in numbers], dtype=object))
        verdict = labels("verdict", verdict_parts)
    else:
        verdict_parts = coded("verdict")
        verdict = labels("verdict", verdict_parts)
    item_ids, item_codes = _SHARED_IDS.coded(table.column("item_id").combine_chunks())
    probs = np.full(table.num_rows, None, dtype=object)
    if table.column("probabilities").null_count < table.num_rows:  # most runs store none
        prob_text = strings("probabilities")
        present = np.flatnonzero(prob_text != None)  # noqa: E711 - elementwise on an object array
        probs[present] = json.loads("[" + ",".join(prob_text[present]) + "]")
    return Columns(
        line=table.column("line").to_numpy(),
        item_id=item_ids,
        item_codes=item_codes,
        verdict_codes=verdict_parts[0],
        verdict_values=verdict_parts[1],
        dataset=labels("dataset"),
        verdict=verdict,
        unscored_reason=labels("unscored_reason"),
        self_consistency=floats("self_consistency"),
        swap_consistent=floats("swap_consistent"),
        latency_s=floats("latency_s"),
        probabilities=probs,
        expected_score=floats("expected_score"),
        confidence=floats("confidence"),
        digest=stamp.sha1,
        valid={
            name: table.column(name).is_valid().to_numpy(zero_copy_only=False)
            for name in ("item_id", "dataset", "verdict", "unscored_reason")
        },
    )
