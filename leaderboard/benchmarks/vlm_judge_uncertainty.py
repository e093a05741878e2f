"""The one reader of VLM-Judge-Uncertainty's per-item result files (Kumar et al., 2026).

That project (GitHub ``divake/VLM-Judge-Uncertainty``, MIT) ran three judges over the whole
MLLM-as-a-Judge score task and two of them over Polaris, with its own chain-of-thought scoring
prompt, and stored per item (``results/<run>/features_s2.csv``): ``sample_id`` (a 0-based row
number), ``s2_lp1..s2_lp5`` (natural-log probabilities of the tokens "1".."5" at the score
position), ``gt_score`` (the human score, 1-5), ``parsed_score`` (the judge's score; -1 = no parsable
score) and, for Polaris, ``gt_score_continuous``. ``results/v2/error_analysis.csv`` names each MLLM-as-a-Judge
sample's source dataset (``orig_dataset``).

:data:`RESULT_FOLDERS` says which folder is which judge on which benchmark; :func:`read_features`
reads one file into :class:`FeatureRow` s; :func:`distribution` turns a row's log-probabilities
into the verdict distribution a run stores (the runner's shape,
:class:`judges.types.VerdictDistribution`). Both importers (MLLM-as-a-Judge's and Polaris') read
through this module.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from judges.probabilities import distribution_from_alternatives
from leaderboard.benchmarks.base import BenchmarkError
from leaderboard.schema import DEFAULT_BENCHMARK, PROVENANCE_PUBLISHED
from leaderboard.store.format import Judgment, Manifest, code_version, utc_now

REPOSITORY = "github.com/divake/VLM-Judge-Uncertainty"
COMMIT = "6d09bc8191b887d9ec7f896a49734317bf71a899"
#: Who ran the judges and with which prompt: every run built from these files says so.
REPORTED_BY = "reported per item by VLM-Judge-Uncertainty (Kumar et al., 2026)"
PROMPT = "VLM-Judge-Uncertainty's own chain-of-thought scoring prompt (not the MLLM-as-a-Judge prompt)"
TEMPLATE = "vlm-judge-uncertainty-cot"
#: The ``setting`` of these runs: another prompt than the benchmark's no-cot default.
SETTING = "vju-cot"
FEATURES_FILE = "features_s2.csv"
ERROR_ANALYSIS = Path("v2") / "error_analysis.csv"
SCORE_LABELS: tuple[str, ...] = ("1", "2", "3", "4", "5")
#: Decimal places kept of a stored probability (the runs stay small; 1e-6 is far below any use).
PROBABILITY_DECIMALS = 6


@dataclass(frozen=True)
class ResultFolder:
    """One judge's results on one benchmark.

    Attributes:
        folder: The folder under ``results/``.
        benchmark: The benchmark judged (a name in :mod:`leaderboard.benchmarks`).
        judge: The judge's display name.
        model_id: The model as that project names it.
    """

    folder: str
    benchmark: str
    judge: str
    model_id: str


#: The Polaris benchmark's registry name (its entry lives in :mod:`leaderboard.benchmarks.polaris`).
POLARIS = "polaris"
#: Every result folder the importers know, by folder name.
RESULT_FOLDERS: dict[str, ResultFolder] = {
    f.folder: f
    for f in (
        ResultFolder("v2", DEFAULT_BENCHMARK, "LLaVA-Critic-7B", "LLaVA-Critic-7B"),
        ResultFolder("v2_gemini", DEFAULT_BENCHMARK, "Gemini-2.5-Flash", "Gemini-2.5-Flash"),
        ResultFolder("v2_phi4", DEFAULT_BENCHMARK, "Phi-4-reasoning-vision", "Phi-4-reasoning-vision-15B"),
        ResultFolder("v2_polaris", POLARIS, "LLaVA-Critic-7B", "LLaVA-Critic-7B"),
        ResultFolder("v2_polaris_phi4", POLARIS, "Phi-4-reasoning-vision", "Phi-4-reasoning-vision-15B"),
    )
}


@dataclass(frozen=True)
class FeatureRow:
    """One line of a ``features_s2.csv``.

    Attributes:
        sample_id: The 0-based row number the project keyed the item by.
        logprobs: Log-probabilities of the tokens "1".."5" (not normalised).
        gt_score: The human score (1-5), or None when the cell is not a whole number 1-5.
        parsed_score: The judge's score (1-5), or None when unscored (-1 in the file).
        gt_continuous: The human mean in 0..1 (Polaris only), else None.
    """

    sample_id: int
    logprobs: tuple[float, ...]
    gt_score: int | None
    parsed_score: int | None
    gt_continuous: float | None = None


def result_folders(src: str | Path, benchmark: str) -> list[tuple[ResultFolder, Path]]:
    """The known result folders of ``benchmark`` under ``src`` (``src``, ``src/results``), in registry order.

    Raises:
        FileNotFoundError: ``src`` is not a folder or holds none of them; the message lists what is expected.
    """
    src = Path(src)
    if not src.is_dir():
        raise FileNotFoundError(f"{src} is not a folder; pass the folder that holds VLM-Judge-Uncertainty's results/")
    bases = [src / "results", src]
    found = []
    for entry in RESULT_FOLDERS.values():
        if entry.benchmark != benchmark:
            continue
        path = next(
            (b / entry.folder / FEATURES_FILE for b in bases if (b / entry.folder / FEATURES_FILE).is_file()), None
        )
        if path is not None:
            found.append((entry, path))
    if not found:
        wanted = ", ".join(
            f"results/{f.folder}/{FEATURES_FILE}" for f in RESULT_FOLDERS.values() if f.benchmark == benchmark
        )
        raise FileNotFoundError(f"no VLM-Judge-Uncertainty result files for {benchmark} under {src}: expected {wanted}")
    return found


def _score(cell: str) -> int | None:
    try:
        value = float(cell)
    except ValueError:
        return None
    return int(value) if value.is_integer() and 1 <= value <= 5 else None


def read_features(path: str | Path) -> tuple[list[FeatureRow], list[str]]:
    """Read a ``features_s2.csv``.

    Returns:
        The rows in file order, and the problems met (``file:line: reason``; such lines are skipped).

    Raises:
        BenchmarkError: A required column is missing.
    """
    path = Path(path)
    rows: list[FeatureRow] = []
    problems: list[str] = []
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        columns = ["sample_id", *(f"s2_lp{k}" for k in SCORE_LABELS), "gt_score", "parsed_score"]
        missing = [c for c in columns if c not in (reader.fieldnames or [])]
        if missing:
            raise BenchmarkError(f"{path}: missing column(s) {', '.join(missing)}; expected {', '.join(columns)}")
        for line, record in enumerate(reader, start=2):
            try:
                sample = int(record["sample_id"])
                logprobs = tuple(float(record[f"s2_lp{k}"]) for k in SCORE_LABELS)
                parsed = int(float(record["parsed_score"]))
            except (TypeError, ValueError):
                problems.append(f"{path.name}:{line}: unreadable number; skipped")
                continue
            continuous = record.get("gt_score_continuous")
            rows.append(
                FeatureRow(
                    sample_id=sample,
                    logprobs=logprobs,
                    gt_score=_score(record["gt_score"]),
                    parsed_score=parsed if 1 <= parsed <= 5 else None,
                    gt_continuous=float(continuous) if continuous not in (None, "") else None,
                )
            )
    return rows, problems


def read_datasets(src: str | Path) -> dict[int, str]:
    """Sample id -> source dataset as the data spells it, from ``results/v2/error_analysis.csv`` ({} when absent)."""
    src = Path(src)
    path = next((p for p in (src / "results" / ERROR_ANALYSIS, src / ERROR_ANALYSIS) if p.is_file()), None)
    if path is None:
        return {}
    out: dict[int, str] = {}
    with open(path, newline="", encoding="utf-8") as handle:
        for record in csv.DictReader(handle):
            try:
                out[int(record["sample_id"])] = str(record.get("orig_dataset") or "")
            except (KeyError, TypeError, ValueError):
                continue
    return out


def distribution(row: FeatureRow) -> dict[str, Any] | None:
    """The verdict distribution of a scored row, as a run stores it; None for an unscored row.

    The five log-probabilities are renormalised over the five score tokens; ``mass`` is their total
    before that (low: the judge meant something else there), ``confidence`` the probability of the
    score the judge wrote, ``expected_score`` the probability-weighted score. An unscored row gets
    none, as the runner stores none when no verdict was read (the file's values there are a floor).
    """
    if row.parsed_score is None or not all(math.isfinite(lp) for lp in row.logprobs):
        return None
    dist = distribution_from_alternatives(
        list(zip(SCORE_LABELS, row.logprobs, strict=True)), SCORE_LABELS, chosen=str(row.parsed_score)
    )
    if dist is None:
        return None
    return _rounded(asdict(dist))


def _rounded(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, PROBABILITY_DECIMALS)
    if isinstance(value, Mapping):
        return {str(k): _rounded(v) for k, v in value.items()}
    return value


# --------------------------------------------------------------------------- runs built from the files

UNSCORED_REASON = "no parsable score in the judge's output (parsed_score -1 in VLM-Judge-Uncertainty's file)"


def judgments_of(rows: list[FeatureRow], item_ids: Mapping[int, str], datasets: Mapping[int, str]) -> list[Judgment]:
    """One judgment per row (first row of an id kept), with its verdict distribution.

    Args:
        rows: The rows of one result file.
        item_ids: Sample id -> item id.
        datasets: Sample id -> source dataset as the data spells it.
    """
    seen: set[str] = set()
    out: list[Judgment] = []
    for row in rows:
        item = item_ids[row.sample_id]
        if item in seen:
            continue
        seen.add(item)
        out.append(
            Judgment(
                item_id=item,
                dataset=datasets.get(row.sample_id, ""),
                verdict=row.parsed_score,
                unscored_reason=None if row.parsed_score is not None else UNSCORED_REASON,
                probabilities=distribution(row),
            )
        )
    return out


def manifest_for(entry: ResultFolder, run_id: str, files: list[str], item_ids: str, notes: str = "") -> Manifest:
    """The manifest of a run built from one result folder: who ran the judge, with which prompt, where it came from.

    Args:
        entry: The result folder.
        run_id: The run's id.
        files: The files read, relative to the source folder.
        item_ids: How the run's item ids were made, in words.
        notes: More caveats (appended to the provenance sentence).
    """
    return Manifest(
        run_id=run_id,
        judge=entry.judge,
        mode="score",
        provenance=PROVENANCE_PUBLISHED,
        split="all",
        benchmark=entry.benchmark,
        backend="released-data",
        model_id=entry.model_id,
        template=TEMPLATE,
        template_version=COMMIT[:8],
        setting=SETTING,
        sampling={"note": "one sampled score per item, as Kumar et al. report; decoding not recorded in the files"},
        created_at=utc_now(),
        code_version=code_version(),
        source={
            "dataset": REPOSITORY,
            "commit": COMMIT,
            "files": list(files),
            "reported_by": REPORTED_BY,
            "ran_by": "Kumar et al., 2026 (VLM-Judge-Uncertainty), not this project",
            "prompt": PROMPT,
            "item_ids": item_ids,
            "probabilities": "s2_lp1..s2_lp5 renormalised over the five score tokens (mass = their total before)",
        },
        notes=" ".join(
            part for part in (f"Judged by Kumar et al. (2026) with {PROMPT}; {REPORTED_BY}.", notes) if part
        ),
    )


def run_summary(run_id: str, judge: str, judgments: list[Judgment], subset: str = "all") -> dict[str, Any]:
    """The summary line of one written run."""
    return {
        "run_id": run_id,
        "judge": judge,
        "mode": "score",
        "subset": subset,
        "judgments": len(judgments),
        "unparsed": sum(j.verdict is None for j in judgments),
        "with_probabilities": sum(j.probabilities is not None for j in judgments),
    }
