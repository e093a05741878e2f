"""Import MJ-Bench's stored alignment verdicts of four API judges as pair runs, with the human preferences.

The label rows are written for the ``pair`` task of these runs and for the ``image-pair`` task the
runner judges MJ-Bench items in (the same labels), so runs of both kinds are scored alike.

``python -m leaderboard import-mj-bench SRC`` reads a copy of the MJ-Bench repository
(:mod:`~leaderboard.benchmarks.mj_bench.release`) and writes one run per judge,
``mjbench-all-pair-<judge>``, over the five categories, plus label rows of benchmark ``mj-bench``.

Verdicts are the files' ``pred`` ("0" -> A, "1" -> B, "tie"; -1 -> unscored). The human label is the
result files' ``label`` (the same in every judge's file; a disagreement is a ``label_issue``),
checked against the item files: where an item with the same ``(folder, id)`` exists and shows the
same prompt and images, its label must agree. Items of ``count`` missing from ``other`` at the
item files' commit keep the result files' label; the summary counts each case. Only figures are
written (ids, categories, labels, verdicts, image file names), never the prompts or the judges' texts.
The judges' two 0-10 ratings per item are not stored: the run format has no field for them.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from leaderboard.benchmarks.imports import ImportReport, write_label_rows, write_summary
from leaderboard.benchmarks.mj_bench import release as rel
from leaderboard.schema import PROVENANCE_IMPORTED
from leaderboard.store.format import Judgment, Manifest, code_version, slug, utc_now
from leaderboard.store.write import write_run

logger = logging.getLogger(__name__)

NAME = "mj-bench"
COMMAND = "import-mj-bench"
UNSCORED_REASON = "no parsable verdict in the judge's output (pred -1 in MJ-Bench's file)"
NOTE = (
    "MJ-Bench text-to-image alignment: one prompt, two generated images; the stored verdicts are imported as a pair "
    "task (image 0 = A, image 1 = B), runs of this project's runner use the image-pair task, and both are scored "
    "against the same labels. Human labels have no ties and prefer image 0 in about 88% of items: read accuracy "
    "beside the always-A baseline (human A-rate) and position bias."
)
#: The tasks the human labels are stored for: the imported runs' pair, and the runner's image-pair.
LABEL_MODES = ("pair", "image-pair")


@dataclass
class _Item:
    category: str
    raw_id: str
    images: str
    labels: set[str] = field(default_factory=set)


def _label_rows(items: Mapping[str, _Item]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for item_id, item in items.items():
        labels = {label for label in item.labels if label is not None}
        issue = (
            "" if len(labels) == 1 else ("judges' files disagree on the human label" if labels else "no human label")
        )
        rows.extend(
            {
                "mode": mode, "subset": "all", "item_id": item_id, "dataset": item.category,
                "human_label": next(iter(labels)) if len(labels) == 1 else "", "n_responses": 2,
                "response_lengths": "", "image_id": item.images, "label_issue": issue,
            }
            for mode in LABEL_MODES
        )  # fmt: skip
    return rows


def import_mj_bench(src: str | Path, out: str | Path) -> ImportReport:
    """Import the stored verdicts under ``src`` into ``out/runs`` and the label table.

    Args:
        src: A copy of the MJ-Bench repository (``closesource_result/`` and ``alignment/benchmark/``).
        out: Output folder (usually ``assets``).

    Returns:
        The report; also stored under ``import-mj-bench`` in ``out/benchmark/import_summary.json``.

    Raises:
        FileNotFoundError: ``src`` holds no result file.
    """
    src, out = Path(src), Path(out)
    files = rel.result_files(src)
    folders = {cat: rel.items_of_folder(src, folder) for cat, folder in rel.CATEGORY_FOLDER.items()}
    counts: Counter[str] = Counter()
    items: dict[str, _Item] = {}
    checked: set[str] = set()
    differing: set[str] = set()  # items where some judge's file has another label than the item files
    runs: dict[str, tuple[rel.ResultFile, dict[str, Judgment]]] = {}
    for file, row in rel.iter_result_rows(files):
        raw_id = str(row.get("id", "")).strip()
        if not raw_id:
            counts["result rows without an id (skipped)"] += 1
            continue
        item_id = rel.item_id(file.category, raw_id)
        images = f"{row.get('image_0_uid', '')}|{row.get('image_1_uid', '')}"
        item = items.setdefault(item_id, _Item(file.category, raw_id, images))
        if item.images != images:
            counts["result rows whose images differ from another judge's (first kept)"] += 1
        item.labels.add(rel.label_of(row.get("label")))  # type: ignore[arg-type]
        stored = folders[file.category].get(raw_id)
        matches = stored is not None and rel.same_item(row, stored)
        if item_id not in checked:
            checked.add(item_id)
            if stored is None:
                counts["items not in the item files (result files' label kept)"] += 1
            elif not matches:
                counts["items whose prompt or images differ from the item files' (result files' label kept)"] += 1
            else:
                counts["items checked against the item files"] += 1
        if matches and stored is not None and rel.label_of(stored.get("label")) != rel.label_of(row.get("label")):
            differing.add(item_id)
        _file, judgments = runs.setdefault(file.judge, (file, {}))
        if item_id in judgments:
            counts["repeated judgments (first kept)"] += 1
            continue
        verdict = rel.verdict_of(row)
        judgments[item_id] = Judgment(item_id, file.category, verdict, None if verdict else UNSCORED_REASON)
    counts["labels that differ from the item files'"] = len(differing)

    created, version = utc_now(), code_version()
    summaries = []
    for judge, (first, judgments) in sorted(runs.items()):
        run_id = f"mjbench-all-pair-{slug(judge)}"
        used = sorted({f.relative for f in files if f.judge == judge})
        manifest = Manifest(
            run_id=run_id, judge=judge, mode="pair", provenance=PROVENANCE_IMPORTED, split="all", benchmark=NAME,
            backend="released-data", model_id=first.judge_file, template="mj-bench-alignment-number10",
            template_version=rel.RESULTS_COMMIT[:8], setting="mj-bench-rating",
            sampling={"note": "not recorded in the files"}, created_at=created, code_version=version,
            source={"dataset": rel.REPOSITORY, "commit": rel.RESULTS_COMMIT, "items_commit": rel.ITEMS_COMMIT,
                    "files": used, "verdict": "pred: 0 -> A (image 0), 1 -> B (image 1), tie -> tie, -1 -> unscored",
                    "ran_by": "the MJ-Bench authors (Chen et al., 2024), not this project"},
            notes=NOTE,
        )  # fmt: skip
        ordered = sorted(judgments.values(), key=lambda j: j.item_id)
        write_run(out / "runs" / run_id, manifest, ordered)
        summaries.append(
            {"run_id": run_id, "judge": judge, "mode": "pair", "subset": "all", "judgments": len(ordered),
             "unparsed": sum(j.verdict is None for j in ordered), "ties": sum(j.verdict == "tie" for j in ordered)}
        )  # fmt: skip
        logger.info("wrote %s (%d judgments)", run_id, len(ordered))
    labels = _label_rows(dict(sorted(items.items())))
    write_label_rows(out, NAME, labels)
    pair_rows = [r for r in labels if r["mode"] == LABEL_MODES[0]]
    counts["human labels A (image 0)"] = sum(r["human_label"] == "A" for r in pair_rows)
    counts["human labels B (image 1)"] = sum(r["human_label"] == "B" for r in pair_rows)
    report = ImportReport(
        command=COMMAND,
        source=str(src),
        runs=tuple(summaries),
        label_rows={f"{NAME}/{mode}/all": len(pair_rows) for mode in LABEL_MODES},
        counts=dict(counts),
        notes=(NOTE, "item ids are <category>:<id> (ids repeat across categories)"),
        out=str(out),
    )
    write_summary(out, COMMAND, report.to_dict())
    return report
