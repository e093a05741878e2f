"""leaderboard.ui.views and the ranking, min-n, search and inflation rules of leaderboard.ui.table."""

from __future__ import annotations

import math
from urllib.parse import parse_qsl

import numpy as np
import pandas as pd
import pytest

from leaderboard.metrics.registry import HEADLINE_METRIC, METRICS
from leaderboard.schema import COLUMN_NAMES, DEFAULT_BENCHMARK, PROVENANCE_PAPER, PROVENANCE_RUN
from leaderboard.ui import plots
from leaderboard.ui.table import (
    MISSING,
    apply_min_n,
    badness_intervals,
    csv_frame,
    filter_rows,
    inflation_table,
    metric_choices,
    metric_title,
    metric_tooltip,
    rank_with_ties,
    search_terms,
    style_table,
    table_caption,
    wide_table,
)
from leaderboard.ui.views import (
    View,
    benchmark_choices,
    default_view,
    fit_view,
    has_view_query,
    query_js,
    subset_choices,
    view_from_query,
    view_to_query,
)


def row(judge, metric, dataset, value, *, lo=math.nan, hi=math.nan, n=20, subset="all", prov=PROVENANCE_RUN,
        run=None, mode="score", benchmark=None):  # fmt: skip
    out = {
        "judge": judge,
        "mode": mode,
        "metric": metric,
        "dataset": dataset,
        "value": value,
        "ci_low": lo,
        "ci_high": hi,
        "n": n,
        "coverage": 1.0,
        "provenance": prov,
        "subset": subset,
        "setting": "no-cot",
        "run_id": run or f"{judge}-{subset}",
        "reason": "",
    }
    if benchmark is not None:
        out["benchmark"] = benchmark
    return out


def frame(rows) -> pd.DataFrame:
    extra = ["benchmark"] if "benchmark" not in COLUMN_NAMES and any("benchmark" in r for r in rows) else []
    columns = list(COLUMN_NAMES) + extra
    out = pd.DataFrame(rows, columns=columns)
    out["n"] = out["n"].astype("Int64")
    return out


# ---------------------------------------------------------------------- ranks


def test_rank_counts_the_rows_whose_interval_lies_entirely_better():
    # Lower is better here. A [1, 2], B [1.5, 3] overlap A: both rank 1. C [2.5, 4] overlaps B but
    # lies entirely behind A: rank 2. D [5, 6] is behind all three: rank 4.
    assert rank_with_ties([1, 1.5, 2.5, 5], [2, 3, 4, 6]) == [1, 1, 2, 4]


def test_rows_with_equal_points_and_no_intervals_tie_and_nan_rows_get_no_rank():
    assert rank_with_ties([0.5, 0.5, 0.7, math.nan], [0.5, 0.5, 0.7, math.nan]) == [1, 1, 3, None]


def test_touching_intervals_are_a_tie():
    assert rank_with_ties([1, 2], [2, 3]) == [1, 1]


def test_higher_is_better_metrics_are_negated_and_descriptive_ones_measure_distance_from_the_ideal():
    best, worst = badness_intervals([0.8], [0.7], [0.9], "pearson")
    assert (best[0], worst[0]) == (-0.9, -0.7)
    best, worst = badness_intervals([0.1, -0.3], [-0.05, -0.4], [0.2, -0.2], "position_bias")
    assert list(best) == [0.0, pytest.approx(0.2)] and list(worst) == [pytest.approx(0.2), pytest.approx(0.4)]
    best, _ = badness_intervals([0.3], [0.2], [0.4], "tie_rate")  # no ideal: no order
    assert math.isnan(best[0])


def test_the_wide_table_ranks_with_ties_and_sorts_best_first():
    table = frame(
        [
            row("A", "pearson", "Average", 0.60, lo=0.50, hi=0.70),
            row("B", "pearson", "Average", 0.55, lo=0.45, hi=0.65),
            row("C", "pearson", "Average", 0.30, lo=0.20, hi=0.40),
            row("D", "pearson", "Average", math.nan),
        ]
    )
    wide = wide_table(table, "score")
    assert list(wide["Judge"]) == ["A (all)", "B (all)", "C (all)", "D (all)"]
    assert list(wide["Rank"]) == [1, 1, 3, pd.NA]


def test_descriptive_metrics_sort_by_distance_from_their_ideal():
    table = frame(
        [
            row("Far", "position_bias", "Average", -0.4, mode="pair"),
            row("Near", "position_bias", "Average", 0.05, mode="pair"),
            row("Mid", "position_bias", "Average", 0.2, mode="pair"),
        ]
    )
    wide = wide_table(table, "pair", "position_bias")
    assert list(wide["Judge"]) == ["Near (all)", "Mid (all)", "Far (all)"]
    assert "distance from 0" in table_caption(table, "pair", "position_bias", wide)


