"""Writing stored runs: append one judgment at a time (resumable), or a whole run at once (atomic).

:class:`RunWriter` is the runner's path: the manifest is written atomically on open, then every
judgment is one full line appended with ``os.write``, so a crash leaves at most a torn last line,
which the next open cuts off; a write that fails (disk full, file too large) is undone before the
error is raised, and lines in the middle that are not JSON are removed on open. :func:`write_run` is the importer's and the submission
panel's path: the whole run replaces the folder's files through a temporary file and a rename, and
a large run also gets its columnar companion (:mod:`~leaderboard.store.columnar`).
Both refuse a verdict that is invalid for the run's mode (store it as unscored instead).

This module depends on :mod:`~leaderboard.store.format` and :mod:`~leaderboard.store.columnar`, never on
the reader.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from leaderboard.store.format import (
    JUDGMENTS_NAME,
    MANIFEST_NAME,
    Judgment,
    Manifest,
    RunFormatError,
    verdict_problem,
)

logger = logging.getLogger(__name__)


def _parsed(line: bytes) -> tuple[bool, Any]:
    """Whether a line is JSON at all, and its value."""
    try:
        return True, json.loads(line)
    except (ValueError, RecursionError):
        return False, None


def stored_item_ids(path: Path) -> set[str]:
    """The item ids a judgments file already holds (lines that are not JSON objects are ignored).

    The writer needs only the ids to resume; the reader's validation and problem reports are
    :mod:`leaderboard.store.read`'s business. A clean file is parsed in one C-level call.
    """
    return _ids(path.read_bytes().split(b"\n"))


def _ids(lines: list[bytes]) -> set[str]:
    lines = [line for line in lines if line.strip()]
    try:
        objects = json.loads(b"[" + b",".join(lines) + b"]")
    except (ValueError, RecursionError):
        objects = []
    if len(objects) != len(lines):  # a bad line, or one holding several values: line by line
        objects = [value for ok, value in map(_parsed, lines) if ok]
    return {str(rec.get("item_id")) for rec in objects if isinstance(rec, dict)}


#: The OS call every judgment line goes through; a test may put a failing one here to play a full
#: disk (ENOSPC cannot be made for real without a small file system).
_write_fd = os.write


class RunWriter:
    """Appends judgments to a run, one flushed JSON line each; safe to resume after a crash.

    The manifest is written atomically on open. Each judgment is one full line appended to the
    file with ``os.write``; a short write is completed, and a write that fails (disk full, file too
    large) is undone by cutting the file back to its last full line before the error is raised, so
    a fault never leaves half a line behind. A crash can leave at most a partial *last* line; the
    reader reports and ignores it, and reopening a writer cuts it off before appending. Lines in
    the middle that are not JSON at all (torn by an older writer or a hand edit) are removed on
    open, with a warning, so that a run once repaired is not reported on every load.

    Example::

        with RunWriter(root / "runs" / manifest.run_id, manifest) as writer:
            for item in items:
                if item.id not in writer.done_ids:
                    writer.append(Judgment(...))
    """

    def __init__(self, run_dir: str | Path, manifest: Manifest, *, fsync_every: int = 0) -> None:
        """Prepare a writer.

        Args:
            run_dir: The run's folder (created on open).
            manifest: Written to ``manifest.json`` unless the folder already holds the same run.
            fsync_every: Call ``os.fsync`` after every N lines (0 = only on close).
        """
        self.run_dir = Path(run_dir)
        self.manifest = manifest
        self.fsync_every = fsync_every
        self.done_ids: set[str] = set()
        self._fd: int | None = None
        self._size = 0
        self._count = 0

    @property
    def path(self) -> Path:
        """The judgments file."""
        return self.run_dir / JUDGMENTS_NAME

    def __enter__(self) -> RunWriter:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def open(self) -> None:
        """Create the folder, write or check the manifest, repair the judgments file, open for append.

        Raises:
            RunFormatError: The folder holds a different run (another run_id or mode), or a
                manifest that cannot be read.
            OSError: The folder or its files cannot be read or written.
        """
        self.run_dir.mkdir(parents=True, exist_ok=True)
        manifest_path = self.run_dir / MANIFEST_NAME
        if manifest_path.exists():
            try:
                existing = json.loads(manifest_path.read_text(encoding="utf-8"))
            except (ValueError, RecursionError) as exc:
                raise RunFormatError(
                    f"{manifest_path} is not valid JSON ({exc}); repair it or choose another folder"
                ) from None
            if not isinstance(existing, dict):
                raise RunFormatError(f"{manifest_path} does not hold a JSON object; repair it or choose another folder")
            if existing.get("run_id") != self.manifest.run_id or existing.get("mode") != self.manifest.mode:
                raise RunFormatError(
                    f"{self.run_dir} already holds run {existing.get('run_id')!r}; pick a new run_id "
                    "(leaderboard.store.new_run_id) or another folder"
                )
        else:
            _atomic_write(manifest_path, json.dumps(self.manifest.to_dict(), indent=2) + "\n")
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise RunFormatError(f"{self.path} is not a regular file; move it away or choose another folder")
            self.done_ids = self._repair(fd)
            self._size = os.fstat(fd).st_size
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd

    def _repair(self, fd: int) -> set[str]:
        """Cut a torn last line, drop lines in the middle that are not JSON, return the stored ids.

        Lines are only ever removed here, and the kept ones keep their order. The file is rewritten
        in place (a rename would move the file out from under the runner's lock): should that be cut
        short, every line is still there at least once, and the next open repairs it again.
        """
        data = self.path.read_bytes()
        keep = data.rfind(b"\n") + 1
        if keep < len(data):
            logger.warning(
                "%s: cutting a partial last line (%d bytes) left by an interrupted write", self.path, len(data) - keep
            )
        lines = data[:keep].split(b"\n")[:-1]
        try:
            parsed = json.loads(b"[" + b",".join(line for line in lines if line.strip()) + b"]")
            clean = len(parsed) == sum(1 for line in lines if line.strip())
        except (ValueError, RecursionError):
            clean = False
        if clean:
            if keep < len(data):
                os.ftruncate(fd, keep)
            return _ids(lines)
        torn = [n for n, line in enumerate(lines, start=1) if line.strip() and not _parsed(line)[0]]
        dropped = set(torn)
        kept = [line for n, line in enumerate(lines, start=1) if n not in dropped]
        if torn:
            shown = ", ".join(map(str, torn[:10])) + (" ..." if len(torn) > 10 else "")
            logger.warning(
                "%s: removing %d line(s) that are not JSON (line %s: torn writes); their items are judged again",
                self.path,
                len(torn),
                shown,
            )
            body = b"".join(line + b"\n" for line in kept)
            with open(self.path, "r+b") as handle:
                handle.write(body)
                handle.truncate(len(body))
                handle.flush()
                os.fsync(handle.fileno())
        elif keep < len(data):
            os.ftruncate(fd, keep)
        return _ids(kept)

    def append(self, judgment: Judgment) -> None:
        """Write one judgment as one line.

        Raises:
            RunFormatError: The verdict is invalid for the run's mode (store it as unscored instead).
            ValueError: The judgment holds a value JSON cannot (see :meth:`Judgment.to_json_line`).
            OSError: The line could not be written (disk full, file too large, ...); the file is
                left as it was before the call.
        """
        if self._fd is None:
            raise RunFormatError("RunWriter is not open; use it as a context manager or call open()")
        problem = verdict_problem(self.manifest.mode, judgment.verdict)
        if problem:
            raise RunFormatError(f"{problem}; store verdict=None with an unscored_reason instead")
        data = (judgment.to_json_line() + "\n").encode("utf-8")
        try:
            view = memoryview(data)
            while view:
                view = view[_write_fd(self._fd, view) :]
            if self.fsync_every and (self._count + 1) % self.fsync_every == 0:
                os.fsync(self._fd)
        except OSError as exc:
            # Part of the line may have reached the file: cut it off, so a retry appends cleanly.
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, self._size)
            raise OSError(exc.errno, exc.strerror or str(exc), str(self.path)) from exc
        self._size += len(data)
        self.done_ids.add(str(judgment.item_id))
        self._count += 1

    def close(self) -> None:
        """Flush to disk and close (idempotent).

        Raises:
            OSError: The flush failed (the file is closed all the same).
        """
        if self._fd is not None:
            fd, self._fd = self._fd, None
            try:
                os.fsync(fd)
            except OSError as exc:
                raise OSError(exc.errno, exc.strerror or str(exc), str(self.path)) from exc
            finally:
                os.close(fd)


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    try:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()  # a stale one (or a link somewhere else) is never written through
        with open(tmp, "x", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):  # a full disk must not leave a half-written temp file
            tmp.unlink()
        raise


def write_run(run_dir: str | Path, manifest: Manifest, judgments: Iterable[Judgment]) -> Path:
    """Write a complete run, replacing any previous content of ``run_dir``.

    Args:
        run_dir: The run's folder.
        manifest: The manifest.
        judgments: Every judgment of the run.

    Returns:
        The folder.
    """
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    judgments = list(judgments)
    for j in judgments:
        problem = verdict_problem(manifest.mode, j.verdict)
        if problem:
            raise RunFormatError(f"item {j.item_id}: {problem}; store verdict=None with an unscored_reason")
    lines = [j.to_json_line() + "\n" for j in judgments]
    _atomic_write(run_dir / JUDGMENTS_NAME, "".join(lines))
    _atomic_write(run_dir / MANIFEST_NAME, json.dumps(manifest.to_dict(), indent=2) + "\n")
    # The typed copy the loader reads instead of parsing every line (best effort; large runs only).
    # Imported here: numpy and pyarrow load when a run is written, not when the runner starts.
    from leaderboard.store.columnar import write_columnar

    write_columnar(run_dir)
    return run_dir
