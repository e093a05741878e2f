"""Long tables for views the loaded table does not hold, computed by the engine on demand and cached.

* :func:`same_items_table`: every shown run restricted to the items all of them judged, recomputed
  with :func:`leaderboard.metrics.compute_rows` (reported rows have no items and are left out);
* :func:`table_at_min_n`: the table under another minimum n, recomputed by the engine when it takes
  ``min_n``; otherwise :func:`leaderboard.ui.table.apply_min_n` applies the rule to the loaded table.

No gradio; the numbers all come from the engine.
"""

from __future__ import annotations

import inspect
import threading
from collections import OrderedDict
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import pandas as pd

from leaderboard.schema import PROVENANCE_PAPER
from leaderboard.ui.table import filter_rows

if TYPE_CHECKING:
    from leaderboard.board import LeaderboardData
    from leaderboard.ui.views import View

#: Recomputed tables kept per process (each is small; a visitor toggling back and forth hits them).
CACHE_SIZE = 16
_CACHE: OrderedDict[tuple, Any] = OrderedDict()
_LOCK = threading.Lock()


def _cached(key: tuple, make):
    with _LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
    value = make()
    with _LOCK:
        _CACHE[key] = value
        while len(_CACHE) > CACHE_SIZE:
            _CACHE.popitem(last=False)
    return value


def engine_min_n() -> int | None:
    """The engine's default minimum n per cell, or None when the engine has no such rule yet."""
    from leaderboard.metrics import compute_rows

    parameter = inspect.signature(compute_rows).parameters.get("min_n")
    if parameter is None or not isinstance(parameter.default, int):
        return None
    return parameter.default


def _engine_kwargs(min_n: int | None) -> dict[str, int]:
    return {"min_n": int(min_n or 0)} if engine_min_n() is not None else {}


def table_at_min_n(data: LeaderboardData, min_n: int, n_resamples: int = 1000) -> tuple[pd.DataFrame, bool]:
    """The long table under ``min_n`` and whether the engine applied it.

    Returns:
        ``(table, applied)``: when ``applied`` is False the caller applies the rule itself
        (:func:`leaderboard.ui.table.apply_min_n`), which can only hide cells.
    """
    default = engine_min_n()
    if default is None:
        return data.table, False
    if min_n == default:
        return data.table, True

    def make() -> pd.DataFrame:
        from leaderboard.metrics import build_leaderboard

        reference = data.table[data.table["provenance"] == PROVENANCE_PAPER]
        rule: dict[str, Any] = {"min_n": min_n}  # engine_min_n() said the engine takes it
        return build_leaderboard(data.runs, data.labels, reference, n_resamples=n_resamples, **rule)

    return _cached(("min_n", id(data), min_n, n_resamples), make), True


def shown_runs(data: LeaderboardData, view: View) -> list:
    """The loaded runs whose rows the view shows (reported rows are no runs)."""
    rows = filter_rows(data.table, view.mode, **view.filters())
    ids = set(rows.loc[rows["provenance"] != PROVENANCE_PAPER, "run_id"].astype(str))
    return [run for run in data.runs if run.run_id in ids and run.manifest.mode == view.mode]


def common_items(runs) -> set[str]:
    """The item ids every one of ``runs`` has a judgment for."""
    sets = [set(run.records["item_id"].astype(str)) for run in runs]
    return set.intersection(*sets) if sets else set()


def same_items_table(data: LeaderboardData, view: View, n_resamples: int = 1000) -> tuple[pd.DataFrame, str]:
    """The view's runs recomputed on the items all of them judged, and a sentence saying what was done.

    Returns:
        ``(table, note)``: the engine's rows for the restricted runs (reported rows left out: they
        have no items), and a Markdown sentence for the caption.
    """
    runs = shown_runs(data, view)
    if len(runs) < 2:
        return data.table, "Same items only: fewer than two computed runs are shown, so nothing was restricted."
    items = common_items(runs)
    if not items:
        # HQ items were chosen per judge, so two HQ runs may share none: say so rather than show nothing.
        return data.table, f"Same items only: the {len(runs)} shown runs share no item, so the rows are not restricted."
    key = ("same", id(data), tuple(sorted(r.run_id for r in runs)), view.min_n, n_resamples)

    def make() -> pd.DataFrame:
        from leaderboard.metrics import compute_rows

        restricted = []
        for run in runs:
            keep = run.records["item_id"].astype(str).isin(items)
            restricted.append(replace(run, records=run.records[keep].reset_index(drop=True)))
        return compute_rows(
            restricted, data.labels, modes=[view.mode], n_resamples=n_resamples, **_engine_kwargs(view.min_n)
        )

    table = _cached(key, make)
    note = (
        f"Same items only: {len(runs)} runs restricted to the {len(items)} item(s) all of them judged; "
        "reported rows are left out (they carry no items)."
    )
    return table, note
