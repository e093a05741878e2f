"""Metric functions: hand-computed cases, degenerate input, and the table/bootstrap engine."""

from __future__ import annotations

import math

import numpy as np
import pytest

from leaderboard.metrics import tables as M

# --------------------------------------------------------------------------- score, by hand


def test_pearson_hand_computed():
    # x = 1,2,3,4 and y = 2,1,4,3: deviations (-1.5,-.5,.5,1.5) and (-.5,-1.5,1.5,.5); sum of products 3, each
    # sum of squares 5, so r = 3 / 5.
    result = M.pearson([1, 2, 3, 4], [2, 1, 4, 3])
    assert result.value == pytest.approx(0.6)
    assert result.n == 4 and result.ok and result.reason == ""
    assert M.pearson([1, 2, 3], [3, 2, 1]).value == pytest.approx(-1.0)


def test_spearman_uses_average_ranks_for_ties():
    # ranks (1.5, 1.5, 3) and (1, 2, 3): products .5 + 0 + 1 = 1.5; squares 1.5 and 2 -> 1.5 / sqrt(3)
    assert M.spearman([1, 1, 2], [1, 2, 3]).value == pytest.approx(1.5 / math.sqrt(3))
    assert M.spearman([1, 2, 3, 4], [2, 1, 4, 3]).value == pytest.approx(0.6)


def test_kendall_tau_b_hand_computed():
    # pairs of (1,2,3,4) vs (2,1,4,3): 4 concordant, 2 discordant, no ties -> (4 - 2) / 6
    assert M.kendall([1, 2, 3, 4], [2, 1, 4, 3]).value == pytest.approx(1 / 3)


def test_exact_and_within_one_agreement():
    judge, human = [1, 2, 3, 5], [1, 3, 5, 5]
    assert M.exact_agreement(judge, human).value == pytest.approx(0.5)
    assert M.within_agreement(judge, human, tolerance=1).value == pytest.approx(0.75)
    assert M.mean_difference(judge, human).value == pytest.approx(-0.75)


@pytest.mark.parametrize("fn", [M.pearson, M.spearman, M.kendall])
def test_correlations_degenerate_cases_give_nan_with_reason(fn):
    assert fn([], []).reason == M.NO_ITEMS and math.isnan(fn([], []).value)
    assert fn([3], [4]).reason == M.TOO_FEW
    assert fn([3, 3, 3], [1, 2, 3]).reason == M.JUDGE_CONSTANT
    assert fn([1, 2, 3], [4, 4, 4]).reason == M.HUMAN_CONSTANT
    assert not fn([3, 3], [4, 4]).ok


def test_agreement_of_nothing_is_nan_not_a_crash():
    assert M.exact_agreement([], []).reason == M.NO_ITEMS
    assert M.mean_difference([], []).n == 0


def test_misaligned_input_says_how_to_fix():
    with pytest.raises(ValueError, match="aligned"):
        M.pearson([1, 2], [1, 2, 3])


# --------------------------------------------------------------------------- pair, by hand

JUDGE = ["A", "tie", "B", "A"]
HUMAN = ["A", "A", "B", "B"]


def test_pair_accuracy_three_tie_rules():
    assert M.pair_accuracy(JUDGE, HUMAN, "with_tie").value == pytest.approx(2 / 4)
    # authors' rule: the judge's tie on item 2 drops it -> 2 of 3
    authors = M.pair_accuracy(JUDGE, HUMAN, "authors")
    assert authors.value == pytest.approx(2 / 3) and authors.n == 3
    # human-only rule: no human tie, nothing dropped, the judge's tie is wrong -> 2 of 4
    assert M.pair_accuracy(JUDGE, HUMAN, "human_only").value == pytest.approx(2 / 4)
    # a human tie is dropped by both "without tie" rules
    assert M.pair_accuracy(["A", "B"], ["tie", "B"], "human_only").value == pytest.approx(1.0)


def test_macro_f1_hand_computed():
    # A: tp 1, fp 1, fn 1 -> 1/2; B: tp 1, fp 0, fn 1 -> 2/3; tie: tp 0, fp 1 -> 0
    assert M.macro_f1(JUDGE, HUMAN).value == pytest.approx((0.5 + 2 / 3 + 0) / 3)
    # a class absent from both sides is left out, not scored 0
    assert M.macro_f1(["A", "B"], ["A", "B"]).value == pytest.approx(1.0)


def test_pair_degenerate_and_bad_labels():
    assert M.pair_accuracy(["tie"], ["tie"], "authors").reason == M.NO_NON_TIE
    assert M.pair_accuracy([], [], "with_tie").reason == M.NO_ITEMS
    assert M.macro_f1([], []).reason == M.NO_ITEMS
    with pytest.raises(ValueError, match="'C' to 'tie'"):
        M.pair_accuracy(["C"], ["A"])
    with pytest.raises(ValueError, match="ties must be"):
        M.pair_accuracy(["A"], ["A"], "sometimes")


# --------------------------------------------------------------------------- batch and coverage


def test_normalized_levenshtein_by_hand():
    assert M.normalized_levenshtein("ABCD", "BACD") == pytest.approx(2 / 4)
    assert M.normalized_levenshtein("CAB", "CABD") == pytest.approx(1 / 4)  # divided by the longer string
    assert M.normalized_levenshtein("", "") == 0.0
    mean = M.mean_normalized_levenshtein(["ABCD", "CAB"], ["BACD", "CBA"])
    assert mean.value == pytest.approx((0.5 + 2 / 3) / 2) and mean.n == 2
    assert M.mean_normalized_levenshtein([], []).reason == M.NO_ITEMS


