"""What every importer writes beside its runs: label rows of its benchmark, and its part of the import summary.

Each importer (``python -m leaderboard import-<name>``) writes its runs under ``<out>/runs/`` and then

* merges its label rows into the one label table ``<out>/benchmark/labels.csv`` with
  :func:`write_label_rows`: every row names its ``benchmark``, so rows of different benchmarks never
  replace each other (the table's key is ``(benchmark, mode, subset, item_id)``, see
  :mod:`leaderboard.store.labels`), and re-importing one benchmark keeps the others' rows;
* records what it found under its own command name in ``<out>/benchmark/import_summary.json`` with
  :func:`write_summary`, keeping the other importers' entries.

:class:`ImportReport` is the summary of the importers that read per-item result files (CSV or
JSON) rather than the MLLM-as-a-Judge release: runs written, label rows, and named counts.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

LABELS_FILE = Path("benchmark") / "labels.csv"
SUMMARY_FILE = Path("benchmark") / "import_summary.json"


def write_label_rows(out: str | Path, benchmark: str, rows: Iterable[Mapping[str, Any]]) -> int:
    """Merge one benchmark's label rows into ``out/benchmark/labels.csv``.

    A row with the same ``(benchmark, mode, subset, item_id)`` replaces the stored one; every other
    stored row is kept.

    Args:
        out: The output folder (usually ``assets``).
        benchmark: The benchmark the rows belong to (set on every row).
        rows: Label rows with the table's columns (missing ones are left empty).

    Returns:
        How many rows were given.
    """
    import pandas as pd

    from leaderboard.store.labels import LABEL_COLUMNS, load_label_tables, merge_labels, write_labels

    frame = pd.DataFrame([{**row, "benchmark": benchmark} for row in rows])
    frame = frame.reindex(columns=list(LABEL_COLUMNS)).fillna("")
    if "n_responses" in frame.columns:
        frame["n_responses"] = pd.to_numeric(frame["n_responses"], errors="coerce").fillna(0).astype(int)
    path = Path(out) / LABELS_FILE
    old = load_label_tables([path]) if path.exists() else None
    write_labels(merge_labels([old, frame]), path)
    return len(frame)


def write_summary(out: str | Path, command: str, summary: Mapping[str, Any]) -> Path:
    """Store an importer's summary under its command name in ``out/benchmark/import_summary.json``.

    Args:
        out: The output folder.
        command: The importer's command (``import-mj-bench``).
        summary: Its JSON-ready summary.

    Returns:
        The file written.
    """
    path = Path(out) / SUMMARY_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    stored: dict[str, Any] = {}
    if path.exists():
        try:
            loaded = json.loads(path.read_text(encoding="utf-8"))
        except ValueError:
            loaded = {}
        # A summary written before importers had names is one importer's (import-mllm-judge) summary.
        stored = loaded if isinstance(loaded, dict) and "files" not in loaded else {}
    stored[command] = summary
    path.write_text(json.dumps(dict(sorted(stored.items())), indent=1) + "\n", encoding="utf-8")
    return path


def read_summary(out: str | Path, command: str) -> dict[str, Any] | None:
    """An importer's stored summary, or None when it has not been run into ``out``."""
    path = Path(out) / SUMMARY_FILE
    if not path.exists():
        return None
    loaded = json.loads(path.read_text(encoding="utf-8"))
    entry = loaded.get(command) if isinstance(loaded, dict) else None
    return entry if isinstance(entry, dict) else None


@dataclass(frozen=True)
class ImportReport:
    """The outcome of an import of per-item result files.

    Attributes:
        command: The importer's command name.
        source: The folder imported.
        runs: Per run written: run_id, judge, mode, subset, judgments, unparsed (and more counts).
        label_rows: Label rows written, per ``benchmark/mode/subset``.
        counts: Named figures of what was found (mapped ids, conflicts, inferred fields ...).
        notes: Decisions the import made, in words.
        out: The output folder.
    """

    command: str
    source: str
    runs: tuple[Mapping[str, Any], ...]
    label_rows: Mapping[str, int]
    counts: Mapping[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    out: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)

    def to_markdown(self) -> str:
        """Human-readable: the runs written, then the counts and notes."""
        lines = ["| run_id | judge | mode | subset | judgments | unparsed |", "|---|---|---|---|---:|---:|"]
        lines += [
            f"| {r['run_id']} | {r['judge']} | {r['mode']} | {r['subset']} | {r['judgments']} | {r['unparsed']} |"
            for r in self.runs
        ]
        if self.label_rows:
            lines += ["", "Label rows: " + ", ".join(f"{k} {v}" for k, v in self.label_rows.items())]
        if self.counts:
            lines += ["", *(f"- {k}: {v}" for k, v in self.counts.items())]
        if self.notes:
            lines += ["", *(f"- {note}" for note in self.notes)]
        return "\n".join(lines)
