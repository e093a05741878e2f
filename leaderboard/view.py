"""What the Leaderboard tab shows, without Gradio: the engine's long table, filtered and pivoted.

The engine (:mod:`leaderboard.aggregate`) computes every number; this module only chooses rows,
pivots them into one row per judge run with one column per dataset, sorts them best first and
formats them. :mod:`leaderboard.ui` wires these functions to widgets, and the tests call them
directly.
"""

from __future__ import annotations

import hashlib
import logging
import math
import re
import tempfile
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from leaderboard.columns import (
    AVERAGE,
    HEADLINE_METRIC,
    METRICS,
    METRICS_BY_NAME,
    POOLED,
    PROVENANCE_IMPORTED,
    PROVENANCE_PAPER,
    PROVENANCE_RUN,
    PROVENANCE_UNVERIFIED,
)
from leaderboard.labels import SUBSETS, dataset_sort_key, display_dataset

if TYPE_CHECKING:
    from pandas.io.formats.style import Styler

    from judges.settings import Settings

logger = logging.getLogger(__name__)

PROVENANCES: tuple[str, ...] = (PROVENANCE_RUN, PROVENANCE_IMPORTED, PROVENANCE_UNVERIFIED, PROVENANCE_PAPER)
#: Marks rows copied from the paper in the Judge column.
PAPER_MARK = " [paper]"
#: Marks rows of submitted runs nobody has re-run (provenance "unverified submission").
UNVERIFIED_MARK = " [unverified]"

#: Optional column groups of the wide table, in display order; "Datasets" stands for every
#: per-dataset column and "Dataset CIs" writes each cell as "value [low, high]".
OPTIONAL_COLUMNS: tuple[str, ...] = (
    "95% CI",
    "Datasets",
    "Dataset CIs",
    "Coverage",
    "n",
    "Provenance",
    "Subset",
    "Setting",
    "Family",
    "Run",
    "Reason",
)
DEFAULT_COLUMNS: tuple[str, ...] = ("95% CI", "Datasets", "Coverage", "n", "Provenance", "Subset")
#: Descriptive metrics the bias view plots, per mode.
BIAS_METRICS: dict[str, tuple[str, ...]] = {
    "score": ("mean_score_difference", "length_bias", "human_length_correlation", "parse_failure_rate"),
    "pair": ("position_bias", "choose_a_rate", "tie_rate", "human_tie_rate", "length_bias", "parse_failure_rate"),
    "batch": ("length_bias", "human_length_correlation", "parse_failure_rate"),
}


# --------------------------------------------------------------------------- loading (engine calls only)


#: Where the Space stores accepted submissions when ``RUNS_DIR`` is not set (relative to the
#: working folder; git-ignored). The leaderboard reads it whenever it exists.
DEFAULT_SUBMISSIONS_DIR = Path("runs")


def submissions_dir(settings: Settings | None) -> Path:
    """The folder accepted submissions are written to: ``RUNS_DIR``, else :data:`DEFAULT_SUBMISSIONS_DIR`."""
    runs_dir = getattr(settings, "runs_dir", None)
    return Path(runs_dir) if runs_dir is not None else DEFAULT_SUBMISSIONS_DIR


def leaderboard_sources(
    settings: Settings | None = None, *, cache_dir: str | Path | None = None, endpoint: str | None = None
) -> list[Path]:
    """Every folder of runs the leaderboard shows, embedded first.

    :func:`leaderboard.hub.run_sources` (the embedded runs, ``RUNS_DIR``, the runs pulled from
    ``RUNS_REPO``), plus the local submissions folder when ``RUNS_DIR`` is unset and that folder
    exists, so that a run submitted in the Space shows up at the next load.

    Args:
        settings: The Space's settings (default: ``Settings()``, the embedded runs only).
        cache_dir: Where to keep the runs pulled from ``RUNS_REPO`` (default: the Hugging Face cache).
        endpoint: Another Hub endpoint (tests, mirrors).
    """
    from judges.settings import Settings
    from leaderboard.hub import run_sources

    settings = settings if settings is not None else Settings()
    sources = run_sources(settings, cache_dir=cache_dir, endpoint=endpoint)
    local = submissions_dir(settings)
    if local.is_dir() and all(local.resolve() != s.resolve() for s in sources):
        sources.append(local)
    return sources


