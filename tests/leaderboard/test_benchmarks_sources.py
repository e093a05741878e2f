"""The importers of per-item result files (VLM-Judge-Uncertainty, Polaris, MJ-Bench) on fixtures written here, and the registry."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import pytest

from leaderboard.benchmarks import BENCHMARKS, BenchmarkError, benchmark_names, display_dataset, get_benchmark
from leaderboard.benchmarks.imports import read_summary
from leaderboard.benchmarks.mj_bench import import_mj_bench
from leaderboard.benchmarks.mllm_judge.vju import import_vlm_judge_uncertainty
from leaderboard.benchmarks.polaris import import_polaris
from leaderboard.store.labels import read_labels
from leaderboard.store.read import load_runs

LP_COLUMNS = ["s2_lp1", "s2_lp2", "s2_lp3", "s2_lp4", "s2_lp5"]


def _features(path: Path, rows: list[tuple[int, list[float], float, int]], continuous: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["sample_id", *LP_COLUMNS, "gt_score", "parsed_score", *(["gt_score_continuous"] * continuous)])
        for sample, lps, gt, parsed in rows:
            writer.writerow([sample, *lps, gt, parsed, *([gt / 5] * continuous)])


def _lps(*probs: float) -> list[float]:
    """Log-probabilities whose exponentials are ``probs`` (zero -> a floor, as the files have)."""
    return [math.log(p) if p > 0 else -11.512925464970229 for p in probs]


#: (sample_id, five token probabilities, human score, parsed score); samples 2 and 3 are absent.
VJU_ROWS = [
    (0, _lps(0.1, 0.1, 0.2, 0.3, 0.1), 4.0, 4),  # mass 0.8: renormalised to 1/8, 1/8, 2/8, 3/8, 1/8
    (1, _lps(0.5, 0.25, 0.125, 0.0625, 0.0625), 1.0, 1),
    (4, _lps(0.2, 0.2, 0.2, 0.2, 0.2), 3.0, -1),  # unscored
    (5, _lps(0.0, 0.0, 0.5, 0.5, 0.0), 5.0, 3),
    (6, _lps(0.0, 0.0, 0.0, 0.5, 0.5), 2.0, 5),
]
VJU_DATASETS = {0: "coco", 1: "coco", 4: "llava_bench", 6: "llava_bench"}  # 5 is missing, as 1583 is


def write_vju(root: Path) -> Path:
    """A miniature VLM-Judge-Uncertainty ``results/`` tree: two MLLM-as-a-Judge judges and one Polaris judge."""
    results = root / "results"
    _features(results / "v2" / "features_s2.csv", VJU_ROWS)
    _features(results / "v2_gemini" / "features_s2.csv", [(s, lp, gt, 3) for s, lp, gt, _ in VJU_ROWS])
    with open(results / "v2" / "error_analysis.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["sample_id", "gt_score", "parsed_score", "error", "abs_error", "orig_dataset"])
        for sample, dataset in VJU_DATASETS.items():
            writer.writerow([sample, 0, 0, 0, 0, dataset])
    polaris = [(0, _lps(0.9, 0.1, 0, 0, 0), 1, 1), (1, _lps(0, 0, 0, 1, 0), 4, 4), (2, _lps(0, 0, 1, 0, 0), 5, -1)]
    _features(results / "v2_polaris" / "features_s2.csv", polaris, continuous=True)
    return root


def write_release(root: Path) -> Path:
    """A released ``Benchmark/score.jsonl`` whose score_ids skip and collide, so row n is not score_id n."""
    rows = [
        {"score_id": 0, "id": 10, "original_dataset": "coco", "answer": "ANSWER-TEXT abc", "human": 4},
        {"score_id": 1, "id": 11, "original_dataset": "coco", "answer": "ANSWER-TEXT abcdef", "human": 1},
        {"score_id": 5, "id": 12, "original_dataset": "coco", "answer": "ANSWER-TEXT", "human": 2},
        {"score_id": 6, "id": 13, "original_dataset": "coco", "answer": "ANSWER-TEXT", "human": 2},
        {"score_id": 9, "id": 14, "original_dataset": "llava_bench", "answer": "ANSWER-TEXT", "human": 3},
        {"score_id": 9, "id": 15, "original_dataset": "llava_bench", "answer": "ANSWER-TEXT x", "human": 5},
        {"score_id": 12, "id": 16, "original_dataset": "llava_bench", "answer": "ANSWER-TEXT", "human": 2},
    ]
    path = root / "Benchmark" / "score.jsonl"
    path.parent.mkdir(parents=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return root


@pytest.fixture
def no_benchmark_dir(monkeypatch):
    monkeypatch.delenv("BENCHMARK_DIR", raising=False)


def _records(out: Path, run_id: str) -> dict[str, dict]:
    lines = (out / "runs" / run_id / "judgments.jsonl").read_text().splitlines()
    return {(rec := json.loads(line))["item_id"]: rec for line in lines}


# ---------------------------------------------------------------------- VLM-Judge-Uncertainty (MLLM-as-a-Judge)


def test_full_benchmark_runs_keep_row_numbers_as_ids_when_the_release_is_not_at_hand(tmp_path, no_benchmark_dir):
    src, out = write_vju(tmp_path / "vju"), tmp_path / "out"
    report = import_vlm_judge_uncertainty(src, out)
    assert {r["run_id"] for r in report.runs} == {"vju-all-score-llava-critic-7b", "vju-all-score-gemini-2.5-flash"}
    records = _records(out, "vju-all-score-llava-critic-7b")
    assert list(records) == ["row:0", "row:1", "row:4", "row:5", "row:6"]
    first = records["row:0"]
    assert first["verdict"] == 4 and first["dataset"] == "coco"
    probs = first["probabilities"]
    assert probs["probabilities"] == pytest.approx({"1": 0.125, "2": 0.125, "3": 0.25, "4": 0.375, "5": 0.125})
    assert probs["mass"] == pytest.approx(0.8) and probs["confidence"] == pytest.approx(0.375)
    assert probs["expected_score"] == pytest.approx((1 + 2 + 6 + 12 + 5) / 8)
    assert records["row:4"]["verdict"] is None and records["row:4"]["probabilities"] is None
    assert "parsed_score -1" in records["row:4"]["unscored_reason"]
    # Sample 5 is missing from error_analysis.csv; its neighbours (4 and 6) are both llava_bench.
    assert (
        records["row:5"]["dataset"] == "llava_bench" and report.counts["dataset inferred from neighbouring rows"] == 1
    )


def test_full_benchmark_runs_say_who_ran_the_judges_with_which_prompt(tmp_path, no_benchmark_dir):
    src, out = write_vju(tmp_path / "vju"), tmp_path / "out"
    import_vlm_judge_uncertainty(src, out)
    labels = read_labels(out / "benchmark" / "labels.csv")
    loaded = load_runs([out], labels)
    assert loaded.problems == ()
    manifest = next(r.manifest for r in loaded.runs if r.run_id == "vju-all-score-gemini-2.5-flash")
    assert (manifest.benchmark, manifest.mode, manifest.split, manifest.judge) == (
        "mllm-as-a-judge", "score", "all", "Gemini-2.5-Flash",
    )  # fmt: skip
    assert manifest.source["reported_by"] == "reported per item by VLM-Judge-Uncertainty (Kumar et al., 2026)"
    assert "own chain-of-thought scoring prompt" in manifest.source["prompt"] and "Kumar" in manifest.notes
    assert manifest.setting != "no-cot"
    rows = labels[labels["benchmark"] == "mllm-as-a-judge"].set_index("item_id")
    assert rows.loc["row:0", "human_label"] == "4" and rows.loc["row:6", "dataset"] == "llava_bench"
    assert set(rows["subset"]) == {"all"} and len(rows) == 5
    assert read_summary(out, "import-vlm-judge-uncertainty")["runs"][0]["with_probabilities"] == 4


def test_row_numbers_map_to_the_release_score_ids_when_it_is_at_hand(tmp_path, no_benchmark_dir):
    src, out = write_vju(tmp_path / "vju"), tmp_path / "out"
    release = write_release(tmp_path / "MLLM-Judge")
    report = import_vlm_judge_uncertainty(src, out, release=release)
    # Rows 0 1 2 3 4 5 6 carry score_ids 0 1 5 6 9 9 12; the second 9 is kept as 9~2, as the runner reads it.
    assert list(_records(out, "vju-all-score-llava-critic-7b")) == ["0", "1", "9", "9~2", "12"]
    labels = read_labels(out / "benchmark" / "labels.csv").set_index("item_id")
    assert labels.loc["9~2", "human_label"] == "5" and labels.loc["1", "response_lengths"] == "18"
    assert labels.loc["9", "dataset"] == "llava_bench" and labels.loc["0", "image_id"] == "10"
    assert (
        report.counts["rows mapped to score_id"] == 5 and report.counts["human score differs from the release's"] == 0
    )


def test_the_release_comes_from_benchmark_dir_and_a_misaligned_file_is_refused(tmp_path, monkeypatch):
    src, out = write_vju(tmp_path / "vju"), tmp_path / "out"
    release = write_release(tmp_path / "MLLM-Judge")
    monkeypatch.setenv("BENCHMARK_DIR", str(release))
    import_vlm_judge_uncertainty(src, out)
    assert "12" in _records(out, "vju-all-score-gemini-2.5-flash")
    shifted = tmp_path / "shifted"
    path = shifted / "Benchmark" / "score.jsonl"
    path.parent.mkdir(parents=True)
    path.write_text("".join(json.dumps({"score_id": i, "answer": "a", "human": 3}) + "\n" for i in range(7)))
    with pytest.raises(BenchmarkError, match="do not line up"):
        import_vlm_judge_uncertainty(src, tmp_path / "out2", release=shifted)


def test_importing_one_benchmark_keeps_the_labels_of_the_others(tmp_path, no_benchmark_dir):
    src, out = write_vju(tmp_path / "vju"), tmp_path / "out"
    import_vlm_judge_uncertainty(src, out)
    import_polaris(src, out)
    import_vlm_judge_uncertainty(src, out)  # again: replaces its own rows only
    labels = read_labels(out / "benchmark" / "labels.csv")
    # Both benchmarks key items row:0, row:1 ...: the benchmark column keeps them apart.
    assert labels.groupby("benchmark").size().to_dict() == {"mllm-as-a-judge": 5, "polaris": 3}
    summary = json.loads((out / "benchmark" / "import_summary.json").read_text())
    assert set(summary) == {"import-polaris", "import-vlm-judge-uncertainty"}


def test_missing_result_files_are_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="not a folder"):
        import_vlm_judge_uncertainty(tmp_path / "nope", tmp_path / "out")
    with pytest.raises(FileNotFoundError, match="results/v2/features_s2.csv"):
        import_vlm_judge_uncertainty(tmp_path, tmp_path / "out")
    with pytest.raises(FileNotFoundError, match="results/v2_polaris/features_s2.csv"):
        import_polaris(tmp_path, tmp_path / "out")


# ---------------------------------------------------------------------- Polaris


def test_polaris_runs_are_score_runs_of_their_own_benchmark(tmp_path):
    src, out = write_vju(tmp_path / "vju"), tmp_path / "out"
    report = import_polaris(src, out)
    assert [r["run_id"] for r in report.runs] == ["polaris-all-score-llava-critic-7b"]
    records = _records(out, "polaris-all-score-llava-critic-7b")
    assert {k: r["verdict"] for k, r in records.items()} == {"row:0": 1, "row:1": 4, "row:2": None}
    assert records["row:0"]["dataset"] == "Polaris"
    assert records["row:0"]["probabilities"]["probabilities"]["1"] == pytest.approx(0.9, abs=1e-4)
    labels = read_labels(out / "benchmark" / "labels.csv")
    assert set(labels["benchmark"]) == {"polaris"} and list(labels["human_label"]) == ["1", "4", "5"]
    manifest = json.loads((out / "runs" / "polaris-all-score-llava-critic-7b" / "manifest.json").read_text())
    assert manifest["benchmark"] == "polaris" and "Kumar" in manifest["source"]["reported_by"]


# ---------------------------------------------------------------------- MJ-Bench


def _mj_item(i: str, label: int, caption: str = "a cat") -> dict:
    return {"id": i, "source": "pick_a_pic", "caption": caption, "image0": f"{i}-0.jpg", "image1": f"{i}-1.jpg",
            "label": label}  # fmt: skip


def _mj_result(item: dict, pred: object) -> dict:
    return {"id": item["id"], "caption": item["caption"], "image_0_uid": item["image0"], "image_1_uid": item["image1"],
            "label": str(item["label"]), "score_0": 7, "score_1": 3, "vlm_pred": "0", "pred": pred,
            "output": "JUDGE-TEXT that must not be stored"}  # fmt: skip


def write_mj_bench(root: Path) -> Path:
    """Two categories, two judges: ``count`` items live in ``other``, and one of them is not there at all."""
    actions = [_mj_item("pap_0", 0), _mj_item("pap_1", 1)]
    other = [_mj_item("pap_0", 0, "two dogs")]  # the same id as in actions: another item
    counts = [other[0], _mj_item("hpdv2_9", 1, "three cups")]  # hpdv2_9 is missing from the item files
    for folder, items in (("actions", actions), ("other", other)):
        path = root / "alignment" / "benchmark" / folder / f"{folder}_test.json"
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps(items))
    preds = {"gpt-4o": (["0", "1"], ["tie", "0"]), "claude-3-opus": ([-1, "0"], ["0", "1"])}
    for judge, (action_preds, count_preds) in preds.items():
        for category, items, values in (("action", actions, action_preds), ("count", counts, count_preds)):
            path = root / "closesource_result" / "alignment" / category / f"{judge}_alignment_number10.json"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps([_mj_result(item, v) for item, v in zip(items, values, strict=True)]))
    return root


def test_mj_bench_verdicts_become_pair_runs_keyed_by_category_and_id(tmp_path):
    src, out = write_mj_bench(tmp_path / "mj"), tmp_path / "out"
    report = import_mj_bench(src, out)
    assert [r["run_id"] for r in report.runs] == ["mjbench-all-pair-claude-3-opus", "mjbench-all-pair-gpt-4o"]
    gpt = {k: v["verdict"] for k, v in _records(out, "mjbench-all-pair-gpt-4o").items()}
    assert gpt == {"action:pap_0": "A", "action:pap_1": "B", "count:hpdv2_9": "A", "count:pap_0": "tie"}
    claude = _records(out, "mjbench-all-pair-claude-3-opus")
    assert claude["action:pap_0"]["verdict"] is None and "pred -1" in claude["action:pap_0"]["unscored_reason"]
    assert claude["count:hpdv2_9"]["dataset"] == "count"
    both = read_labels(out / "benchmark" / "labels.csv")
    # The same labels for the imported pair runs and for the runner's image-pair runs.
    assert both.groupby("mode").size().to_dict() == {"image-pair": 4, "pair": 4}
    labels = both[both["mode"] == "pair"].set_index("item_id")
    assert both[both["mode"] == "image-pair"].set_index("item_id")["human_label"].equals(labels["human_label"])
    assert labels["human_label"].to_dict() == {"action:pap_0": "A", "action:pap_1": "B", "count:hpdv2_9": "B",
                                               "count:pap_0": "A"}  # fmt: skip
    assert set(labels["benchmark"]) == {"mj-bench"} and set(labels["n_responses"]) == {2}
    assert labels.loc["action:pap_1", "image_id"] == "pap_1-0.jpg|pap_1-1.jpg"
    assert report.counts["items checked against the item files"] == 3
    assert report.counts["items not in the item files (result files' label kept)"] == 1
    manifest = json.loads((out / "runs" / "mjbench-all-pair-gpt-4o" / "manifest.json").read_text())
    assert (manifest["benchmark"], manifest["mode"], manifest["judge"]) == ("mj-bench", "pair", "GPT-4o")
    assert "pair task" in manifest["notes"] and "always-A baseline" in manifest["notes"]
    for path in out.rglob("*"):
        if path.is_file():
            assert "JUDGE-TEXT" not in path.read_text() and "a cat" not in path.read_text()
    assert load_runs([out], read_labels(out / "benchmark" / "labels.csv")).problems == ()


def test_mj_bench_label_disagreements_are_flagged(tmp_path):
    src = write_mj_bench(tmp_path / "mj")
    path = src / "closesource_result" / "alignment" / "action" / "gpt-4o_alignment_number10.json"
    rows = json.loads(path.read_text())
    rows[0]["label"] = "1"
    path.write_text(json.dumps(rows))
    report = import_mj_bench(src, tmp_path / "out")
    labels = read_labels(tmp_path / "out" / "benchmark" / "labels.csv")
    labels = labels[labels["mode"] == "pair"].set_index("item_id")
    assert labels.loc["action:pap_0", "label_issue"] == "judges' files disagree on the human label"
    assert labels.loc["action:pap_0", "human_label"] == ""
    assert report.counts["labels that differ from the item files'"] == 1


def test_mj_bench_without_result_files_says_what_it_expects(tmp_path):
    with pytest.raises(FileNotFoundError, match="closesource_result/alignment"):
        import_mj_bench(tmp_path, tmp_path / "out")


# ---------------------------------------------------------------------- the registry and the command line


def test_the_registry_has_three_benchmarks_each_with_its_importers_and_datasets():
    assert benchmark_names() == ("mllm-as-a-judge", "mj-bench", "polaris")
    assert set(get_benchmark().importers) == {"import-mllm-judge", "import-vlm-judge-uncertainty"}
    assert set(get_benchmark("polaris").importers) == {"import-polaris"}
    mj = get_benchmark("mj-bench")
    assert mj.modes == ("pair", "image-pair")
    assert mj.dataset_order == ("Object", "Attribute", "Action", "Spatial", "Count")
    assert display_dataset("existence", "mj-bench") == "Object" and display_dataset("polaris") == "Polaris"
    assert display_dataset("llava_bench") == "CC-3M"
    commands = [c for b in BENCHMARKS.values() for c in b.importers]
    assert len(commands) == len(set(commands))


def test_benchmarks_without_items_here_refuse_to_select_them_and_say_why():
    bench = get_benchmark("polaris")
    with pytest.raises(BenchmarkError, match="import"):
        bench.select_items(Path("."), bench.modes[0])
    # MJ-Bench items are read from a local folder (tests/leaderboard/test_mj_bench_local_items.py), in image-pair.
    mj = get_benchmark("mj-bench")
    with pytest.raises(BenchmarkError, match="--mode image-pair"):
        mj.select_items(Path("."), "pair")
    for bench in (get_benchmark("polaris"), mj):
        with pytest.raises(BenchmarkError, match="not one of all"):
            bench.subset_of_split("hq")
        assert bench.subset_of_split("all") == "all"


def test_each_importer_is_a_command(tmp_path, capsys, no_benchmark_dir):
    from leaderboard.__main__ import main

    vju, mj, out = write_vju(tmp_path / "vju"), write_mj_bench(tmp_path / "mj"), tmp_path / "out"
    assert main(["import-vlm-judge-uncertainty", str(vju), "--out", str(out)]) == 0
    assert main(["import-polaris", str(vju), "--out", str(out)]) == 0
    assert main(["import-mj-bench", str(mj), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "vju-all-score-llava-critic-7b" in printed and "mjbench-all-pair-gpt-4o" in printed
    assert len(list((out / "runs").iterdir())) == 2 + 1 + 2


def test_import_from_hub_maps_rows_with_the_downloaded_release(tmp_path, monkeypatch, no_benchmark_dir, capsys):
    import huggingface_hub.constants as constants

    from leaderboard.__main__ import main
    from tests.support.hub_server import serve_hub

    src, out = write_vju(tmp_path / "vju"), tmp_path / "out"
    release = write_release(tmp_path / "MLLM-Judge")
    with serve_hub() as hub:
        hub.seed_folder("shuaishuaicdp/MLLM-Judge", release)
        monkeypatch.setattr(constants, "ENDPOINT", hub.url)
        monkeypatch.setattr(
            constants, "HUGGINGFACE_CO_URL_TEMPLATE", hub.url + "/{repo_id}/resolve/{revision}/{filename}"
        )
        monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
        # SRC stays the judge outputs; --from-hub only brings the release that maps row numbers.
        assert main(["import-vlm-judge-uncertainty", str(src), "--from-hub", "--out", str(out)]) == 0
    assert list(_records(out, "vju-all-score-llava-critic-7b")) == ["0", "1", "9", "9~2", "12"]
    assert "wrote 2 runs" in capsys.readouterr().out
