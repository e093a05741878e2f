"""Reference rows of every benchmark, and the agreement of computed and published rows that describe the same run."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from leaderboard.benchmarks import BENCHMARKS, get_benchmark
from leaderboard.benchmarks.mllm_judge.datasets import DATASET_ORDER
from leaderboard.benchmarks.reported import read_reported
from leaderboard.metrics import METRIC_NAMES, compute_rows
from leaderboard.schema import AVERAGE, PROVENANCE_PAPER
from leaderboard.store.labels import read_labels
from leaderboard.store.read import load_runs
from leaderboard.store.sources import default_assets_dir

KUMAR = "LLaVA-Critic-7B (Kumar et al. 2026 re-eval; CoT prompt)"


@pytest.fixture(scope="module")
def shipped():
    assets = default_assets_dir()
    labels = read_labels(assets / "benchmark" / "labels.csv")
    return load_runs([assets], labels).runs, labels


def _computed(shipped, run_id: str, metric: str) -> pd.Series:
    runs, labels = shipped
    run = [r for r in runs if r.run_id == run_id]
    rows = compute_rows(run, labels, n_resamples=0)
    rows = rows[rows["metric"] == metric]
    return rows.set_index("dataset")["value"]


def test_later_papers_rows_stand_beside_the_papers_with_source_and_protocol():
    rows = get_benchmark().reference_rows(known_metrics=METRIC_NAMES)
    assert set(rows["provenance"]) == {PROVENANCE_PAPER} and set(rows["run_id"]) == {"paper"}
    assert set(rows["benchmark"]) == {"mllm-as-a-judge"} and set(rows["subset"]) == {"all"}
    flex = rows[(rows["judge"] == "FLEX-VL-7B") & (rows["metric"] == "pearson")].set_index("dataset")
    assert list(flex.index) == [*DATASET_ORDER, AVERAGE]
    assert "source: Flex-Judge (Ko et al." in flex.loc["COCO", "reason"] and "protocol: " in flex.loc["COCO", "reason"]
    gpt4v = rows[rows["judge"] == "GPT-4V (LLaVA-Critic re-eval)"]
    assert gpt4v["reason"].str.contains("LLaVA-Critic's").all()
    paper = rows[rows["judge"] == "Gemini-1.0-Pro-Vision"]
    assert paper["reason"].str.contains("MLLM-as-a-Judge").all()
    assert rows["n"].isna().all() and rows["ci_low"].isna().all()


def test_the_published_table_of_kumar_et_al_agrees_with_the_shipped_run_of_the_same_judgments(shipped):
    published = get_benchmark().reference_rows(known_metrics=METRIC_NAMES)
    published = published[published["judge"] == KUMAR].set_index("dataset")["value"]
    assert sorted(published.index) == sorted(DATASET_ORDER)  # llava_bench is the CC-3M column
    computed = _computed(shipped, "vju-all-score-llava-critic-7b", "pearson")
    for dataset, value in published.items():
        assert computed[dataset] == pytest.approx(value, abs=5e-4), dataset


def test_polaris_reference_rows_agree_with_the_shipped_polaris_runs(shipped):
    published = get_benchmark("polaris").reference_rows(known_metrics=METRIC_NAMES)
    assert set(published["benchmark"]) == {"polaris"} and len(published) == 6
    for run_id, judge in (("polaris-all-score-llava-critic-7b", "LLaVA-Critic-7B"),
                          ("polaris-all-score-phi-4-reasoning-vision", "Phi-4-reasoning-vision")):  # fmt: skip
        mine = published[published["judge"] == judge]
        for metric, value in zip(mine["metric"], mine["value"], strict=True):
            assert _computed(shipped, run_id, metric)["Polaris"] == pytest.approx(value, abs=5e-4), (run_id, metric)


def test_every_benchmark_gives_reference_rows_in_the_long_tables_columns():
    for bench in BENCHMARKS.values():
        rows = bench.reference_rows(known_metrics=METRIC_NAMES)
        assert list(rows.columns) == list(get_benchmark().reference_rows().columns)
        assert rows.empty or set(rows["benchmark"]) == {bench.name}


def test_a_reported_csv_needs_its_columns_and_known_metrics(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("mode,metric,judge,dataset,value\nscore,pearson,J,coco,\nscore,pearson,J,Ave.,0.5\n")
    rows = read_reported([path], benchmark="b", display_dataset=str.upper)
    assert list(rows["dataset"]) == ["COCO", AVERAGE] and math.isnan(rows["value"].iloc[0])
    assert rows["reason"].iloc[0] == "not reported" and rows["setting"].iloc[0] == "no-cot"
    with pytest.raises(ValueError, match="unknown metric"):
        read_reported([path], benchmark="b", display_dataset=str, known_metrics=["accuracy"])
    (tmp_path / "bad.csv").write_text("mode,judge\n")
    with pytest.raises(ValueError, match="missing column"):
        read_reported([tmp_path / "bad.csv"], benchmark="b", display_dataset=str)
