"""Where runs and labels live: every answer to "which folders does the leaderboard read?".

* the embedded ``assets/`` folder of this project (:func:`default_assets_dir`): imported runs, the
  label table, the paper's numbers;
* ``RUNS_DIR``, a local folder of runs (also where the Space stores accepted submissions);
* ``RUNS_REPO``, a dataset repo on the Hub, pulled into the Hugging Face cache
  (:func:`leaderboard.store.hub.fetch_runs`);
* without ``RUNS_DIR``, the local submissions folder :data:`DEFAULT_SUBMISSIONS_DIR` when it exists.

Label tables travel with the runs' folders (``benchmark/labels.csv``); the embedded table is the
fallback when none do (:func:`label_files`). Nothing here reads a run; :mod:`leaderboard.store.read`
does.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from leaderboard.store.labels import find_label_files

if TYPE_CHECKING:
    from judges.settings import Settings

#: Where the Space stores accepted submissions when ``RUNS_DIR`` is not set (relative to the
#: working folder; git-ignored). The leaderboard reads it whenever it exists.
DEFAULT_SUBMISSIONS_DIR = Path("runs")


def default_assets_dir() -> Path:
    """The embedded ``assets/`` folder of this project (stored runs, labels, reference numbers)."""
    return Path(__file__).resolve().parents[2] / "assets"


def submissions_dir(settings: Settings | None) -> Path:
    """The folder accepted submissions are written to: ``RUNS_DIR``, else :data:`DEFAULT_SUBMISSIONS_DIR`."""
    runs_dir = getattr(settings, "runs_dir", None)
    if runs_dir is not None:
        return Path(runs_dir)
    return DEFAULT_SUBMISSIONS_DIR


def default_cache_dir(settings: Settings | None) -> Path:
    """Where the Space keeps its leaderboard row cache: ``RUNS_DIR/.cache/leaderboard`` when
    ``RUNS_DIR`` is an existing folder (persistent storage on a Space, so a restart finds the rows),
    else ``mllm-judge-workbench/leaderboard`` in the user's cache folder (``XDG_CACHE_HOME``, by default
    ``~/.cache``).

    Never inside the embedded ``assets/``, which may be read-only; never creates ``RUNS_DIR`` (only a
    submission does). Nothing is created here.
    """
    runs_dir = getattr(settings, "runs_dir", None)
    if runs_dir is not None and Path(runs_dir).is_dir():
        return Path(runs_dir) / ".cache" / "leaderboard"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "mllm-judge-workbench" / "leaderboard"


def run_sources(settings: Settings, *, cache_dir: str | Path | None = None, endpoint: str | None = None) -> list[Path]:
    """Every folder of runs the settings name: the embedded ones, ``RUNS_DIR``, and ``RUNS_REPO``.

    Args:
        settings: :class:`judges.Settings` (``runs_dir``, ``runs_repo``, ``hf_token``).
        cache_dir: Where to keep the pulled runs (default: the Hugging Face cache).
        endpoint: Another Hub endpoint.

    Returns:
        Folders for :func:`leaderboard.store.read.load_runs`, embedded first.
    """
    from leaderboard.store.hub import fetch_runs

    sources: list[Path] = [default_assets_dir()]
    if settings.runs_dir is not None:
        sources.append(Path(settings.runs_dir))
    if settings.runs_repo:
        pulled = fetch_runs(settings.runs_repo, token=settings.hf_token, cache_dir=cache_dir, endpoint=endpoint)
        if pulled is not None:
            sources.append(pulled)
    return _unique(sources)


def leaderboard_sources(
    settings: Settings | None = None, *, cache_dir: str | Path | None = None, endpoint: str | None = None
) -> list[Path]:
    """Every folder of runs the leaderboard shows, embedded first.

    :func:`run_sources` (the embedded runs, ``RUNS_DIR``, the runs pulled from ``RUNS_REPO``), plus
    the local submissions folder when ``RUNS_DIR`` is unset and that folder exists, so that a run
    submitted in the Space shows up at the next load.

    Args:
        settings: The Space's settings (default: ``Settings()``, the embedded runs only).
        cache_dir: Where to keep the runs pulled from ``RUNS_REPO`` (default: the Hugging Face cache).
        endpoint: Another Hub endpoint (tests, mirrors).
    """
    from judges.settings import Settings

    settings = settings if settings is not None else Settings()
    sources = run_sources(settings, cache_dir=cache_dir, endpoint=endpoint)
    local = submissions_dir(settings)
    if local.is_dir() and all(local.resolve() != s.resolve() for s in sources):
        sources.append(local)
    return sources


def label_files(sources: Iterable[str | Path], extra: Iterable[str | Path] = ()) -> list[Path]:
    """The label tables that go with ``sources``: those found in them, then ``extra``; else the embedded one.

    Args:
        sources: Folders of runs (a folder that does not exist adds nothing).
        extra: Label CSVs given explicitly (``--labels``).

    Returns:
        Distinct files, lowest priority first (later ones win on key collisions when merged).
    """
    files = [p for source in map(Path, sources) if source.exists() for p in find_label_files(source)]
    files += [Path(p) for p in extra]
    if not files:
        files = find_label_files(default_assets_dir())
    return list(dict.fromkeys(files))


def _unique(paths: Sequence[Path]) -> list[Path]:
    seen: set[Path] = set()
    out = []
    for path in paths:
        key = path.resolve()
        if key not in seen:
            seen.add(key)
            out.append(path)
    return out
