"""Leaderboard rows from tiny runs, checked by hand; reference rows; run identity; the CLI."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

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
    return compute_rows(loaded.runs, labels, n_resamples=200)


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
    again = compute_rows(runs, labels, n_resamples=200)
    pd.testing.assert_frame_equal(table, again)
    only_score = compute_rows([r for r in runs if r.run_id == "s1"], labels, n_resamples=200)
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
    table = compute_rows(load_runs([tmp_path], labels).runs, labels, n_resamples=50)
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
    table = compute_rows(load_runs([tmp_path], labels).runs, labels, n_resamples=20)
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
    out = run_cli("table", "--runs", str(src), "--format", "markdown", "--mode", "pair", "--no-reference")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].startswith("| judge | mode | metric | dataset | value |")
    assert any("| accuracy_without_tie | WIT | 0.667 |" in line for line in lines)
    assert all("| pair |" in line for line in lines[2:])
