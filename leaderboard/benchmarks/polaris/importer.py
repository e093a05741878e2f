"""Import VLM-Judge-Uncertainty's Polaris results: two judges' caption scores with their probabilities, and the human ratings.

``python -m leaderboard import-polaris SRC`` reads ``results/v2_polaris/`` (LLaVA-Critic-7B) and
``results/v2_polaris_phi4/`` (Phi-4-reasoning-vision) under ``SRC`` through
:mod:`leaderboard.benchmarks.vlm_judge_uncertainty` and writes the runs ``polaris-all-score-<judge>``
and the label rows of benchmark ``polaris`` (mode score, subset all).

Items are keyed ``row:<sample_id>``, the row number in that project's Polaris file: no other id is
in the files, and nothing else judges Polaris here, so nothing needs to join them. The human label
is ``gt_score``, the human mean rating binned to 1-5 by that project (``gt_score_continuous`` is not
stored: the label table holds one label per item). Every item is in the one dataset ``Polaris``.
"""

from __future__ import annotations

import logging
from collections import Counter
from pathlib import Path

from leaderboard.benchmarks.imports import ImportReport, write_label_rows, write_summary
from leaderboard.benchmarks.polaris.datasets import POLARIS_DATASET
from leaderboard.benchmarks.vlm_judge_uncertainty import (
    POLARIS,
    judgments_of,
    manifest_for,
    read_features,
    result_folders,
    run_summary,
)
from leaderboard.store.format import slug
from leaderboard.store.write import write_run

logger = logging.getLogger(__name__)

COMMAND = "import-polaris"
ROW_PREFIX = "row:"


def import_polaris(src: str | Path, out: str | Path) -> ImportReport:
    """Import the Polaris results under ``src`` into ``out/runs`` and the label table.

    Args:
        src: The folder holding VLM-Judge-Uncertainty's ``results/`` (or ``results/`` itself).
        out: Output folder (usually ``assets``).

    Returns:
        The report; also stored under ``import-polaris`` in ``out/benchmark/import_summary.json``.

    Raises:
        FileNotFoundError: ``src`` holds none of the Polaris result files.
    """
    src, out = Path(src), Path(out)
    counts: Counter[str] = Counter()
    counts["human rating differs between judges' files"] = 0
    human: dict[int, int | None] = {}
    runs = []
    problems: list[str] = []
    for entry, path in result_folders(src, POLARIS):
        rows, bad = read_features(path)
        problems += bad
        for r in rows:
            if r.sample_id not in human:
                human[r.sample_id] = r.gt_score
            elif human[r.sample_id] != r.gt_score:
                counts["human rating differs between judges' files"] += 1
        ids = {r.sample_id: f"{ROW_PREFIX}{r.sample_id}" for r in rows}
        judgments = judgments_of(rows, ids, {r.sample_id: POLARIS_DATASET for r in rows})
        run_id = f"polaris-all-score-{slug(entry.judge)}"
        manifest = manifest_for(
            entry,
            run_id,
            [path.relative_to(src).as_posix()],
            "row:<sample_id> = row number in VLM-Judge-Uncertainty's Polaris file",
            "Polaris: human ratings of image captions (gt_score = the human mean binned to 1-5 by that project).",
        )
        write_run(out / "runs" / run_id, manifest, judgments)
        runs.append(run_summary(run_id, entry.judge, judgments))
        logger.info("wrote %s (%d judgments)", run_id, len(judgments))
    labels = [
        {
            "mode": "score",
            "subset": "all",
            "item_id": f"{ROW_PREFIX}{s}",
            "dataset": POLARIS_DATASET,
            "human_label": "" if score is None else str(score),
            "n_responses": 1,
            "response_lengths": "",
            "image_id": "",
            "label_issue": "" if score is not None else "no human rating 1-5 in the result files",
        }  # fmt: skip
        for s, score in sorted(human.items())
    ]
    write_label_rows(out, POLARIS, labels)
    counts["unreadable lines"] = len(problems)
    report = ImportReport(
        command=COMMAND,
        source=str(src),
        runs=tuple(runs),
        label_rows={f"{POLARIS}/score/all": len(labels)},
        counts=dict(counts),
        notes=("item ids are row:<n>, the row numbers of VLM-Judge-Uncertainty's Polaris file",),
        out=str(out),
    )
    write_summary(out, COMMAND, report.to_dict())
    return report
