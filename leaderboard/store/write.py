"""Writing stored runs: append one judgment at a time (resumable), or a whole run at once (atomic).

:class:`RunWriter` is the runner's path: the manifest is written atomically on open, then every
judgment is one ``write`` of one full line to an unbuffered file, so a crash leaves at most a torn
last line, which the next open cuts off. :func:`write_run` is the importer's and the submission
panel's path: the whole run replaces the folder's files through a temporary file and a rename.
Both refuse a verdict that is invalid for the run's mode (store it as unscored instead).

This module depends on :mod:`~leaderboard.store.format` only, never on the reader.
"""

from __future__ import annotations

import json
import logging
import os
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


def stored_item_ids(path: Path) -> set[str]:
    """The item ids a judgments file already holds (lines that are not JSON objects are ignored).

    The writer needs only the ids to resume; the reader's validation and problem reports are
    :mod:`leaderboard.store.read`'s business. A clean file is parsed in one C-level call.
    """
    text = path.read_bytes().decode("utf-8", errors="replace")
    lines = [line for line in text.split("\n") if line.strip()]
    try:
        objects = json.loads("[" + ",".join(lines) + "]")
    except ValueError:
        objects = []
    if len(objects) != len(lines):  # a bad line, or one holding several values: line by line
        objects = []
        for line in lines:
            try:
                objects.append(json.loads(line))
            except ValueError:
                continue
    return {str(rec.get("item_id")) for rec in objects if isinstance(rec, dict)}


class RunWriter:
    """Appends judgments to a run, one flushed JSON line each; safe to resume after a crash.

    The manifest is written atomically on open. Each judgment is one ``write`` of a full line to an
    unbuffered file opened for appending, so a crash can leave at most a partial *last* line; the
    reader reports and ignores it, and reopening a writer cuts it off before appending.

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
        self._file: Any = None
        self._count = 0

    def __enter__(self) -> RunWriter:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def open(self) -> None:
        """Create the folder, write or check the manifest, repair a torn tail, open for append.

        Raises:
            RunFormatError: The folder holds a different run (another run_id or mode).
        """
        self.run_dir.mkdir(parents=True, exist_ok=True)
        manifest_path = self.run_dir / MANIFEST_NAME
        if manifest_path.exists():
            existing = json.loads(manifest_path.read_text(encoding="utf-8"))
            if existing.get("run_id") != self.manifest.run_id or existing.get("mode") != self.manifest.mode:
                raise RunFormatError(
                    f"{self.run_dir} already holds run {existing.get('run_id')!r}; pick a new run_id "
                    "(leaderboard.store.new_run_id) or another folder"
                )
        else:
            _atomic_write(manifest_path, json.dumps(self.manifest.to_dict(), indent=2) + "\n")
        path = self.run_dir / JUDGMENTS_NAME
        if path.exists():
            self._cut_torn_tail(path)
            self.done_ids = stored_item_ids(path)
        self._file = open(path, "ab", buffering=0)  # noqa: SIM115 - closed in close()

    @staticmethod
    def _cut_torn_tail(path: Path) -> None:
        data = path.read_bytes()
        if data and not data.endswith(b"\n"):
            keep = data.rfind(b"\n") + 1
            logger.warning(
                "%s: cutting a partial last line (%d bytes) left by an interrupted write", path, len(data) - keep
            )
            with open(path, "r+b") as handle:
                handle.truncate(keep)

    def append(self, judgment: Judgment) -> None:
        """Write one judgment as one line and flush it.

        Raises:
            RunFormatError: The verdict is invalid for the run's mode (store it as unscored instead).
        """
        if self._file is None:
            raise RunFormatError("RunWriter is not open; use it as a context manager or call open()")
        problem = verdict_problem(self.manifest.mode, judgment.verdict)
        if problem:
            raise RunFormatError(f"{problem}; store verdict=None with an unscored_reason instead")
        self._file.write((judgment.to_json_line() + "\n").encode("utf-8"))
        self.done_ids.add(str(judgment.item_id))
        self._count += 1
        if self.fsync_every and self._count % self.fsync_every == 0:
            os.fsync(self._file.fileno())

    def close(self) -> None:
        """Flush to disk and close (idempotent)."""
        if self._file is not None:
            os.fsync(self._file.fileno())
            self._file.close()
            self._file = None


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


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
    return run_dir
