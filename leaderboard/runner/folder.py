"""The run folder: an exclusive lock while a runner writes to it, and the check that a resume is one.

* :class:`RunLock`: an exclusive ``flock`` on the run's ``judgments.jsonl``, so two runners never
  append to one run. The kernel drops it when the process dies, even by SIGKILL, so a killed run
  never leaves a stale lock behind.
* :func:`check_resume`: a folder that already holds a run may only be resumed with the arguments
  that started it (stored in the manifest under ``source.runner.args``).
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from leaderboard.errors import LeaderboardError
from leaderboard.store.format import JUDGMENTS_NAME, MANIFEST_NAME, Manifest, RunFormatError


class RunStateError(LeaderboardError, RuntimeError):
    """The run folder cannot be used as asked; the message says what to do."""


class RunLock:
    """An exclusive lock on a run folder for the life of a ``with`` block.

    The lock is an ``flock`` on the run's own ``judgments.jsonl`` (created empty when missing, never
    written here), so a finished run carries no extra file. A start that fails before the manifest
    is written leaves nothing behind: the empty file, and the folder if this lock made it, go.

    Raises:
        RunStateError: Another process holds the lock.
    """

    def __init__(self, run_dir: str | Path) -> None:
        self.run_dir = Path(run_dir)
        self.path = self.run_dir / JUDGMENTS_NAME
        self._fd: int | None = None
        self._made: list[Path] = []

    def __enter__(self) -> RunLock:
        if not self.run_dir.exists():
            self.run_dir.mkdir(parents=True)
            self._made.append(self.run_dir)
        if not self.path.exists():
            self._made.append(self.path)
        fd = os.open(self.path, os.O_RDONLY | os.O_CREAT, 0o644)
        try:
            import fcntl
        except ImportError:  # not POSIX: no advisory locks, keep going without
            self._fd = fd
            return self
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise RunStateError(
                f"another runner is writing to {self.run_dir}; wait for it to finish or stop it, "
                "or choose another --out"
            ) from None
        self._fd = fd
        return self

    def __exit__(self, *exc: object) -> None:
        if self._fd is None:
            return
        if not (self.run_dir / MANIFEST_NAME).exists():
            for path in reversed(self._made):
                with contextlib.suppress(OSError):  # no longer empty after all: keep it
                    if path.is_dir():
                        path.rmdir()
                    elif not path.stat().st_size:
                        path.unlink()
        os.close(self._fd)  # closing releases the flock
        self._fd = None


# --------------------------------------------------------------------------- resume


def read_manifest(run_dir: str | Path) -> Manifest | None:
    """The manifest of the run in ``run_dir``, or None when the folder holds no run.

    Raises:
        RunStateError: ``manifest.json`` exists but cannot be read.
    """
    path = Path(run_dir) / MANIFEST_NAME
    if not path.exists():
        return None
    try:
        return Manifest.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, RunFormatError) as exc:
        raise RunStateError(f"{path} cannot be read ({exc}); choose another --out or repair the file") from None


def _describe(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def check_resume(run_dir: str | Path, identity: Mapping[str, Any]) -> Manifest | None:
    """Check that ``run_dir`` is empty or holds a run started with the same arguments.

    Args:
        run_dir: The run's folder.
        identity: The arguments that define the run (see :func:`leaderboard.runner.config.run_identity`).

    Returns:
        The existing manifest to resume, or None for a new run.

    Raises:
        RunStateError: The folder holds another run, or one started with other arguments; the
            message lists each difference.
    """
    manifest = read_manifest(run_dir)
    if manifest is None:
        return None
    runner = manifest.source.get("runner") if isinstance(manifest.source, Mapping) else None
    stored = runner.get("args") if isinstance(runner, Mapping) else None
    if not isinstance(stored, Mapping):
        raise RunStateError(
            f"{run_dir} holds run {manifest.run_id!r}, which was not made by the runner; choose another --out"
        )
    wanted = json.loads(json.dumps(dict(identity)))  # the same JSON round trip the stored copy went through
    diffs = [
        f"{key}: {_describe(stored.get(key))} in the run, {_describe(wanted.get(key))} now"
        for key in sorted(set(stored) | set(wanted))
        if stored.get(key) != wanted.get(key)
    ]
    if diffs:
        raise RunStateError(
            f"{run_dir} holds run {manifest.run_id!r} started with other arguments ({'; '.join(diffs)}). "
            "Resume it with the same arguments, or choose another --out for a new run."
        )
    return manifest
