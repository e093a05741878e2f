"""Downloading the MLLM-as-a-Judge release from the Hugging Face Hub: the JSONL files, then the images a run needs."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from leaderboard.benchmarks.base import BenchmarkError, BenchmarkItem
from leaderboard.benchmarks.mllm_judge.release import HUB_REPO_ID as BENCHMARK_REPO

logger = logging.getLogger(__name__)


def download_benchmark(
    *,
    repo_id: str = BENCHMARK_REPO,
    cache_dir: str | Path | None = None,
    token: str | None = None,
    endpoint: str | None = None,
) -> Path:
    """Download the benchmark's JSONL files (not the images) from the Hub.

    Args:
        repo_id: The dataset repository.
        cache_dir: Hugging Face cache folder (default: the user's cache).
        token: A Hugging Face token, for private mirrors.
        endpoint: Another Hub endpoint (tests, mirrors).

    Returns:
        The local snapshot folder, to pass to :func:`select_items`.

    Raises:
        BenchmarkError: The Hub cannot be reached and nothing is cached.
    """
    from huggingface_hub import snapshot_download

    from leaderboard.store.hub import hub_errors

    try:
        path = snapshot_download(
            repo_id=repo_id,
            repo_type="dataset",
            allow_patterns=["*.jsonl"],
            cache_dir=str(cache_dir) if cache_dir else None,
            token=token,
            endpoint=endpoint,
        )
    except hub_errors() as exc:
        raise BenchmarkError(
            f"could not download {repo_id} from the Hub ({type(exc).__name__}: {str(exc)[:200]}); "
            "download it elsewhere and pass --benchmark DIR (or set BENCHMARK_DIR)"
        ) from None
    return Path(path)


def download_images(
    items: Sequence[BenchmarkItem],
    *,
    repo_id: str = BENCHMARK_REPO,
    cache_dir: str | Path | None = None,
    token: str | None = None,
    endpoint: str | None = None,
) -> int:
    """Download the images of ``items`` that are not on disk yet, into the same snapshot.

    Args:
        items: Items read from a snapshot made by :func:`download_benchmark`.
        repo_id: The dataset repository.
        cache_dir: The cache folder given to :func:`download_benchmark`.
        token: A Hugging Face token.
        endpoint: Another Hub endpoint.

    Returns:
        How many images were missing before the download.

    Raises:
        BenchmarkError: The download failed.
    """
    from huggingface_hub import snapshot_download

    from leaderboard.store.hub import hub_errors

    missing = sorted({i.image_ref for i in items if not i.image_path.is_file()})
    if missing:
        logger.info("downloading %d image(s) from %s", len(missing), repo_id)
        try:
            snapshot_download(
                repo_id=repo_id,
                repo_type="dataset",
                allow_patterns=missing,
                cache_dir=str(cache_dir) if cache_dir else None,
                token=token,
                endpoint=endpoint,
            )
        except hub_errors() as exc:
            raise BenchmarkError(
                f"could not download {len(missing)} image(s) from {repo_id} ({type(exc).__name__}); start "
                "again to retry, or pass --benchmark with a full local copy"
            ) from None
    return len(missing)