@dataclass(frozen=True)
class LeaderboardData:
    """Everything the tab reads, loaded once.

    Attributes:
        table: The engine's long table (one row per run x metric x dataset, reference rows included).
        labels: The human-label table (mode, subset, item_id, dataset, human_label, ...).
        runs: The loaded runs (their records give each judge's verdict per item).
        problems: Input problems met while loading, as text.
        sources: The folders of runs it was loaded from.
    """

    table: pd.DataFrame
    labels: pd.DataFrame
    runs: tuple = ()
    problems: tuple[str, ...] = ()
    sources: tuple[Path, ...] = ()


def load_leaderboard(
    settings: Settings | None = None,
    *,
    sources: Sequence[str | Path] | None = None,
    n_resamples: int = 1000,
) -> LeaderboardData:
    """Load stored runs, labels and the paper's numbers and build the long table with the engine.

    Args:
        settings: Where the runs are (``RUNS_DIR``, ``RUNS_REPO``, ``HF_TOKEN``); default: the
            embedded runs only. Read through :func:`leaderboard_sources`, which pulls ``RUNS_REPO``.
        sources: Folders of runs to read instead of those ``settings`` names.
        n_resamples: Bootstrap resamples for the intervals.

    Returns:
        The loaded data. Bad input never stops loading; it is listed in ``problems``.
    """
    from leaderboard.aggregate import build_leaderboard
    from leaderboard.labels import find_label_files, load_label_tables
    from leaderboard.loader import load_runs
    from leaderboard.reference import reference_rows
    from leaderboard.runs import default_assets_dir

    folders = [Path(s) for s in sources] if sources is not None else leaderboard_sources(settings)
    # The same label rules as `python -m leaderboard table`: label tables found in the sources,
    # else the embedded ones.
    label_files = [p for source in folders if source.is_dir() for p in find_label_files(source)]
    label_files = label_files or find_label_files(default_assets_dir())
    labels = load_label_tables(list(dict.fromkeys(label_files)))
    loaded = load_runs(folders, labels)
    table = build_leaderboard(loaded.runs, labels, reference_rows(), n_resamples=n_resamples)
    problems = tuple(str(p) for p in loaded.problems)
    if problems:
        logger.warning("%d problem(s) while loading runs; first: %s", len(problems), problems[0])
    return LeaderboardData(
        table=table, labels=labels, runs=tuple(loaded.runs), problems=problems, sources=tuple(folders)
    )


@dataclass
class LazyLeaderboard:
    """Loads the leaderboard on first use (or in the background with :meth:`prefetch`) and on :meth:`refresh`.

    Importing and building the app stays free of work; the first page load, or a prefetch started
    at launch, pays for the computation. Readers keep seeing the previous data while a refresh
    loads the new one.

    Attributes:
        settings: Where the runs are (:func:`leaderboard_sources`); None: the embedded runs only.
        n_resamples: Bootstrap resamples for the intervals.
        sources: Returns the folders to read, instead of ``leaderboard_sources(settings)`` (tests,
            another Hub endpoint).
    """

    settings: Settings | None = None
    n_resamples: int = 1000
    sources: Callable[[], Sequence[str | Path]] | None = None
    _data: LeaderboardData | None = field(default=None, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)
    _refresh_lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def run_sources(self) -> list[Path]:
        """The folders of runs to read now (pulls ``RUNS_REPO`` when one is set)."""
        if self.sources is not None:
            return [Path(s) for s in self.sources()]
        return leaderboard_sources(self.settings)

    def _load(self) -> LeaderboardData:
        return load_leaderboard(self.settings, sources=self.run_sources(), n_resamples=self.n_resamples)

    def get(self) -> LeaderboardData:
        """The loaded data, loading it now if nobody has."""
        data = self._data
        if data is not None:
            return data
        with self._lock:
            if self._data is None:
                self._data = self._load()
            return self._data

    def refresh(self) -> LeaderboardData:
        """Load again (re-pulling ``RUNS_REPO``) and return the new data; refreshes run one at a time."""
        with self._refresh_lock:
            data = self._load()
            with self._lock:
                self._data = data
        return data

    def prefetch(self) -> threading.Thread:
        """Start loading in a daemon thread (a later :meth:`get` waits for it)."""
        thread = threading.Thread(target=self.get, name="leaderboard-prefetch", daemon=True)
        thread.start()
        return thread


