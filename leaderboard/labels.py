"""Benchmark items and their human labels, and the map from the data's dataset names to display names.

Human labels live here, not in runs: a run stores verdicts keyed by item id, and the leaderboard joins
them with this table on ``(mode, subset, item_id)``. A run whose manifest says ``split = "hq"`` is
joined with the ``hq`` rows, because the curated subsets carry their own copies of the labels.

The table is one CSV (``assets/benchmark/labels.csv``), figures only:

=================  ==========================================================================
column             meaning
=================  ==========================================================================
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
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

logger = logging.getLogger(__name__)

LABEL_COLUMNS: tuple[str, ...] = (
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
SUBSETS: tuple[str, ...] = ("all", "hq", "hard")
LETTERS = "ABCDEFGH"

# The paper's 14 display names, in the paper's column order, keyed by a normalised spelling.
_DISPLAY: dict[str, str] = {
    "coco": "COCO",
    "conceptcaption": "C.C.",
    "conceptcaptions": "C.C.",
    "conceptualcaptions": "C.C.",
    "cc": "C.C.",
    "diffusiondb": "Diff.",
    "diff": "Diff.",
    "infographicsvqa": "Graphics",
    "infographicvqa": "Graphics",
    "graphics": "Graphics",
    "mathvista": "Math",
    "math": "Math",
    "textvqa": "Text",
    "text": "Text",
    "wit": "WIT",
    "chartqa": "Chart",
    "chart": "Chart",
    "visitbench": "VisIT",
    "visit": "VisIT",
    "cc3m": "CC-3M",
    "mind2web": "M2W",
    "m2w": "M2W",
    "scienceqa": "SciQA",
    "sciqa": "SciQA",
    "aesbench": "Aes",
    "aes": "Aes",
    "mmvet": "MM-Vet",
    # In the released data but not among the paper's 14 column names.
    "llavabench": "LLaVA-Bench",
}
#: Display names in the order of the paper's main table; others sort after them alphabetically.
DATASET_ORDER: tuple[str, ...] = (
    "COCO",
    "C.C.",
    "Diff.",
    "Graphics",
    "Math",
    "Text",
    "WIT",
    "Chart",
    "VisIT",
    "CC-3M",
    "M2W",
    "SciQA",
    "Aes",
    "MM-Vet",
)


def display_dataset(name: str) -> str:
    """The display name of a source dataset ("Concept Caption" -> "C.C.").

    Args:
        name: The name as the data or a run spells it; a display name maps to itself.

    Returns:
        The paper's short name, or ``name`` unchanged when it is not a known dataset.
    """
    key = re.sub(r"[^a-z0-9]", "", str(name).lower())
    return _DISPLAY.get(key, str(name))


def dataset_sort_key(display: str) -> tuple[int, str]:
    """Sort key putting datasets in the paper's order, unknown ones after, Average/Pooled last."""
    if display in DATASET_ORDER:
        return (DATASET_ORDER.index(display), "")
    if display == "Average":
        return (1000, "")
    if display == "Pooled":
        return (1001, "")
    return (500, display.lower())


# --------------------------------------------------------------------------- label normalisation


@dataclass(frozen=True)
class HumanLabel:
    """A human label in canonical form, or why there is none.

    Attributes:
        label: "1".."5", "A"/"B"/"tie", or a ranking string; empty when missing or unusable.
        issue: Empty when the label can be used; otherwise the reason it is left out.
        raw: The label as stored in the data, for the record (empty when missing).
    """

    label: str
    issue: str
    raw: str


