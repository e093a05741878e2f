"""Ids and verdicts as codes: runs read from columnar companions match the labels and encode verdicts by code,
with the same result as strings give."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest

from leaderboard.metrics.compute import compute_rows
from leaderboard.schema import PROVENANCE_RUN
from leaderboard.store.columnar import PoolLookup, write_columnar
from leaderboard.store.format import JUDGMENTS_NAME, Manifest
from leaderboard.store.read import check_against_labels, load_run

pytest.importorskip("pyarrow")


def write_run(run_dir, ids: list[str], mode: str = "score", run_id: str = "r") -> None:
    run_dir.mkdir(parents=True, exist_ok=True)
    manifest = Manifest(run_id, f"Judge {run_id}", mode, PROVENANCE_RUN)
    (run_dir / "manifest.json").write_text(json.dumps(manifest.to_dict()))
    lines = [{"item_id": item, "dataset": "coco", "verdict": 1 + k % 5} for k, item in enumerate(ids)]
    (run_dir / JUDGMENTS_NAME).write_text("".join(json.dumps(line) + "\n" for line in lines))
    write_columnar(run_dir, min_lines=0)


def labels_for(ids: list[str]) -> pd.DataFrame:
    n = len(ids)
    return pd.DataFrame(
        {
            "benchmark": "mllm-as-a-judge",
            "mode": "score",
            "subset": "all",
            "item_id": ids,
            "dataset": "coco",
            "human_label": [str(1 + k % 5) for k in range(n)],
            "n_responses": 1,
            "response_lengths": [str(10 + k) for k in range(n)],
            "image_id": ids,
            "label_issue": "",
        }
    )


def test_a_companion_run_carries_the_codes_of_its_kept_records(tmp_path):
    ids = [f"code-{k}" for k in range(50)]
    ids[7] = ""  # no id: dropped, so the codes must drop it too
    ids[9] = "code-3"  # a repeat: dropped (found on codes)
    write_run(tmp_path / "a", ids)
    run, problems, _ = load_run(tmp_path / "a")
    assert run is not None and run.item_codes is not None
    assert len(run.item_codes) == len(run.records) == 48
    from leaderboard.store.columnar import _SHARED_IDS

    assert list(_SHARED_IDS.pool[run.item_codes]) == list(run.records["item_id"])
    assert sum("already judged on line 4" in str(p) for p in problems) == 1


def test_a_lookup_made_before_the_pool_grew_still_finds_new_ids(tmp_path):
    write_run(tmp_path / "a", [f"grow-{k}" for k in range(20)])
    first, _, _ = load_run(tmp_path / "a")
    index = pd.Index([f"grow-{k}" for k in range(40)], dtype=object)
    lookup = PoolLookup(index)
    assert first is not None and first.item_codes is not None
    assert list(lookup.positions(first.item_codes)) == list(range(20))
    write_run(tmp_path / "b", [f"grow-{k}" for k in range(30, 45)])  # ids the pool has not seen yet
    second, _, _ = load_run(tmp_path / "b")
    assert second is not None and second.item_codes is not None
    expected = index.get_indexer(second.records["item_id"].to_numpy(dtype=object))
    np.testing.assert_array_equal(lookup.positions(second.item_codes), expected)
    assert list(expected[-5:]) == [-1] * 5  # grow-40..44 are not in the index


def test_codes_and_strings_give_the_same_label_problems_and_rows(tmp_path):
    ids = [f"same-{k}" for k in range(60)]
    write_run(tmp_path / "a", ids + ["stray-1", "stray-2"])
    run, _, _ = load_run(tmp_path / "a")
    assert run is not None and run.item_codes is not None
    labels = labels_for(ids)
    # A copy (dataclasses.replace) has no codes: its ids are looked up as strings.
    copy = dataclasses.replace(run, records=run.records.copy())
    assert copy.item_codes is None
    by_code = [str(p) for p in check_against_labels(run, labels)]
    by_text = [str(p) for p in check_against_labels(copy, labels)]
    assert by_code == by_text and len(by_code) == 2 and "stray-1" in by_code[0]
    rows_code = compute_rows([run], labels, n_resamples=50)
    rows_text = compute_rows([copy], labels, n_resamples=50)
    pd.testing.assert_frame_equal(rows_code, rows_text, check_exact=True)
    assert (rows_code["n"].dropna() > 0).any()


def test_codes_that_do_not_fit_the_records_are_not_used(tmp_path):
    write_run(tmp_path / "a", [f"fit-{k}" for k in range(30)])
    run, _, _ = load_run(tmp_path / "a")
    assert run is not None
    labels = labels_for([f"fit-{k}" for k in range(30)])
    shorter = dataclasses.replace(run, records=run.records.iloc[:10].reset_index(drop=True))
    object.__setattr__(shorter, "item_codes", run.item_codes)  # stale codes of the full run
    assert check_against_labels(shorter, labels) == []
    rows = compute_rows([shorter], labels, n_resamples=20)
    assert rows.loc[(rows["metric"] == "exact_agreement") & (rows["dataset"] == "COCO"), "n"].item() == 10


def write_batch_run(run_dir, verdicts: list[str | None]) -> None:
    run_dir.mkdir(parents=True, exist_ok=True)
    manifest = Manifest("b", "Judge B", "batch", PROVENANCE_RUN)
    (run_dir / "manifest.json").write_text(json.dumps(manifest.to_dict()))
    lines = [{"item_id": f"rank-{k}", "dataset": "coco", "verdict": v} for k, v in enumerate(verdicts)]
    (run_dir / JUDGMENTS_NAME).write_text("".join(json.dumps(line) + "\n" for line in lines))
    write_columnar(run_dir, min_lines=0)


def test_verdict_codes_follow_the_records_through_the_label_check(tmp_path):
    # Three responses per item: "AB" has the wrong length for its item and "AAB" is no ranking at all,
    # so the loader and the label check each turn some verdicts into none; the codes must follow.
    verdicts = ["ABC", "CAB", None, "AB", "BCA", "AAB"] * 20
    write_batch_run(tmp_path / "b", verdicts)
    run, load_problems, _ = load_run(tmp_path / "b")
    assert run is not None and run.verdict_codes is not None
    labels = labels_for([f"rank-{k}" for k in range(len(verdicts))]).assign(
        mode="batch", human_label="BAC", n_responses=3, response_lengths="10|20|30"
    )
    copy = dataclasses.replace(run, records=run.records.copy())
    assert copy.verdict_codes is None
    label_problems = [str(p) for p in check_against_labels(run, labels)]
    assert label_problems == [str(p) for p in check_against_labels(copy, labels)]
    assert sum("counted as unscored" in p for p in label_problems) == 20  # the "AB"s
    assert sum("counted as unscored" in str(p) for p in load_problems) == 20  # the "AAB"s
    decoded = np.append(run.verdict_codes.values, None)[run.verdict_codes.codes]
    assert list(decoded) == list(run.records["verdict"])
    assert run.records["verdict"].isna().sum() == 60
    rows_code = compute_rows([run], labels, n_resamples=50)
    rows_text = compute_rows([copy], labels, n_resamples=50)
    pd.testing.assert_frame_equal(rows_code, rows_text, check_exact=True)
    assert rows_code.loc[rows_code["metric"] == "normalized_levenshtein", "n"].max() == 60
