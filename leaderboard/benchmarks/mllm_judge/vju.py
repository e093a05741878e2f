"""Import VLM-Judge-Uncertainty's full-benchmark score results as MLLM-as-a-Judge runs (subset ``all``).

``python -m leaderboard import-vlm-judge-uncertainty SRC`` reads the three judges' files under
``SRC`` (the folder holding ``results/``; see :mod:`leaderboard.benchmarks.vlm_judge_uncertainty`)
and writes one score run per judge, ``vju-all-score-<judge>``, with the verdict distribution of
every scored item, plus the human scores (``gt_score``) as label rows of subset ``all``.

Item ids. The files key items by their 0-based row number in the released ``Benchmark/score.jsonl``,
which is not the benchmark's ``score_id``. Without that file the item id is ``row:<n>``: a key of
its own, which joins these runs with each other and with the labels written here, but not with runs
made with this project's runner. With the file at hand (``release=``, ``BENCHMARK_DIR`` or
``--from-hub``) row ``n`` is mapped to the ``score_id`` the release reader gives that row
(:mod:`~leaderboard.benchmarks.mllm_judge.release`: the runner's ids, ``~2`` collisions included), the
file's human score and source dataset are checked against the row's, and the labels carry the
responses' lengths. If more than :data:`MAX_CONFLICT_SHARE` of the human scores disagree, the rows
do not line up and nothing is written.

Source datasets come from ``results/v2/error_analysis.csv`` (or the release when at hand). The one
sample missing there (LLaVA-Critic's parse failure) gets the dataset of its neighbours when both
agree: the file is ordered in one block per dataset. The import summary counts every such case.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from leaderboard.benchmarks.base import BenchmarkError
from leaderboard.benchmarks.imports import ImportReport, write_label_rows, write_summary
from leaderboard.benchmarks.mllm_judge import release as rel
from leaderboard.benchmarks.vlm_judge_uncertainty import (
    FeatureRow,
    ResultFolder,
    judgments_of,
    manifest_for,
    read_datasets,
    read_features,
    result_folders,
    run_summary,
)
from leaderboard.schema import DEFAULT_BENCHMARK
from leaderboard.store.format import slug
from leaderboard.store.labels import lengths_to_text
from leaderboard.store.write import write_run

logger = logging.getLogger(__name__)

COMMAND = "import-vlm-judge-uncertainty"
#: Largest share of mapped rows whose human score may differ from the release's before the mapping is refused.
MAX_CONFLICT_SHARE = 0.01
ROW_PREFIX = "row:"


@dataclass(frozen=True)
class ReleaseRow:
    """What the released ``Benchmark/score.jsonl`` says about one row (file order, 0-based).

    Attributes:
        item_id: The id the release reader gives the row (``score_id``, or ``<id>~2`` on a collision).
        dataset: The source dataset as the row spells it.
        human: The human score as a label string ("1".."5"), or '' when unusable.
        response_length: Length of the response in characters.
        image_id: The row's image id.
    """

    item_id: str
    dataset: str
    human: str
    response_length: int
    image_id: str


def release_rows(root: str | Path) -> tuple[list[ReleaseRow | None], Path]:
    """Every row of the released score file, in file order (None for a line that cannot be read).

    Args:
        root: A copy of the release (what ``--from-hub`` downloads, or ``BENCHMARK_DIR``).

    Returns:
        The rows and the file read.

    Raises:
        BenchmarkError: The folder has no ``Benchmark/score.jsonl``.
    """
    path = rel.find_benchmark_file(root, "score", "all")
    ids = rel.ItemIds()
    rows: list[ReleaseRow | None] = []
    for number, row, _problem in rel.iter_rows(path):
        if row is None:
            rows.append(None)
            continue
        try:
            wanted = rel.item_id("score", row)
            (answer,), _models = rel.responses("score", row)
        except ValueError:
            rows.append(None)
            continue
        kept, _note = ids.claim(wanted, row, number)
        label = rel.normalise_human_label("score", rel.human_field(row), 1)
        rows.append(
            ReleaseRow(
                item_id=kept or wanted,  # a row repeating an earlier one exactly is that item
                dataset=rel.dataset_field(row),
                human="" if label.issue else str(label.label),
                response_length=len(answer),
                image_id=str(row.get("id", "")).strip(),
            )
        )
    return rows, path


def _neighbour_dataset(sample: int, known: Mapping[int, str], span: int = 50) -> str:
    """The dataset of the nearest known samples on both sides when they agree ('' otherwise)."""
    before = next((known[s] for s in range(sample - 1, sample - span, -1) if s in known), "")
    after = next((known[s] for s in range(sample + 1, sample + span) if s in known), "")
    return before if before and before == after else ""


def _default_release() -> Path | None:
    from judges.settings import Settings

    return Settings.from_env().benchmark_dir


def import_vlm_judge_uncertainty(
    src: str | Path, out: str | Path, *, release: str | Path | None = None
) -> ImportReport:
    """Import the three judges' full-benchmark score results into ``out/runs`` and the label table.

    Args:
        src: The folder holding VLM-Judge-Uncertainty's ``results/`` (or ``results/`` itself).
        out: Output folder (usually ``assets``).
        release: A copy of the MLLM-as-a-Judge release with ``Benchmark/score.jsonl``, to key items by
            ``score_id``; default ``BENCHMARK_DIR`` when set, else items are keyed ``row:<n>``.

    Returns:
        The report; also stored under ``import-vlm-judge-uncertainty`` in ``out/benchmark/import_summary.json``.

    Raises:
        FileNotFoundError: ``src`` holds none of the result files.
        BenchmarkError: ``release`` has no score file, or its rows do not line up with the results.
    """
    src, out = Path(src), Path(out)
    folders = result_folders(src, DEFAULT_BENCHMARK)
    release = Path(release) if release is not None else _default_release()
    read: list[tuple[ResultFolder, str, list[FeatureRow]]] = []
    problems: list[str] = []
    for entry, path in folders:
        rows, bad = read_features(path)
        problems += bad
        read.append((entry, path.relative_to(src).as_posix(), rows))
    samples = sorted({r.sample_id for _e, _p, rows in read for r in rows})
    counts: Counter[str] = Counter()

    # Human scores: the same in every file; the first file's where they differ (counted).
    human: dict[int, int | None] = {}
    counts["human score differs between judges' files"] = 0
    for _e, _p, rows in read:
        for r in rows:
            if r.sample_id not in human:
                human[r.sample_id] = r.gt_score
            elif human[r.sample_id] != r.gt_score:
                counts["human score differs between judges' files"] += 1

    known = read_datasets(src)
    datasets: dict[int, str] = {}
    item_ids: dict[int, str] = {s: f"{ROW_PREFIX}{s}" for s in samples}
    lengths: dict[int, str] = {}
    images: dict[int, str] = {}
    notes: list[str] = []
    if release is not None:
        rows_of_release, path = release_rows(release)
        conflicts = 0
        for s in samples:
            row = rows_of_release[s] if 0 <= s < len(rows_of_release) else None
            if row is None:
                counts["rows not in the release file (kept as row:<n>)"] += 1
                continue
            item_ids[s] = row.item_id
            datasets[s] = row.dataset
            lengths[s], images[s] = lengths_to_text([row.response_length]), row.image_id
            counts["rows mapped to score_id"] += 1
            if human.get(s) is not None and row.human and str(human[s]) != row.human:
                conflicts += 1
            if s in known and known[s] != row.dataset:
                counts["source dataset differs from the release's"] += 1
        mapped = counts["rows mapped to score_id"]
        if mapped and conflicts > MAX_CONFLICT_SHARE * mapped:
            raise BenchmarkError(
                f"the result rows do not line up with {path}: {conflicts} of {mapped} human scores differ; "
                "pass the released Benchmark/score.jsonl of shuaishuaicdp/MLLM-Judge (file order unchanged)"
            )
        counts["human score differs from the release's"] = conflicts
        counts["release rows"] = len(rows_of_release)
        item_rule = f"score_id of row <sample_id> of the release's {path.name} (release reader's ids)"
        notes.append(f"item ids: row numbers mapped to score_id through {path.name} ({len(rows_of_release)} rows)")
    else:
        item_rule = "row:<sample_id> = 0-based row of the released Benchmark/score.jsonl (not its score_id)"
        notes.append(
            "item ids are row:<n> (row numbers of Benchmark/score.jsonl): they join these runs with each other, "
            "not with runs keyed by score_id; import with BENCHMARK_DIR or --from-hub to map them"
        )
    for s in samples:
        if s in datasets:
            continue
        if s in known:
            datasets[s] = known[s]
            continue
        guess = _neighbour_dataset(s, known)
        datasets[s] = guess
        counts["dataset inferred from neighbouring rows" if guess else "dataset unknown"] += 1
        if guess:
            notes.append(f"sample {s}: not in error_analysis.csv; dataset {guess!r} from both neighbouring rows")

    runs = []
    for entry, relative, rows in read:
        judge = entry.judge
        run_id = f"vju-all-score-{slug(judge)}"
        judgments = judgments_of(rows, item_ids, datasets)
        counts[f"{judge}: repeated items (first row kept)"] += len(rows) - len(judgments)
        manifest = manifest_for(
            entry,
            run_id,
            [relative, "results/v2/error_analysis.csv"],
            item_rule,
            "Full benchmark (all 5,719 score items but rows 1827-1828, absent from the files).",
        )
        write_run(out / "runs" / run_id, manifest, judgments)
        runs.append(run_summary(run_id, judge, judgments))
        logger.info("wrote %s (%d judgments)", run_id, len(judgments))

    labels = []
    for s in samples:
        score = human.get(s)
        labels.append(
            {
                "mode": "score", "subset": "all", "item_id": item_ids[s], "dataset": datasets.get(s, ""),
                "human_label": "" if score is None else str(score), "n_responses": 1,
                "response_lengths": lengths.get(s, ""), "image_id": images.get(s, ""),
                "label_issue": "" if score is not None else "no human score 1-5 in the result files",
            }
        )  # fmt: skip
    # Several rows may map to one item (a release line repeated exactly): one label row per item.
    unique = list({row["item_id"]: row for row in labels}.values())
    write_label_rows(out, DEFAULT_BENCHMARK, unique)
    counts["unreadable lines"] = len(problems)
    report = ImportReport(
        command=COMMAND,
        source=str(src),
        runs=tuple(runs),
        label_rows={f"{DEFAULT_BENCHMARK}/score/all": len(unique)},
        counts={k: v for k, v in counts.items() if v or k.startswith("human score differs")},
        notes=tuple(notes),
        out=str(out),
    )
    write_summary(out, COMMAND, report.to_dict())
    return report
