"""The board: sources -> labels -> runs -> the long table, and the lazy store the Space reads it from.

:func:`load_leaderboard` asks :mod:`leaderboard.store.sources` which folders hold runs (the embedded
ones, ``RUNS_DIR``, ``RUNS_REPO``, the submissions folder) and which label tables go with them, reads
the runs (:mod:`leaderboard.store.read`; bad input never stops it, it is listed in ``problems``),
computes the table (:mod:`leaderboard.metrics`) and adds every registered benchmark's reference rows
(:mod:`leaderboard.benchmarks`). ``python -m leaderboard table`` and the Space use the same rules,
including the minimum number of items a cell needs to show a value (``min_n``; a UI control can ask
:meth:`LazyLeaderboard.table` for another threshold, which recomputes from the loaded runs and
caches the result). :class:`LazyLeaderboard` loads on first use or in the background, and again on
refresh; readers keep the previous data while a refresh runs.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

    from judges.settings import Settings
    from leaderboard.store.read import LoadProblem, LoadResult, StreamedRun
    from leaderboard.store.rowcache import RowCache

logger = logging.getLogger(__name__)


def load_inputs(
    sources: Sequence[str | Path],
    extra_labels: Iterable[str | Path] = (),
    previous: LoadResult | None = None,
    *,
    reusable: bool = True,
) -> tuple[pd.DataFrame, LoadResult]:
    """The label table and the runs of ``sources``: labels found with the runs (else the embedded ones).

    Args:
        sources: Folders of runs.
        extra_labels: Label CSVs given explicitly, read after those found in the sources.
        previous: The last load (a refresh): unchanged run folders are reused, not read again.
        reusable: False for a one-off command whose result is never a later ``previous``.

    Returns:
        The merged label table and what loading the runs gave (runs and problems).
    """
    from leaderboard.store.labels import load_label_tables
    from leaderboard.store.read import load_runs
    from leaderboard.store.sources import label_files

    folders = [Path(s) for s in sources]
    labels = load_label_tables(label_files(folders, extra_labels))
    return labels, load_runs(folders, labels, previous, reusable=reusable)


def scan_inputs(
    sources: Sequence[str | Path], extra_labels: Iterable[str | Path] = ()
) -> tuple[pd.DataFrame, tuple[StreamedRun, ...], tuple[LoadProblem, ...]]:
    """:func:`load_inputs` keeping no records in memory (:func:`leaderboard.store.read.scan_runs`).

    Returns:
        The merged label table, the runs (their records stay on disk until a table reads them)
        and every problem.
    """
    from leaderboard.store.labels import load_label_tables
    from leaderboard.store.read import scan_runs
    from leaderboard.store.sources import label_files

    folders = [Path(s) for s in sources]
    labels = load_label_tables(label_files(folders, extra_labels))
    runs, problems = scan_runs(folders, labels)
    return labels, runs, problems


def reference_rows(path: str | Path | None = None) -> pd.DataFrame:
    """The reported numbers of every registered benchmark (or of the default one's CSV at ``path``)."""
    import pandas as pd

    from leaderboard.benchmarks import BENCHMARKS, get_benchmark
    from leaderboard.metrics import METRIC_NAMES

    def tagged(frame: pd.DataFrame, name: str) -> pd.DataFrame:
        # Every reference row names its benchmark, whether or not the benchmark's reader does.
        out = frame.copy()
        given = out["benchmark"] if "benchmark" in out.columns else pd.Series(index=out.index, dtype=object)
        out["benchmark"] = given.where(given.notna() & (given.astype(str) != ""), name)
        return out

    if path is not None:
        bench = get_benchmark()
        return tagged(bench.reference_rows(path, known_metrics=METRIC_NAMES), bench.name)
    frames = [tagged(b.reference_rows(known_metrics=METRIC_NAMES), b.name) for b in BENCHMARKS.values()]
    return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)


@dataclass(frozen=True)
class LeaderboardData:
    """Everything the tab reads, loaded once.

    Attributes:
        table: The engine's long table (one row per run x metric x dataset, reference rows included).
        labels: The human-label table (mode, subset, item_id, dataset, human_label, ...).
        runs: The loaded runs (their records give each judge's verdict per item).
        problems: Input problems met while loading, as text.
        sources: The folders of runs it was loaded from.
        min_n: The minimum items per cell ``table`` was computed with.
        reference: The reference rows ``table`` includes (kept to rebuild it with another ``min_n``).
        cache: The row cache ``table`` was computed with (None: none), reused for other ``min_n``.
        loaded: What loading the runs gave (reused by the next refresh for unchanged folders).
    """

    table: pd.DataFrame
    labels: pd.DataFrame
    runs: tuple = ()
    problems: tuple[str, ...] = ()
    sources: tuple[Path, ...] = ()
    min_n: int = 10
    reference: pd.DataFrame | None = None
    cache: RowCache | None = None
    loaded: LoadResult | None = field(default=None, repr=False)


