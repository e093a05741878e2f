"""The join's shortcuts on codes give what the plain string operations give."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from judges.tasks import get_task
from leaderboard.metrics import bias as B
from leaderboard.metrics import compute as K
from leaderboard.metrics import join as J
from leaderboard.metrics.agreement import agreement_for


def label_table(datasets: list[str], lengths: list[str]) -> pd.DataFrame:
    n = len(datasets)
    return K.with_benchmark(
        pd.DataFrame(
            {
                "benchmark": "mllm-as-a-judge",
                "mode": "batch",
                "subset": "all",
                "item_id": [str(k) for k in range(n)],
                "dataset": datasets,
                "human_label": "ABC",
                "n_responses": 3,
                "response_lengths": lengths,
                "image_id": "",
                "label_issue": "",
            }
        )
    )


@pytest.mark.parametrize("blank_every", [0, 4])
def test_dataset_codes_are_those_factorizing_the_names_gives(blank_every):
    rng = np.random.default_rng(5)
    names = ["WIT", "coco", "textVQA", "Mind2Web"]
    datasets = [names[i] for i in rng.integers(0, 4, 200)]
    if blank_every:
        datasets = ["" if k % blank_every == 0 else d for k, d in enumerate(datasets)]
    prep = J.label_rows(
        label_table(datasets, ["1|2|3"] * 200), "batch", agreement_for(get_task("batch").verdicts), "mllm-as-a-judge"
    )
    at = rng.integers(0, 200, 1000)
    at[::50] = 200  # records without a label row: the extra last row
    at = at if blank_every else at[at < 200]  # with every row named, the shortcut is taken
    rec = pd.DataFrame({"dataset": [names[::-1][k % 4] for k in range(len(at))]})
    codes, uniques = J._dataset_codes(prep, at, rec)
    own = rec["dataset"].to_numpy(dtype=object)
    expected_codes, expected = pd.factorize(
        pd.Series(np.where(prep.has_dataset[at], prep.dataset[at], own), dtype=object)
    )
    np.testing.assert_array_equal(codes, expected_codes)
    assert list(uniques) == list(expected)


def test_lengths_are_as_wide_as_the_widest_row_and_at_least_two():
    agreement = agreement_for(get_task("batch").verdicts)
    one = J.label_rows(label_table(["coco"] * 3, ["5", "", "7"]), "batch", agreement, "mllm-as-a-judge")
    assert one.lengths.shape == (4, 2)  # three rows and the "no label row" one
    four = J.label_rows(label_table(["coco"] * 2, ["1|2|3|4", "nan|9"]), "batch", agreement, "mllm-as-a-judge")
    assert four.lengths.shape == (3, 4) and np.isnan(four.lengths[1, 0]) and four.lengths[1, 1] == 9


def test_a_ranking_longer_than_any_lengths_row_is_not_usable():
    lengths = np.array([[10.0, 20.0, 30.0], [5.0, 1.0, np.nan]])
    got = B.batch_length_spearman(["ABCDE", "BA"], lengths)
    wide = B.batch_length_spearman(["ABCDE", "BA"], np.pad(lengths, ((0, 0), (0, 5)), constant_values=np.nan))
    np.testing.assert_array_equal(got, wide)
    assert np.isnan(got[0]) and got[1] == pytest.approx(-1.0)


def test_the_per_row_length_spearman_equals_the_per_item_one_to_the_bit():
    rng = np.random.default_rng(11)
    n_rows, width = 400, 5
    lengths = rng.integers(1, 6, size=(n_rows, width)).astype(float)  # small values: many ties
    known = rng.integers(0, width + 1, n_rows)
    lengths[np.arange(width) >= known[:, None]] = np.nan
    lengths[::17, 0] = np.nan  # a gap before the known lengths: not a clean row
    lengths[::23, 1] = np.inf
    lengths[::29] = 7.0  # all equal: no correlation
    ranks = B.length_ranks(lengths)
    table = B.ranking_rows(lengths, ranks)
    assert table.clean.sum() > 100 and (~table.clean & (table.known >= 2)).sum() > 10
    rows = rng.integers(0, n_rows, 3000)
    letters = np.array(list("ABCDE"))
    rankings = []
    for r in rows:
        k = int(rng.choice([known[r], known[r], 2, 3, 5]))
        rankings.append("".join(letters[rng.permutation(k)]) if k else None)
    rankings[::31] = ["AAB"] * len(rankings[::31])  # not a ranking
    got = B.batch_length_spearman_rows(rankings, rows, table)
    expected = B.batch_length_spearman(rankings, lengths[rows], ranks[rows])
    np.testing.assert_array_equal(got, expected)
    assert np.isfinite(got).sum() > 500
