"""Import the released MLLM-as-a-Judge data into stored runs and a human-label table.

The importer walks a folder and recognises files by name (case-insensitively) through
:mod:`~leaderboard.benchmarks.mllm_judge.release`, the one reader of the release (the runner's items
come through it too, so ids agree). It accepts both the Hub layout and the local copy's:

* ``.../Benchmark/{score,pair,batch}.jsonl``: the full benchmark, human labels (subset ``all``);
* ``.../step3/{Score,Pair,Batch}/<Judge>.jsonl``: a judge's outputs on the full benchmark;
* ``.../HQ/{Score,Pair,Batch}.jsonl`` or ``MLLM-as-a-Judge-HQ/...``: the HQ subset, its labels and one
  stored judge result per item (subset ``hq``);
* ``.../Hard/...`` or ``MLLM-as-a-Judge-Hard/...``: the Hard subset, two judges per item, labels
  mostly missing (taken from the full benchmark when it is imported too).

Each judge's raw verdict string is re-parsed with :func:`judges.parsing.parse_verdict`. A raw
verdict that is several numbers and nothing else (the release stores every digit of some outputs,
e.g. "2141342145") is no verdict by itself; then the judge's stored analysis is read with the same
parser, and its final verdict is taken when the parser finds exactly one (``verdict_from_analysis``
counts them per file). What still does not parse is stored as unscored with the parser's reason and
counted per file in the :class:`ImportSummary`. Only figures are written (ids, dataset names, labels, verdicts, response
lengths), never instruction, response or analysis text.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from judges.tasks import get_task, parse_verdict
from leaderboard.benchmarks.imports import write_label_rows, write_summary
from leaderboard.benchmarks.mllm_judge.release import (
    HUB_REPO_ID,
    ITEM_KEY,
    ItemIds,
    SourceFile,
    dataset_field,
    discover,
    get_field,
    human_field,
    iter_rows,
    normalise_human_label,
)
from leaderboard.benchmarks.mllm_judge.release import item_id as release_item_id
from leaderboard.benchmarks.mllm_judge.release import responses as release_responses
from leaderboard.schema import DEFAULT_BENCHMARK, PROVENANCE_IMPORTED
from leaderboard.store.format import Judgment, Manifest, code_version, slug, utc_now
from leaderboard.store.labels import lengths_to_text
from leaderboard.store.write import write_run

logger = logging.getLogger(__name__)

BENCHMARK = DEFAULT_BENCHMARK
COMMAND = "import-mllm-judge"
__all__ = ["FileReport", "ImportSummary", "SourceFile", "discover", "fetch_hub_dataset", "import_mllm_judge",
           "judge_display_name"]  # fmt: skip
_JUDGE_NAMES = {
    "gpt4": "GPT-4V",
    "gpt4v": "GPT-4V",
    "gpt4vision": "GPT-4V",
    "gpt4visionpreview": "GPT-4V",
    "gemini": "Gemini-1.0-Pro-Vision",
    "geminipro": "Gemini-1.0-Pro-Vision",
    "geminiprovision": "Gemini-1.0-Pro-Vision",
    "gemini10provision": "Gemini-1.0-Pro-Vision",
}
AUTHORS_SAMPLING = {"temperature": 0.4, "top_p": 0.2, "note": "as the paper reports; not recorded in the data"}
SUBSET_NOTES = {
    "hq": "HQ subset: items were selected because judges agreed with humans; agreement is inflated.",
    "hard": "Hard subset: items where judges struggle; the released Hard files carry almost no human labels.",
    "all": "",
}


def judge_display_name(name: str) -> str:
    """The display name of a judge as the data names it ("gpt4" -> "GPT-4V"; unknown names unchanged)."""
    return _JUDGE_NAMES.get(re.sub(r"[^a-z0-9]", "", name.lower()), name)


# --------------------------------------------------------------------------- summary


@dataclass(frozen=True)
class FileReport:
    """What the importer did with one file (counts only, no text).

    Attributes:
        path: Path relative to the source folder.
        kind: benchmark, raw, hq, hard.
        mode: score, pair or batch.
        rows: Non-blank lines read.
        bad_rows: Lines skipped, by reason (malformed JSON, no item id, wrong shape, duplicate id).
        labels: Label rows taken from the file.
        label_issues: Labels that cannot be used, by reason.
        label_conflicts: Items whose label differs from the full benchmark's.
        judgments: Judgments stored, per judge.
        unparsed: Judgments whose raw verdict did not parse (stored as unscored), per judge.
        unparsed_reasons: Parser reasons (quoted values elided) and their counts.
        not_in_benchmark: Judgments left out because their item is not in the benchmark file.
        cleaned_disagree: Raw verdict parsed but differs from the data's cleaned verdict.
        cleaned_raw_unparsed: Raw verdict did not parse although the data has a cleaned verdict.
        cleaned_invalid: The data's cleaned verdict is not a valid verdict for the item.
        disagree_items: Item ids of the ``cleaned_disagree`` cases (first 50).
        verdict_from_full_text: Judgments read from the full output because the verdict field was empty.
        verdict_from_analysis: Judgments whose raw verdict was several numbers, read from the judge's
            final verdict in its stored analysis (unambiguous there).
    """

    path: str
    kind: str
    mode: str
    rows: int = 0
    bad_rows: Mapping[str, int] = field(default_factory=dict)
    labels: int = 0
    label_issues: Mapping[str, int] = field(default_factory=dict)
    label_conflicts: int = 0
    judgments: Mapping[str, int] = field(default_factory=dict)
    unparsed: Mapping[str, int] = field(default_factory=dict)
    unparsed_reasons: Mapping[str, int] = field(default_factory=dict)
    not_in_benchmark: int = 0
    cleaned_disagree: int = 0
    cleaned_raw_unparsed: int = 0
    cleaned_invalid: int = 0
    disagree_items: tuple[str, ...] = ()
    verdict_from_full_text: int = 0
    verdict_from_analysis: int = 0


@dataclass(frozen=True)
class ImportSummary:
    """The outcome of an import.

    Attributes:
        source: The folder imported.
        files: One report per recognised file.
        skipped_files: JSONL files that were not recognised.
        runs: Per run written: run_id, judge, mode, subset, judgments, unparsed.
        label_rows: Label rows per ``mode/subset``.
        out: The output folder.
    """

    source: str
    files: tuple[FileReport, ...]
    skipped_files: tuple[str, ...]
    runs: tuple[Mapping[str, Any], ...]
    label_rows: Mapping[str, int]
    out: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        from dataclasses import asdict

        return asdict(self)

    def to_markdown(self) -> str:
        """Human-readable tables: unparsed judgments per file, and the runs written."""
        lines = [
            "| file | kind | mode | rows | judgments | unparsed | bad rows | label issues | raw vs cleaned |",
            "|---|---|---|---:|---:|---:|---|---|---|",
        ]
        for f in self.files:
            judged = ", ".join(f"{k} {v}" for k, v in f.judgments.items()) or "-"
            unparsed = ", ".join(f"{k} {v}" for k, v in f.unparsed.items()) or "0"
            bad = ", ".join(f"{k}: {v}" for k, v in f.bad_rows.items()) or "-"
            issues = ", ".join(f"{k}: {v}" for k, v in f.label_issues.items()) or "-"
            cleaned = (
                f"disagree {f.cleaned_disagree}, raw unparsed {f.cleaned_raw_unparsed}, cleaned invalid {f.cleaned_invalid}"
                if f.cleaned_disagree or f.cleaned_raw_unparsed or f.cleaned_invalid
                else "-"
            )
            lines.append(
                f"| {f.path} | {f.kind} | {f.mode} | {f.rows} | {judged} | {unparsed} | {bad} | {issues} | {cleaned} |"
            )
        reasons: Counter[str] = Counter()
        for f in self.files:
            reasons.update(f.unparsed_reasons)
        if reasons:
            lines += ["", "Unparsed verdicts by parser reason:", ""]
            lines += [f"- {count} x {reason}" for reason, count in reasons.most_common()]
        lines += ["", "| run_id | judge | mode | subset | judgments | unparsed |", "|---|---|---|---|---:|---:|"]
        lines += [
            f"| {r['run_id']} | {r['judge']} | {r['mode']} | {r['subset']} | {r['judgments']} | {r['unparsed']} |"
            for r in self.runs
        ]
        recovered = [(f.path, f.verdict_from_analysis) for f in self.files if f.verdict_from_analysis]
        if recovered:
            lines += [
                "",
                "Raw verdicts that were several numbers, read from the judge's final verdict in its analysis:",
                "",
            ]
            lines += [f"- {path}: {count}" for path, count in recovered]
        if self.skipped_files:
            lines += ["", f"Not recognised (skipped): {', '.join(self.skipped_files)}"]
        return "\n".join(lines)


class _Stats:
    """Mutable counters for one file while it is read; frozen into a FileReport at the end."""

    def __init__(self, src: SourceFile) -> None:
        self.src = src
        self.rows = 0
        self.bad: Counter[str] = Counter()
        self.labels = 0
        self.label_issues: Counter[str] = Counter()
        self.label_conflicts = 0
        self.judgments: Counter[str] = Counter()
        self.unparsed: Counter[str] = Counter()
        self.reasons: Counter[str] = Counter()
        self.not_in_benchmark = 0
        self.cleaned_disagree = 0
        self.cleaned_raw_unparsed = 0
        self.cleaned_invalid = 0
        self.disagree_items: list[str] = []
        self.full_text = 0
        self.from_analysis = 0

    def freeze(self) -> FileReport:
        """The counters as an immutable report."""
        return FileReport(
            self.src.relative, self.src.kind, self.src.mode, self.rows, dict(self.bad), self.labels,
            dict(self.label_issues), self.label_conflicts, dict(self.judgments), dict(self.unparsed),
            dict(self.reasons), self.not_in_benchmark, self.cleaned_disagree, self.cleaned_raw_unparsed,
            self.cleaned_invalid, tuple(self.disagree_items[:50]), self.full_text, self.from_analysis,
        )  # fmt: skip


# --------------------------------------------------------------------------- row helpers


def _iter_rows(src: SourceFile, stats: _Stats) -> Iterator[dict]:
    for _number, row, problem in iter_rows(src.path):
        stats.rows += 1
        if row is None:
            stats.bad[problem] += 1
            continue
        yield row


_get = get_field


def _judge_containers(row: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    keys = sorted((k for k in row if re.fullmatch(r"result\d*", str(k)) and isinstance(row[k], Mapping)), key=str)
    if keys:
        return [row[k] for k in keys]
    evaluator = row.get("evaluator")
    if isinstance(evaluator, Mapping) and evaluator.get("judge") not in (None, ""):
        return [evaluator]
    return []


def _image_from_id(row: Mapping[str, Any], item: str) -> Any:
    return row.get("id")


#: Where a release file names an item's image when not under ``id``.
_IMAGE_OF: dict[str, Callable[[Mapping[str, Any], str], Any]] = {
    "batch": lambda row, item: Path(str(row.get("image_path") or item)).stem,
}


#: A raw verdict made of several numbers and nothing else: every digit of the output, not a verdict.
_SEVERAL_NUMBERS = re.compile(r"\s*\d(?:[\s,;/|]*\d)+\s*")


def _short_reason(reason: str) -> str:
    return re.sub(r"'[^']*'", "'…'", reason)[:160]


def _parse(mode: str, text: str, n: int, guard: list[str]) -> tuple[Any, str]:
    kind = get_task(mode)
    try:
        result = parse_verdict(kind, text, n_responses=n, guard_texts=guard)
    except ValueError as exc:
        return None, str(exc)[:160]
    if not result.ok or result.verdict is None:
        return None, result.reason[:160]
    return kind.verdicts.to_stored(result.verdict), ""


def _cleaned(mode: str, container: Mapping[str, Any], row: Mapping[str, Any]) -> Any:
    for source in (row.get("evaluator"), container):
        if isinstance(source, Mapping):
            value = _get(source, "judge_evaluator")
            if value not in (None, ""):
                return value
    return None


# --------------------------------------------------------------------------- the import


@dataclass
class _RunBuffer:
    judge: str
    model_id: str
    mode: str
    subset: str
    files: list[str] = field(default_factory=list)
    judgments: dict[str, Judgment] = field(default_factory=dict)


class _Importer:
    def __init__(self, files: list[SourceFile]) -> None:
        self.files = files
        self.labels: dict[tuple[str, str, str], dict[str, Any]] = {}
        self.ids: dict[tuple[str, str], ItemIds] = {}  # per (mode, subset): the release's id rule
        self.runs: dict[tuple[str, str, str], _RunBuffer] = {}
        self.reports: list[FileReport] = []

    def run(self) -> None:
        """Read every file in order (benchmark labels first, so later files can be checked against them)."""
        for src in self.files:
            stats = _Stats(src)
            for row in _iter_rows(src, stats):
                self._row(src, row, stats)
            self.reports.append(stats.freeze())

    def _row(self, src: SourceFile, row: dict, stats: _Stats) -> None:
        mode = src.mode
        try:
            item = release_item_id(mode, row)
        except ValueError:
            stats.bad[f"no {ITEM_KEY[mode]}"] += 1
            return
        try:
            responses = list(release_responses(mode, row)[0])
        except ValueError as exc:
            stats.bad[str(exc)] += 1
            return
        subset = src.subset
        if src.kind != "raw":
            labelled = self._label(src, row, item, subset, responses, stats)
            if labelled is None:
                return
            item = labelled
        if src.kind == "benchmark":
            return
        bench = {k[2] for k in self.labels if k[0] == mode and k[1] == "all"}
        if src.kind == "raw" and bench and item not in bench:
            stats.not_in_benchmark += 1
            return
        guard = [str(_get(row, "instruction") or ""), *responses]
        for container in _judge_containers(row):
            self._judgment(src, row, item, subset, container, responses, guard, stats)

    def _label(self, src, row, item, subset, responses, stats) -> str | None:
        """Record the item's label and return its id; None when the same row was already read.

        A repeated id on a *different* row is a different item that the data gave the same id: it is
        kept under ``<id>~2`` (and reported) rather than dropped.
        """
        mode = src.mode
        raw = human_field(row)
        key = (mode, "all", item)
        if raw in (None, "") and subset == "hard" and key in self.labels:
            raw = self.labels[key]["raw"]
        label = normalise_human_label(mode, raw, len(responses))
        if subset != "all" and key in self.labels and label.label and self.labels[key]["human_label"] != label.label:
            stats.label_conflicts += 1
        kept, note = self.ids.setdefault((mode, subset), ItemIds()).claim(item, row)
        if kept is None:
            stats.bad["repeated item id, identical row (read once)"] += 1
            return None
        if note:
            stats.bad["repeated item id on a different item (kept as <id>~2)"] += 1
        item = kept
        mine = (mode, subset, item)
        stats.labels += 1
        if label.issue:
            stats.label_issues[_short_reason(label.issue)] += 1
        image = _IMAGE_OF.get(mode, _image_from_id)(row, item)
        self.labels[mine] = {
            "mode": mode, "subset": subset, "item_id": item,
            "dataset": dataset_field(row), "human_label": label.label,
            "n_responses": len(responses), "response_lengths": lengths_to_text([len(r) for r in responses]),
            "image_id": "" if image is None else str(image), "label_issue": label.issue, "raw": label.raw,
        }  # fmt: skip
        return item

    def _judgment(self, src, row, item, subset, container, responses, guard, stats) -> None:
        mode = src.mode
        model = src.judge if src.kind == "raw" else str(container.get("name") or "unknown")
        judge = judge_display_name(model)
        raw = container.get("judge")
        text = "" if raw is None else str(raw)
        if not text.strip():
            full = _get(container, "analysis", "oral", "output") or _get(row, "gpt_output")
            text = "" if full is None else str(full)
            stats.full_text += bool(text.strip())
        verdict, reason = _parse(mode, text, len(responses), guard)
        if verdict is None and _SEVERAL_NUMBERS.fullmatch(text):
            analysis = _get(container, "analysis")
            if analysis:
                verdict, second = _parse(mode, str(analysis), len(responses), guard)
                if verdict is not None:
                    stats.from_analysis += 1
                else:
                    reason = f"{reason}; the analysis has no single verdict either ({second})"[:160]
        cleaned = _cleaned(mode, container, row)
        if cleaned is not None:
            self._compare(mode, verdict, cleaned, len(responses), item, stats)
        buffer = self.runs.setdefault((subset, mode, judge), _RunBuffer(judge, model, mode, subset))
        if src.relative not in buffer.files:
            buffer.files.append(src.relative)
        if item in buffer.judgments:
            stats.bad[f"duplicate judgment of one item by {judge} (first kept)"] += 1
            return
        dataset = dataset_field(row)
        buffer.judgments[item] = Judgment(item, dataset, verdict, reason or None)
        stats.judgments[judge] += 1
        if verdict is None:
            stats.unparsed[judge] += 1
            stats.reasons[_short_reason(reason)] += 1

    @staticmethod
    def _compare(mode, verdict, cleaned, n, item, stats) -> None:
        # The release's "cleaned" verdict is spelled like its human labels (C for a tie).
        space = get_task(mode).verdicts
        value = space.normalise_human(cleaned, n)
        if value.issue:
            stats.cleaned_invalid += 1
        if verdict is None:
            stats.cleaned_raw_unparsed += 1
        elif space.stored_label(verdict) != value.label:
            stats.cleaned_disagree += 1
            stats.disagree_items.append(item)


def import_mllm_judge(src: str | Path, out: str | Path) -> ImportSummary:
    """Import the released data under ``src`` into ``out/runs`` and ``out/benchmark/labels.csv``.

    Runs with the same id are replaced; label rows replace those with the same key and keep the others.

    Args:
        src: Folder with the released data (Hub or local layout).
        out: Output folder (usually ``assets``).

    Returns:
        The summary; it is also stored under ``import-mllm-judge`` in ``out/benchmark/import_summary.json``.

    Raises:
        FileNotFoundError: ``src`` does not exist or holds no recognisable file.
    """
    src, out = Path(src), Path(out)
    if not src.is_dir():
        raise FileNotFoundError(f"{src} is not a folder; pass the folder that holds the released data")
    files, skipped = discover(src)
    if not files:
        raise FileNotFoundError(
            f"no MLLM-as-a-Judge files under {src}: expected Benchmark/score.jsonl, raw_data/step3/Pair/<Judge>.jsonl, "
            "HQ/Batch.jsonl and the like (names are matched case-insensitively)"
        )
    importer = _Importer(files)
    importer.run()
    created, version = utc_now(), code_version()
    run_reports = []
    for (subset, mode, judge), buffer in sorted(importer.runs.items()):
        run_id = f"mllmj-{subset}-{mode}-{slug(judge)}"
        manifest = Manifest(
            run_id=run_id, judge=judge, mode=mode, provenance=PROVENANCE_IMPORTED, split=subset,
            benchmark=BENCHMARK, backend="released-data", model_id=buffer.model_id,
            template="mllm-as-a-judge-authors", template_version="icml2024", setting="no-cot",
            sampling=AUTHORS_SAMPLING, created_at=created, code_version=version,
            source={"dataset": HUB_REPO_ID, "files": buffer.files, "parser": "judges.parsing.parse_verdict"},
            notes=SUBSET_NOTES[subset],
        )  # fmt: skip
        judgments = sorted(buffer.judgments.values(), key=lambda j: _id_key(j.item_id))
        write_run(out / "runs" / run_id, manifest, judgments)
        unparsed = sum(j.verdict is None for j in judgments)
        run_reports.append({"run_id": run_id, "judge": judge, "mode": mode, "subset": subset,
                            "judgments": len(judgments), "unparsed": unparsed})  # fmt: skip
        logger.info("wrote %s (%d judgments, %d unparsed)", run_id, len(judgments), unparsed)
    write_label_rows(out, BENCHMARK, importer.labels.values())
    counts = Counter(f"{m}/{s}" for m, s, _ in importer.labels)
    summary = ImportSummary(
        str(src), tuple(importer.reports), tuple(skipped), tuple(run_reports), dict(counts), str(out)
    )
    write_summary(out, COMMAND, summary.to_dict())
    return summary


def _id_key(item: str) -> tuple[int, str]:
    return (0, f"{int(item):012d}") if item.isdigit() else (1, item)


def fetch_hub_dataset(
    repo_id: str = HUB_REPO_ID, cache_dir: str | Path | None = None, *, endpoint: str | None = None
) -> Path:
    """Download the JSONL files of the released dataset from the Hugging Face Hub (no images).

    Args:
        repo_id: The dataset repository.
        cache_dir: Where huggingface_hub caches it (default: its own cache).
        endpoint: Another Hub endpoint (mirrors, tests).

    Returns:
        The local folder of the snapshot.

    Raises:
        ConnectionError: The Hub cannot be reached; the message says how to import offline instead.
    """
    # The runner downloads the same files; one download path serves both.
    from leaderboard.benchmarks.base import BenchmarkError
    from leaderboard.benchmarks.mllm_judge.download import download_benchmark

    try:
        return download_benchmark(repo_id=repo_id, cache_dir=cache_dir, endpoint=endpoint)
    except BenchmarkError as exc:
        raise ConnectionError(
            f"{exc}. Download it where the network allows (huggingface_hub.snapshot_download(repo_id=..., "
            "repo_type='dataset')) and run `python -m leaderboard import-mllm-judge <that folder>`"
        ) from None
