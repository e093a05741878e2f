"""Runs on the Hugging Face Hub: push a run to a dataset repo, pull a repo's runs into a local cache.

A runs repo is a dataset repo holding ``runs/<run_id>/manifest.json`` and
``runs/<run_id>/judgments.jsonl`` (the stored-run format of :mod:`leaderboard.store.format`). The
Space names it with the ``RUNS_REPO`` environment variable and loads it at start and on "refresh"
(:func:`fetch_runs`, called by :mod:`leaderboard.store.sources`); when the Hub cannot be reached it
falls back to the copy it pulled last, and without one to the embedded runs alone, with a logged
warning, never an error.

A run's columnar companion (``judgments.parquet``, :mod:`~leaderboard.store.columnar`) goes with it
when it has one, and is pulled with it; the loader reads it only while it matches the JSONL (checked
by its SHA-1, as the pulled copy has another modification time).

Pushing needs a token with write access (``HF_TOKEN``). Files go in one commit through
``HfApi.create_commit``; the JSON files are small text, uploaded inline (the Hub decides how a
Parquet companion is stored). The token is
used for the request only and never appears in a log or an error message.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from leaderboard.errors import LeaderboardError
from leaderboard.store.columnar import COLUMNAR_NAME
from leaderboard.store.format import JUDGMENTS_NAME, MANIFEST_NAME, Manifest, RunFormatError

logger = logging.getLogger(__name__)

RUNS_PREFIX = "runs"
RUN_FILES: tuple[str, ...] = (MANIFEST_NAME, JUDGMENTS_NAME)
#: Files a run folder may also hold, pushed and pulled when present.
OPTIONAL_RUN_FILES: tuple[str, ...] = (COLUMNAR_NAME,)


class HubError(LeaderboardError, RuntimeError):
    """Pushing or pulling failed; the message says what to do (and never holds the token)."""


def _hub_failure(exc: Exception, repo_id: str, action: str) -> HubError:
    """A HubError for an exception raised by huggingface_hub or its transport."""
    from huggingface_hub.errors import HfHubHTTPError, RepositoryNotFoundError

    if isinstance(exc, RepositoryNotFoundError):
        hint = f"the dataset repo {repo_id} does not exist or the token cannot see it; create it or check HF_TOKEN"
    elif isinstance(exc, HfHubHTTPError) and exc.response is not None and exc.response.status_code in (401, 403):
        hint = f"the Hub refused the token (HTTP {exc.response.status_code}); set HF_TOKEN to a token with write access to {repo_id}"
    elif isinstance(exc, HfHubHTTPError) and exc.response is not None:
        hint = f"the Hub answered HTTP {exc.response.status_code}; try again later"
    else:
        hint = f"the Hub cannot be reached ({type(exc).__name__}); check the network and try again"
    return HubError(f"could not {action} {repo_id}: {hint}")


def hub_errors() -> tuple[type[Exception], ...]:
    """The exceptions that mean the Hub refused or could not be reached (for ``except`` clauses)."""
    import httpx2
    from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError, OfflineModeIsEnabled

    return (HfHubHTTPError, LocalEntryNotFoundError, OfflineModeIsEnabled, httpx2.HTTPError, OSError, ValueError)


def push_run(
    run_dir: str | Path,
    repo_id: str,
    *,
    token: str | None,
    endpoint: str | None = None,
    run_id: str | None = None,
    create: bool = True,
) -> str:
    """Upload a run's manifest and judgments (and its columnar companion, if any) to ``runs/<run_id>/`` in one commit.

    Args:
        run_dir: The run's folder.
        repo_id: The dataset repo, e.g. ``my-org/mllm-judge-runs``.
        token: A Hugging Face token with write access (``HF_TOKEN``).
        endpoint: Another Hub endpoint (tests, mirrors); None for huggingface.co.
        run_id: The folder name in the repo (default: the manifest's run id).
        create: Create the repo first when it does not exist.

    Returns:
        The commit's URL.

    Raises:
        HubError: No token, an unreadable run, or the Hub refused; the message says what to do.
    """
    from huggingface_hub import CommitOperationAdd, HfApi

    if not token:
        raise HubError(f"pushing to {repo_id} needs a token: set HF_TOKEN to a Hugging Face token with write access")
    run_dir = Path(run_dir)
    try:
        manifest = Manifest.from_dict(json.loads((run_dir / MANIFEST_NAME).read_text(encoding="utf-8")))
    except (OSError, ValueError, RunFormatError) as exc:
        raise HubError(f"{run_dir} holds no readable run ({exc}); nothing pushed") from None
    if not (run_dir / JUDGMENTS_NAME).is_file():
        raise HubError(f"{run_dir} has no {JUDGMENTS_NAME}; nothing pushed")
    folder = f"{RUNS_PREFIX}/{run_id or manifest.run_id}"
    api = HfApi(endpoint=endpoint, token=token)
    try:
        if create:
            api.create_repo(repo_id, repo_type="dataset", exist_ok=True)
        names = [*RUN_FILES, *(n for n in OPTIONAL_RUN_FILES if (run_dir / n).is_file())]
        operations = [
            CommitOperationAdd(path_in_repo=f"{folder}/{name}", path_or_fileobj=(run_dir / name).read_bytes())
            for name in names
        ]
        info = api.create_commit(
            repo_id,
            operations,
            commit_message=f"Add run {run_id or manifest.run_id} ({manifest.judge}, {manifest.mode})",
            repo_type="dataset",
        )
    except hub_errors() as exc:
        raise _hub_failure(exc, repo_id, "push to") from None
    logger.info("pushed %s to %s", folder, repo_id)
    return str(info.commit_url)


def fetch_runs(
    repo_id: str,
    *,
    token: str | None = None,
    cache_dir: str | Path | None = None,
    endpoint: str | None = None,
) -> Path | None:
    """Download the runs of a runs repo (manifests and judgments only) and return their folder.

    Called at the Space's start and on "refresh". Only what changed since the last call is
    downloaded (huggingface_hub's cache). Offline, the last pulled copy is returned when there is one.

    Args:
        repo_id: The dataset repo (``RUNS_REPO``).
        token: A token, for private repos.
        cache_dir: Where to keep the copy (default: the Hugging Face cache).
        endpoint: Another Hub endpoint (tests, mirrors).

    Returns:
        A folder to give :func:`leaderboard.store.read.load_runs` beside the embedded runs, or None
        when the repo cannot be read and nothing was pulled before (a warning is logged).
    """
    from huggingface_hub import snapshot_download

    try:
        path = snapshot_download(
            repo_id=repo_id,
            repo_type="dataset",
            allow_patterns=[f"{RUNS_PREFIX}/*/{name}" for name in (*RUN_FILES, *OPTIONAL_RUN_FILES)],
            cache_dir=str(cache_dir) if cache_dir else None,
            token=token or None,
            endpoint=endpoint,
        )
    except hub_errors() as exc:
        logger.warning("%s; showing the embedded runs only", _hub_failure(exc, repo_id, "load runs from"))
        return None
    runs = Path(path) / RUNS_PREFIX
    if not runs.is_dir():
        logger.info("%s holds no runs yet", repo_id)
        runs.mkdir(parents=True, exist_ok=True)
    return runs
