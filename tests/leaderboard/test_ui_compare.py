"""leaderboard.ui.compare and its figures: the reliability diagram, the paired comparison and the matrix of wins of a view."""

from __future__ import annotations

import numpy as np
import pytest

from leaderboard.board import LazyLeaderboard
from leaderboard.metrics.calibration import expected_calibration_error
from leaderboard.metrics.paired import paired_comparison
from leaderboard.ui import plots
from leaderboard.ui.compare import calibration_view, default_pair, paired_view, run_labels, wins_view
from leaderboard.ui.samples import sample_state, sample_view
from leaderboard.ui.views import View

N = 200  # resamples: enough for the tests' purposes, quick


@pytest.fixture(scope="module")
def data():
    return LazyLeaderboard(n_resamples=N).get()


FULL = View()  # the tab's default: MLLM-as-a-Judge score, the full benchmark
HQ_PAIR = View(mode="pair", subsets=("hq",))  # runs without verdict probabilities


def test_the_view_s_runs_are_labelled_as_the_table_labels_rows(data):
    labels = run_labels(data, FULL)
    assert [run_id for _, run_id in labels] == [
        "vju-all-score-gemini-2.5-flash",
        "vju-all-score-llava-critic-7b",
        "vju-all-score-phi-4-reasoning-vision",
    ]
    assert [label for label, _ in labels] == [
        "Gemini-2.5-Flash (all)",
        "LLaVA-Critic-7B (all)",
        "Phi-4-reasoning-vision (all)",
    ]
    assert run_labels(data, View(search="llava")) == [labels[1]]  # the search box narrows the choices


def test_the_default_pair_keeps_valid_choices_and_otherwise_takes_the_first_two():
    choices = [("A", "a"), ("B", "b"), ("C", "c")]
    assert default_pair(choices, None, None) == ("a", "b")
    assert default_pair(choices, "c", "a") == ("c", "a")
    assert default_pair(choices, "b", "b") == ("b", "a")  # never a run against itself
    assert default_pair(choices, "gone", "c") == ("a", "c")
    assert default_pair([("A", "a")], None, None) == ("a", None)
    assert default_pair([], "a", "b") == (None, None)


def test_the_reliability_diagram_pools_each_run_s_items_and_its_caption_quotes_the_table(data):
    view = calibration_view(data, FULL)
    assert set(view.bins["label"]) == {label for label, _ in run_labels(data, FULL)}
    assert (view.bins.groupby("run_id").size() == 10).all()  # ten equal-width bins per run
    table = data.table
    for run_id, bins in view.bins.groupby("run_id"):
        ece = table[(table["run_id"] == run_id) & (table["metric"] == "ece") & (table["dataset"] == "Average")]
        assert f"ECE {float(ece['value'].iloc[0]):.3f} [" in view.caption_md
        # The pooled ECE the caption quotes is the engine's ECE of the same items, bin by bin.
        n = int(bins["n"].sum())
        pooled = float((bins["n"] * bins["gap"].abs()).sum() / n)
        assert f"pools all {n} items (ECE {pooled:.3f})" in view.caption_md
        run = next(r for r in data.runs if r.run_id == run_id)
        assert n <= len(run.records)
    brier = table[(table["metric"] == "brier") & (table["dataset"] == "Average") & (table["subset"] == "all")]
    assert brier["run_id"].str.startswith("vju-").sum() == 3 and "Brier " in view.caption_md
    fig = plots.reliability_diagram(view.bins)
    assert [t.name for t in fig.data] == [
        "calibrated",
        *sorted(set(view.bins["label"]), key=list(view.bins["label"]).index),
    ]
    assert all(0 <= x <= 1 for t in fig.data[1:] for x in t.x)


def test_the_pooled_ece_of_a_bin_table_is_the_engine_s_ece():
    from leaderboard.metrics.calibration import reliability_bins

    confidence = np.array([0.05, 0.15, 0.55, 0.58, 0.95, 0.99, 1.0])
    correct = np.array([False, True, True, False, True, True, False])
    bins = reliability_bins(confidence, correct)
    pooled = float((bins["n"] * bins["gap"].abs()).sum() / bins["n"].sum())
    assert pooled == pytest.approx(expected_calibration_error(confidence, correct).value)


def test_a_view_without_probabilities_names_the_runs_that_have_them(data):
    view = calibration_view(data, HQ_PAIR)
    assert view.bins.empty
    assert view.caption_md.startswith("No run in this view stores verdict probabilities")
    for judge in ("Gemini-2.5-Flash", "LLaVA-Critic-7B", "Phi-4-reasoning-vision"):
        assert judge in view.caption_md
    assert "MLLM-as-a-Judge score (all)" in view.caption_md
    fig = plots.reliability_diagram(view.bins)
    assert not fig.data and "No run in this view" in fig.layout.annotations[0].text


