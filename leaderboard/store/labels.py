"""The human-label table: its columns, and reading, writing and merging it.

Human labels live here, not in runs: a run stores verdicts keyed by item id, and the leaderboard joins
them with this table on ``(benchmark, mode, subset, item_id)`` (the run's benchmark is its manifest's
``benchmark``). How a benchmark's release spells its labels, and
how they become the canonical form below, is the benchmark's business (:mod:`leaderboard.benchmarks`). A run whose manifest says ``split = "hq"`` is
joined with the ``hq`` rows, because the curated subsets carry their own copies of the labels.

The table is one CSV (``assets/benchmark/labels.csv``), figures only:

=================  ==========================================================================
column             meaning
=================  ==========================================================================
benchmark          the benchmark the item belongs to (a name in :mod:`leaderboard.benchmarks`);
                   absent or empty in older files, which means ``mllm-as-a-judge``
mode               score, pair or batch
subset             all (the full benchmark), hq or hard
item_id            score_id / pair_id / id of the released data, as a string
dataset            the source dataset's name as the data spells it ("Concept Caption")
human_label        "1".."5"; "A", "B" or "tie"; a ranking best-first ("CDAB"); empty if none
n_responses        responses the judge saw (1 for score, 2 for pair, 2..8 for batch)
response_lengths   lengths in characters of the responses, "|"-separated, empty when unknown
image_id           the image the item is about
label_issue        empty, or why the human label cannot be used (it is then left out of metrics)
=================  ==========================================================================
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from leaderboard.schema import DEFAULT_BENCHMARK, SUBSETS

if TYPE_CHECKING:  # pandas loads in the functions that use it: the runner's path needs none of them
    import pandas as pd

logger = logging.getLogger(__name__)

LABEL_COLUMNS: tuple[str, ...] = (
    "benchmark",
    "mode",
    "subset",
    "item_id",
    "dataset",
    "human_label",
    "n_responses",
    "response_lengths",
    "image_id",
    "label_issue",
)
__all__ = [
    "LABEL_COLUMNS",
    "LABEL_KEY",
    "SUBSETS",
    "empty_labels",
    "find_label_files",
    "lengths_from_text",
    "lengths_to_text",
    "load_label_tables",
    "merge_labels",
    "read_labels",
    "with_benchmark",
    "write_labels",
]
#: The columns that identify a label row.
LABEL_KEY: tuple[str, ...] = ("benchmark", "mode", "subset", "item_id")

# --------------------------------------------------------------------------- the table


def empty_labels() -> pd.DataFrame:
    """An empty label table with the right columns."""
    import pandas as pd

    return pd.DataFrame({c: pd.Series(dtype="object") for c in LABEL_COLUMNS})


def with_benchmark(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with a ``benchmark`` column, empty or missing values set to the default benchmark.

    Label tables written before benchmarks had names have no such column: all their rows are
    :data:`~leaderboard.schema.DEFAULT_BENCHMARK`'s.
    """
    if "benchmark" in frame.columns and _named(frame["benchmark"]):
        # Already normalised (every table read here is): a shallow copy is safe under copy-on-write.
        return frame.copy(deep=False)
    out = frame.copy()
    if "benchmark" not in out.columns:
        out["benchmark"] = DEFAULT_BENCHMARK
    else:
        name = out["benchmark"].astype(object)
        out["benchmark"] = name.where(name.notna() & (name.astype(str).str.strip() != ""), DEFAULT_BENCHMARK).astype(
            str
        )
    return out


def _named(column: pd.Series) -> bool:
    """Whether a benchmark column is already what :func:`with_benchmark` makes of it: strings, none blank.

    A table holds a handful of benchmark names, so each distinct one is checked once.
    """
    import pandas as pd

    if column.dtype != pd.Series([""]).astype(str).dtype:
        return False
    return all(isinstance(name, str) and name.strip() for name in pd.unique(column))


def rows_where(frame: pd.DataFrame, mask: pd.Series) -> pd.DataFrame:
    """``frame[mask]``, as a slice when the selected rows are contiguous.

    Label tables are written sorted by benchmark, mode and subset, so one (benchmark, mode) or one
    subset of it is a run of rows; slicing it shares the columns where a mask copies every string.
    """
    import numpy as np

    where = np.flatnonzero(mask.to_numpy(dtype=bool))
    if len(where) and where[-1] - where[0] + 1 == len(where):
        return frame.iloc[where[0] : where[-1] + 1]
    return frame[mask]


