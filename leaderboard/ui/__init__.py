"""The Space's Leaderboard and About tabs.

Rooms:

* :mod:`~leaderboard.ui.tab`: the widgets and their wiring (build_leaderboard_tab, build_about_tab);
  the only module here that imports gradio;
* :mod:`~leaderboard.ui.table`: filtering, min n, ranks with ties, pivoting, sorting and formatting the long table;
* :mod:`~leaderboard.ui.views`: the view (benchmark, task, subsets, filters), its default comparable form, the URL;
* :mod:`~leaderboard.ui.comparable`: tables the engine recomputes on demand (same items only, another min n);
* :mod:`~leaderboard.ui.compare`: the view's runs against each other (paired comparison, matrix of
  significant wins) and against their own confidence (reliability diagram, ECE, Brier);
* :mod:`~leaderboard.ui.samples`: the sample view (one item, its label, each judge's verdict);
* :mod:`~leaderboard.ui.plots`: the plotly figures;
* :mod:`~leaderboard.ui.about`: the About tab's prose, its metric table from the registry.

The names below are looked up lazily (PEP 562), so that importing ``leaderboard.ui.table`` for a
test or a script does not import gradio.
"""

from __future__ import annotations

import importlib
from typing import Any

_HOMES: dict[str, str] = {
    "build_leaderboard_tab": "tab",
    "build_about_tab": "tab",
    "wide_table": "table",
    "filter_rows": "table",
    "style_table": "table",
    "table_caption": "table",
    "rank_with_ties": "table",
    "inflation_table": "table",
    "View": "views",
    "default_view": "views",
    "view_from_query": "views",
    "view_to_query": "views",
    "same_items_table": "comparable",
    "calibration_view": "compare",
    "paired_view": "compare",
    "wins_view": "compare",
    "judge_inputs": "samples",
    "write_csv": "table",
    "sample_view": "samples",
    "sample_state": "samples",
    "SampleView": "samples",
    "about_markdown": "about",
}

__all__ = sorted(_HOMES)


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'leaderboard.ui' has no attribute {name!r}")
    return getattr(importlib.import_module(f"leaderboard.ui.{home}"), name)