def load_leaderboard(
    settings: Settings | None = None,
    *,
    sources: Sequence[str | Path] | None = None,
    n_resamples: int = 1000,
    min_n: int | None = None,
    cache_dir: str | Path | None = None,
    previous: LeaderboardData | None = None,
) -> LeaderboardData:
    """Load stored runs, labels and the paper's numbers and build the long table with the engine.

    Args:
        settings: Where the runs are (``RUNS_DIR``, ``RUNS_REPO``, ``HF_TOKEN``); default: the
            embedded runs only. Read through :func:`leaderboard.store.sources.leaderboard_sources`, which
            pulls ``RUNS_REPO``.
        sources: Folders of runs to read instead of those ``settings`` names.
        n_resamples: Bootstrap resamples for the intervals.
        min_n: Minimum items per cell (default :data:`leaderboard.schema.DEFAULT_MIN_N`).
        cache_dir: A folder for the row cache (:class:`leaderboard.store.rowcache.RowCache`): the rows
            of runs whose content, labels and code did not change are read back instead of
            recomputed, so a Refresh or a restart computes only new runs. None: no cache.
        previous: The data shown now (a refresh): run folders whose files and labels did not change
            are taken from it instead of being read again.

    Returns:
        The loaded data. Bad input never stops loading; it is listed in ``problems``.
    """
    from leaderboard.metrics import build_leaderboard
    from leaderboard.schema import DEFAULT_MIN_N
    from leaderboard.store.rowcache import RowCache
    from leaderboard.store.sources import leaderboard_sources

    min_n = DEFAULT_MIN_N if min_n is None else min_n
    folders = [Path(s) for s in sources] if sources is not None else leaderboard_sources(settings)
    # The same rules as `python -m leaderboard table` (load_inputs).
    labels, loaded = load_inputs(folders, previous=previous.loaded if previous is not None else None)
    reference = reference_rows()
    cache = RowCache(Path(cache_dir)) if cache_dir is not None else None
    table = build_leaderboard(loaded.runs, labels, reference, n_resamples=n_resamples, min_n=min_n, cache=cache)
    if cache is not None:
        cache.prune()  # entries of old code or old inputs, unused for two weeks
    problems = tuple(str(p) for p in loaded.problems)
    if problems:
        logger.warning("%d problem(s) while loading runs; first: %s", len(problems), problems[0])
    return LeaderboardData(
        table=table,
        labels=labels,
        runs=tuple(loaded.runs),
        problems=problems,
        sources=tuple(folders),
        min_n=min_n,
        reference=reference,
        cache=cache,
        loaded=loaded,
    )


def table_with_min_n(data: LeaderboardData, min_n: int, *, n_resamples: int = 1000) -> pd.DataFrame:
    """The long table of ``data`` recomputed with another minimum n (the loaded runs, no reloading).

    Args:
        data: Loaded data.
        min_n: Minimum items per cell (1 keeps every cell).
        n_resamples: Bootstrap resamples (the same seed as ``data.table``, so unchanged cells keep
            their intervals).

    Returns:
        ``data.table`` itself when ``min_n`` is the one it was built with, else a new table.
    """
    from leaderboard.metrics import build_leaderboard

    if int(min_n) == data.min_n:
        return data.table
    return build_leaderboard(
        list(data.runs), data.labels, data.reference, n_resamples=n_resamples, min_n=int(min_n), cache=data.cache
    )


