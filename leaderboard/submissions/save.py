"""Storing an accepted submission: write it beside the other runs, push it to the runs repo if one is set.

The run is written with :func:`leaderboard.store.write.write_run` into ``runs_dir/<run_id>/`` (a
large run also gets its columnar companion there, :mod:`leaderboard.store.columnar`), where the
leaderboard picks it up at its next load, and pushed with :func:`leaderboard.store.hub.push_run`
(companion included) when a runs repo is configured. A failed push keeps the local copy and says so.
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass
from pathlib import Path

from leaderboard.errors import LeaderboardError
from leaderboard.store.write import write_run
from leaderboard.submissions.check import SubmissionResult

logger = logging.getLogger(__name__)


class SubmissionError(LeaderboardError, ValueError):
    """A submission cannot be stored; the message says why."""


@dataclass(frozen=True)
class StoredSubmission:
    """Where an accepted submission went."""

    run_id: str
    run_dir: Path
    pushed: str | None = None
    warnings: tuple[str, ...] = ()


def store_submission(
    result: SubmissionResult,
    runs_dir: str | Path,
    *,
    repo_id: str | None = None,
    token: str | None = None,
    endpoint: str | None = None,
) -> StoredSubmission:
    """Write an accepted submission to ``runs_dir/<run_id>/`` and push it to the runs repo if given.

    A failed push does not undo the local copy; it is reported in ``warnings``.

    Args:
        result: An accepted :class:`SubmissionResult`.
        runs_dir: The folder of runs the leaderboard reads.
        repo_id: The runs repo (``RUNS_REPO``), or None to store locally only.
        token: A token with write access to ``repo_id`` (``HF_TOKEN``).
        endpoint: Another Hub endpoint (tests, mirrors).

    Returns:
        Where the run went.

    Raises:
        SubmissionError: The result was a rejection, its run id was taken meanwhile, or the runs
            folder cannot be written (nothing of the run is left behind then).
    """
    if not result.ok or result.manifest is None:
        raise SubmissionError("a rejected submission cannot be stored; fix the problems and upload again")
    run_id = result.manifest.run_id
    run_dir = Path(runs_dir) / run_id
    # The manifest refuses such ids already; this keeps a folder name from ever leaving runs_dir.
    if run_dir.name != run_id or run_id in (".", "..") or "/" in run_id:
        raise SubmissionError(f"run id {run_id!r} cannot be a folder name; use letters, digits and - _ . ~")
    try:
        Path(runs_dir).mkdir(parents=True, exist_ok=True)
        run_dir.mkdir()  # fails when another upload took this id since validation
    except FileExistsError:
        if Path(runs_dir).is_dir():
            raise SubmissionError(f"run id {run_id!r} was just taken; submit again") from None
        raise SubmissionError(_storage_problem(runs_dir)) from None
    except OSError as exc:
        raise SubmissionError(_storage_problem(runs_dir, exc)) from None
    try:
        write_run(run_dir, result.manifest, result.judgments)
    except OSError as exc:
        shutil.rmtree(run_dir, ignore_errors=True)  # half a run would be listed as a problem on every load
        raise SubmissionError(_storage_problem(runs_dir, exc)) from None
    logger.info("stored submission %s in %s", result.manifest.run_id, run_dir)
    pushed, warnings = None, []
    if repo_id:
        from leaderboard.store.hub import HubError, push_run

        try:
            pushed = push_run(run_dir, repo_id, token=token, endpoint=endpoint)
        except HubError as exc:
            logger.warning("submission %s stored locally only: %s", result.manifest.run_id, exc)
            warnings.append(f"stored here but not pushed to {repo_id}: {exc}")
    return StoredSubmission(result.manifest.run_id, run_dir, pushed, tuple(warnings))


def _storage_problem(runs_dir: str | Path, exc: OSError | None = None) -> str:
    """What the uploader reads when the Space cannot write the run (their upload was fine)."""
    why = f" ({exc.strerror or exc})" if exc is not None else " (a file stands where the runs folder should be)"
    logger.error("cannot store a submission in %s%s", runs_dir, why)
    return f"the run was accepted but could not be saved on the server{why}; try again later"