def test_the_paired_comparison_shows_both_values_the_difference_its_interval_n_and_significance(data):
    a, b = "vju-all-score-gemini-2.5-flash", "vju-all-score-llava-critic-7b"
    view = paired_view(data, FULL, "pearson", a, b, N)
    runs = {r.run_id: r for r in data.runs}
    expected = paired_comparison(runs[a], runs[b], data.labels, "pearson", n_resamples=N)
    rows = view.table.to_dict("records")
    assert [r[""] for r in rows] == ["Gemini-2.5-Flash (all)", "LLaVA-Critic-7B (all)", "A − B"]
    assert rows[0]["Value"] == f"{expected.value_a:.3f}" and rows[1]["Value"] == f"{expected.value_b:.3f}"
    assert rows[2]["Value"] == f"{expected.difference:.3f}"
    assert rows[2]["95% CI"] == f"[{expected.ci_low:.3f}, {expected.ci_high:.3f}]"
    assert rows[2]["n"] == expected.n > 5000
    assert rows[2]["Significant"] == ("yes" if expected.significant else "no")
    assert f"on the {expected.n} items both judged" in view.note_md
    if expected.winner:
        assert "is significantly better" in view.note_md
    swapped = paired_view(data, FULL, "pearson", b, a, N).table.to_dict("records")
    assert float(swapped[2]["Value"]) == pytest.approx(-float(rows[2]["Value"]), abs=1e-3)


def test_the_paired_comparison_says_why_when_it_cannot_compare(data):
    a, b = "vju-all-score-gemini-2.5-flash", "vju-all-score-llava-critic-7b"
    assert "two different runs" in paired_view(data, FULL, "pearson", a, a, N).note_md
    assert "two different runs" in paired_view(data, FULL, "pearson", a, "not-in-view", N).note_md
    assert paired_view(data, View(search="llava"), "pearson", a, b, N).note_md.startswith(
        "A paired comparison needs two"
    )
    hq = [run_id for _, run_id in run_labels(data, View(subsets=("hq",)))]
    none = paired_view(data, View(subsets=("hq",)), "pearson", hq[0], hq[1], N)
    assert "no common items" in none.note_md  # HQ items were chosen per judge
    descriptive = paired_view(data, FULL, "length_bias", a, b, N)
    assert descriptive.table.empty and "No paired comparison" in descriptive.note_md


def test_the_matrix_of_wins_is_labelled_by_row_and_never_has_both_sides_win(data):
    view = wins_view(data, FULL, "pearson", N)
    labels = [label for label, _ in run_labels(data, FULL)]
    assert list(view.matrix.index) == labels == list(view.matrix.columns)
    m = view.matrix.to_numpy(dtype=float)
    assert np.isnan(np.diag(m)).all()
    off = ~np.eye(len(m), dtype=bool)
    assert np.isin(m[off], [0.0, 1.0]).all() and ((m + m.T)[off] <= 1).all()
    # Each cell is the engine's paired comparison of the two runs.
    runs = {r.run_id: r for r in data.runs}
    ids = [run_id for _, run_id in run_labels(data, FULL)]
    c = paired_comparison(runs[ids[0]], runs[ids[1]], data.labels, "pearson", n_resamples=N)
    assert m[0, 1] == float(c.winner == ids[0]) and m[1, 0] == float(c.winner == ids[1])
    fig = plots.win_heatmap(view.matrix, "pearson")
    assert list(fig.data[0].y) == labels
    assert sum(t == "wins" for line in fig.data[0].text for t in line) == int(m[off].sum())
    assert "Row beats column" in view.note_md


def test_the_matrix_of_wins_needs_a_direction_and_two_runs(data):
    assert wins_view(data, FULL, "length_bias", N).matrix.empty
    assert "descriptive" in wins_view(data, FULL, "length_bias", N).note_md
    assert wins_view(data, View(search="phi"), "pearson", N).matrix.empty
    assert (
        "Fewer than two"
        in plots.win_heatmap(wins_view(data, View(search="phi"), "pearson", N).matrix, "pearson")
        .layout.annotations[0]
        .text
    )


def test_the_sample_view_follows_the_view_s_benchmark(data):
    default = sample_state(data, "pair")
    assert default.subsets == ["hq", "hard"]
    mj = sample_state(data, "pair", benchmark="mj-bench")
    assert mj.subsets == ["all"] and mj.item is not None
    mj_ids = set(data.labels.loc[data.labels["benchmark"] == "mj-bench", "item_id"].astype(str))
    assert {value for _, value in mj.items} <= mj_ids
    shown = sample_view(data, "pair", "all", mj.item, benchmark="mj-bench")
    assert set(shown.verdicts["Run"]) == {r.run_id for r in data.runs if r.run_id.startswith("mjbench-")}
    assert sample_state(data, "score", benchmark="polaris").subsets == ["all"]
    # An item id the default benchmark also has shows only the chosen benchmark's verdicts.
    item = sample_state(data, "score", benchmark="polaris").item
    polaris = sample_view(data, "score", "all", item, benchmark="polaris")
    assert len(polaris.verdicts) == 2 and all(r.startswith("polaris-") for r in polaris.verdicts["Run"])
    if item in set(data.labels.loc[data.labels["benchmark"] == "mllm-as-a-judge", "item_id"].astype(str)):
        assert "vju-" not in " ".join(polaris.verdicts["Run"])
