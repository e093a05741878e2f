"""Stored runs and human labels on disk and on the Hub.

Rooms:

* :mod:`~leaderboard.store.format`: the stored-run format's types and version rule (Manifest,
  Judgment, SCHEMA_VERSION, RunFormatError, verdict validity, run ids). No file access.
* :mod:`~leaderboard.store.read`: reading, validating and merging run folders (load_runs, Run,
  LoadProblem); never stops at bad input.
* :mod:`~leaderboard.store.write`: RunWriter (append, resumable) and write_run (atomic).
* :mod:`~leaderboard.store.columnar`: a run's typed Parquet companion (``judgments.parquet``, written
  when a run is complete; read instead of the JSONL while it is current).
* :mod:`~leaderboard.store.rowcache`: the on-disk cache of computed leaderboard rows.
* :mod:`~leaderboard.store.labels`: the human-label table (read, write, merge).
* :mod:`~leaderboard.store.sources`: where runs and labels live (embedded assets, RUNS_DIR,
  RUNS_REPO, the submissions folder).
* :mod:`~leaderboard.store.hub`: pushing a run to, and pulling runs from, a Hub dataset repo.

``read`` and ``write`` both depend on ``format`` (and ``columnar``) and never on each other. Inside the package,
modules import each other's rooms, never this face.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from leaderboard.store.format import (
        JUDGMENTS_NAME,
        MANIFEST_NAME,
        PROVENANCES,
        RECORD_COLUMNS,
        SCHEMA_VERSION,
        SUPPORTED_SCHEMA_VERSIONS,
        Judgment,
        Manifest,
        RunFormatError,
        code_version,
        new_run_id,
        slug,
        utc_now,
        verdict_problem,
    )
    from leaderboard.store.hub import HubError, fetch_runs, hub_errors, push_run
    from leaderboard.store.labels import (
        LABEL_COLUMNS,
        empty_labels,
        find_label_files,
        lengths_from_text,
        lengths_to_text,
        load_label_tables,
        merge_labels,
        read_labels,
        write_labels,
    )
    from leaderboard.store.read import (
        LoadProblem,
        LoadResult,
        Run,
        check_against_labels,
        find_run_dirs,
        load_run,
        load_runs,
        read_judgment_lines,
        records_frame,
    )
    from leaderboard.store.sources import (
        DEFAULT_SUBMISSIONS_DIR,
        default_assets_dir,
        label_files,
        leaderboard_sources,
        run_sources,
        submissions_dir,
    )
    from leaderboard.store.write import RunWriter, write_run

#: The room of each name of the face. Names are imported when first asked for: the runner needs
#: the format and the writer, and must not load pandas with the label table and the reader.
_ROOMS = {
    "JUDGMENTS_NAME": "format",
    "MANIFEST_NAME": "format",
    "PROVENANCES": "format",
    "RECORD_COLUMNS": "format",
    "SCHEMA_VERSION": "format",
    "SUPPORTED_SCHEMA_VERSIONS": "format",
    "Judgment": "format",
    "Manifest": "format",
    "RunFormatError": "format",
    "code_version": "format",
    "new_run_id": "format",
    "slug": "format",
    "utc_now": "format",
    "verdict_problem": "format",
    "HubError": "hub",
    "fetch_runs": "hub",
    "hub_errors": "hub",
    "push_run": "hub",
    "LABEL_COLUMNS": "labels",
    "empty_labels": "labels",
    "find_label_files": "labels",
    "lengths_from_text": "labels",
    "lengths_to_text": "labels",
    "load_label_tables": "labels",
    "merge_labels": "labels",
    "read_labels": "labels",
    "write_labels": "labels",
    "LoadProblem": "read",
    "LoadResult": "read",
    "Run": "read",
    "check_against_labels": "read",
    "find_run_dirs": "read",
    "load_run": "read",
    "load_runs": "read",
    "read_judgment_lines": "read",
    "records_frame": "read",
    "DEFAULT_SUBMISSIONS_DIR": "sources",
    "default_assets_dir": "sources",
    "label_files": "sources",
    "leaderboard_sources": "sources",
    "run_sources": "sources",
    "submissions_dir": "sources",
    "RunWriter": "write",
    "write_run": "write",
}


def __getattr__(name: str) -> Any:
    room = _ROOMS.get(name)
    if room is None:
        raise AttributeError(f"module 'leaderboard.store' has no attribute {name!r}")
    value = getattr(_room(room), name)
    globals()[name] = value  # found directly from now on
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_ROOMS})


def _room(room: str) -> Any:
    # Plain import statements (not importlib), so the import graph sees the face's rooms.
    if room == "format":
        import leaderboard.store.format

        return leaderboard.store.format
    if room == "hub":
        import leaderboard.store.hub

        return leaderboard.store.hub
    if room == "labels":
        import leaderboard.store.labels

        return leaderboard.store.labels
    if room == "read":
        import leaderboard.store.read

        return leaderboard.store.read
    if room == "sources":
        import leaderboard.store.sources

        return leaderboard.store.sources
    if room == "write":
        import leaderboard.store.write

        return leaderboard.store.write
    raise AttributeError(room)  # pragma: no cover - _ROOMS names only the rooms above


__all__ = [
    "DEFAULT_SUBMISSIONS_DIR",
    "JUDGMENTS_NAME",
    "LABEL_COLUMNS",
    "MANIFEST_NAME",
    "PROVENANCES",
    "RECORD_COLUMNS",
    "SCHEMA_VERSION",
    "SUPPORTED_SCHEMA_VERSIONS",
    "HubError",
    "Judgment",
    "LoadProblem",
    "LoadResult",
    "Manifest",
    "Run",
    "RunFormatError",
    "RunWriter",
    "check_against_labels",
    "code_version",
    "default_assets_dir",
    "empty_labels",
    "fetch_runs",
    "find_label_files",
    "find_run_dirs",
    "hub_errors",
    "label_files",
    "leaderboard_sources",
    "lengths_from_text",
    "lengths_to_text",
    "load_label_tables",
    "load_run",
    "load_runs",
    "merge_labels",
    "new_run_id",
    "push_run",
    "read_judgment_lines",
    "read_labels",
    "records_frame",
    "run_sources",
    "slug",
    "submissions_dir",
    "utc_now",
    "verdict_problem",
    "write_labels",
    "write_run",
]
