"""What the Space's "Submit a run" panel does, without Gradio: check, store, reload, report.

:func:`submit_run` checks an upload with :func:`leaderboard.submissions.check.validate_submission`
against the loaded benchmark labels and the runs the leaderboard shows, stores an accepted run with
:func:`leaderboard.submissions.save.store_submission` in the folder the leaderboard reads
(``RUNS_DIR``, else :data:`leaderboard.store.sources.DEFAULT_SUBMISSIONS_DIR`) and pushes it to ``RUNS_REPO`` when one is set,
then reloads the leaderboard so the run is listed at once as an "unverified submission".

It never raises: every outcome, rejections and server-side failures included, is a Markdown
message for the person who uploaded (stack traces go to the log only).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from leaderboard.schema import PROVENANCE_UNVERIFIED
from leaderboard.store.sources import submissions_dir
from leaderboard.submissions.check import DEFAULT_MAX_BYTES
from leaderboard.submissions.save import SubmissionError

if TYPE_CHECKING:
    from judges.settings import Settings
    from leaderboard.board import LazyLeaderboard

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SubmitOutcome:
    """What happened to one upload.

    Attributes:
        ok: The run was accepted and stored.
        message: Markdown for the panel: accepted (with warnings) or why not and what to fix.
        run_id: The id the run was stored under, when stored.
        mode: The run's mode (score, pair or batch), when stored.
        judge: The run's judge name, when stored.
        shown: The reloaded leaderboard lists the run.
    """

    ok: bool
    message: str
    run_id: str | None = None
    mode: str | None = None
    judge: str | None = None
    shown: bool = False


def _bullets(lines: Sequence[str]) -> str:
    return "\n".join(f"- {line}" for line in lines)


def _failure(text: str) -> SubmitOutcome:
    return SubmitOutcome(False, f"**Submission not stored.** {text}")


def submit_run(
    files: str | Path | Sequence[str | Path] | None,
    store: LazyLeaderboard,
    settings: Settings | None = None,
    *,
    endpoint: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> SubmitOutcome:
    """Check an uploaded run, store it when it passes, reload the leaderboard and say what happened.

    Args:
        files: The uploaded ``manifest.json`` and ``judgments.jsonl``, or one zip of both.
        store: The leaderboard the Space shows; its labels and sources are checked against, and it
            is refreshed after a run is stored.
        settings: ``RUNS_DIR`` (where to store), ``RUNS_REPO`` and ``HF_TOKEN`` (where to push);
            default: the store's settings.
        endpoint: Another Hub endpoint for the push (tests, mirrors).
        max_bytes: Largest accepted upload (and unpacked size).

    Returns:
        The outcome; its message is Markdown and never holds a stack trace or the token.
    """
    from judges.settings import Settings

    # Looked up on the modules at call time, so that a test can replace one of them.
    from leaderboard.submissions import check, save

    validate_submission, store_submission = check.validate_submission, save.store_submission

    settings = settings if settings is not None else (store.settings or Settings())
    try:
        data = store.get()
    except Exception:
        logger.exception("the leaderboard could not be loaded to check a submission")
        return _failure("The leaderboard could not be loaded, so the upload cannot be checked; try again later.")
    target = submissions_dir(settings)
    try:
        result = validate_submission(files, data.labels, [*data.sources, target], max_bytes=max_bytes)
    except Exception:
        logger.exception("checking a submission failed")
        return _failure(
            "The upload could not be read. Upload `manifest.json` and `judgments.jsonl` "
            "(or a zip of both) in the stored-run format and try again."
        )
    if not result.ok:
        return SubmitOutcome(
            False, "**Submission rejected.** Fix the following and upload again:\n\n" + _bullets(result.errors)
        )

    try:
        stored = store_submission(
            result, target, repo_id=settings.runs_repo, token=settings.hf_token, endpoint=endpoint
        )
    except SubmissionError as exc:
        return _failure(str(exc))
    except OSError as exc:
        logger.exception("storing submission %s in %s failed", result.run_id, target)
        return _failure(f"The run could not be written on the server ({type(exc).__name__}); try again later.")

    manifest = result.manifest
    assert manifest is not None  # an accepted result always carries its manifest
    lines = [*result.warnings, *stored.warnings]
    if stored.pushed:
        lines.append(f"Pushed to the runs repo `{settings.runs_repo}`.")
    shown = False
    try:
        fresh = store.refresh()
        shown = stored.run_id in set(fresh.table["run_id"].astype(str))
    except Exception:
        logger.exception("reloading the leaderboard after submission %s failed", stored.run_id)
        lines.append("The leaderboard could not be reloaded; press Refresh in a moment.")
    else:
        if not shown:
            lines.append(f"The leaderboard does not read `{target}`, so the run is not listed yet.")
    head = f"**Accepted** run `{stored.run_id}` by judge **{manifest.judge}**: {len(result.judgments)} judgments"
    if shown:
        head += f", listed in **{manifest.mode}** mode ({manifest.split}) as *{PROVENANCE_UNVERIFIED}*"
    head += "."
    message = head + ("\n\n" + _bullets(lines) if lines else "")
    logger.info("submission %s stored in %s (shown: %s)", stored.run_id, stored.run_dir, shown)
    return SubmitOutcome(True, message, stored.run_id, manifest.mode, manifest.judge, shown)
