"""Runs uploaded through the Space: checked, stored as "unverified submission", shown at once.

Rooms:

* :mod:`~leaderboard.submissions.check`: reading an upload safely (size, zip members) and validating
  it against the format, the benchmark registry and the label table (validate_submission);
* :mod:`~leaderboard.submissions.scorable`: which (benchmark, mode, split) the loaded labels can score,
  and the one sentence refusing any other split (split_refusal);
* :mod:`~leaderboard.submissions.save`: writing an accepted run and pushing it (store_submission);
* :mod:`~leaderboard.submissions.panel`: what the "Submit a run" panel does: check, store, reload
  the board, report in Markdown (submit_run). No gradio here.
"""

from __future__ import annotations

from leaderboard.schema import PROVENANCE_UNVERIFIED
from leaderboard.submissions.check import (
    DEFAULT_MAX_BYTES,
    RUN_FILES,
    SubmissionResult,
    existing_runs,
    validate_submission,
)
from leaderboard.submissions.panel import SubmitOutcome, submit_run
from leaderboard.submissions.save import StoredSubmission, SubmissionError, store_submission
from leaderboard.submissions.scorable import scorable_splits, scorable_subsets, split_refusal

__all__ = [
    "DEFAULT_MAX_BYTES",
    "PROVENANCE_UNVERIFIED",
    "RUN_FILES",
    "StoredSubmission",
    "SubmissionError",
    "SubmissionResult",
    "SubmitOutcome",
    "existing_runs",
    "scorable_splits",
    "scorable_subsets",
    "split_refusal",
    "store_submission",
    "submit_run",
    "validate_submission",
]