# ---------------------------------------------------------------------- minimum n and missing cells


@pytest.fixture
def cells() -> pd.DataFrame:
    return frame(
        [
            row("J", "pearson", "COCO", 0.8, lo=0.7, hi=0.9, n=40),
            row("J", "pearson", "Math", 1.0, lo=1.0, hi=1.0, n=2),
            row("J", "pearson", "WIT", math.nan, n=0),  # nothing parsed: NaN, never dropped
            row("J", "pearson", "Average", 0.9, lo=0.8, hi=1.0, n=42),
            row("P", "pearson", "COCO", 0.5, n=None, prov=PROVENANCE_PAPER, run="paper"),
            row("P", "pearson", "Math", 0.4, n=None, prov=PROVENANCE_PAPER, run="paper"),
            row("P", "pearson", "WIT", 0.3, n=None, prov=PROVENANCE_PAPER, run="paper"),
            row("P", "pearson", "Average", 0.4, n=None, prov=PROVENANCE_PAPER, run="paper"),
        ]
    )


def test_min_n_empties_small_cells_and_recomputes_the_average_over_the_rest(cells):
    out = apply_min_n(cells, 10).set_index(["judge", "dataset"])
    assert math.isnan(out.loc[("J", "Math"), "value"]) and out.loc[("J", "Math"), "reason"] == "n < 10"
    assert out.loc[("J", "Average"), "value"] == pytest.approx(0.8)
    assert math.isnan(out.loc[("J", "Average"), "ci_low"])  # the bootstrap is not redone here
    assert "interval not recomputed" in out.loc[("J", "Average"), "reason"]
    assert out.loc[("P", "Math"), "value"] == 0.4  # reported numbers carry no n: untouched
    assert apply_min_n(cells, 0) is cells


def test_an_average_over_fewer_datasets_is_marked_and_missing_cells_show_a_dash(cells):
    wide = wide_table(cells, "score", min_n=10)
    judge = wide.set_index("Judge").loc["J (all)"]
    assert judge["WIT"] is None or math.isnan(judge["WIT"])  # present as a column, empty as a value
    html = style_table(wide).to_html()
    assert "0.800 (1/3)" in html  # J's Average rests on 1 of the 3 datasets
    assert f"{MISSING} · n 2" in html and "0.800 · n 40" in html  # per-cell n beside the value
    assert "(k/N)" in table_caption(cells, "score", None, wide, min_n=10)
    exported = csv_frame(wide)
    assert list(exported.columns[exported.columns.get_loc("COCO") :][:2]) == ["COCO", "COCO n"]


def test_a_zero_width_interval_is_not_shown_as_certainty(cells):
    wide = wide_table(cells, "score", columns=["Datasets", "Dataset CIs"])
    assert wide.set_index("Judge").loc["J (all)", "Math"] == "1.000 (no spread)"
    fig = plots.dataset_bars(filter_rows(cells, "score"), "pearson")
    judge = next(t for t in fig.data if t.name.startswith("J "))
    math_at = list(judge.x).index("Math")
    assert judge.error_y.array[math_at] is None or math.isnan(judge.error_y.array[math_at])


# ---------------------------------------------------------------------- search, choices and names


def test_search_accepts_semicolon_as_or_and_everything_follows_it():
    table = frame(
        [row(j, "pearson", "Average", v) for j, v in (("GPT-4V", 0.5), ("LLaVA-1.6-34B", 0.4), ("Qwen", 0.3))]
    )
    assert search_terms(" gpt ; llava;; ") == ["gpt", "llava"]
    wide = wide_table(table, "score", search="gpt; LLAVA")
    assert list(wide["Judge"]) == ["GPT-4V (all)", "LLaVA-1.6-34B (all)"]
    assert set(filter_rows(table, "score", search="qwen")["judge"]) == {"Qwen"}
    assert "2 row(s)" in table_caption(table, "score", None, wide, search="gpt; llava")


def test_the_metric_selector_offers_only_metrics_with_values_in_the_view():
    table = frame(
        [
            row("A", "pearson", "Average", 0.5),
            row("A", "spearman", "Average", math.nan),  # a row, but no value
            row("B", "kendall", "Average", 0.2, subset="hq"),
        ]
    )
    assert [n for _, n in metric_choices(table, "score", subsets=["all"])] == ["pearson"]
    assert [n for _, n in metric_choices(table, "score", subsets=["hq"])] == ["kendall"]
    wide = wide_table(table, "score", "pearson", subsets=["hq"])  # pearson has nothing on hq
    assert "kendall" in table_caption(table, "score", "pearson", wide, subsets=["hq"])


