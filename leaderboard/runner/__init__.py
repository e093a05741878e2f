"""The benchmark runner: judge a benchmark's items with a judge and store them as a run (resumable).

Rooms:

* :mod:`~leaderboard.runner.config`: RunConfig (checked against the benchmark registry, every
  numeric option bounded), the run's identity, RunSummary, RunnerError, RunStorageError, exit statuses;
* :mod:`~leaderboard.runner.run`: run_benchmark (items -> judge -> RunWriter), pushing the result;
* :mod:`~leaderboard.runner.workers`: the shared event loop and the worker threads that judge while
  the calling thread writes;
* :mod:`~leaderboard.runner.folder`: the run folder's lock, the resume check, and what a storage fault
  (disk full, file too large, a read-only or damaged folder) tells the user;
* :mod:`~leaderboard.runner.cli`: the ``run`` command's options and exit codes.
"""

from __future__ import annotations

from leaderboard.runner.cli import add_run_arguments, config_from_args, main, run_command
from leaderboard.runner.config import (
    EXIT_INCOMPLETE,
    EXIT_INTERRUPTED,
    EXIT_STORAGE,
    OPTION_BOUNDS,
    RunConfig,
    RunnerError,
    RunStorageError,
    RunSummary,
    run_identity,
)
from leaderboard.runner.folder import DamagedManifestError, RunLock, RunStateError, check_resume, read_manifest
from leaderboard.runner.run import run_benchmark
from leaderboard.runner.workers import ImageCache, SharedLoopBackend, UnexpectedFailure, drive, progress_bar

__all__ = [
    "EXIT_INCOMPLETE",
    "EXIT_INTERRUPTED",
    "EXIT_STORAGE",
    "OPTION_BOUNDS",
    "DamagedManifestError",
    "ImageCache",
    "RunConfig",
    "RunLock",
    "RunStateError",
    "RunStorageError",
    "RunSummary",
    "RunnerError",
    "SharedLoopBackend",
    "UnexpectedFailure",
    "add_run_arguments",
    "check_resume",
    "config_from_args",
    "drive",
    "main",
    "progress_bar",
    "read_manifest",
    "run_benchmark",
    "run_command",
    "run_identity",
]