def normalise_human_label(mode: str, raw: object, n_responses: int | None = None) -> HumanLabel:
    """Turn a human label from the data into its canonical form, flagging unusable ones.

    Args:
        mode: ``score``, ``pair`` or ``batch``.
        raw: The stored label (int 1-5; "A"/"B"/"C"; a ranking string), or None.
        n_responses: For batch, the number of responses the item has.

    Returns:
        A HumanLabel; ``issue`` is non-empty when the label must not be used.
    """
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return HumanLabel("", "no human label", "")
    text = str(raw).strip()
    if mode == "score":
        if isinstance(raw, bool):
            return HumanLabel("", f"human score {text!r} is not 1-5", text)
        try:
            number = float(text)
        except ValueError:
            return HumanLabel("", f"human score {text!r} is not a number", text)
        if not number.is_integer() or not 1 <= number <= 5:
            return HumanLabel("", f"human score {text!r} is not a whole number 1-5", text)
        return HumanLabel(str(int(number)), "", text)
    if mode == "pair":
        label = {"A": "A", "B": "B", "C": "tie", "TIE": "tie"}.get(text.upper())
        if label is None:
            return HumanLabel("", f"human verdict {text!r} is not A, B or C (tie)", text)
        return HumanLabel(label, "", text)
    if mode == "batch":
        letters = text.upper()
        if not re.fullmatch(r"[A-H]+", letters):
            return HumanLabel("", f"human ranking {text!r} is not a string of letters A-H", text)
        problem = ranking_problem(letters, n_responses)
        if problem:
            return HumanLabel("", f"human ranking {problem}", text)
        return HumanLabel(letters, "", text)
    raise ValueError(f"unknown mode {mode!r}; expected score, pair or batch")


def ranking_problem(ranking: str, n_responses: int | None) -> str:
    """Why a ranking string is not a full ranking of ``n_responses`` answers ('' when it is).

    Args:
        ranking: Letters best-first, e.g. "CADB".
        n_responses: How many responses were ranked; None to check only for repeats.

    Returns:
        An empty string, or a short reason such as ``'CABD' ranks D but the item has 3 responses``.
    """
    if len(set(ranking)) != len(ranking):
        return f"{ranking!r} repeats a letter"
    if n_responses is None:
        return ""
    expected = set(LETTERS[:n_responses])
    extra = sorted(set(ranking) - expected)
    if extra:
        return f"{ranking!r} ranks {''.join(extra)} but the item has {n_responses} responses"
    if len(ranking) < n_responses:
        return f"{ranking!r} ranks {len(ranking)} of {n_responses} responses"
    return ""


# --------------------------------------------------------------------------- the table


def empty_labels() -> pd.DataFrame:
    """An empty label table with the right columns."""
    return pd.DataFrame({c: pd.Series(dtype="object") for c in LABEL_COLUMNS})


def lengths_to_text(lengths: Sequence[int] | None) -> str:
    """Encode response lengths for the CSV ("120|88")."""
    return "" if not lengths else "|".join(str(int(n)) for n in lengths)


def lengths_from_text(text: str) -> tuple[int, ...]:
    """Decode response lengths written by :func:`lengths_to_text` (empty tuple when unknown)."""
    return tuple(int(x) for x in text.split("|")) if text else ()


def read_labels(path: str | Path) -> pd.DataFrame:
    """Read a label table written by :func:`write_labels`.

    Args:
        path: The CSV file.

    Returns:
        A DataFrame with :data:`LABEL_COLUMNS`, every column a string except ``n_responses`` (int).

    Raises:
        ValueError: A required column is missing; the message names it.
    """
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
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
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    out = frame[list(LABEL_COLUMNS)].copy()
    out["_num"] = pd.to_numeric(out["item_id"], errors="coerce")
    out = out.sort_values(["mode", "subset", "_num", "item_id"], kind="stable").drop(columns="_num")
    out.to_csv(path, index=False, lineterminator="\n")


def merge_labels(frames: Iterable[pd.DataFrame]) -> pd.DataFrame:
    """Merge label tables; a later table's row replaces an earlier one with the same key.

    Args:
        frames: Label tables, lowest priority first.

    Returns:
        One table with unique ``(mode, subset, item_id)`` keys.
    """
    frames = [f for f in frames if f is not None and len(f)]
    if not frames:
        return empty_labels()
    merged = pd.concat(frames, ignore_index=True)
    merged = merged.drop_duplicates(["mode", "subset", "item_id"], keep="last")
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
