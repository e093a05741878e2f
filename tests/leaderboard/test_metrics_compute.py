"""Leaderboard rows from tiny runs, checked by hand; reference rows; run identity; the CLI."""

from __future__ import annotations

import io
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from leaderboard.benchmarks.mllm_judge.reference import reference_rows
from leaderboard.metrics.compute import build_leaderboard, compute_rows
from leaderboard.metrics.registry import METRIC_NAMES
from leaderboard.schema import COLUMN_NAMES, PROVENANCE_PAPER, PROVENANCE_RUN
from leaderboard.store.format import Judgment, Manifest
from leaderboard.store.labels import LABEL_COLUMNS, write_labels
from leaderboard.store.read import load_runs
from leaderboard.store.write import write_run

ROOT = Path(__file__).resolve().parents[2]


def label_rows(mode: str, rows: list[tuple[str, str, str, int, str]], subset: str = "all") -> list[dict]:
    return [
        {"mode": mode, "subset": subset, "item_id": i, "dataset": d, "human_label": h, "n_responses": n,
         "response_lengths": lengths, "image_id": i, "label_issue": ""}
        for i, d, h, n, lengths in rows
    ]  # fmt: skip


def tiny_source(root: Path) -> Path:
    """Three runs and their labels, small enough to check every number by hand."""
    labels = []
    # score: COCO judge (1,2,3,4) vs human (2,1,4,3) -> pearson .6; C.C. (1,2,3) vs (1,2,3) -> 1; item 8 unscored
    coco = [("1", 1, 2, 10), ("2", 2, 1, 20), ("3", 3, 4, 30), ("4", 4, 3, 40)]
    cc = [("5", 1, 1, 5), ("6", 2, 2, 5), ("7", 3, 3, 5)]
    labels += label_rows("score", [(i, "coco", str(h), 1, str(n)) for i, _, h, n in coco])
    labels += label_rows("score", [(i, "Concept Caption", str(h), 1, str(n)) for i, _, h, n in cc])
    labels += label_rows("score", [("8", "coco", "5", 1, "50")])
    score = [Judgment(i, "coco", j) for i, j, _, _ in coco] + [Judgment(i, "Concept Caption", j) for i, j, _, _ in cc]
    score.append(Judgment("8", "coco", None, unscored_reason="no score found"))
    write_run(root / "runs" / "s1", Manifest("s1", "Judge S", "score", PROVENANCE_RUN), score)
    # pair on WIT: judge (A, tie, B, A) vs human (A, A, B, B); lengths make A longer on items 1 and 2
    pair = [("1", "A", "A", "30|10"), ("2", "tie", "A", "30|10"), ("3", "B", "B", "10|30"), ("4", "A", "B", "10|30")]
    labels += label_rows("pair", [(i, "WIT", h, 2, ln) for i, _, h, ln in pair])
    write_run(
        root / "runs" / "p1",
        Manifest("p1", "Judge P", "pair", PROVENANCE_RUN),
        [Judgment(i, "WIT", j, swap={"consistent": k % 2 == 0}) for k, (i, j, _, _) in enumerate(pair)],
    )
    # batch on Math: ("ABCD" vs "BACD") = 2/4 and ("CAB" vs "CBA") = 2/3
    labels += label_rows("batch", [("1", "mathvista", "BACD", 4, "1|2|3|4"), ("2", "mathvista", "CBA", 3, "")])
    write_run(
        root / "runs" / "b1",
        Manifest("b1", "Judge B", "batch", PROVENANCE_RUN, split="all"),
        [Judgment("1", "mathvista", "ABCD"), Judgment("2", "mathvista", "CAB")],
    )
    write_labels(pd.DataFrame(labels, columns=list(LABEL_COLUMNS)), root / "benchmark" / "labels.csv")
    return root


@pytest.fixture
def table(tmp_path) -> pd.DataFrame:
    src = tiny_source(tmp_path)
    labels = pd.read_csv(src / "benchmark" / "labels.csv", dtype=str, keep_default_na=False)
    labels["n_responses"] = labels["n_responses"].astype(int)
    loaded = load_runs([src], labels)
    assert loaded.problems == ()
    return compute_rows(loaded.runs, labels, n_resamples=200, min_n=1)


