"""The board: reference rows name their benchmark; a minimum-n control recomputes from the loaded runs."""

from __future__ import annotations

import math

import pandas as pd

from leaderboard.board import LazyLeaderboard, load_leaderboard, reference_rows, table_with_min_n
from leaderboard.schema import COLUMN_NAMES, DEFAULT_MIN_N, PROVENANCE_PAPER, PROVENANCE_RUN
from leaderboard.store.format import Judgment, Manifest
from leaderboard.store.labels import LABEL_COLUMNS, write_labels
from leaderboard.store.write import write_run


def small_source(root):
    """A score run: 12 COCO items and 4 WIT items (under the default minimum n)."""
    datasets = ["coco"] * 12 + ["WIT"] * 4
    human = [1 + k % 5 for k in range(16)]
    judge = [h if k % 4 else 6 - h for k, h in enumerate(human)]
    labels = pd.DataFrame(
        [{"mode": "score", "subset": "all", "item_id": str(k), "dataset": d, "human_label": str(h),
          "n_responses": 1, "response_lengths": "", "image_id": str(k), "label_issue": ""}
         for k, (d, h) in enumerate(zip(datasets, human, strict=True))],
        columns=list(LABEL_COLUMNS),
    )  # fmt: skip
    write_labels(labels, root / "benchmark" / "labels.csv")
    judgments = [Judgment(str(k), d, j) for k, (d, j) in enumerate(zip(datasets, judge, strict=True))]
    write_run(root / "runs" / "s", Manifest("s", "Judge S", "score", PROVENANCE_RUN), judgments)
    return root


def wit_pearson(table: pd.DataFrame) -> pd.Series:
    rows = table[(table["run_id"] == "s") & (table["metric"] == "pearson") & (table["dataset"] == "WIT")]
    assert len(rows) == 1
    return rows.iloc[0]


def test_every_reference_row_names_its_benchmark():
    rows = reference_rows()
    assert len(rows) and rows["benchmark"].notna().all() and (rows["provenance"] == PROVENANCE_PAPER).all()


def test_load_leaderboard_applies_the_default_minimum_n_and_keeps_what_a_rebuild_needs(tmp_path):
    data = load_leaderboard(sources=[small_source(tmp_path)], n_resamples=20)
    assert list(data.table.columns) == list(COLUMN_NAMES) and data.min_n == DEFAULT_MIN_N
    assert math.isnan(wit_pearson(data.table)["value"]) and wit_pearson(data.table)["reason"] == "n < 10"
    assert data.reference is not None and len(data.reference)
    assert table_with_min_n(data, DEFAULT_MIN_N) is data.table
    loose = table_with_min_n(data, 2, n_resamples=20)
    assert not math.isnan(wit_pearson(loose)["value"])
    assert (loose["provenance"] == PROVENANCE_PAPER).sum() == (data.table["provenance"] == PROVENANCE_PAPER).sum()


def test_the_lazy_store_caches_one_table_per_minimum_n_until_a_refresh(tmp_path):
    source = small_source(tmp_path)
    store = LazyLeaderboard(n_resamples=20, sources=lambda: [source])
    assert store.table() is store.get().table and store.table(DEFAULT_MIN_N) is store.get().table
    loose = store.table(2)
    assert store.table(2) is loose and not math.isnan(wit_pearson(loose)["value"])
    store.refresh()
    assert store.table(2) is not loose  # computed again from the new load
    strict = LazyLeaderboard(n_resamples=20, sources=lambda: [source], min_n=20)
    coco = strict.table()
    assert coco[(coco["run_id"] == "s") & (coco["dataset"] == "COCO")]["value"].isna().all()
