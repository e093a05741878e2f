"""Agreement of rubric runs with human labels, per criterion and overall.

A run of the ``rubric`` task stores every criterion's verdict in its judgment lines' ``details``
(``details.criteria[name].verdict``; the overall as it stands on its own in
``details.overall.verdict``). This module reads those lines itself and joins them with a label
table of one row per (item, criterion): ``item_id``, ``criterion`` (a criterion's name, or
``overall``), ``human_label`` (a whole number for one response; ``A``, ``B``, ``C``/``tie`` for two)
and optionally ``benchmark`` (rows of other benchmarks are left out).

Per (run, criterion), over the items with a human label:

* ``coverage``: judged items whose criterion got a verdict / judged items with a label;
* scores: ``exact_agreement``, ``within1_agreement``, ``pearson``, ``spearman`` and
  ``mean_score_difference`` (judge minus human);
* choices: ``accuracy_with_tie`` and ``accuracy_without_tie`` (items where the judge or the human
  says tie left out, as the main leaderboard's default).

A cell on fewer than ``min_n`` items (default 10) has no value, with the reason, as on the
leaderboard; so does a correlation where either side is constant.

Run it as ``python -m leaderboard.metrics.criteria_cli RUN_DIR [RUN_DIR ...] --labels labels.csv``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from judges.verdicts import TIE

#: The label table's criterion value for the overall verdict.
OVERALL = "overall"
#: Fewest items a value is shown for.
MIN_N = 10
#: Longest judgment line read; longer ones are reported and skipped.
MAX_LINE_BYTES = 1_000_000

SCORE_METRICS = ("exact_agreement", "within1_agreement", "pearson", "spearman", "mean_score_difference")
CHOICE_METRICS = ("accuracy_with_tie", "accuracy_without_tie")
COLUMNS = ("run_id", "judge", "criterion", "metric", "value", "n", "coverage", "reason")


@dataclass(frozen=True)
class RubricRun:
    """The per-criterion verdicts of one stored rubric run.

    Attributes:
        run_id: The run's id.
        judge: The judge's display name.
        benchmark: The benchmark the run names.
        verdicts: Item id -> criterion (name or ``overall``) -> verdict (None when unscored).
        problems: Lines that could not be read, as ``file:line: reason``.
    """

    run_id: str
    judge: str
    benchmark: str
    verdicts: Mapping[str, Mapping[str, int | str | None]]
    problems: tuple[str, ...] = ()


def _verdict(value: object) -> int | str | None:
    if type(value) is int:
        return value
    if value in ("A", "B", TIE):
        return str(value)
    return None


def read_rubric_run(run_dir: str | Path) -> RubricRun:
    """Read a run folder's manifest and the criteria of its judgment lines.

    Raises:
        ValueError: The folder has no readable manifest, or its judgments hold no criteria (not a
            rubric run).
    """
    folder = Path(run_dir)
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"{folder}: no readable manifest.json ({exc})") from None
    if not isinstance(manifest, dict):
        raise ValueError(f"{folder}: manifest.json is not a JSON object")
    verdicts: dict[str, dict[str, int | str | None]] = {}
    problems: list[str] = []
    path = folder / "judgments.jsonl"
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            where = f"{path.name}:{number}"
            if len(raw) > MAX_LINE_BYTES:
                problems.append(f"{where}: line longer than {MAX_LINE_BYTES:,} bytes; skipped")
                continue
            if not raw.strip():
                continue
            try:
                line = json.loads(raw)
            except (ValueError, RecursionError):
                problems.append(f"{where}: not JSON; skipped")
                continue
            item = line.get("item_id") if isinstance(line, dict) else None
            details = line.get("details") if isinstance(line, dict) else None
            if not isinstance(item, str) or not isinstance(details, dict):
                problems.append(f"{where}: no item_id or no details; skipped")
                continue
            if item in verdicts:
                problems.append(f"{where}: item {item} already judged; this line is ignored")
                continue
            criteria = details.get("criteria")
            row: dict[str, int | str | None] = {}
            if isinstance(criteria, dict):
                for name, part in criteria.items():
                    row[str(name)] = _verdict(part.get("verdict")) if isinstance(part, dict) else None
            overall = details.get("overall")
            row[OVERALL] = _verdict(overall.get("verdict")) if isinstance(overall, dict) else None
            verdicts[item] = row
    if verdicts and not any(len(row) > 1 for row in verdicts.values()):
        raise ValueError(f"{folder}: its judgments hold no per-criterion verdicts in details (not a rubric run?)")
    return RubricRun(
        str(manifest.get("run_id", folder.name)),
        str(manifest.get("judge", "")),
        str(manifest.get("benchmark", "")),
        verdicts,
        tuple(problems),
    )


def _human(raw: object) -> int | str | None:
    text = "" if raw is None else str(raw).strip()
    if text.upper() in ("A", "B"):
        return text.upper()
    if text.upper() in ("C", "TIE"):
        return TIE
    try:
        number = float(text)
    except ValueError:
        return None
    return int(number) if math.isfinite(number) and number.is_integer() else None


def _ranks(values: Sequence[float]) -> list[float]:
    """Average ranks (1-based), ties sharing the mean of their positions."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return ranks