def refresh_leaderboard(store: LazyLeaderboard) -> str:
    """Reload ``store`` (the Refresh button) and say what was loaded; a failure keeps the old data.

    Returns:
        One Markdown line (never a stack trace; failures are logged).
    """
    try:
        data = store.refresh()
    except Exception:
        logger.exception("reloading the leaderboard failed")
        return "The leaderboard could not be reloaded; it still shows the previous data. Try again later."
    return refresh_summary(data)


#: How many loading problems the status line lists (all of them are logged).
SHOWN_PROBLEMS = 5


def refresh_summary(data: LeaderboardData) -> str:
    """Markdown after a refresh: how many runs from how many folders, then the input problems met.

    Problems name the run folder, file and line (``my-run/judgments.jsonl:12: not valid JSON ...``)
    without the server's absolute paths, so whoever maintains a run can fix it.
    """
    runs = len(data.runs)
    text = f"Reloaded {runs} run{'s' if runs != 1 else ''} from {len(data.sources)} folder(s)."
    problems = problems_summary(data)
    return f"{text} {problems}" if problems else text


def problems_summary(data: LeaderboardData) -> str:
    """Markdown listing the input problems met while loading (empty when there were none)."""
    if not data.problems:
        return ""
    count = len(data.problems)
    lines = [f"- `{_short_problem(p)}`" for p in data.problems[:SHOWN_PROBLEMS]]
    if count > SHOWN_PROBLEMS:
        lines.append(f"- ... and {count - SHOWN_PROBLEMS} more (see the logs)")
    head = f"{count} input problem{'s were' if count != 1 else ' was'} skipped, the rest was loaded:"
    return head + "\n\n" + "\n".join(lines)


def _short_problem(problem: str) -> str:
    # "/srv/space/runs/my-run/judgments.jsonl:12: reason" -> "my-run/judgments.jsonl:12: reason"
    return re.sub(r"(?:[^\s:]*/)?([^/\s:]+/[^/\s:]+)(?=:|$)", r"\1", problem, count=1)


# --------------------------------------------------------------------------- choices


def judge_family(judge: str) -> str:
    """The family of a judge name: the catalog's family, else the name's first word ("GPT-4V" -> "GPT")."""
    from judges import CATALOG

    spec = CATALOG.get(judge)
    if spec is not None:
        return spec.family
    head = re.split(r"[-\s_/.:]", judge.strip(), maxsplit=1)[0]
    return head or judge


def metric_choices(table: pd.DataFrame, mode: str) -> list[tuple[str, str]]:
    """(label, name) pairs of the metrics that have rows for ``mode``, headline first."""
    present = set(table.loc[table["mode"] == mode, "metric"].astype(str))
    names = [m.name for m in METRICS if m.mode in (mode, "any") and m.name in present]
    headline = HEADLINE_METRIC.get(mode)
    if headline in names:
        names.remove(headline)
        names.insert(0, headline)
    return [(metric_label(n), n) for n in names]


def metric_label(name: str) -> str:
    """A metric's name with its direction ("pearson ↑", "normalized_levenshtein ↓")."""
    spec = METRICS_BY_NAME.get(name)
    arrow = "" if spec is None or spec.higher_is_better is None else (" ↑" if spec.higher_is_better else " ↓")
    return f"{name}{arrow}"


def resolve_metric(table: pd.DataFrame, mode: str, metric: str | None) -> str:
    """``metric`` when it belongs to ``mode``, else the mode's headline metric."""
    names = [n for _, n in metric_choices(table, mode)]
    if metric in names:
        return metric
    return HEADLINE_METRIC.get(mode, names[0] if names else "")


def family_choices(table: pd.DataFrame) -> list[str]:
    """Judge families present in the table, sorted."""
    return sorted({judge_family(str(j)) for j in table["judge"].dropna().unique()})


# --------------------------------------------------------------------------- filtering and pivoting


