"""A small on-disk cache of computed leaderboard rows, one JSON file per key.

The leaderboard's rows of a run depend only on what :mod:`leaderboard.metrics.compute` puts in its
key (the run's content digest and manifest, the labels' digest, the code's digest, the bootstrap
settings and the shape of the group the run is computed in), so an entry never goes stale: a changed
input is another key. Entries are written atomically; a missing, unreadable or corrupt entry reads
as a miss, and a folder that cannot be written only costs the recomputation (logged once). Values are
JSON (floats round-trip exactly; NaN is kept as the ``NaN`` token Python's json reads back).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

logger = logging.getLogger(__name__)


@dataclass
class RowCache:
    """Computed rows under content keys in ``folder`` (created on the first write).

    Attributes:
        folder: Where the entries live (``RUNS_DIR/.cache/leaderboard`` in the Space; never the
            embedded ``assets/``, which may be read-only).
        hits: Entries found since creation (for tests and logs).
        misses: Entries looked for and not found.
    """

    folder: Path
    hits: int = 0
    misses: int = 0
    _warned: bool = field(default=False, repr=False)
    _used: set[str] = field(default_factory=set, repr=False)

    def __post_init__(self) -> None:
        self.folder = Path(self.folder)

    def _path(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}.json"

    def get(self, key: str) -> Any | None:
        """The value stored under ``key``, or None."""
        path = self._path(key)
        try:
            value = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError):
            self.misses += 1
            return None
        self.hits += 1
        self._used.add(key)
        with contextlib.suppress(OSError):
            os.utime(path)  # the time of last use, which prune() goes by
        return value

    def put(self, key: str, value: Any) -> None:
        """Store ``value`` under ``key`` (best effort: a failure is logged and otherwise ignored)."""
        path = self._path(key)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_text(json.dumps(value, separators=(",", ":")), encoding="utf-8")
            os.replace(tmp, path)
            self._used.add(key)
        except (OSError, ValueError, TypeError) as exc:
            with contextlib.suppress(OSError):
                tmp.unlink()
            if not self._warned:
                self._warned = True
                logger.warning("leaderboard row cache %s not written (%s); rows are recomputed", self.folder, exc)

    def prune(self, max_age_s: float = 14 * 86400) -> int:
        """Delete the entries this cache did not use and nobody used for ``max_age_s`` seconds.

        Keys change with the code and the inputs, so old entries are never read again; this keeps
        the folder from growing without end. Best effort; returns how many were deleted.
        """
        cutoff, deleted = time.time() - max_age_s, 0
        try:
            paths = list(self.folder.glob("*/*.json"))
        except OSError:
            return 0
        for path in paths:
            with contextlib.suppress(OSError):
                if path.stem not in self._used and path.stat().st_mtime < cutoff:
                    path.unlink()
                    deleted += 1
        return deleted


def row_hashes(frame: pd.DataFrame) -> np.ndarray:
    """A 64-bit hash per row of ``frame``, for content keys (its values as they are; as text when a
    column holds values that do not hash, such as lists)."""
    import pandas as pd

    try:
        return pd.util.hash_pandas_object(frame, index=False).to_numpy()
    except TypeError:
        return pd.util.hash_pandas_object(frame.astype(str), index=False).to_numpy()