def value(table: pd.DataFrame, metric: str, dataset: str, run_id: str | None = None) -> pd.Series:
    rows = table[(table["metric"] == metric) & (table["dataset"] == dataset)]
    if run_id:
        rows = rows[rows["run_id"] == run_id]
    assert len(rows) == 1, rows
    return rows.iloc[0]


def test_columns_and_metric_names(table):
    assert list(table.columns) == list(COLUMN_NAMES)
    assert set(table["metric"]) <= set(METRIC_NAMES)


def test_score_rows_by_hand(table):
    coco = value(table, "pearson", "COCO")
    assert coco["value"] == pytest.approx(0.6) and coco["n"] == 4 and coco["coverage"] == pytest.approx(4 / 5)
    assert value(table, "pearson", "C.C.")["value"] == pytest.approx(1.0)
    average = value(table, "pearson", "Average")
    assert average["value"] == pytest.approx(0.8) and average["n"] == 7 and average["coverage"] == pytest.approx(7 / 8)
    assert value(table, "kendall", "COCO")["value"] == pytest.approx(1 / 3)
    # four disagreements by one point (weight 1/16 each): .25; chance: 1/4 per cell of the 4 x 4 block,
    # sum of (i - j)^2 over it 40 -> 40 / 64; kappa = 1 - .25 / .625
    assert value(table, "quadratic_weighted_kappa", "COCO")["value"] == pytest.approx(0.6)
    assert value(table, "exact_agreement", "C.C.")["value"] == pytest.approx(1.0)
    assert value(table, "within1_agreement", "COCO")["value"] == pytest.approx(1.0)
    # pooled over 7 items: judge (1,2,3,4,1,2,3), human (2,1,4,3,1,2,3)
    pooled = value(table, "pearson_pooled", "Pooled")
    assert pooled["value"] == pytest.approx(pd.Series([1, 2, 3, 4, 1, 2, 3]).corr(pd.Series([2, 1, 4, 3, 1, 2, 3])))
    assert value(table, "parse_failure_rate", "COCO")["value"] == pytest.approx(1 / 5)
    assert value(table, "length_bias", "COCO")["value"] == pytest.approx(1.0)  # score rises with length


def test_pair_rows_by_hand(table):
    assert value(table, "accuracy_with_tie", "WIT")["value"] == pytest.approx(0.5)
    authors = value(table, "accuracy_without_tie", "WIT")
    assert authors["value"] == pytest.approx(2 / 3) and authors["n"] == 3
    assert value(table, "accuracy_without_tie_human_only", "WIT")["value"] == pytest.approx(0.5)
    assert value(table, "macro_f1", "WIT")["value"] == pytest.approx((0.5 + 2 / 3) / 3)
    # judge rows A (1, 1, 0), B (0, 1, 0), tie (1, 0, 0) against human A, B, tie: p_o = 2/4; margins
    # judge (2, 1, 1), human (2, 2, 0) -> p_e = (4 + 2) / 16; kappa = (.5 - .375) / .625
    assert value(table, "cohen_kappa", "WIT")["value"] == pytest.approx(0.2)
    assert value(table, "choose_a_rate", "WIT")["value"] == pytest.approx(0.5)
    assert value(table, "human_choose_a_rate", "WIT")["value"] == pytest.approx(0.5)
    assert value(table, "position_bias", "WIT")["value"] == pytest.approx(0.0)
    assert value(table, "tie_rate", "WIT")["value"] == pytest.approx(0.25)
    assert value(table, "swap_consistency", "WIT")["value"] == pytest.approx(0.5)
    # signals (+.5, +.5, -.5, -.5) against verdicts (+1, 0, -1, +1), mean .25: deviations (.75, -.25, -1.25, .75)
    # -> products sum to .5, squares to 1 and 2.75
    assert value(table, "length_bias", "WIT")["value"] == pytest.approx(0.5 / math.sqrt(2.75))


def test_batch_rows_by_hand(table):
    math_row = value(table, "normalized_levenshtein", "Math")
    assert math_row["value"] == pytest.approx((0.5 + 2 / 3) / 2) and math_row["n"] == 2
    assert value(table, "normalized_levenshtein", "Average")["value"] == pytest.approx((0.5 + 2 / 3) / 2)
    # lengths known for item 1 only: ranks (1,2,3,4) vs rank-from-best of ABCD (4,3,2,1) -> -1
    assert value(table, "length_bias", "Math")["value"] == pytest.approx(-1.0)