def filter_rows(
    table: pd.DataFrame,
    mode: str,
    *,
    families: Iterable[str] | None = None,
    provenances: Iterable[str] | None = None,
    subsets: Iterable[str] | None = None,
    metrics: Iterable[str] | None = None,
) -> pd.DataFrame:
    """The long rows of one mode that pass the filters; an empty or None filter keeps everything."""
    rows = table[table["mode"] == mode]
    if metrics:
        rows = rows[rows["metric"].isin(list(metrics))]
    if provenances:
        rows = rows[rows["provenance"].isin(list(provenances))]
    if subsets:
        rows = rows[rows["subset"].isin(list(subsets))]
    if families:
        wanted = set(families)
        rows = rows[rows["judge"].map(lambda j: judge_family(str(j)) in wanted).astype(bool)]
    return rows


def headline_dataset(rows: pd.DataFrame) -> str:
    """The column a table is ranked by: ``Average`` when present, else ``Pooled``."""
    present = set(rows["dataset"].astype(str))
    return AVERAGE if AVERAGE in present or POOLED not in present else POOLED


def _fmt(value: float | None, digits: int = 3) -> float | None:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return None
    return round(float(value), digits)


def _interval(low: object, high: object) -> str:
    lo, hi = _fmt(low), _fmt(high)  # type: ignore[arg-type]
    return "" if lo is None or hi is None else f"[{lo:.3f}, {hi:.3f}]"


def sort_ascending(metric: str) -> bool | None:
    """True when lower is better, False when higher is better, None for descriptive metrics."""
    spec = METRICS_BY_NAME.get(metric)
    if spec is None or spec.higher_is_better is None:
        return None
    return not spec.higher_is_better


def wide_table(
    table: pd.DataFrame,
    mode: str,
    metric: str | None = None,
    *,
    families: Iterable[str] | None = None,
    provenances: Iterable[str] | None = None,
    subsets: Iterable[str] | None = None,
    columns: Sequence[str] | None = None,
) -> pd.DataFrame:
    """One row per judge run for one metric: Judge, Average, then one column per dataset.

    Rows are sorted best first for the metric's direction (descriptive metrics: by judge), rows
    without a value last. Paper rows and unverified submissions are marked in the Judge column.

    Args:
        table: The engine's long table.
        mode: score, pair or batch.
        metric: A metric of the mode (default or unknown: the mode's headline metric).
        families: Keep these judge families (empty: all).
        provenances: Keep these provenances (empty: all).
        subsets: Keep these benchmark subsets (empty: all).
        columns: Optional column groups to show (see :data:`OPTIONAL_COLUMNS`); None: the defaults.

    Returns:
        The display table (numbers rounded to 3 decimals, missing values as None).
    """
    metric = resolve_metric(table, mode, metric)
    rows = filter_rows(table, mode, families=families, provenances=provenances, subsets=subsets, metrics=[metric])
    shown = set(DEFAULT_COLUMNS if columns is None else columns)
    if rows.empty:
        return pd.DataFrame(columns=["Judge", AVERAGE])
    head = headline_dataset(rows)
    datasets = sorted({str(d) for d in rows["dataset"].unique()} - {AVERAGE, POOLED}, key=lambda d: dataset_sort_key(d))
    with_cis = "Dataset CIs" in shown
    records = []
    for (judge, run_id), group in rows.groupby(["judge", "run_id"], sort=False, dropna=False):
        by_dataset = {str(r.dataset): r for r in group.itertuples(index=False)}
        top = by_dataset.get(head)
        provenance = str(group["provenance"].iloc[0])
        mark = {PROVENANCE_PAPER: PAPER_MARK, PROVENANCE_UNVERIFIED: UNVERIFIED_MARK}.get(provenance, "")
        record: dict[str, object] = {
            "Judge": f"{judge}{mark}",
            head: _fmt(top.value) if top is not None else None,
        }
        if "95% CI" in shown:
            record["95% CI"] = _interval(top.ci_low, top.ci_high) if top is not None else ""
        if "Datasets" in shown:
            for name in datasets:
                cell = by_dataset.get(name)
                value = _fmt(cell.value) if cell is not None else None
                if with_cis and cell is not None and value is not None:
                    interval = _interval(cell.ci_low, cell.ci_high)
                    record[name] = f"{value:.3f} {interval}".strip()
                else:
                    record[name] = value
        optional = {
            "Coverage": _fmt(top.coverage) if top is not None else None,
            "n": None if top is None or pd.isna(top.n) else int(top.n),
            "Provenance": provenance,
            "Subset": str(group["subset"].iloc[0]),
            "Setting": str(group["setting"].iloc[0]),
            "Family": judge_family(str(judge)),
            "Run": str(run_id),
            "Reason": "" if top is None or pd.isna(top.reason) else str(top.reason),
        }
        record.update({k: v for k, v in optional.items() if k in shown})
        records.append(record)
    wide = pd.DataFrame(records)
    if "n" in wide.columns:
        wide["n"] = wide["n"].astype("Int64")
    ascending = sort_ascending(metric)
    if ascending is None:
        wide = wide.sort_values("Judge", kind="stable")
    else:
        key = pd.to_numeric(wide[head], errors="coerce")
        wide = wide.assign(_key=key).sort_values("_key", ascending=ascending, na_position="last", kind="stable")
        wide = wide.drop(columns="_key")
    return wide.reset_index(drop=True)


