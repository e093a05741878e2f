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

    def __post_init__(self) -> None:
        self.folder = Path(self.folder)

    def _path(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}.json"

    def get(self, key: str) -> Any | None:
        """The value stored under ``key``, or None."""
        try:
            value = json.loads(self._path(key).read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError):
            self.misses += 1
            return None
        self.hits += 1
        return value

    def put(self, key: str, value: Any) -> None:
        """Store ``value`` under ``key`` (best effort: a failure is logged and otherwise ignored)."""
        path = self._path(key)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_text(json.dumps(value, separators=(",", ":")), encoding="utf-8")
            os.replace(tmp, path)
        except (OSError, ValueError, TypeError) as exc:
            with contextlib.suppress(OSError):
                tmp.unlink()
            if not self._warned:
                self._warned = True
                logger.warning("leaderboard row cache %s not written (%s); rows are recomputed", self.folder, exc)


def row_hashes(frame: pd.DataFrame) -> np.ndarray:
    """A 64-bit hash per row of ``frame``, for content keys (its values as they are; as text when a
    column holds values that do not hash, such as lists)."""
    import pandas as pd

    try:
        return pd.util.hash_pandas_object(frame, index=False).to_numpy()
    except TypeError:
        return pd.util.hash_pandas_object(frame.astype(str), index=False).to_numpy()