@dataclass
class LazyLeaderboard:
    """Loads the leaderboard on first use (or in the background with :meth:`prefetch`) and on :meth:`refresh`.

    Importing and building the app stays free of work; the first page load, or a prefetch started
    at launch, pays for the computation. Readers keep seeing the previous data while a refresh
    loads the new one.

    Attributes:
        settings: Where the runs are (:func:`leaderboard.store.sources.leaderboard_sources`); None:
            the embedded runs only.
        n_resamples: Bootstrap resamples for the intervals.
        sources: Returns the folders to read, instead of ``leaderboard_sources(settings)`` (tests,
            another Hub endpoint).
        min_n: Minimum items per cell of the loaded table (None: the default, 10).
        cache_dir: The row cache's folder; None: :func:`leaderboard.store.sources.default_cache_dir`
            when ``settings`` are given (the Space), else no cache.
    """

    settings: Settings | None = None
    n_resamples: int = 1000
    sources: Callable[[], Sequence[str | Path]] | None = None
    min_n: int | None = None
    cache_dir: str | Path | None = None
    _data: LeaderboardData | None = field(default=None, init=False, repr=False)
    _by_min_n: dict[int, tuple[LeaderboardData, pd.DataFrame]] = field(default_factory=dict, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)
    _refresh_lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def run_sources(self) -> list[Path]:
        """The folders of runs to read now (pulls ``RUNS_REPO`` when one is set)."""
        from leaderboard.store.sources import leaderboard_sources

        if self.sources is not None:
            return [Path(s) for s in self.sources()]
        return leaderboard_sources(self.settings)

    def _cache_folder(self) -> Path | None:
        from leaderboard.store.sources import default_cache_dir

        if self.cache_dir is not None:
            return Path(self.cache_dir)
        return default_cache_dir(self.settings) if self.settings is not None else None

    def _load(self, previous: LeaderboardData | None = None) -> LeaderboardData:
        return load_leaderboard(
            self.settings,
            sources=self.run_sources(),
            n_resamples=self.n_resamples,
            min_n=self.min_n,
            cache_dir=self._cache_folder(),
            previous=previous,
        )

    def table(self, min_n: int | None = None) -> pd.DataFrame:
        """The long table with minimum n ``min_n`` (None: the loaded one), recomputed once per value.

        What a "minimum n" control calls: the first call per threshold recomputes from the loaded
        runs (about a second for the embedded runs), later calls return the cached table; a refresh
        drops the cache.
        """
        data = self.get()
        if min_n is None or int(min_n) == data.min_n:
            return data.table
        with self._lock:
            entry = self._by_min_n.get(int(min_n))
        if entry is not None and entry[0] is data:
            return entry[1]
        table = table_with_min_n(data, int(min_n), n_resamples=self.n_resamples)
        with self._lock:
            # Entries computed from a previous load are stale: the identity check above skips them.
            self._by_min_n[int(min_n)] = (data, table)
        return table

    def get(self) -> LeaderboardData:
        """The loaded data, loading it now if nobody has."""
        data = self._data
        if data is not None:
            return data
        with self._lock:
            if self._data is None:
                self._data = self._load()
            return self._data

    def refresh(self) -> LeaderboardData:
        """Load again (re-pulling ``RUNS_REPO``) and return the new data; refreshes run one at a time."""
        with self._refresh_lock:
            # Unchanged run folders are reused from the data shown now, and their rows come from the
            # row cache: a refresh reads and computes only what is new or changed.
            data = self._load(previous=self._data)
            with self._lock:
                self._data = data
        return data

    def prefetch(self) -> threading.Thread:
        """Start loading in a daemon thread (a later :meth:`get` waits for it)."""
        thread = threading.Thread(target=self.get, name="leaderboard-prefetch", daemon=True)
        thread.start()
        return thread


def refresh_leaderboard(store: LazyLeaderboard) -> str:
    """Reload ``store`` (the Refresh button) and say what was loaded; a failure keeps the old data.

    Returns:
        One Markdown line (never a stack trace; failures are logged).
    """
    try:
        data = store.refresh()
    except Exception:
        logger.exception("reloading the leaderboard failed")
        return "The leaderboard could not be reloaded; it still shows the previous data. Try again later."
    return refresh_summary(data)


#: How many loading problems the status line lists (all of them are logged).
SHOWN_PROBLEMS = 5


def refresh_summary(data: LeaderboardData) -> str:
    """Markdown after a refresh: how many runs from how many folders, then the input problems met.

    Problems name the run folder, file and line (``my-run/judgments.jsonl:12: not valid JSON ...``)
    without the server's absolute paths, so whoever maintains a run can fix it.
    """
    runs = len(data.runs)
    text = f"Reloaded {runs} run{'s' if runs != 1 else ''} from {len(data.sources)} folder(s)."
    problems = problems_summary(data)
    return f"{text} {problems}" if problems else text


def problems_summary(data: LeaderboardData) -> str:
    """Markdown listing the input problems met while loading (empty when there were none)."""
    if not data.problems:
        return ""
    count = len(data.problems)
    lines = [f"- `{_short_problem(p)}`" for p in data.problems[:SHOWN_PROBLEMS]]
    if count > SHOWN_PROBLEMS:
        lines.append(f"- ... and {count - SHOWN_PROBLEMS} more (see the logs)")
    head = f"{count} input problem{'s were' if count != 1 else ' was'} skipped, the rest was loaded:"
    return head + "\n\n" + "\n".join(lines)


def _short_problem(problem: str) -> str:
    # "/srv/space/runs/my-run/judgments.jsonl:12: reason" -> "my-run/judgments.jsonl:12: reason"
    return re.sub(r"(?:[^\s:]*/)?([^/\s:]+/[^/\s:]+)(?=:|$)", r"\1", problem, count=1)
