"""Rank with ties from intervals, and paired comparisons of runs on their common items, by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from leaderboard.errors import LeaderboardError
from leaderboard.metrics.paired import paired_comparison, win_matrix
from leaderboard.metrics.ranks import rank_with_ties, ranks_from_intervals
from leaderboard.metrics.tables import pair_accuracy
from leaderboard.schema import PROVENANCE_RUN
from leaderboard.store.format import Judgment, Manifest
from leaderboard.store.labels import LABEL_COLUMNS
from leaderboard.store.read import load_runs
from leaderboard.store.write import write_run

# --------------------------------------------------------------------------- ranks


def row(judge, metric, low, high, value=None, subset="all", dataset="Average", benchmark="mllm-as-a-judge"):
    value = (low + high) / 2 if value is None and low is not None else value
    return {"judge": judge, "benchmark": benchmark, "mode": "score", "subset": subset, "metric": metric,
            "dataset": dataset, "value": value, "ci_low": low, "ci_high": high}  # fmt: skip


def test_overlapping_intervals_share_a_rank_and_a_row_is_beaten_only_by_wholly_better_ones():
    table = pd.DataFrame(
        [
            row("A", "pearson", 0.5, 0.7),
            row("B", "pearson", 0.4, 0.6),  # overlaps A: both rank 1
            row("C", "pearson", 0.1, 0.3),  # A and B lie wholly above: 1 + 2
            row("D", "pearson", None, None, value=math.nan),  # no value: no rank
            row("paper", "pearson", None, None, value=0.35),  # no interval: the point [.35, .35]
            row("E", "pearson", 0.0, 0.05, subset="hq"),  # another subset: ranked on its own
        ]
    )
    ranks = rank_with_ties(table)
    # C is also beaten by the paper's point .35 > .3, so 4; the paper's .35 lies under A and B, so 3
    assert list(ranks) == [1, 1, 4, pd.NA, 3, 1]


def test_lower_is_better_metrics_rank_ascending_and_descriptive_metrics_get_no_rank():
    table = pd.DataFrame(
        [
            row("X", "normalized_levenshtein", 0.1, 0.2),
            row("Y", "normalized_levenshtein", 0.25, 0.3),
            row("Z", "position_bias", 0.0, 0.1),
            row("W", "not_a_metric", 0.0, 0.1),
        ]
    )
    assert list(rank_with_ties(table)) == [1, 2, pd.NA, pd.NA]


def test_rows_of_other_benchmarks_or_datasets_are_not_compared():
    table = pd.DataFrame(
        [
            row("A", "pearson", 0.8, 0.9),
            row("B", "pearson", 0.1, 0.2, benchmark="polaris"),
            row("C", "pearson", 0.1, 0.2, dataset="COCO"),
        ]
    )
    assert list(rank_with_ties(table)) == [1, 1, 1]


def test_ranks_from_intervals_on_arrays():
    ranks = ranks_from_intervals(np.array([0.5, 0.1, np.nan]), np.array([0.6, 0.2, np.nan]), True)
    assert ranks[0] == 1 and ranks[1] == 2 and math.isnan(ranks[2])


# --------------------------------------------------------------------------- paired comparisons


def pair_labels(human: list[str]) -> pd.DataFrame:
    return pd.DataFrame(
        [{"mode": "pair", "subset": "all", "item_id": str(i + 1), "dataset": "WIT", "human_label": h,
          "n_responses": 2, "response_lengths": "", "image_id": str(i + 1), "label_issue": ""}
         for i, h in enumerate(human)],
        columns=list(LABEL_COLUMNS),
    )  # fmt: skip


def pair_run(root, run_id: str, verdicts: list[str | None]):
    judgments = [Judgment(str(i + 1), "WIT", v) for i, v in enumerate(verdicts) if v is not None]
    write_run(root / run_id, Manifest(run_id, run_id.upper(), "pair", PROVENANCE_RUN), judgments)


def test_a_paired_comparison_uses_only_the_common_items(tmp_path):
    labels = pair_labels(["A", "B", "A", "B"])
    pair_run(tmp_path, "a", ["A", "B", "A", "A"])  # right on items 1-3, wrong on 4
    pair_run(tmp_path, "b", ["B", "B", "A", None])  # did not judge item 4
    runs = {r.run_id: r for r in load_runs([tmp_path], labels).runs}
    result = paired_comparison(runs["a"], runs["b"], labels, "accuracy_with_tie", n_resamples=500, min_n=1)
    # on items 1-3: A 3/3, B 2/3 (item 4 is left out although A judged it)
    assert result.value_a == pytest.approx(1.0) and result.value_b == pytest.approx(2 / 3)
    assert result.value_b == pytest.approx(pair_accuracy(["B", "B", "A"], ["A", "B", "A"]).value)
    assert result.difference == pytest.approx(1 / 3) and result.n == 3
    # per-item differences (1, 0, 0): a resample is all zeros with probability (2/3)^3 = .30, so
    # the interval starts at 0 and the difference is not significant
    assert result.ci_low == pytest.approx(0.0) and result.ci_high <= 1.0
    assert not result.significant and result.winner == ""
    # too few common items for the default minimum n
    small = paired_comparison(runs["a"], runs["b"], labels, "accuracy_with_tie", n_resamples=50)
    assert math.isnan(small.difference) and "n >= 10" in small.reason


def test_a_clearly_better_run_wins_significantly_and_the_matrix_counts_wins(tmp_path):
    human = ["A", "B"] * 6
    labels = pair_labels(human)
    pair_run(tmp_path, "good", human)  # 12 / 12
    wrong = ["B" if h == "A" else "A" for h in human]
    pair_run(tmp_path, "weak", human[:2] + wrong[2:])  # 2 / 12
    pair_run(tmp_path, "weak2", human[:2] + wrong[2:])  # the same verdicts as weak
    runs = sorted(load_runs([tmp_path], labels).runs, key=lambda r: ["good", "weak", "weak2"].index(r.run_id))
    result = paired_comparison(runs[0], runs[1], labels, "accuracy_with_tie", n_resamples=500)
    assert result.difference == pytest.approx(10 / 12) and result.n == 12
    assert result.ci_low > 0 and result.significant and result.winner == "good"
    matrix = win_matrix(runs, labels, "accuracy_with_tie", n_resamples=300)
    assert list(matrix.index) == ["good", "weak", "weak2"]
    assert matrix.loc["good", "weak"] == 1 and matrix.loc["weak", "good"] == 0
    assert matrix.loc["good", "weak2"] == 1
    assert matrix.loc["weak", "weak2"] == 0 and matrix.loc["weak2", "weak"] == 0  # identical: never significant
    assert math.isnan(matrix.loc["good", "good"])
    assert matrix.sum(axis=1).tolist() == [2, 0, 0]


def test_lower_is_better_metrics_pick_the_lower_run_and_descriptive_ones_no_winner(tmp_path):
    labels = pair_labels(["A", "B"] * 6)
    pair_run(tmp_path, "always-a", ["A"] * 12)
    pair_run(tmp_path, "balanced", ["A", "B"] * 6)
    runs = sorted(load_runs([tmp_path], labels).runs, key=lambda r: r.run_id)
    bias = paired_comparison(runs[0], runs[1], labels, "position_bias", n_resamples=300)
    assert bias.difference == pytest.approx(0.5) and bias.significant and bias.winner == ""
    failures = paired_comparison(runs[0], runs[1], labels, "parse_failure_rate", n_resamples=50)
    assert failures.difference == pytest.approx(0.0) and not failures.significant


def test_runs_of_different_tasks_cannot_be_compared(tmp_path):
    labels = pair_labels(["A"])
    pair_run(tmp_path, "a", ["A"])
    write_run(tmp_path / "s", Manifest("s", "S", "score", PROVENANCE_RUN), [Judgment("1", "WIT", 3)])
    runs = {r.run_id: r for r in load_runs([tmp_path]).runs}
    with pytest.raises(LeaderboardError, match="not comparable"):
        paired_comparison(runs["a"], runs["s"], labels, "accuracy_with_tie")
    with pytest.raises(LeaderboardError, match="no paired comparison"):
        paired_comparison(runs["a"], runs["a"], labels, "length_bias")
