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