def test_intervals_bracket_values_and_are_reproducible(tmp_path, table):
    finite = table[table["ci_low"].notna()]
    assert len(finite) > 10
    assert (finite["ci_low"] <= finite["value"] + 1e-9).all() and (finite["value"] <= finite["ci_high"] + 1e-9).all()
    src = tmp_path  # the fixture wrote here
    labels = pd.read_csv(src / "benchmark" / "labels.csv", dtype=str, keep_default_na=False)
    labels["n_responses"] = labels["n_responses"].astype(int)
    runs = load_runs([src], labels).runs
    again = compute_rows(runs, labels, n_resamples=200, min_n=1)
    pd.testing.assert_frame_equal(table, again)
    only_score = compute_rows([r for r in runs if r.run_id == "s1"], labels, n_resamples=200, min_n=1)
    mine = table[table["run_id"] == "s1"].reset_index(drop=True)
    pd.testing.assert_frame_equal(mine, only_score)  # other runs never move a run's interval


def test_degenerate_cells_are_nan_with_a_reason_and_skipped_in_average(tmp_path):
    labels = pd.DataFrame(
        label_rows(
            "score",
            [("1", "coco", "3", 1, ""), ("2", "coco", "4", 1, ""), ("3", "WIT", "2", 1, ""), ("4", "WIT", "5", 1, "")],
        ),  # fmt: skip
        columns=list(LABEL_COLUMNS),
    )
    write_run(tmp_path / "c", Manifest("c", "Constant", "score", PROVENANCE_RUN),
              [Judgment("1", "coco", 3), Judgment("2", "coco", 3), Judgment("3", "WIT", 1), Judgment("4", "WIT", 5)])  # fmt: skip
    table = compute_rows(load_runs([tmp_path], labels).runs, labels, n_resamples=50, min_n=1)
    coco = value(table, "pearson", "COCO")
    assert math.isnan(coco["value"]) and "constant" in coco["reason"] and math.isnan(coco["ci_low"])
    average = value(table, "pearson", "Average")
    assert average["value"] == pytest.approx(1.0) and "skipped (no value): COCO" in average["reason"]


def test_reference_rows_stay_separate_and_two_runs_of_one_judge_stay_distinct(tmp_path):
    src = tiny_source(tmp_path)
    write_run(src / "runs" / "s2", Manifest("s2", "Judge S", "score", PROVENANCE_RUN),
              [Judgment(str(i), "coco", 3) for i in range(1, 5)])  # fmt: skip
    labels = pd.read_csv(src / "benchmark" / "labels.csv", dtype=str, keep_default_na=False)
    labels["n_responses"] = labels["n_responses"].astype(int)
    runs = load_runs([src], labels).runs
    computed = compute_rows(runs, labels, n_resamples=50)
    full = build_leaderboard(runs, labels, reference_rows(), n_resamples=50)
    paper = full[full["provenance"] == PROVENANCE_PAPER]
    assert len(paper) == len(reference_rows()) and set(paper["run_id"]) == {"paper"}
    assert paper["n"].isna().all() and paper["ci_low"].isna().all()
    gemini = paper[(paper["judge"] == "Gemini-1.0-Pro-Vision") & (paper["metric"] == "pearson")]
    assert gemini.set_index("dataset").loc["Average", "value"] == pytest.approx(0.304)
    assert math.isnan(gemini.set_index("dataset").loc["Diff.", "value"])
    ours = full[full["provenance"] != PROVENANCE_PAPER].reset_index(drop=True)
    pd.testing.assert_frame_equal(ours, computed)
    judge_s = computed[
        (computed["judge"] == "Judge S") & (computed["metric"] == "pearson") & (computed["dataset"] == "Average")
    ]
    assert sorted(judge_s["run_id"]) == ["s1", "s2"]