def test_coverage():
    assert M.coverage(3, 4).value == pytest.approx(0.75)
    assert not M.coverage(0, 0).ok
    with pytest.raises(ValueError):
        M.coverage(5, 4)


# --------------------------------------------------------------------------- the table engine


def _score_table(judge, human):
    table = np.zeros((5, 5))
    np.add.at(table, (np.asarray(judge) - 1, np.asarray(human) - 1), 1)
    return table


def test_score_table_stats_match_per_item_functions():
    rng = np.random.default_rng(7)
    per_item = {
        "pearson": M.pearson, "spearman": M.spearman, "kendall": M.kendall,
        "exact_agreement": M.exact_agreement, "within1_agreement": M.within_agreement,
        "mean_score_difference": M.mean_difference,
    }  # fmt: skip
    for trial in range(150):
        n = int(rng.integers(0, 30))
        judge = rng.integers(1, 6, n)
        human = np.clip(judge + rng.integers(-2, 3, n), 1, 5)
        if trial % 5 == 0:
            human[:] = 3  # constant side
        stats = M.score_table_stats(_score_table(judge, human))
        for name, fn in per_item.items():
            expected, got = fn(judge, human).value, float(stats[name])
            assert (math.isnan(expected) and math.isnan(got)) or got == pytest.approx(expected), (name, judge, human)


def test_pair_table_stats_match_per_item_functions():
    rng = np.random.default_rng(3)
    labels = np.array(M.PAIR_LABELS)
    for _ in range(100):
        n = int(rng.integers(0, 20))
        judge, human = labels[rng.integers(0, 3, n)], labels[rng.integers(0, 3, n)]
        table = np.zeros((3, 3))
        for j, h in zip(judge, human, strict=True):
            table[M.PAIR_LABELS.index(j), M.PAIR_LABELS.index(h)] += 1
        stats = M.pair_table_stats(table)
        for name, expected in (
            ("accuracy_with_tie", M.pair_accuracy(judge, human, "with_tie")),
            ("accuracy_without_tie", M.pair_accuracy(judge, human, "authors")),
            ("accuracy_without_tie_human_only", M.pair_accuracy(judge, human, "human_only")),
            ("macro_f1", M.macro_f1(judge, human)),
        ):
            got = float(stats[name])
            assert (math.isnan(expected.value) and math.isnan(got)) or got == pytest.approx(expected.value)


def test_kendall_table_handles_any_shape():
    from scipy.stats import kendalltau

    rng = np.random.default_rng(11)
    x, y = rng.integers(0, 3, 40), rng.integers(0, 4, 40)
    table = np.zeros((3, 4))
    np.add.at(table, (x, y), 1)
    assert float(M.kendall_tau_b_table(table)) == pytest.approx(kendalltau(x, y).statistic)


def test_average_ranks_rows_and_vectors():
    assert M.average_ranks(np.array([10.0, 20.0, 10.0])).tolist() == [1.5, 3.0, 1.5]
    assert M.average_ranks(np.array([[3.0, 1.0, 2.0], [5.0, 5.0, 1.0]])).tolist() == [[3, 1, 2], [2.5, 2.5, 1]]


def test_mean_from_counts():
    assert float(M.mean_from_counts(np.array([2, 0, 2]), np.array([0.0, 0.5, 1.0]))) == pytest.approx(0.5)
    assert math.isnan(float(M.mean_from_counts(np.array([0, 0]), np.array([0.0, 1.0]))))


# --------------------------------------------------------------------------- bootstrap


def test_multinomial_resample_is_seeded_and_keeps_n():
    tables = np.array([[5, 0, 3], [0, 0, 0]])
    a = M.multinomial_resample(tables, 200, np.random.default_rng(0))
    b = M.multinomial_resample(tables, 200, np.random.default_rng(0))
    assert a.shape == (200, 2, 3) and np.array_equal(a, b)
    assert (a[:, 0].sum(-1) == 8).all() and (a[:, 1] == 0).all()
    assert (a[:, 0, 1] == 0).all()  # a category never observed is never drawn


def test_multinomial_bootstrap_matches_item_bootstrap():
    rng = np.random.default_rng(5)
    hits = (rng.random(300) < 0.7).astype(float)
    item_ci = M.bootstrap_ci(lambda h: h.mean(-1), hits, n_resamples=2000, seed=1)
    counts = np.array([[int((hits == 0).sum()), int((hits == 1).sum())]])
    boot = M.mean_from_counts(M.multinomial_resample(counts, 2000, np.random.default_rng(1)), np.array([0.0, 1.0]))
    low, high = M.percentile_interval(boot)
    assert low[0] == pytest.approx(item_ci[0], abs=0.015) and high[0] == pytest.approx(item_ci[1], abs=0.015)
    assert low[0] < hits.mean() < high[0]


def test_bootstrap_ci_is_seeded_and_brackets_the_estimate():
    rng = np.random.default_rng(2)
    x = rng.normal(size=200)
    y = x + rng.normal(size=200)
    first = M.bootstrap_ci(M.pearson_rows, x, y, seed=3)
    assert first == M.bootstrap_ci(M.pearson_rows, x, y, seed=3)
    assert first[0] < M.pearson(x, y).value < first[1]
    assert all(math.isnan(v) for v in M.bootstrap_ci(M.pearson_rows, [], []))


def test_percentile_interval_ignores_nan_resamples():
    boot = np.array([[np.nan, np.nan], [1.0, np.nan], [3.0, np.nan]])
    low, high = M.percentile_interval(boot, level=0.5)
    assert low[0] == pytest.approx(1.5) and high[0] == pytest.approx(2.5)
    assert math.isnan(low[1]) and math.isnan(high[1])