#: Background of rows copied from the paper: translucent, so it reads in light and dark themes.
PAPER_ROW_STYLE = "background-color: rgba(245, 165, 36, 0.14); font-style: italic"


def _cell_text(value: object) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def style_table(wide: pd.DataFrame) -> Styler:
    """The display form of :func:`wide_table`: 3 decimals, "–" for missing values, paper rows tinted.

    The values underneath stay numbers, so sorting in the browser and the CSV are unaffected.
    """
    paper = wide["Judge"].astype(str).str.endswith(PAPER_MARK) if "Judge" in wide.columns else None

    def row_style(row: pd.Series) -> list[str]:
        marked = paper is not None and bool(paper.loc[row.name])
        return [PAPER_ROW_STYLE if marked else ""] * len(row)

    return wide.style.format(_cell_text).apply(row_style, axis=1)


def table_caption(table: pd.DataFrame, mode: str, metric: str | None, shown: pd.DataFrame) -> str:
    """One Markdown line under the table: what the numbers are, their direction and caveats."""
    metric = resolve_metric(table, mode, metric)
    spec = METRICS_BY_NAME.get(metric)
    direction = {True: "higher is better", False: "lower is better", None: "descriptive"}[
        None if spec is None else spec.higher_is_better
    ]
    parts = [f"**{metric}** ({direction}): {spec.definition if spec else ''}"]
    parts.append(f"{len(shown)} row(s), best first. `{PAPER_MARK.strip()}` = numbers reported in the paper.")
    if "Judge" in shown.columns and shown["Judge"].astype(str).str.endswith(UNVERIFIED_MARK).any():
        parts.append(f"`{UNVERIFIED_MARK.strip()}` = a submitted run nobody has re-run yet.")
    if "Subset" in shown.columns and (shown["Subset"] == "hq").any():
        parts.append("HQ rows cover only items where judges agreed with people, so their agreement is inflated.")
    return " ".join(parts)


def write_csv(frame: pd.DataFrame, mode: str, metric: str, directory: str | Path | None = None) -> Path:
    """Write ``frame`` (what the table shows) as CSV and return the file's path.

    Files are content-addressed (``<directory>/<sha1 of the CSV>/leaderboard-<mode>-<metric>.csv``):
    two visitors with different filters never overwrite each other's file, the same table is written
    once, and the user still downloads a readable file name.

    Args:
        frame: The table as shown.
        mode: Used in the file name.
        metric: Used in the file name.
        directory: Parent folder (default: ``leaderboard-csv`` in the system's temp folder).
    """
    text = frame.to_csv(index=False, lineterminator="\n")
    root = Path(directory) if directory else Path(tempfile.gettempdir()) / "leaderboard-csv"
    folder = root / hashlib.sha1(text.encode()).hexdigest()[:16]
    path = folder / f"leaderboard-{mode}-{metric}.csv"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        # Write then rename, so a concurrent reader never sees half a file.
        partial = folder / f".{path.name}.{threading.get_ident()}.part"
        partial.write_text(text, encoding="utf-8")
        partial.replace(path)
    return path


