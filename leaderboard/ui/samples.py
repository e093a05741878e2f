"""The Leaderboard tab's sample view, without Gradio: one benchmark item, its human label, each judge's verdict.

The pickers (subset, dataset, item) come from the loaded label table of the view's benchmark; the
verdicts from the loaded runs' records of that benchmark; the texts and image from a local copy of the benchmark (``BENCHMARK_DIR``), read
through the benchmark registry (:mod:`leaderboard.benchmarks`) and cached per (copy, mode, subset).
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from judges.tasks import get_task
from judges.verdicts import LETTERS
from leaderboard.benchmarks import dataset_sort_key, display_dataset, get_benchmark
from leaderboard.schema import DEFAULT_BENCHMARK, SUBSETS

if TYPE_CHECKING:
    from leaderboard.board import LeaderboardData


def benchmark_labels(data: LeaderboardData, benchmark: str | None = None) -> pd.DataFrame:
    """The label rows of one benchmark (None: the default one; a table without the column is the default's)."""
    labels = data.labels
    name = benchmark or DEFAULT_BENCHMARK
    if "benchmark" not in labels.columns:
        return labels if name == DEFAULT_BENCHMARK else labels.iloc[0:0]
    # Item ids repeat across benchmarks (MJ-Bench's pair item 14 is not MLLM-as-a-Judge's), so the
    # pickers and the verdicts stay inside the chosen benchmark.
    return labels[labels["benchmark"].fillna(DEFAULT_BENCHMARK).astype(str) == name]


def run_benchmark_name(run) -> str:
    """The benchmark a loaded run was made on (its manifest's; the default when it names none)."""
    return str(getattr(run.manifest, "benchmark", None) or DEFAULT_BENCHMARK)


def sample_datasets(
    data: LeaderboardData, mode: str, subset: str, benchmark: str | None = None
) -> list[tuple[str, str]]:
    """(display name, name as the data spells it) of the source datasets with items for ``mode`` and ``subset``."""
    labels = benchmark_labels(data, benchmark)
    rows = labels[(labels["mode"] == mode) & (labels["subset"] == subset)]
    pairs = {(display_dataset(str(d)), str(d)) for d in rows["dataset"]}
    return sorted(pairs, key=lambda pair: dataset_sort_key(pair[0]))


def sample_subsets(data: LeaderboardData, mode: str, benchmark: str | None = None) -> list[str]:
    """Subsets with items for ``mode`` in ``benchmark``, known subsets first in :data:`SUBSETS` order."""
    labels = benchmark_labels(data, benchmark)
    present = set(labels.loc[labels["mode"] == mode, "subset"].astype(str))
    return [s for s in SUBSETS if s in present] + sorted(present - set(SUBSETS))


def sample_items(
    data: LeaderboardData, mode: str, subset: str, dataset: str | None, benchmark: str | None = None
) -> list[tuple[str, str]]:
    """(label, item_id) pairs of the items of one dataset, in id order."""
    labels = benchmark_labels(data, benchmark)
    rows = labels[(labels["mode"] == mode) & (labels["subset"] == subset)]
    if dataset:
        rows = rows[rows["dataset"] == dataset]
    rows = rows.assign(_n=pd.to_numeric(rows["item_id"], errors="coerce")).sort_values(["_n", "item_id"])
    return [(f"#{r.item_id} · human: {r.human_label or '—'}", str(r.item_id)) for r in rows.itertuples()]


@dataclass(frozen=True)
class SampleView:
    """One benchmark item as the sample view shows it.

    Attributes:
        header_md: Dataset, item id and human label.
        verdicts: One row per judge run: Judge, Run, Verdict, Agrees with human.
        texts_md: Instruction and responses, or how to get them.
        image_path: The item's image when it is on disk.
    """

    header_md: str
    verdicts: pd.DataFrame
    texts_md: str
    image_path: str | None = None


HOW_TO_GET_TEXTS = (
    "The benchmark's instructions, responses and images are not shipped with this Space. To see them, "
    "download the dataset and point `BENCHMARK_DIR` at it:\n\n"
    "```python\nfrom huggingface_hub import snapshot_download\n"
    'path = snapshot_download("shuaishuaicdp/MLLM-Judge", repo_type="dataset")\n```\n\n'
    "then start the app with `BENCHMARK_DIR=<path> python app.py`."
)


def _agrees(mode: str, verdict: object, human: str) -> str:
    """``yes`` / ``no`` when the stored verdict and the canonical human label match or not, else ''."""
    if verdict is None or (isinstance(verdict, float) and math.isnan(verdict)) or not human:
        return ""
    # The judge's stored verdict goes through the same normalisation as the human label, so both
    # sides are spelled one way (a tie is "tie" on both; a score 4.0 is "4").
    judged = get_task(mode).verdicts.normalise_human(verdict).label
    if not judged:
        return ""
    return "yes" if judged == human else "no"


_ITEM_CACHE: dict[tuple[str, ...], dict] = {}
_ITEM_LOCK = threading.Lock()


def _benchmark_item(benchmark_dir: Path, mode: str, subset: str, item_id: str, benchmark: str | None = None):
    key = (str(benchmark_dir), benchmark or "", mode, subset)
    with _ITEM_LOCK:
        if key not in _ITEM_CACHE:
            items, _path, _problems = get_benchmark(benchmark).read_items(benchmark_dir, mode, subset)
            _ITEM_CACHE[key] = {item.item_id: item for item in items}
        return _ITEM_CACHE[key].get(item_id)


def sample_view(
    data: LeaderboardData,
    mode: str,
    subset: str,
    item_id: str | None,
    benchmark_dir: Path | None = None,
    benchmark: str | None = None,
) -> SampleView:
    """The item's human label and each stored judge's verdict, with its texts when available.

    Args:
        data: The loaded leaderboard.
        mode: score, pair or batch.
        subset: all, hq or hard.
        item_id: The item (None: nothing chosen yet).
        benchmark_dir: A local copy of the benchmark in its Hub layout (``BENCHMARK_DIR``).
        benchmark: The benchmark the item belongs to (None: the default one).
    """
    empty = pd.DataFrame(columns=["Judge", "Run", "Verdict", "Agrees with human"])
    if not item_id:
        return SampleView("Pick an item.", empty, "")
    labels = benchmark_labels(data, benchmark)
    name = benchmark or DEFAULT_BENCHMARK
    match = labels[(labels["mode"] == mode) & (labels["subset"] == subset) & (labels["item_id"] == item_id)]
    human = str(match["human_label"].iloc[0]) if len(match) else ""
    dataset = str(match["dataset"].iloc[0]) if len(match) else "?"
    rows = []
    for run in data.runs:
        manifest = run.manifest
        if manifest.mode != mode or manifest.split != subset or run_benchmark_name(run) != name:
            continue
        hit = run.records[run.records["item_id"].astype(str) == item_id]
        if hit.empty:
            continue
        record = hit.iloc[0]
        verdict = record["verdict"]
        missing = verdict is None or (isinstance(verdict, float) and math.isnan(verdict))
        shown = f"unscored: {record['unscored_reason']}" if missing else str(verdict)
        rows.append([manifest.judge, manifest.run_id, shown, _agrees(mode, None if missing else verdict, human)])
    verdicts = pd.DataFrame(rows, columns=empty.columns) if rows else empty
    header = (
        f"**{display_dataset(dataset)}** · item `{item_id}` · subset `{subset}` · human label: **{human or 'none'}**"
    )
    if benchmark_dir is None:
        return SampleView(header, verdicts, HOW_TO_GET_TEXTS)
    try:
        item = _benchmark_item(Path(benchmark_dir), mode, subset, item_id, benchmark)
    except (OSError, ValueError) as exc:
        return SampleView(header, verdicts, f"Could not read the benchmark in `{benchmark_dir}`: {exc}")
    if item is None:
        return SampleView(header, verdicts, f"Item `{item_id}` is not in the copy at `{benchmark_dir}`.")
    letters = LETTERS
    blocks = [f"**Instruction**\n\n> {item.instruction}"]
    for i, text in enumerate(item.responses):
        who = f" ({item.response_models[i]})" if i < len(item.response_models) and item.response_models[i] else ""
        title = "Response" if len(item.responses) == 1 else f"Response {letters[i]}"
        blocks.append(f"**{title}**{who}\n\n{text}")
    image = str(item.image_path) if Path(item.image_path).is_file() else None
    return SampleView(header, verdicts, "\n\n---\n\n".join(blocks), image)


@dataclass(frozen=True)
class SampleState:
    """The sample view's pickers after a change: each list of choices and the chosen value.

    A choice that no longer exists (another mode, another subset) falls back to the first one.
    """

    subsets: list[str]
    subset: str | None
    datasets: list[tuple[str, str]]
    dataset: str | None
    items: list[tuple[str, str]]
    item: str | None


def sample_state(
    data: LeaderboardData,
    mode: str,
    subset: str | None = None,
    dataset: str | None = None,
    item: str | None = None,
    benchmark: str | None = None,
) -> SampleState:
    """Resolve the sample pickers for ``mode`` in ``benchmark``, keeping each current choice when still valid."""
    subsets = sample_subsets(data, mode, benchmark)
    subset = subset if subset in subsets else (subsets[0] if subsets else None)
    datasets = sample_datasets(data, mode, subset, benchmark) if subset else []
    raw_names = [raw for _, raw in datasets]
    dataset = dataset if dataset in raw_names else (raw_names[0] if raw_names else None)
    items = sample_items(data, mode, subset, dataset, benchmark) if subset else []
    ids = [value for _, value in items]
    item = item if item in ids else (ids[0] if ids else None)
    return SampleState(subsets, subset, datasets, dataset, items, item)


@dataclass(frozen=True)
class JudgeInputs:
    """A benchmark item as the Judge tab's form takes it.

    Attributes:
        mode: The task.
        instruction: What the answering models were asked.
        responses: The answers, in the order the judge saw them.
        image_path: The item's image when it is on disk, else None.
        message: One Markdown line saying what was filled in (or why nothing could be).
    """

    mode: str
    instruction: str
    responses: tuple[str, ...]
    image_path: str | None
    message: str


def judge_inputs(
    mode: str, subset: str | None, item_id: str | None, benchmark_dir: Path | None, benchmark: str | None = None
) -> JudgeInputs | None:
    """The Judge tab's inputs for one sample-view item, read from the local benchmark copy.

    Returns:
        None when there is no item or no copy (``BENCHMARK_DIR``), or the item is not in it;
        otherwise the item's instruction, responses and image (None when the image is not on disk).
    """
    if not item_id or not subset or benchmark_dir is None:
        return None
    try:
        item = _benchmark_item(Path(benchmark_dir), mode, subset, item_id, benchmark)
    except (OSError, ValueError):
        return None
    if item is None:
        return None
    image = str(item.image_path) if Path(item.image_path).is_file() else None
    where = "with its image" if image else "without its image (not in the local copy)"
    message = f"Item `{item_id}` ({subset}) is in the Judge tab {where}: choose a judge and press Judge."
    return JudgeInputs(mode, item.instruction, tuple(item.responses), image, message)