def _pearson(x: Sequence[float], y: Sequence[float]) -> tuple[float, str]:
    n = len(x)
    mx, my = sum(x) / n, sum(y) / n
    sx = sum((a - mx) ** 2 for a in x)
    sy = sum((b - my) ** 2 for b in y)
    if sx == 0:
        return math.nan, "judge scores constant"
    if sy == 0:
        return math.nan, "human scores constant"
    return sum((a - mx) * (b - my) for a, b in zip(x, y, strict=True)) / math.sqrt(sx * sy), ""


def _score_values(pairs: list[tuple[int, int]]) -> dict[str, tuple[float, str]]:
    judge = [float(j) for j, _ in pairs]
    human = [float(h) for _, h in pairs]
    n = len(pairs)
    return {
        "exact_agreement": (sum(j == h for j, h in pairs) / n, ""),
        "within1_agreement": (sum(abs(j - h) <= 1 for j, h in pairs) / n, ""),
        "pearson": _pearson(judge, human),
        "spearman": _pearson(_ranks(judge), _ranks(human)),
        "mean_score_difference": (sum(j - h for j, h in pairs) / n, ""),
    }


def _choice_values(pairs: list[tuple[str, str]]) -> dict[str, tuple[float, str]]:
    decided = [(j, h) for j, h in pairs if j != TIE and h != TIE]
    without = (sum(j == h for j, h in decided) / len(decided), "") if decided else (math.nan, "no item without a tie")
    return {"accuracy_with_tie": (sum(j == h for j, h in pairs) / len(pairs), ""), "accuracy_without_tie": without}


def _labels_by_item(labels: Iterable[Mapping[str, Any]], benchmark: str) -> dict[str, dict[str, int | str | None]]:
    out: dict[str, dict[str, int | str | None]] = {}
    for row in labels:
        bench = row.get("benchmark")
        if bench not in (None, "") and benchmark and str(bench) != benchmark:
            continue
        out.setdefault(str(row.get("item_id")), {})[str(row.get("criterion"))] = _human(row.get("human_label"))
    return out


def criteria_rows(
    runs: Sequence[RubricRun], labels: Iterable[Mapping[str, Any]], *, min_n: int = MIN_N
) -> list[dict[str, Any]]:
    """The long table: one row per (run, criterion, metric), in run and criterion order.

    Args:
        runs: Rubric runs (:func:`read_rubric_run`).
        labels: Rows with ``item_id``, ``criterion``, ``human_label`` and optionally ``benchmark``.
        min_n: Fewest items a value is given for.
    """
    label_rows = list(labels)
    out: list[dict[str, Any]] = []
    for run in runs:
        human = _labels_by_item(label_rows, run.benchmark)
        criteria: list[str] = []
        for row in run.verdicts.values():
            criteria += [name for name in row if name not in criteria]
        criteria = [c for c in criteria if c != OVERALL] + [OVERALL]
        for criterion in criteria:
            labelled = [
                (row.get(criterion), human[item][criterion])
                for item, row in run.verdicts.items()
                if item in human and human[item].get(criterion) is not None
            ]
            if not labelled:
                continue
            judged = [(j, h) for j, h in labelled if j is not None]
            coverage = len(judged) / len(labelled)
            scores = [(j, h) for j, h in judged if isinstance(j, int) and isinstance(h, int)]
            choices = [(j, h) for j, h in judged if isinstance(j, str) and isinstance(h, str)]
            groups: list[tuple[tuple[str, ...], int, dict[str, tuple[float, str]] | None]] = []
            if scores or not choices:
                groups.append(
                    (SCORE_METRICS, len(scores), _score_values(scores) if len(scores) >= max(min_n, 2) else None)
                )
            if choices:
                groups.append(
                    (CHOICE_METRICS, len(choices), _choice_values(choices) if len(choices) >= max(min_n, 1) else None)
                )
            for metrics, n, values in groups:
                for metric in metrics:
                    value, reason = values[metric] if values is not None else (math.nan, f"n < {min_n}")
                    out.append(
                        {
                            "run_id": run.run_id,
                            "judge": run.judge,
                            "criterion": criterion,
                            "metric": metric,
                            "value": value,
                            "n": n,
                            "coverage": coverage,
                            "reason": reason,
                        }
                    )
    return out


def read_labels(path: str | Path) -> list[dict[str, str]]:
    """A label CSV (``item_id``, ``criterion``, ``human_label``, optional ``benchmark``).

    Raises:
        ValueError: A required column is missing.
    """
    import csv

    with Path(path).open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = {"item_id", "criterion", "human_label"} - set(reader.fieldnames or ())
        if missing:
            raise ValueError(f"{Path(path).name} lacks the column(s) {', '.join(sorted(missing))}")
        return list(reader)
