"""Kappa, quadratic-weighted kappa, expected-score Pearson, ECE and Brier: by hand, as tables, in the engine."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from leaderboard.metrics import calibration as C
from leaderboard.metrics import kappa as K
from leaderboard.metrics.compute import compute_rows
from leaderboard.metrics.reliability import reliability_table
from leaderboard.schema import PROVENANCE_RUN
from leaderboard.store.format import Judgment, Manifest
from leaderboard.store.labels import LABEL_COLUMNS
from leaderboard.store.read import load_runs
from leaderboard.store.write import write_run

# --------------------------------------------------------------------------- kappa


def test_cohen_kappa_of_three_classes_by_hand():
    # rows judge, columns human (A, B, tie): A (1, 1, 1), B (0, 2, 0), tie (0, 0, 1); p_o = 4/6;
    # margins judge (3, 2, 1), human (1, 3, 2): p_e = (3 + 6 + 2) / 36; kappa = (24 - 11) / (36 - 11)
    result = K.cohen_kappa(["A", "A", "B", "B", "tie", "A"], ["A", "B", "B", "B", "tie", "tie"])
    assert result.value == pytest.approx(13 / 25) and result.n == 6 and result.reason == ""


def test_cohen_kappa_is_one_for_perfect_agreement_and_undefined_for_one_shared_class():
    assert K.cohen_kappa(["A", "B", "tie"], ["A", "B", "tie"]).value == pytest.approx(1.0)
    same = K.cohen_kappa(["A", "A"], ["A", "A"])
    assert math.isnan(same.value) and same.reason == K.CHANCE_ONLY
    assert math.isnan(K.cohen_kappa([], []).value)
    with pytest.raises(ValueError, match="labels must be among"):
        K.cohen_kappa(["C"], ["A"])


def test_quadratic_weighted_kappa_by_hand():
    # judge 1..5, human 1,2,3,5,4: two disagreements of one point, weight (1/4)^2 each -> 2/16;
    # margins all 1, chance 1/5 per cell; sum of (i - j)^2 over the 5 x 5 table is 100 -> 100 / 16 / 5;
    # kappa = 1 - (2/16) / (20/16) = 0.9
    assert K.quadratic_weighted_kappa([1, 2, 3, 4, 5], [1, 2, 3, 5, 4]).value == pytest.approx(0.9)
    # a reversed scale is the worst case: -1
    assert K.quadratic_weighted_kappa([1, 5], [5, 1]).value == pytest.approx(-1.0)


def test_kappa_table_matches_the_per_item_form_over_leading_axes():
    rng = np.random.default_rng(3)
    judge, human = rng.integers(1, 6, (4, 30)), rng.integers(1, 6, (4, 30))
    tables = np.zeros((4, 5, 5))
    for b in range(4):
        np.add.at(tables[b], (judge[b] - 1, human[b] - 1), 1)
    vectorised = K.kappa_table(tables, K.quadratic_weights(5))
    for b in range(4):
        assert vectorised[b] == pytest.approx(K.quadratic_weighted_kappa(judge[b], human[b]).value)


# --------------------------------------------------------------------------- probabilities


def test_expected_calibration_error_by_hand():
    # bins: .95 x2 (accuracy .5, gap .45), .55 x2 (accuracy 1, gap .45), .15 x1 (accuracy 0, gap .15)
    # -> (2 * .45 + 2 * .45 + .15) / 5
    confidence, correct = [0.95, 0.95, 0.55, 0.55, 0.15], [True, False, True, True, False]
    assert C.expected_calibration_error(confidence, correct).value == pytest.approx(0.39)
    bins = C.reliability_bins(confidence, correct)
    assert list(bins["n"]) == [0, 1, 0, 0, 0, 2, 0, 0, 0, 2]
    assert bins.loc[9, "accuracy"] == pytest.approx(0.5) and bins.loc[9, "confidence"] == pytest.approx(0.95)
    assert math.isnan(bins.loc[0, "accuracy"])
    ece = (bins["n"] * bins["gap"].abs()).sum() / bins["n"].sum()
    assert ece == pytest.approx(0.39)
    # a probability of exactly 1 falls in the last bin
    assert C.confidence_bin(np.array([1.0, 0.0, 0.1]))[0] == 9 and list(C.confidence_bin(np.array([0.0, 0.1]))) == [
        0,
        1,
    ]


def test_brier_score_by_hand():
    # (.7, .2, .1) vs class 0: .09 + .04 + .01 = .14; (.5, .5, 0) vs class 1: .25 + .25 = .5; mean .32
    assert C.brier_score(np.array([[0.7, 0.2, 0.1], [0.5, 0.5, 0.0]]), [0, 1]).value == pytest.approx(0.32)
    assert C.brier_score(np.array([[0.0, 1.0]]), [0]).value == pytest.approx(2.0)  # certain and wrong


def test_pearson_expected_by_hand_and_undefined_for_a_constant_expectation():
    # expected 1.5..4.5 is 1..4 shifted: the Pearson of (1, 2, 3, 4) and (2, 1, 4, 3) is 3/5
    assert C.pearson_expected([1.5, 2.5, 3.5, 4.5], [2, 1, 4, 3]).value == pytest.approx(0.6)
    flat = C.pearson_expected([3.2, 3.2, 3.2], [1, 2, 3])
    assert math.isnan(flat.value) and flat.reason == C.NO_SPREAD


# --------------------------------------------------------------------------- in the engine, from stored runs


def _distribution(probs: dict[str, float], chosen: str, expected: bool = True) -> dict:
    out: dict = {"probabilities": probs, "confidence": probs.get(chosen), "mass": 1.0, "source": "generation"}
    if expected:
        out["expected_score"] = sum(int(k) * p for k, p in probs.items())
    return out


@pytest.fixture
def probability_runs(tmp_path):
    """A score run with a verdict distribution per item: judge (1, 2, 3, 4) vs human (2, 1, 4, 3) on COCO."""
    rows = [("1", 1, 2), ("2", 2, 1), ("3", 3, 4), ("4", 4, 3)]
    labels = pd.DataFrame(
        [{"mode": "score", "subset": "all", "item_id": i, "dataset": "coco", "human_label": str(h),
          "n_responses": 1, "response_lengths": "", "image_id": i, "label_issue": ""} for i, _, h in rows],
        columns=list(LABEL_COLUMNS),
    )  # fmt: skip
    judgments = []
    for k, (item, verdict, _) in enumerate(rows):
        # half the mass on the verdict, half on the next score; only the first record stores its expectation
        probs = {str(verdict): 0.5, str(verdict + 1): 0.5}
        judgments.append(Judgment(item, "coco", verdict, probabilities=_distribution(probs, str(verdict), k == 0)))
    judgments.append(Judgment("5", "coco", None, unscored_reason="no score"))  # no label row, no distribution
    write_run(tmp_path / "p", Manifest("p", "Prob Judge", "score", PROVENANCE_RUN), judgments)
    loaded = load_runs([tmp_path], labels)
    return loaded.runs, labels


def test_the_records_frame_carries_the_distribution_columns(probability_runs):
    runs, _ = probability_runs
    records = runs[0].records
    assert records.loc[0, "probabilities"] == {"1": 0.5, "2": 0.5}
    assert records.loc[0, "expected_score"] == pytest.approx(1.5) and math.isnan(records.loc[1, "expected_score"])
    assert records.loc[2, "confidence"] == pytest.approx(0.5)
    assert records.loc[4, "probabilities"] is None


def test_probability_metrics_by_hand_in_the_long_table(probability_runs):
    runs, labels = probability_runs
    table = compute_rows(runs, labels, n_resamples=100, min_n=1)

    def cell(metric: str) -> pd.Series:
        rows = table[(table["metric"] == metric) & (table["dataset"] == "COCO")]
        assert len(rows) == 1
        return rows.iloc[0]

    # expected scores 1.5, 2.5, 3.5, 4.5 (stored for item 1, derived from the distribution elsewhere)
    expected = cell("pearson_expected")
    assert expected["value"] == pytest.approx(0.6) and expected["n"] == 4
    assert expected["ci_low"] <= 0.6 + 1e-9 <= expected["ci_high"] + 2e-9
    # every verdict has probability .5 and is wrong: one bin, |0 - .5|
    assert cell("ece")["value"] == pytest.approx(0.5)
    # the human score carries .5 on items 1 and 3 (Brier .5) and 0 on items 2 and 4 (Brier 1.5)
    brier = cell("brier")
    assert brier["value"] == pytest.approx(1.0) and brier["n"] == 4
    assert brier["coverage"] == pytest.approx(1.0)  # the unlabelled item is not in the cell


def test_probability_metrics_are_absent_without_probabilities_and_blank_below_min_n(probability_runs):
    runs, labels = probability_runs
    bare = [r for r in runs]
    bare_records = bare[0].records.drop(columns=["probabilities", "expected_score", "confidence"])
    without = compute_rows([type(bare[0])(bare[0].manifest, bare_records, bare[0].path)], labels, n_resamples=10)
    assert not set(without["metric"]) & {"pearson_expected", "ece", "brier"}
    strict = compute_rows(runs, labels, n_resamples=10)  # default min_n = 10 > 4 items
    ece = strict[(strict["metric"] == "ece") & (strict["dataset"] == "COCO")].iloc[0]
    assert math.isnan(ece["value"]) and ece["reason"] == "n < 10" and math.isnan(ece["ci_low"])


def test_reliability_table_gives_the_bins_of_each_run(probability_runs):
    runs, labels = probability_runs
    bins = reliability_table(runs, labels)
    assert list(bins.columns)[:3] == ["run_id", "judge", "bin_low"] and len(bins) == 10
    half = bins[bins["n"] > 0]
    assert len(half) == 1 and half.iloc[0]["bin_low"] == pytest.approx(0.5)
    assert half.iloc[0]["accuracy"] == pytest.approx(0.0) and half.iloc[0]["confidence"] == pytest.approx(0.5)
    assert reliability_table(runs, labels, dataset="WIT").empty
