"""Which view the Leaderboard tab shows, without Gradio: the default comparable view, the selectors' choices, the URL.

A :class:`View` is everything that decides the table: benchmark, task, subsets, metric, filters,
search, minimum n, "same items only" and the column groups. The tab opens on
:func:`default_view` (one benchmark, one task, one subset: the full benchmark where the paper's rows
belong, else what the data has), and keeps the view in the page's query string
(:func:`view_to_query` / :func:`view_from_query`) so that a view can be linked.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlencode

import pandas as pd

from judges.tasks import TASKS, task_label
from leaderboard.schema import DEFAULT_BENCHMARK, SUBSETS
from leaderboard.ui.table import DEFAULT_COLUMNS, OPTIONAL_COLUMNS, PROVENANCES, benchmark_column

#: The task the tab opens on: the first registered one (MLLM-as-a-Judge's score task).
DEFAULT_MODE: str = next(iter(TASKS))
#: The subset the tab prefers: the full benchmark, where the paper's rows were measured.
PREFERRED_SUBSET: str = SUBSETS[0]
#: The smallest per-dataset n shown by default (the engine's rule; the UI control starts here).
DEFAULT_MIN_N = 10


@dataclass(frozen=True)
class View:
    """What the table shows.

    Attributes:
        benchmark: A registered benchmark's name.
        mode: A registered task.
        subsets: Subsets to show (empty: every subset).
        metric: A metric name ("" : the task's headline metric).
        families: Judge families to keep (empty: all).
        provenances: Provenances to keep (empty: all).
        search: ``;``-separated alternatives for the judge names.
        min_n: Per-dataset cells on fewer items have no value.
        same_items: Restrict every computed row to the items every shown run judged.
        columns: Optional column groups.
    """

    benchmark: str = DEFAULT_BENCHMARK
    mode: str = DEFAULT_MODE
    subsets: tuple[str, ...] = (PREFERRED_SUBSET,)
    metric: str = ""
    families: tuple[str, ...] = ()
    provenances: tuple[str, ...] = ()
    search: str = ""
    min_n: int = DEFAULT_MIN_N
    same_items: bool = False
    columns: tuple[str, ...] = field(default=DEFAULT_COLUMNS)

    def filters(self) -> dict[str, Any]:
        """The keyword filters of :func:`leaderboard.ui.table.filter_rows` for this view."""
        return dict(
            benchmark=self.benchmark,
            families=list(self.families),
            provenances=list(self.provenances),
            subsets=list(self.subsets),
            search=self.search,
        )


def view_from_inputs(
    mode: str,
    metric: str | None = None,
    families: Sequence[str] | None = None,
    provenances: Sequence[str] | None = None,
    subsets: Sequence[str] | None = None,
    columns: Sequence[str] | None = None,
    benchmark: str | None = None,
    search: str | None = "",
    min_n: int | float | None = DEFAULT_MIN_N,
    same_items: bool | None = False,
) -> View:
    """The view of the tab's filter values, in the order of the ``/leaderboard`` API's inputs.

    Missing values (older API callers pass only the first few) keep the defaults; ``columns`` None
    keeps the default column groups, an empty list shows none.
    """
    return View(
        benchmark=benchmark or DEFAULT_BENCHMARK,
        mode=mode,
        subsets=tuple(subsets or ()),
        metric=metric or "",
        families=tuple(families or ()),
        provenances=tuple(provenances or ()),
        search=search or "",
        min_n=int(min_n or 0),
        same_items=bool(same_items),
        columns=tuple(View().columns if columns is None else columns),
    )


# --------------------------------------------------------------------------- choices


def benchmark_choices(table: pd.DataFrame) -> list[tuple[str, str]]:
    """(title, name) of the registered benchmarks with rows in the table, the default first."""
    from leaderboard.benchmarks import BENCHMARKS, benchmark_names

    present = set(benchmark_column(table)) if len(table) else set()
    names = [n for n in benchmark_names() if n in present] or [DEFAULT_BENCHMARK]
    # A benchmark in the table but not (yet) in the registry is still offered, under its name.
    names += sorted(present - set(names))
    return [(BENCHMARKS[n].title if n in BENCHMARKS else n, n) for n in names]


def mode_choices(table: pd.DataFrame, benchmark: str) -> list[tuple[str, str]]:
    """(label, name) of the registered tasks with rows for ``benchmark`` (every task when none has)."""
    rows = table[benchmark_column(table) == benchmark] if len(table) else table
    present = set(rows["mode"].astype(str)) if len(rows) else set()
    names = [m for m in TASKS if m in present] or list(TASKS)
    return [(task_label(m), m) for m in names]


def subset_choices(table: pd.DataFrame, benchmark: str, mode: str) -> list[str]:
    """Subsets with rows for ``benchmark`` and ``mode``, known subsets first in their order."""
    if table.empty:
        return [PREFERRED_SUBSET]
    rows = table[(benchmark_column(table) == benchmark) & (table["mode"] == mode)]
    present = {str(s) for s in rows["subset"].dropna()}
    return [s for s in SUBSETS if s in present] + sorted(present - set(SUBSETS))


def default_subset(table: pd.DataFrame, benchmark: str, mode: str) -> str | None:
    """The subset a view of ``benchmark`` and ``mode`` opens on: the full benchmark when it has rows."""
    choices = subset_choices(table, benchmark, mode)
    if PREFERRED_SUBSET in choices:
        return PREFERRED_SUBSET
    return choices[0] if choices else None


def default_view(table: pd.DataFrame) -> View:
    """The comparable view the tab opens on: one benchmark, one task, one subset."""
    benchmark = benchmark_choices(table)[0][1]
    modes = [m for _, m in mode_choices(table, benchmark)]
    mode = DEFAULT_MODE if DEFAULT_MODE in modes else modes[0]
    subset = default_subset(table, benchmark, mode)
    return View(benchmark=benchmark, mode=mode, subsets=(subset,) if subset else ())


def fit_view(table: pd.DataFrame, view: View) -> View:
    """``view`` with every choice the data cannot show replaced by the default one.

    A benchmark or task without rows falls back to the default; subsets without rows are dropped
    (none left: the default subset). Unknown column groups and provenances are dropped.
    """
    benchmarks = [n for _, n in benchmark_choices(table)]
    benchmark = view.benchmark if view.benchmark in benchmarks else benchmarks[0]
    modes = [m for _, m in mode_choices(table, benchmark)]
    mode = view.mode if view.mode in modes else (DEFAULT_MODE if DEFAULT_MODE in modes else modes[0])
    available = subset_choices(table, benchmark, mode)
    subsets = tuple(s for s in view.subsets if s in available)
    if not subsets and view.subsets:
        fallback = default_subset(table, benchmark, mode)
        subsets = (fallback,) if fallback else ()
    return replace(
        view,
        benchmark=benchmark,
        mode=mode,
        subsets=subsets,
        provenances=tuple(p for p in view.provenances if p in PROVENANCES),
        columns=tuple(c for c in view.columns if c in OPTIONAL_COLUMNS),
        min_n=max(0, int(view.min_n)),
    )


# --------------------------------------------------------------------------- the URL

#: Query-string keys, short so that a shared link stays readable.
QUERY_KEYS: dict[str, str] = {
    "benchmark": "benchmark",
    "mode": "task",
    "subsets": "subset",
    "metric": "metric",
    "families": "family",
    "provenances": "provenance",
    "search": "search",
    "min_n": "min_n",
    "same_items": "same",
}


def view_to_query(view: View) -> str:
    """The query string of ``view`` (without ``?``); lists are comma-separated, defaults left out."""
    default = View()
    pairs: list[tuple[str, str]] = []
    for name, key in QUERY_KEYS.items():
        value = getattr(view, name)
        if name in ("benchmark", "mode"):
            pairs.append((key, str(value)))  # always named: a link says what it shows
            continue
        if value == getattr(default, name):
            continue
        if isinstance(value, tuple):
            pairs.append((key, ",".join(value)))
        elif isinstance(value, bool):
            pairs.append((key, "1" if value else "0"))
        else:
            pairs.append((key, str(value)))
    return urlencode(pairs)


def _split(value: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in value.split(",") if v.strip())


def view_from_query(params: Mapping[str, str], base: View | None = None) -> View:
    """The view a query string describes, on top of ``base`` (default :class:`View`); bad values are ignored.

    Args:
        params: The page's query parameters (``request.query_params``).
        base: What keys that are absent keep.
    """
    view = base or View()
    changes: dict[str, object] = {}
    for name, key in QUERY_KEYS.items():
        raw = params.get(key)
        if raw is None:
            continue
        if name in ("subsets", "families", "provenances"):
            changes[name] = _split(raw)
        elif name == "min_n":
            if raw.strip().isdigit():
                changes[name] = int(raw.strip())
        elif name == "same_items":
            changes[name] = raw.strip().lower() in ("1", "true", "yes", "on")
        else:
            changes[name] = raw.strip()
    return replace(view, **changes)  # type: ignore[arg-type]


def has_view_query(params: Mapping[str, str]) -> bool:
    """Whether the page was opened on a leaderboard link (so the Leaderboard tab is shown first)."""
    return any(key in params for key in QUERY_KEYS.values())


def query_js(names: Sequence[str]) -> str:
    """A browser function that writes the view's controls (given in ``names`` order) into the URL.

    It runs in the page after every change (Gradio's ``js=``), replaces the query string without a
    reload and returns its inputs unchanged. Keys follow :data:`QUERY_KEYS`.
    """
    keys = [QUERY_KEYS[n] for n in names]
    return (
        "(...values) => {"
        f" const keys = {keys!r};"
        " const url = new URL(window.location.href);"
        " keys.forEach((key, i) => {"
        "  let v = values[i];"
        # An empty subset list means "every subset", which differs from the default: keep it.
        "  if (Array.isArray(v)) { if (!v.length && key !== 'subset') v = ''; else v = v.join(',') || ','; }"
        "  if (typeof v === 'boolean') v = v ? '1' : '';"
        "  if (v === null || v === undefined || v === '') url.searchParams.delete(key);"
        "  else url.searchParams.set(key, String(v));"
        " });"
        " window.history.replaceState(null, '', url.toString());"
        " return values; }"
    )