def test_hq_runs_are_labelled(tmp_path):
    labels = pd.DataFrame(label_rows("pair", [("1", "coco", "A", 2, ""), ("2", "coco", "B", 2, "")], subset="hq"),
                          columns=list(LABEL_COLUMNS))  # fmt: skip
    write_run(
        tmp_path / "h",
        Manifest("h", "J", "pair", PROVENANCE_RUN, split="hq"),
        [Judgment("1", "coco", "A"), Judgment("2", "coco", "A")],
    )
    table = compute_rows(load_runs([tmp_path], labels).runs, labels, n_resamples=20, min_n=1)
    assert set(table["subset"]) == {"hq"}
    assert "agreement inflated" in value(table, "accuracy_with_tie", "COCO")["reason"]
    assert value(table, "accuracy_with_tie", "COCO")["value"] == pytest.approx(0.5)


def test_no_runs_no_rows():
    empty = compute_rows([], None)
    assert empty.empty and list(empty.columns) == list(COLUMN_NAMES)


# --------------------------------------------------------------------------- the command line


def run_cli(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "leaderboard", *args], capture_output=True, text=True, cwd=ROOT, env=env, timeout=120
    )


def test_cli_table_csv_on_the_embedded_assets():
    out = run_cli("table", "--format", "csv", "--resamples", "100")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == ",".join(COLUMN_NAMES)
    assert lines[0].startswith("judge,mode,metric,dataset,value,ci_low,ci_high,n,coverage,provenance")
    average = [line for line in lines if ",Average," in line]
    assert any("imported from the released data" in line for line in average)
    assert any(PROVENANCE_PAPER in line for line in average)


def test_cli_table_markdown_on_given_runs(tmp_path):
    src = tiny_source(tmp_path)
    out = run_cli(
        "table", "--runs", str(src), "--no-embedded", "--min-n", "1", "--format", "markdown", "--mode", "pair",
        "--no-reference",
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].startswith("| judge | mode | metric | dataset | value |")
    assert any("| accuracy_without_tie | WIT | 0.667 |" in line for line in lines)
    assert all("| pair |" in line for line in lines[2:])


# --------------------------------------------------------------------------- minimum n, benchmarks


def score_source(root: Path, benchmark: str | None = None, n_coco: int = 12, n_wit: int = 3) -> pd.DataFrame:
    """A score run on ``n_coco`` COCO items (judge = human + noise) and ``n_wit`` WIT items; its labels."""
    human = [1 + (k % 5) for k in range(n_coco + n_wit)]
    judge = [h if k % 3 else min(h + 1, 5) for k, h in enumerate(human)]
    datasets = ["coco"] * n_coco + ["WIT"] * n_wit
    rows = label_rows(
        "score", [(str(k), d, str(h), 1, "") for k, (d, h) in enumerate(zip(datasets, human, strict=True))]
    )
    labels = pd.DataFrame(rows, columns=list(LABEL_COLUMNS))
    if benchmark is not None:
        labels["benchmark"] = benchmark
    manifest = Manifest("m", "Judge M", "score", PROVENANCE_RUN, **({"benchmark": benchmark} if benchmark else {}))
    write_run(
        root / "runs" / "m",
        manifest,
        [Judgment(str(k), d, j) for k, (d, j) in enumerate(zip(datasets, judge, strict=True))],
    )
    write_labels(labels, root / "benchmark" / "labels.csv")
    return labels


def test_a_cell_under_min_n_has_no_value_no_interval_and_is_left_out_of_average(tmp_path):
    labels = score_source(tmp_path)
    runs = load_runs([tmp_path], labels).runs
    table = compute_rows(runs, labels, n_resamples=100)
    wit = value(table, "pearson", "WIT")
    assert math.isnan(wit["value"]) and math.isnan(wit["ci_low"]) and math.isnan(wit["ci_high"])
    assert wit["reason"] == "n < 10" and wit["n"] == 3 and wit["coverage"] == pytest.approx(1.0)
    coco = value(table, "pearson", "COCO")
    assert coco["n"] == 12 and np.isfinite(coco["value"]) and coco["ci_low"] < coco["ci_high"]
    average = value(table, "pearson", "Average")
    assert average["value"] == pytest.approx(coco["value"]) and average["n"] == 12
    assert average["reason"] == "partial: unweighted mean over 1 of 14 datasets; skipped (n < 10): WIT"
    # Every per-dataset row of every metric follows the rule.
    per_dataset = table[table["dataset"] == "WIT"]
    assert per_dataset["value"].isna().all() and (per_dataset["reason"] == "n < 10").all()
    # A lower threshold brings the cell back with the same numbers it would have had.
    loose = compute_rows(runs, labels, n_resamples=100, min_n=3)
    assert np.isfinite(value(loose, "pearson", "WIT")["value"])
    assert value(loose, "pearson", "COCO")["ci_low"] == coco["ci_low"]
    assert "skipped" not in value(loose, "pearson", "Average")["reason"]


