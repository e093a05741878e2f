"""The run folder: an exclusive lock while a runner writes to it, and the check that a resume is one.

* :class:`RunLock`: an exclusive ``flock`` on the run's ``judgments.jsonl``, so two runners never
  append to one run. The kernel drops it when the process dies, even by SIGKILL, so a killed run
  never leaves a stale lock behind.
* :func:`check_resume`: a folder that already holds a run may only be resumed with the arguments
  that started it (stored in the manifest under ``source.runner.args``).
* :func:`storage_error`: a fault of the folder (no space, a file-size limit, a read-only folder, a
  file where the folder should be, a damaged manifest) becomes one message: what happened, how many
  judgments are stored and kept, and what to do before starting the same command again
  (exit status :data:`~leaderboard.runner.config.EXIT_STORAGE`).
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from leaderboard.errors import LeaderboardError
from leaderboard.runner.config import EXIT_STORAGE, RunStorageError
from leaderboard.store.format import JUDGMENTS_NAME, MANIFEST_NAME, Manifest, RunFormatError
from leaderboard.store.write import stored_item_ids


class RunStateError(LeaderboardError, RuntimeError):
    """The run folder cannot be used as asked; the message says what to do."""


class DamagedManifestError(RunStateError):
    """The folder's ``manifest.json`` exists but cannot be read (bad JSON, fields of the wrong type)."""


# --------------------------------------------------------------------------- storage faults

#: What to do about an OSError's errno; the rest get the generic advice.
_ADVICE: dict[int, str] = {
    errno.ENOSPC: "free some disk space",
    errno.EDQUOT: "free some space or raise your disk quota",
    errno.EFBIG: "raise the limit on file size (ulimit -f) or choose an --out on a file system that allows larger files",
    errno.EROFS: "make the folder writable (the file system is read-only) or choose another --out",
    errno.EACCES: "make the folder writable or choose another --out",
    errno.EPERM: "make the folder writable or choose another --out",
    errno.ENOTDIR: "a file stands where a folder should be: move it away or choose another --out",
    errno.EEXIST: "a file stands where a folder should be: move it away or choose another --out",
    errno.EISDIR: "a folder stands where a file should be: move it away or choose another --out",
}


def stored_count(run_dir: str | Path) -> int:
    """How many judgments the run file in ``run_dir`` holds (0 when it cannot be read)."""
    try:
        return len(stored_item_ids(Path(run_dir) / JUDGMENTS_NAME))
    except (OSError, ValueError):
        return 0


def storage_error(exc: BaseException, run_dir: str | Path) -> RunStorageError:
    """The error that stops a run on a fault of its folder: what happened, how many judgments are
    safe, and what to do before starting the same command again."""
    stored = stored_count(run_dir)
    if isinstance(exc, OSError):
        code = errno.errorcode.get(exc.errno or 0, "")
        what = f"{exc.strerror or exc}" + (f" ({code})" if code else "")
        where = f" at {exc.filename}" if exc.filename else f" in {run_dir}"
        advice = _ADVICE.get(exc.errno or 0, "fix the folder")
    else:
        what, where, advice = str(exc), "", "repair or remove manifest.json, or choose another --out"
    kept = f"{stored} judgment(s) are stored in {run_dir} and kept" if stored else f"nothing is stored in {run_dir} yet"
    return RunStorageError(
        f"the run folder cannot be used: {what}{where}. {kept}; {advice}, then start the same command "
        f"again (exit status {EXIT_STORAGE})",
        stored,
    )


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
        DamagedManifestError: ``manifest.json`` exists but cannot be read.
    """
    path = Path(run_dir) / MANIFEST_NAME
    if not path.exists():
        return None
    try:
        return Manifest.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except RecursionError:
        raise DamagedManifestError(f"{path} nests too deeply to be a manifest") from None
    except OSError as exc:
        raise DamagedManifestError(f"{path} cannot be read ({exc.strerror or exc})") from None
    except (ValueError, RunFormatError) as exc:
        raise DamagedManifestError(f"{path}: {exc}") from None


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
