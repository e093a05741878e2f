"""The importer on a small fixture in the Hub layout (written here), the local layout, and the shipped assets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from leaderboard.benchmarks.mllm_judge.importer import import_mllm_judge, judge_display_name
from leaderboard.benchmarks.mllm_judge.release import discover
from leaderboard.store.labels import read_labels
from leaderboard.store.read import load_runs
from leaderboard.store.sources import default_assets_dir

TEXT_MARKERS = ("INSTRUCTION-TEXT", "ANSWER-TEXT", "ANALYSIS-TEXT")


def _write(path: Path, rows: list[dict | str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))


def _ans(name: str, k: int) -> dict:
    return {"name": name, "answer": f"ANSWER-TEXT {name} {k} " + "x" * (10 * k)}


def _score_item(i: int, dataset: str, human: int | None) -> dict:
    row = {"score_id": i, "id": 100 + i, "image_path": f"image/{100 + i}.jpg", "original_dataset": dataset,
           "instruction": f"INSTRUCTION-TEXT {i}", "name": "llava", "answer": f"ANSWER-TEXT {i}" + "y" * i}  # fmt: skip
    if human is not None:
        row["human"] = human
    return row


def _pair_item(i: int, dataset: str, human: str | None) -> dict:
    row = {"id": 200 + i, "pair_id": i, "image_path": "image/x.jpg", "original_dataset": dataset,
           "instruction": f"INSTRUCTION-TEXT {i}", "answer1": _ans("gpt4", i), "answer2": _ans("gemini", i + 1)}  # fmt: skip
    if human is not None:
        row["human"] = human
    return row


def _batch_item(i: int, dataset: str, human: str, n: int = 4) -> dict:
    names = ["llava", "cogvlm", "gpt4", "gemini"][:n]
    return {"id": i, "image_path": f"image/{i}.jpg", "original_dataset": dataset, "instruction": f"INSTRUCTION-TEXT {i}",
            "answers": [_ans(name, k) for k, name in enumerate(names)], "human_answer": human}  # fmt: skip


def _result(name: str, judge: object, analysis: str = "ANALYSIS-TEXT because") -> dict:
    return {"name": name, "judge": judge, "analysis": analysis}


def write_hub_fixture(root: Path) -> Path:
    """A miniature release in the Hub layout, with the messy verdicts the real one has."""
    scores = [_score_item(0, "coco", 4), _score_item(1, "coco", 2), _score_item(2, "Concept Caption", 5),
              _score_item(3, "Concept Caption", 3), _score_item(4, "coco", 1), _score_item(5, "coco", 3)]  # fmt: skip
    pairs = [_pair_item(10, "coco", "A"), _pair_item(11, "coco", "B"), _pair_item(12, "WIT", "C"),
             _pair_item(13, "WIT", "A"), _pair_item(14, "WIT", None)]  # fmt: skip
    batches = [_batch_item(20, "mathvista", "CDAB"), _batch_item(21, "mathvista", "CAB", n=3),
               _batch_item(22, "textVQA", ""), _batch_item(23, "textVQA", "CABD", n=3)]  # fmt: skip
    _write(root / "Benchmark" / "score.jsonl", scores)
    _write(root / "Benchmark" / "pair.jsonl", pairs)
    _write(root / "Benchmark" / "batch.jsonl", [*batches, batches[0]])  # a duplicated id, as in the release
    step3 = root / "raw_data" / "step3"
    raw_scores = ["[[4]]", "2141342145", 3, "", "I cannot rate this", "Rating: 2"]
    rows: list[dict | str] = [{**s, "result": _result("GPT-4V", v)} for s, v in zip(scores, raw_scores, strict=True)]
    rows[3]["result"]["analysis"] = "ANALYSIS-TEXT ... Judgement: 5"  # verdict only in the full output
    rows.append({**_score_item(999, "coco", None), "result": _result("GPT-4V", "4")})  # not in the benchmark
    rows.insert(2, '{"score_id": 7, "result": ')  # a malformed line
    _write(step3 / "Score" / "GPT-4V.jsonl", rows)
    raw_pairs = ["C", "[[A]]", "B", "Both are good", "A"]
    _write(
        step3 / "Pair" / "GPT-4V.jsonl",
        [{**p, "result": _result("GPT-4V", v)} for p, v in zip(pairs, raw_pairs, strict=True)],
    )
    raw_batches = ["ANALYSIS-TEXT Rank: [[A], [C], [B], [D]]", "Judgement: [C, B, A]", "AB", "[[C]], [[A]], [[B]]"]
    _write(
        step3 / "Batch" / "GPT-4V.jsonl",
        [{**b, "result": _result("GPT-4V", v)} for b, v in zip(batches, raw_batches, strict=True)],
    )
    hq = root / "Hard & HQ" / "HQ"
    hq_scores = [
        {**_score_item(0, "coco", None), "Human_answer": 4, "result": _result("gpt4", "4"), "evaluator": {"judge_Evaluator": 4}},
        {**_score_item(1, "coco", None), "Human_answer": 2, "result": _result("gpt4", "225"), "evaluator": {"judge_Evaluator": 2}},
        {**_score_item(2, "coco", None), "Human_answer": 5, "result": _result("gpt4", "5"), "evaluator": {"judge_Evaluator": 3}},
    ]  # fmt: skip
    _write(hq / "Score.jsonl", hq_scores)
    hq_pairs = [{**_pair_item(10, "coco", None), "human_answer": "A", "result": _result("gemini", "C")},
                {**_pair_item(11, "coco", None), "human_answer": "C", "result": _result("gemini", "B")}]  # fmt: skip
    _write(hq / "Pair.jsonl", hq_pairs)
    hq_batch = {**_batch_item(21, "mathvista", "CAB", n=3),
                "evaluator": {"name": "gpt4", "judge": "ANALYSIS-TEXT ... Rank: [[B], [A], [C]]", "judge_evaluator": "BACD"}}  # fmt: skip
    _write(hq / "Batch.jsonl", [hq_batch])
    hard = [
        {**_pair_item(i, "coco", None), "result1": _result("gemini", "A"), "result2": _result("gpt4", v)}
        for i, v in ((10, "B"), (11, "[[B]]"))
    ]
    _write(root / "Hard & HQ" / "Hard" / "Pair.jsonl", hard)
    (root / "image").mkdir()
    _write(root / "Benchmark" / "arxiv_data" / "notes.jsonl", [{"x": 1}])  # unrecognised: reported as skipped
    return root


@pytest.fixture
def imported(tmp_path):
    src = write_hub_fixture(tmp_path / "MLLM-Judge")
    out = tmp_path / "out"
    return import_mllm_judge(src, out), out


def test_discovery_recognises_both_layouts_case_insensitively(tmp_path):
    for rel in ("BENCHMARK/Score.JSONL", "raw_data/step3/PAIR/Gemini.jsonl", "Dataset/Hard & HQ/HQ/Score.jsonl",
                "MLLM-as-a-Judge-HQ/Pair.jsonl", "MLLM-as-a-Judge-Hard/Pair.jsonl", "misc/other.jsonl"):  # fmt: skip
        _write(tmp_path / rel, [{}])
    found, skipped = discover(tmp_path)
    kinds = {(f.kind, f.mode, f.judge) for f in found}
    assert kinds == {("benchmark", "score", ""), ("raw", "pair", "Gemini"), ("hq", "score", ""), ("hq", "pair", ""),
                     ("hard", "pair", "")}  # fmt: skip
    assert skipped == ["misc/other.jsonl"]


def test_import_writes_the_expected_runs(imported):
    summary, out = imported
    ids = {r["run_id"]: r for r in summary.runs}
    assert set(ids) == {
        "mllmj-all-score-gpt-4v", "mllmj-all-pair-gpt-4v", "mllmj-all-batch-gpt-4v", "mllmj-hq-score-gpt-4v",
        "mllmj-hq-pair-gemini-1.0-pro-vision", "mllmj-hq-batch-gpt-4v", "mllmj-hard-pair-gemini-1.0-pro-vision",
        "mllmj-hard-pair-gpt-4v",
    }  # fmt: skip
    loaded = load_runs([out], read_labels(out / "benchmark" / "labels.csv"))
    assert loaded.problems == ()
    verdicts = {r.run_id: dict(zip(r.records["item_id"], r.records["verdict"], strict=True)) for r in loaded.runs}
    assert verdicts["mllmj-all-score-gpt-4v"] == {"0": 4, "1": None, "2": 3, "3": 5, "4": None, "5": 2}
    assert verdicts["mllmj-all-pair-gpt-4v"] == {"10": "tie", "11": "A", "12": "B", "13": None, "14": "A"}
    assert verdicts["mllmj-all-batch-gpt-4v"] == {"20": "ACBD", "21": "CBA", "22": None, "23": "CAB"}
    assert verdicts["mllmj-hq-batch-gpt-4v"] == {"21": "BAC"}
    assert verdicts["mllmj-hard-pair-gpt-4v"] == {"10": "B", "11": "B"}
    manifest = next(r.manifest for r in loaded.runs if r.run_id == "mllmj-hq-score-gpt-4v")
    assert manifest.split == "hq" and manifest.provenance == "imported from the released data"
    assert manifest.model_id == "gpt4" and manifest.judge == "GPT-4V" and "inflated" in manifest.notes


def test_unparsed_and_defects_are_counted_per_file(imported):
    summary, _ = imported
    files = {f.path: f for f in summary.files}
    raw_score = files["raw_data/step3/Score/GPT-4V.jsonl"]
    assert raw_score.unparsed == {"GPT-4V": 2} and raw_score.judgments == {"GPT-4V": 6}
    assert raw_score.bad_rows == {"malformed JSON": 1} and raw_score.not_in_benchmark == 1
    assert raw_score.verdict_from_full_text == 1
    assert any("ambiguous score" in reason for reason in raw_score.unparsed_reasons)
    assert files["raw_data/step3/Pair/GPT-4V.jsonl"].unparsed == {"GPT-4V": 1}
    raw_batch = files["raw_data/step3/Batch/GPT-4V.jsonl"]
    assert raw_batch.unparsed == {"GPT-4V": 1} and any("ranks 2 of 4" in r for r in raw_batch.unparsed_reasons)
    bench_batch = files["Benchmark/batch.jsonl"]
    assert bench_batch.bad_rows == {"repeated item id, identical row (read once)": 1}
    assert sum(bench_batch.label_issues.values()) == 2  # the empty label and 'CABD' with 3 responses
    hq_score = files["Hard & HQ/HQ/Score.jsonl"]
    assert (hq_score.cleaned_disagree, hq_score.cleaned_raw_unparsed, hq_score.disagree_items) == (1, 1, ("2",))
    hq_batch = files["Hard & HQ/HQ/Batch.jsonl"]
    assert hq_batch.cleaned_invalid == 1 and hq_batch.cleaned_disagree == 1
    assert files["Benchmark/pair.jsonl"].label_issues == {"no human label": 1}
    assert summary.skipped_files == ("Benchmark/arxiv_data/notes.jsonl",)
    markdown = summary.to_markdown()
    assert "raw_data/step3/Score/GPT-4V.jsonl" in markdown and "ambiguous score" in markdown


def test_a_raw_score_of_several_numbers_is_read_from_the_final_verdict_of_the_analysis(tmp_path):
    src = tmp_path / "copy"
    rows = [
        {**_score_item(0, "coco", None), "Human_answer": 3,
         "result": _result("gpt4", "53", "ANALYSIS-TEXT it rates 5 things.Judgement:[[3]]"), "evaluator": {"judge_Evaluator": 3}},
        {**_score_item(1, "coco", None), "Human_answer": 5,
         "result": _result("gpt4", "11114", "ANALYSIS-TEXT , Judgement: [[4]]"), "evaluator": {"judge_Evaluator": 5}},
        {**_score_item(2, "coco", None), "Human_answer": 2, "result": _result("gpt4", "2141342145", "ANALYSIS-TEXT")},
        {**_score_item(3, "coco", None), "Human_answer": 2, "result": _result("gpt4", "Rating: 2", "Judgement: [[5]]")},
    ]  # fmt: skip
    _write(src / "Hard & HQ" / "HQ" / "Score.jsonl", rows)
    summary = import_mllm_judge(src, tmp_path / "out")
    report = summary.files[0]
    assert report.verdict_from_analysis == 2 and report.unparsed == {"GPT-4V": 1}
    assert report.cleaned_disagree == 1 and report.disagree_items == ("1",)  # the analysis says 4, "cleaned" says 5
    loaded = load_runs([tmp_path / "out"])
    verdicts = dict(zip(loaded.runs[0].records["item_id"], loaded.runs[0].records["verdict"], strict=True))
    assert verdicts == {"0": 3, "1": 4, "2": None, "3": 2}  # a raw verdict that parses is never overridden
    assert "read from the judge's final verdict" in summary.to_markdown()


def test_labels_are_joined_normalised_and_textless(imported):
    _, out = imported
    labels = read_labels(out / "benchmark" / "labels.csv").set_index(["mode", "subset", "item_id"])
    assert labels.loc[("pair", "all", "12"), "human_label"] == "tie"  # the data's C
    assert labels.loc[("pair", "hard", "11"), "human_label"] == "B"  # Hard has none: joined from the benchmark
    assert labels.loc[("pair", "hq", "11"), "human_label"] == "tie"
    assert labels.loc[("batch", "all", "23"), "label_issue"].endswith("ranks D but the item has 3 responses")
    assert labels.loc[("batch", "all", "21"), "response_lengths"].count("|") == 2
    assert labels.loc[("score", "all", "2"), "dataset"] == "Concept Caption"
    for path in out.rglob("*"):
        if path.is_file():
            text = path.read_text()
            assert not any(marker in text for marker in TEXT_MARKERS), f"{path} contains response text"


def test_reimport_replaces_runs_and_keeps_other_labels(imported, tmp_path):
    summary, out = imported
    other = tmp_path / "other"
    _write(other / "MLLM-as-a-Judge-HQ" / "Pair.jsonl",
           [{**_pair_item(50, "WIT", None), "human_answer": "B", "result": _result("gpt4", "B")}])  # fmt: skip
    import_mllm_judge(other, out)
    labels = read_labels(out / "benchmark" / "labels.csv")
    assert {"50", "10", "11"} <= set(labels[(labels["mode"] == "pair") & (labels["subset"] == "hq")]["item_id"])
    assert (out / "runs" / "mllmj-all-score-gpt-4v").exists()


def test_from_hub_flag_downloads_then_imports(tmp_path, monkeypatch, capsys):
    import huggingface_hub.constants as constants

    from leaderboard.__main__ import main
    from tests.support.hub_server import serve_hub

    src = write_hub_fixture(tmp_path / "snapshot")
    (src / "image").mkdir(exist_ok=True)
    (src / "image" / "1.jpg").write_bytes(b"not needed by the importer")
    with serve_hub() as hub:
        hub.seed_folder("shuaishuaicdp/MLLM-Judge", src)
        # What HF_ENDPOINT sets when huggingface_hub is imported: the default Hub is the local fake.
        monkeypatch.setattr(constants, "ENDPOINT", hub.url)
        monkeypatch.setattr(
            constants, "HUGGINGFACE_CO_URL_TEMPLATE", hub.url + "/{repo_id}/resolve/{revision}/{filename}"
        )
        assert (
            main(["import-mllm-judge", "--from-hub", str(tmp_path / "hf-cache"), "--out", str(tmp_path / "out")]) == 0
        )
        downloaded = [r.path for r in hub.requests if "/resolve/" in r.path and r.method == "GET"]
    assert downloaded and all(path.endswith(".jsonl") for path in downloaded)  # JSONL only, no images
    assert "mllmj-all-pair-gpt-4v" in capsys.readouterr().out
    assert (tmp_path / "out" / "runs" / "mllmj-all-pair-gpt-4v" / "judgments.jsonl").exists()


def test_from_hub_without_network_says_how_to_import_offline(tmp_path):
    from leaderboard.benchmarks.mllm_judge.importer import fetch_hub_dataset

    # A real connection to a closed port on this machine: the same failure as having no network.
    with pytest.raises(ConnectionError, match="import-mllm-judge <that folder>"):
        fetch_hub_dataset(cache_dir=tmp_path, endpoint="http://127.0.0.1:9")


def test_missing_or_empty_source_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="not a folder"):
        import_mllm_judge(tmp_path / "nope", tmp_path / "out")
    with pytest.raises(FileNotFoundError, match="Benchmark/score.jsonl"):
        import_mllm_judge(tmp_path, tmp_path / "out")


def test_judge_names():
    assert judge_display_name("gpt4") == "GPT-4V" and judge_display_name("Gemini") == "Gemini-1.0-Pro-Vision"
    assert judge_display_name("CogVLM") == "CogVLM"


def test_shipped_assets_are_the_import_of_the_local_copy():
    assets = default_assets_dir()
    summary = json.loads((assets / "benchmark" / "import_summary.json").read_text())
    assert set(summary) == {"import-mj-bench", "import-mllm-judge", "import-polaris", "import-vlm-judge-uncertainty"}
    files = {f["path"]: f for f in summary["import-mllm-judge"]["files"]}
    hq_score = files["Dataset/Hard & HQ/HQ/Score.jsonl"]
    # The 49 GPT-4V verdicts stored as every digit of the output are read from the analysis' final verdict.
    assert hq_score["unparsed"] == {} and hq_score["verdict_from_analysis"] == 49
    assert hq_score["cleaned_disagree"] == 4 and "1109" in hq_score["disagree_items"]
    assert files["MLLM-as-a-Judge-HQ/Batch.jsonl"]["cleaned_invalid"] == 10
    labels = read_labels(assets / "benchmark" / "labels.csv")
    per = labels.groupby(["benchmark", "mode", "subset"]).size().to_dict()
    assert per == {
        ("mj-bench", "image-pair", "all"): 729,
        ("mj-bench", "pair", "all"): 729,
        ("mllm-as-a-judge", "batch", "hq"): 133,
        ("mllm-as-a-judge", "pair", "hard"): 116 - 2,
        ("mllm-as-a-judge", "pair", "hq"): 133,
        ("mllm-as-a-judge", "score", "all"): 5717,
        ("mllm-as-a-judge", "score", "hq"): 142 - 1,
        ("polaris", "score", "all"): 8726,
    }
    loaded = load_runs([assets], labels)
    assert len(loaded.runs) == 8 + 3 + 2 + 4 and not [p for p in loaded.problems if p.line is None]
    gpt4v = next(r for r in loaded.runs if r.run_id == "mllmj-hq-score-gpt-4v")
    assert gpt4v.records["verdict"].notna().all() and len(gpt4v.records) == 116
    for path in assets.glob("runs/*/judgments.jsonl"):
        keys = {k for line in path.read_text().splitlines() for k in json.loads(line)}
        assert keys <= {
            "item_id",
            "dataset",
            "verdict",
            "unscored_reason",
            "probabilities",
            "swap",
            "consistency",
            "latency_s",
        }
