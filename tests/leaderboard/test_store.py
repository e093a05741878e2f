"""The stored-run contract: round trip, the writer, and every bad-input case reported with file/line/reason."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from leaderboard.schema import PROVENANCE_RUN
from leaderboard.store.format import (
    JUDGMENTS_NAME,
    MANIFEST_NAME,
    SCHEMA_VERSION,
    Judgment,
    Manifest,
    RunFormatError,
    new_run_id,
    verdict_problem,
)
from leaderboard.store.labels import LABEL_COLUMNS
from leaderboard.store.read import load_runs, read_judgment_lines
from leaderboard.store.write import RunWriter, write_run


def manifest(run_id: str = "r1", mode: str = "score", **kw) -> Manifest:
    return Manifest(run_id=run_id, judge="Judge X", mode=mode, provenance=PROVENANCE_RUN, **kw)


def labels_for(mode: str, items: dict[str, tuple[str, str, int]]) -> pd.DataFrame:
    rows = [
        {"mode": mode, "subset": "all", "item_id": i, "dataset": d, "human_label": h, "n_responses": n,
         "response_lengths": "", "image_id": i, "label_issue": ""}
        for i, (d, h, n) in items.items()
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=list(LABEL_COLUMNS))


# --------------------------------------------------------------------------- round trip


def test_manifest_round_trip_and_schema_version_first():
    m = manifest(sampling={"temperature": 0.4}, template="mllm-judge", template_version="1.0")
    data = m.to_dict()
    assert next(iter(data)) == "schema_version" and data["schema_version"] == SCHEMA_VERSION
    assert Manifest.from_dict(json.loads(json.dumps(data))) == m


def test_manifest_rejects_bad_values_with_a_fix():
    with pytest.raises(RunFormatError, match="not supported"):
        Manifest.from_dict({**manifest().to_dict(), "schema_version": 99})
    with pytest.raises(RunFormatError, match="provenance"):
        Manifest(run_id="x", judge="j", mode="pair", provenance="made up")
    with pytest.raises(RunFormatError, match="mode"):
        Manifest(run_id="x", judge="j", mode="duel", provenance=PROVENANCE_RUN)
    with pytest.raises(RunFormatError, match="lacks"):
        Manifest.from_dict({"schema_version": 1, "judge": "j"})


def test_write_and_load_round_trip(tmp_path):
    judgments = [
        Judgment("1", "coco", 4, latency_s=1.5, consistency={"verdicts": [4, 4, 3], "agreement": 2 / 3}),
        Judgment("2", "coco", None, unscored_reason="no score found"),
        Judgment("3", "WIT", 2, probabilities={"probabilities": {"1": 0.1, "2": 0.9}}),
    ]
    write_run(tmp_path / "runs" / "r1", manifest(), judgments)
    loaded = load_runs([tmp_path])
    assert loaded.problems == ()
    (run,) = loaded.runs
    assert run.manifest == manifest()
    rec = run.records
    assert rec["item_id"].tolist() == ["1", "2", "3"]
    assert rec["verdict"].tolist() == [4, None, 2] and type(rec["verdict"][0]) is int
    assert rec["unscored_reason"].tolist() == [None, "no score found", None]
    assert rec["self_consistency"][0] == pytest.approx(2 / 3)
    assert rec["latency_s"][0] == 1.5 and rec["line"].tolist() == [1, 2, 3]


def test_batch_and_pair_verdict_forms():
    assert verdict_problem("batch", "CADB", 4) == ""
    assert "ranks D" in verdict_problem("batch", "CABD", 3)
    assert "ranks 2 of 3" in verdict_problem("batch", "CA", 3)
    assert verdict_problem("pair", "tie") == "" and "not 'A'" in verdict_problem("pair", "C")
    assert verdict_problem("score", True) and verdict_problem("score", 4) == ""


def test_judgment_from_judge_result_stores_a_ranking_string():
    from judges.types import JudgeResult, SwapOutcome

    result = JudgeResult(
        mode="batch", judge="j", verdict=("C", "A", "B"), parsed=True, analysis="", raw_output="", latency_s=0.5,
        swap=SwapOutcome("A", "A", True, "A"),
    )  # fmt: skip
    line = json.loads(Judgment.from_judge_result("7", "coco", result).to_json_line())
    assert line["verdict"] == "CAB" and line["swap"]["consistent"] is True and line["item_id"] == "7"
    failed = JudgeResult(
        mode="pair", judge="j", verdict=None, parsed=False, analysis="", raw_output="", latency_s=1, reason="no verdict"
    )
    assert Judgment.from_judge_result("8", "WIT", failed).unscored_reason == "no verdict"


# --------------------------------------------------------------------------- the writer


def test_run_writer_appends_resumes_and_cuts_a_torn_tail(tmp_path):
    run_dir = tmp_path / "runs" / "r1"
    with RunWriter(run_dir, manifest(), fsync_every=1) as writer:
        writer.append(Judgment("1", "coco", 3))
        writer.append(Judgment("2", "coco", None, unscored_reason="timeout"))
    # a crash in the middle of the next write leaves half a line
    with open(run_dir / JUDGMENTS_NAME, "ab") as handle:
        handle.write(b'{"item_id":"3","dataset":"co')
    _, objects, problems, _ = read_judgment_lines(run_dir / JUDGMENTS_NAME)
    assert len(objects) == 2 and problems[0].line == 3 and "incomplete" in problems[0].reason
    with RunWriter(run_dir, manifest()) as writer:
        assert writer.done_ids == {"1", "2"}
        writer.append(Judgment("3", "coco", 5))
    assert load_runs([tmp_path]).problems == ()
    assert load_runs([tmp_path]).runs[0].records["item_id"].tolist() == ["1", "2", "3"]


def test_run_writer_refuses_invalid_verdicts_and_foreign_folders(tmp_path):
    with RunWriter(tmp_path / "r1", manifest()) as writer, pytest.raises(RunFormatError, match="unscored_reason"):
        writer.append(Judgment("1", "coco", 9))
    with pytest.raises(RunFormatError, match="already holds run"):
        RunWriter(tmp_path / "r1", manifest(run_id="other")).open()


def test_new_run_ids_are_unique_and_valid():
    a, b = new_run_id("GPT-4o", "pair", "no-cot"), new_run_id("GPT-4o", "pair", "no-cot")
    assert a != b and a.startswith("gpt-4o-pair-no-cot-")
    manifest(run_id=a)  # accepted by the contract


# --------------------------------------------------------------------------- bad input


def _write_raw(run_dir: Path, m: Manifest | dict, lines: list[str], *, final_newline: bool = True) -> Path:
    run_dir.mkdir(parents=True)
    data = m.to_dict() if isinstance(m, Manifest) else m
    (run_dir / MANIFEST_NAME).write_text(json.dumps(data))
    text = "\n".join(lines) + ("\n" if final_newline else "")
    (run_dir / JUDGMENTS_NAME).write_text(text)
    return run_dir / JUDGMENTS_NAME


def test_every_bad_line_is_reported_with_file_line_and_reason(tmp_path):
    file = _write_raw(
        tmp_path / "runs" / "r1",
        manifest(),
        [
            '{"item_id": "1", "dataset": "coco", "verdict": 4}',
            '{"item_id": "2", "dataset": "coco", "verdict": ',  # malformed
            '{"item_id": "3", "dataset": "coco", "verdict": 7}',  # outside 1..5
            '{"item_id": "99", "dataset": "coco", "verdict": 2}',  # not in the benchmark
            '{"item_id": "1", "dataset": "coco", "verdict": 5}',  # repeated item
            '{"dataset": "coco", "verdict": 5}',  # no item id
            '["not", "an", "object"]',
            "",
            '{"item_id": "4", "dataset": "coco", "verdict": null}',  # unscored without a reason
            '{"item_id": "5", "dataset": "coco", "verdict": 3, "unscored',  # torn last line
        ],
        final_newline=False,
    )
    labels = labels_for("score", {str(i): ("coco", "3", 1) for i in range(1, 6)})
    loaded = load_runs([tmp_path], labels)
    by_line = {p.line: p.reason for p in loaded.problems}
    assert all(p.file == str(file) for p in loaded.problems)
    assert "not valid JSON" in by_line[2]
    assert "not an integer 1..5" in by_line[3] and "unscored" in by_line[3]
    assert "not in the benchmark" in by_line[4]
    assert "already judged on line 1" in by_line[5]
    assert "no item_id" in by_line[6]
    assert "not a JSON object" in by_line[7]
    assert "incomplete" in by_line[10]
    assert len(loaded.problems) == 7
    rec = loaded.runs[0].records
    # kept once each: 1 (first line), 3 (as unscored), 99 (label-free use only), 4 (unscored)
    assert rec["item_id"].tolist() == ["1", "3", "99", "4"]
    assert rec["verdict"].tolist() == [4, None, 2, None]
    assert rec["unscored_reason"][1].startswith("invalid stored verdict")
    assert rec["unscored_reason"][3] == "unscored (no reason recorded)"


def test_unknown_schema_version_skips_the_run_and_says_so(tmp_path):
    _write_raw(tmp_path / "runs" / "future", {**manifest(run_id="future").to_dict(), "schema_version": 2}, ["{}"])
    write_run(tmp_path / "runs" / "ok", manifest(run_id="ok"), [Judgment("1", "coco", 3)])
    loaded = load_runs([tmp_path])
    assert [r.run_id for r in loaded.runs] == ["ok"]
    (problem,) = loaded.problems
    assert problem.file.endswith("future/manifest.json") and problem.line is None
    assert "schema_version 2 is not supported" in problem.reason


def test_empty_run_is_reported_and_adds_nothing(tmp_path):
    write_run(tmp_path / "runs" / "empty", manifest(run_id="empty"), [])
    loaded = load_runs([tmp_path])
    assert "no judgments" in loaded.problems[0].reason
    assert loaded.runs[0].records.empty


def test_verdicts_outside_the_modes_labels(tmp_path):
    _write_raw(
        tmp_path / "runs" / "p",
        manifest(run_id="p", mode="pair"),
        ['{"item_id": "1", "dataset": "coco", "verdict": "C"}', '{"item_id": "2", "dataset": "coco", "verdict": "B"}'],
    )
    _write_raw(
        tmp_path / "runs" / "b",
        manifest(run_id="b", mode="batch"),
        [
            '{"item_id": "1", "dataset": "coco", "verdict": "ABCD"}',
            '{"item_id": "2", "dataset": "coco", "verdict": ["A", "B"]}',
        ],
    )
    labels = pd.concat(
        [labels_for("pair", {"1": ("coco", "A", 2), "2": ("coco", "B", 2)}),
         labels_for("batch", {"1": ("coco", "CAB", 3), "2": ("coco", "AB", 2)})]
    )  # fmt: skip
    loaded = load_runs([tmp_path], labels)
    reasons = sorted((Path(p.file).parent.name, p.line, p.reason) for p in loaded.problems)
    assert reasons[0][:2] == ("b", 1) and "ranks D" in reasons[0][2]
    assert reasons[1][:2] == ("b", 2) and "not a string" in reasons[1][2]
    assert reasons[2][:2] == ("p", 1) and "not 'A', 'B' or 'tie'" in reasons[2][2]
    runs = {r.run_id: r.records for r in loaded.runs}
    assert runs["p"]["verdict"].tolist() == [None, "B"] and runs["b"]["verdict"].tolist() == [None, None]


def test_runs_from_several_sources_merge_without_loss_or_double_counting(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    write_run(a / "runs" / "same", manifest(run_id="same"), [Judgment("1", "coco", 3)])
    write_run(b / "runs" / "same", manifest(run_id="same"), [Judgment("1", "coco", 5)])  # other data, same id
    copy = tmp_path / "copy"
    write_run(copy / "runs" / "same", manifest(run_id="same"), [Judgment("1", "coco", 3)])  # identical to a
    loaded = load_runs([a, a, b, copy])
    assert [r.run_id for r in loaded.runs] == ["same", "same~2"]
    assert [r.records["verdict"].tolist() for r in loaded.runs] == [[3], [5]]
    reasons = [p.reason for p in loaded.problems]
    assert any("kept as 'same~2'" in r for r in reasons) and any("loaded once" in r for r in reasons)
    assert "folder not found" in load_runs([tmp_path / "missing"]).problems[0].reason


def test_items_are_checked_against_the_labels_of_the_runs_own_benchmark(tmp_path):
    # Two benchmarks key items "row:<n>"; only Polaris has row:7. A Polaris run of it is fine, an
    # MLLM-as-a-Judge run claiming it is told the item is not in its benchmark.
    labels = pd.DataFrame(
        [
            {
                "benchmark": "polaris",
                "mode": "score",
                "subset": "all",
                "item_id": "row:7",
                "human_label": "3",
                "n_responses": 1,
            },
            {
                "benchmark": "mllm-as-a-judge",
                "mode": "score",
                "subset": "all",
                "item_id": "row:1",
                "human_label": "4",
                "n_responses": 1,
            },
        ]
    ).reindex(columns=LABEL_COLUMNS)
    for benchmark in ("polaris", "mllm-as-a-judge"):
        manifest = Manifest(
            run_id=f"{benchmark}-run",
            judge="J",
            mode="score",
            provenance=PROVENANCE_RUN,
            split="all",
            benchmark=benchmark,
        )
        write_run(tmp_path / "runs" / manifest.run_id, manifest, [Judgment("row:7", "d", 3)])
    problems = [str(p) for p in load_runs([tmp_path], labels).problems]
    assert [p for p in problems if "row:7" in p] == [
        p for p in problems if "mllm-as-a-judge-run" in p and "not in the benchmark (mllm-as-a-judge, score, all)" in p
    ]
    assert any("row:7" in p for p in problems)