def test_every_metric_has_a_readable_name_and_a_one_line_tooltip():
    for spec in METRICS:
        title = metric_title(spec.name)
        assert "_" not in title and title[0].isupper(), title
        tip = metric_tooltip(spec.name)
        assert tip.startswith(spec.name) and "\n" not in tip


# ---------------------------------------------------------------------- the comparable default view


def test_the_default_view_is_one_benchmark_one_task_one_subset_preferring_the_full_benchmark():
    table = frame(
        [
            row("A", "pearson", "Average", 0.5, subset="hq"),
            row("P", "pearson", "Average", 0.4, prov=PROVENANCE_PAPER, run="paper"),
            row("B", "accuracy_with_tie", "Average", 0.5, mode="pair", subset="hq"),
        ]
    )
    view = default_view(table)
    assert (view.benchmark, view.mode, view.subsets) == (DEFAULT_BENCHMARK, next(iter(HEADLINE_METRIC)), ("all",))
    assert subset_choices(table, DEFAULT_BENCHMARK, "score") == ["all", "hq"]
    only_hq = table[table["subset"] == "hq"]
    assert default_view(only_hq).subsets == ("hq",)  # falls back to what the data has


def test_a_table_without_a_benchmark_column_reads_as_the_default_benchmark_and_new_ones_are_offered():
    plain = frame([row("A", "pearson", "Average", 0.5)])
    assert benchmark_choices(plain) == [("MLLM-as-a-Judge", DEFAULT_BENCHMARK)]
    mixed = frame(
        [
            row("A", "pearson", "Average", 0.5, benchmark=DEFAULT_BENCHMARK),
            row("B", "accuracy_with_tie", "Average", 0.6, mode="pair", benchmark="some-new-bench"),
        ]
    )
    assert [n for _, n in benchmark_choices(mixed)] == [DEFAULT_BENCHMARK, "some-new-bench"]
    assert list(wide_table(mixed, "pair", benchmark="some-new-bench")["Judge"]) == ["B (all)"]
    assert wide_table(mixed, "pair", benchmark=DEFAULT_BENCHMARK).empty
    moved = fit_view(mixed, View(benchmark="some-new-bench", mode="score"))
    assert moved.mode == "pair"  # that benchmark has no score rows


# ---------------------------------------------------------------------- the URL


def test_a_view_survives_the_query_string():
    view = View(
        benchmark=DEFAULT_BENCHMARK,
        mode="pair",
        subsets=("all", "hq"),
        metric="macro_f1",
        families=("GPT",),
        search="gpt; llava",
        min_n=5,
        same_items=True,
    )
    query = view_to_query(view)
    params = dict(parse_qsl(query, keep_blank_values=True))
    assert params["task"] == "pair" and params["subset"] == "all,hq" and params["same"] == "1"
    assert view_from_query(params) == view
    assert has_view_query(params) and not has_view_query({"unrelated": "1"})
    every_subset = view_from_query({"subset": ","})
    assert every_subset.subsets == ()  # "every subset", not the default one
    assert view_from_query({"min_n": "lots"}).min_n == View().min_n  # a bad value is ignored


def test_the_url_writer_names_every_control_it_is_given():
    js = query_js(["benchmark", "mode", "subsets"])
    assert "'benchmark', 'task', 'subset'" in js and "history.replaceState" in js


# ---------------------------------------------------------------------- HQ inflation


def test_the_inflation_view_puts_the_same_judge_on_hq_beside_all():
    table = frame(
        [
            row("GPT-4V", "pearson", "Average", 0.80, subset="hq"),
            row("GPT-4V", "pearson", "Average", 0.45, subset="all"),
            row("GPT-4V", "pearson", "Average", 0.49, subset="all", prov=PROVENANCE_PAPER, run="paper"),
            row("Only-HQ", "pearson", "Average", 0.70, subset="hq"),
        ]
    )
    out = inflation_table(table, "score", "pearson")
    assert out.to_dict("records") == [{"Judge": "GPT-4V", "all": 0.45, "hq": 0.8, "hq - all": 0.35}]
    fig = plots.inflation_bars(out, "pearson")
    assert [t.name for t in fig.data] == ["full benchmark (all)", "HQ subset (hq)"]
    assert plots.inflation_bars(inflation_table(table, "pair", "accuracy_with_tie"), "x").layout.annotations


def test_the_embedded_table_opens_on_a_comparable_view():
    from leaderboard.board import load_leaderboard

    data = load_leaderboard(n_resamples=20)
    view = default_view(data.table)
    wide = wide_table(data.table, view.mode, **view.filters())
    assert len(wide) >= 2 and wide["Judge"].str.contains(f"({view.subsets[0]})", regex=False).all()
    ranks = [r for r in wide["Rank"] if r is not pd.NA]
    assert ranks[0] == 1 and ranks == sorted(ranks)
    assert np.isfinite(pd.to_numeric(wide["Average"], errors="coerce")).any()