def test_runs_join_the_labels_of_their_own_benchmark(tmp_path):
    labels = score_source(tmp_path / "one")
    other = score_source(tmp_path / "two", benchmark="other-bench")
    # The same item ids in both benchmarks, with other human labels in the second.
    other["human_label"] = "3"
    both = pd.concat([labels.assign(benchmark=None), other], ignore_index=True)
    runs = load_runs([tmp_path / "one", tmp_path / "two"]).runs
    table = compute_rows(runs, both, n_resamples=20, min_n=1)
    assert set(table["benchmark"]) == {"mllm-as-a-judge", "other-bench"}
    mine = table[(table["benchmark"] == "mllm-as-a-judge") & (table["metric"] == "exact_agreement")]
    theirs = table[(table["benchmark"] == "other-bench") & (table["metric"] == "pearson")]
    # the judge adds a point on items 0, 3, 6 and 9, except on 9 where the human already gave 5
    assert mine.set_index("dataset").loc["COCO", "value"] == pytest.approx(9 / 12)
    assert "constant" in theirs.set_index("dataset").loc["COCO", "reason"]  # every human label is 3 there
    # A benchmark outside the registry is shown, without a count of its datasets.
    assert theirs.set_index("dataset").loc["Average", "reason"].startswith("no dataset has a value")


def test_a_label_table_without_a_benchmark_column_is_the_default_benchmarks(tmp_path):
    from leaderboard.store.labels import merge_labels, read_labels

    labels = score_source(tmp_path)
    path = tmp_path / "old.csv"
    labels.drop(columns=["benchmark"]).to_csv(path, index=False)
    old = read_labels(path)
    assert list(old.columns) == list(LABEL_COLUMNS) and set(old["benchmark"]) == {"mllm-as-a-judge"}
    merged = merge_labels([old, old.assign(benchmark="other-bench")])
    assert len(merged) == 2 * len(old)  # the same ids in two benchmarks are two rows


def test_build_leaderboard_narrows_to_benchmarks_and_subsets(tmp_path):
    labels = score_source(tmp_path)
    runs = load_runs([tmp_path], labels).runs
    full = build_leaderboard(runs, labels, reference_rows(), n_resamples=10)
    assert set(full["benchmark"]) == {"mllm-as-a-judge"}
    assert build_leaderboard(runs, labels, reference_rows(), n_resamples=10, benchmarks=["polaris"]).empty
    hq = build_leaderboard(runs, labels, reference_rows(), n_resamples=10, subsets=["hq"])
    assert hq.empty  # the run and the reference rows are on "all"


def test_cli_takes_min_n_benchmark_and_subset_and_merges_runs_with_the_embedded_ones(tmp_path):
    score_source(tmp_path)
    args = ["table", "--runs", str(tmp_path), "--resamples", "20", "--no-reference", "--mode", "score"]
    out = run_cli(*args, "--metric", "pearson")
    assert out.returncode == 0, out.stderr
    frame = pd.read_csv(io.StringIO(out.stdout))
    assert "m" in set(frame["run_id"]) and len(set(frame["run_id"])) > 1  # the embedded runs are there too
    wit = frame[(frame["run_id"] == "m") & (frame["dataset"] == "WIT")].iloc[0]
    assert math.isnan(wit["value"]) and wit["reason"] == "n < 10"
    loose = pd.read_csv(io.StringIO(run_cli(*args, "--metric", "pearson", "--min-n", "2").stdout))
    assert np.isfinite(loose[(loose["run_id"] == "m") & (loose["dataset"] == "WIT")].iloc[0]["value"])
    only_all = pd.read_csv(io.StringIO(run_cli(*args, "--subset", "all").stdout))
    assert set(only_all["subset"]) == {"all"} and "m" in set(only_all["run_id"])
    bench = pd.read_csv(io.StringIO(run_cli(*args, "--benchmark", "mllm-as-a-judge").stdout))
    assert set(bench["benchmark"]) == {"mllm-as-a-judge"}
    assert run_cli("table", "--min-n", "0").returncode == 2