def lengths_to_text(lengths: Sequence[int] | None) -> str:
    """Encode response lengths for the CSV ("120|88")."""
    return "" if not lengths else "|".join(str(int(n)) for n in lengths)


def lengths_from_text(text: str) -> tuple[int, ...]:
    """Decode response lengths written by :func:`lengths_to_text` (empty tuple when unknown)."""
    return tuple(int(x) for x in text.split("|")) if text else ()


#: Label files at least this large are read with pyarrow's CSV reader (small ones gain nothing from
#: it, and the Space's embedded table is small).
ARROW_CSV_BYTES = 1 << 20


def _read_text_csv(path: str | Path) -> pd.DataFrame:
    """A CSV file with every column as strings and empty fields as "".

    For a large file, pyarrow's multithreaded reader gives the same table as pandas' C reader in a
    fraction of the time (a 500k-row label table: 0.2 s against 0.8 s); a file it refuses (a row
    with too few or too many fields, no pyarrow) is read by the C reader, which pads or reports it as
    it always did.
    """
    import pandas as pd

    if Path(path).stat().st_size >= ARROW_CSV_BYTES:
        try:
            return pd.read_csv(path, dtype=str, keep_default_na=False, engine="pyarrow")
        except Exception:  # noqa: BLE001 - any refusal means "read it the usual way", which reports real errors
            pass
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def read_labels(path: str | Path) -> pd.DataFrame:
    """Read a label table written by :func:`write_labels`.

    Args:
        path: The CSV file.

    Returns:
        A DataFrame with :data:`LABEL_COLUMNS`, every column a string except ``n_responses`` (int).

    Raises:
        ValueError: A required column is missing; the message names it.
    """
    import pandas as pd

    frame = with_benchmark(_read_text_csv(path))
    missing = [c for c in LABEL_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(
            f"{path}: label table lacks column(s) {', '.join(missing)}; re-create it with "
            "`python -m leaderboard import-mllm-judge`."
        )
    frame = frame[list(LABEL_COLUMNS)].copy()
    frame["n_responses"] = pd.to_numeric(frame["n_responses"], errors="coerce").fillna(0).astype(int)
    return frame


def write_labels(frame: pd.DataFrame, path: str | Path) -> None:
    """Write a label table as CSV, sorted so that re-imports give identical files.

    Args:
        frame: Rows with :data:`LABEL_COLUMNS`.
        path: Destination CSV (its folder is created).
    """
    import pandas as pd

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    out = with_benchmark(frame)[list(LABEL_COLUMNS)].copy()
    out["_num"] = pd.to_numeric(out["item_id"], errors="coerce")
    out = out.sort_values(["benchmark", "mode", "subset", "_num", "item_id"], kind="stable").drop(columns="_num")
    out.to_csv(path, index=False, lineterminator="\n")


def merge_labels(frames: Iterable[pd.DataFrame]) -> pd.DataFrame:
    """Merge label tables; a later table's row replaces an earlier one with the same key.

    Args:
        frames: Label tables, lowest priority first.

    Returns:
        One table with unique :data:`LABEL_KEY` keys (``benchmark`` filled in where a table lacks it).
    """
    import pandas as pd

    frames = [with_benchmark(f) for f in frames if f is not None and len(f)]
    if not frames:
        return empty_labels()
    merged = pd.concat(frames, ignore_index=True)
    merged = merged.drop_duplicates(list(LABEL_KEY), keep="last")
    return merged.reset_index(drop=True)


def find_label_files(root: str | Path) -> list[Path]:
    """Every ``benchmark/labels.csv`` under ``root`` (or ``root`` itself when it is such a file)."""
    root = Path(root)
    if root.is_file():
        return [root] if root.name.lower() == "labels.csv" else []
    found = [p for p in root.rglob("labels.csv") if p.parent.name.lower() == "benchmark"]
    return sorted(found)


def load_label_tables(paths: Iterable[str | Path]) -> pd.DataFrame:
    """Read and merge several label tables (later paths win on key collisions).

    Args:
        paths: CSV files.

    Returns:
        The merged table (empty when no paths).
    """
    tables = []
    for path in paths:
        logger.debug("reading labels from %s", path)
        tables.append(read_labels(path))
    return merge_labels(tables)