# --------------------------------------------------------------------------- sample view


def sample_datasets(data: LeaderboardData, mode: str, subset: str) -> list[tuple[str, str]]:
    """(display name, name as the data spells it) of the source datasets with items for ``mode`` and ``subset``."""
    labels = data.labels
    rows = labels[(labels["mode"] == mode) & (labels["subset"] == subset)]
    pairs = {(display_dataset(str(d)), str(d)) for d in rows["dataset"]}
    return sorted(pairs, key=lambda pair: dataset_sort_key(pair[0]))


def sample_subsets(data: LeaderboardData, mode: str) -> list[str]:
    """Subsets with items for ``mode``, in :data:`SUBSETS` order."""
    present = set(data.labels.loc[data.labels["mode"] == mode, "subset"].astype(str))
    return [s for s in SUBSETS if s in present]


def sample_items(data: LeaderboardData, mode: str, subset: str, dataset: str | None) -> list[tuple[str, str]]:
    """(label, item_id) pairs of the items of one dataset, in id order."""
    labels = data.labels
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
    if verdict is None or (isinstance(verdict, float) and math.isnan(verdict)) or not human:
        return ""
    judged = {"tie": "C"}.get(str(verdict), str(verdict))
    if mode == "score":
        try:
            return "yes" if int(float(judged)) == int(float(human)) else "no"
        except ValueError:
            return ""
    return "yes" if judged.replace(",", "").replace(" ", "") == human else "no"


_ITEM_CACHE: dict[tuple[str, str, str], dict] = {}
_ITEM_LOCK = threading.Lock()


def _benchmark_item(benchmark_dir: Path, mode: str, subset: str, item_id: str):
    from leaderboard.benchmark import read_items

    key = (str(benchmark_dir), mode, subset)
    with _ITEM_LOCK:
        if key not in _ITEM_CACHE:
            items, _path, _problems = read_items(benchmark_dir, mode, subset)
            _ITEM_CACHE[key] = {item.item_id: item for item in items}
        return _ITEM_CACHE[key].get(item_id)


def sample_view(
    data: LeaderboardData, mode: str, subset: str, item_id: str | None, benchmark_dir: Path | None = None
) -> SampleView:
    """The item's human label and each stored judge's verdict, with its texts when available.

    Args:
        data: The loaded leaderboard.
        mode: score, pair or batch.
        subset: all, hq or hard.
        item_id: The item (None: nothing chosen yet).
        benchmark_dir: A local copy of the benchmark in its Hub layout (``BENCHMARK_DIR``).
    """
    empty = pd.DataFrame(columns=["Judge", "Run", "Verdict", "Agrees with human"])
    if not item_id:
        return SampleView("Pick an item.", empty, "")
    labels = data.labels
    match = labels[(labels["mode"] == mode) & (labels["subset"] == subset) & (labels["item_id"] == item_id)]
    human = str(match["human_label"].iloc[0]) if len(match) else ""
    dataset = str(match["dataset"].iloc[0]) if len(match) else "?"
    rows = []
    for run in data.runs:
        manifest = run.manifest
        if manifest.mode != mode or manifest.split != subset:
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
        item = _benchmark_item(Path(benchmark_dir), mode, subset, item_id)
    except (OSError, ValueError) as exc:
        return SampleView(header, verdicts, f"Could not read the benchmark in `{benchmark_dir}`: {exc}")
    if item is None:
        return SampleView(header, verdicts, f"Item `{item_id}` is not in the copy at `{benchmark_dir}`.")
    letters = "ABCDEFGH"
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
) -> SampleState:
    """Resolve the sample pickers for ``mode``, keeping each current choice when it is still valid."""
    subsets = sample_subsets(data, mode)
    subset = subset if subset in subsets else (subsets[0] if subsets else None)
    datasets = sample_datasets(data, mode, subset) if subset else []
    raw_names = [raw for _, raw in datasets]
    dataset = dataset if dataset in raw_names else (raw_names[0] if raw_names else None)
    items = sample_items(data, mode, subset, dataset) if subset else []
    ids = [value for _, value in items]
    item = item if item in ids else (ids[0] if ids else None)
    return SampleState(subsets, subset, datasets, dataset, items, item)
