"""The columnar companion (judgments.parquet): the same records and problems as the JSONL, or none at all."""

from __future__ import annotations

import json
import os
import shutil

import pandas as pd
import pytest

from leaderboard.schema import PROVENANCE_RUN
from leaderboard.store.columnar import COLUMNAR_NAME, MIN_COLUMNAR_LINES, read_columnar, write_columnar
from leaderboard.store.format import JUDGMENTS_NAME, Judgment, Manifest
from leaderboard.store.read import load_run, load_runs
from leaderboard.store.write import write_run

pytest.importorskip("pyarrow")


def awkward_lines(n: int = 1500) -> list[dict]:
    """Score judgments with every value the loader treats specially, in a clean JSONL."""
    lines: list[dict] = []
    for k in range(n):
        rec: dict = {"item_id": str(k), "dataset": ["coco", "WIT", "textVQA"][k % 3], "verdict": 1 + k % 5}
        if k % 7 == 0:
            rec["verdict"] = None
            rec["unscored_reason"] = "no verdict found" if k % 14 else ""
        if k % 11 == 0:
            rec["verdict"] = 7  # the right type, out of range: unscored with a reason
        if k % 13 == 0:
            rec["probabilities"] = {
                "probabilities": {"1": 0.1, "2": 0.2, "3": 0.3, "4": 0.2, "5": 0.2},
                "confidence": 0.2,
            }
        if k % 17 == 0:
            rec["probabilities"] = {"probabilities": {"1": -1.0}, "expected_score": 2.5}  # not a distribution
        if k % 19 == 0:
            rec["consistency"] = {"agreement": 0.75}
        if k % 23 == 0:
            rec["swap"] = {"consistent": k % 2 == 0}
        if k % 29 == 0:
            rec["latency_s"] = 1.25
        if k % 31 == 0:
            rec["details"] = {"criteria": [{"name": "accuracy", "verdict": "pass"}]}
        lines.append(rec)
    lines[5]["item_id"] = 5  # an integer id reads as "5"
    lines[6]["item_id"] = ""  # no id: skipped, reported
    lines[8] = {k: v for k, v in lines[8].items() if k != "item_id"}
    lines[9]["item_id"] = "3"  # a repeated id: the first line wins, reported
    lines[10]["dataset"] = 4  # not a string: the label table's is used, reported
    lines[12]["unscored_reason"] = 12
    lines[12]["verdict"] = None
    return lines


def write_lines(run_dir, lines: list[dict], mode: str = "score") -> None:
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "manifest.json").write_text(json.dumps(Manifest("r", "Judge R", mode, PROVENANCE_RUN).to_dict()))
    (run_dir / JUDGMENTS_NAME).write_text("".join(json.dumps(line) + "\n" for line in lines))


def both_ways(run_dir):
    """load_run with the companion, then with it removed (the JSONL path)."""
    with_columns = load_run(run_dir)
    (run_dir / COLUMNAR_NAME).unlink()
    without = load_run(run_dir)
    return with_columns, without


def test_companion_gives_the_same_records_problems_and_digest(tmp_path):
    run_dir = tmp_path / "r"
    write_lines(run_dir, awkward_lines())
    assert write_columnar(run_dir) == run_dir / COLUMNAR_NAME
    assert read_columnar(run_dir, "score") is not None
    (run_a, problems_a, digest_a), (run_b, problems_b, digest_b) = both_ways(run_dir)
    assert run_a is not None and run_b is not None
    pd.testing.assert_frame_equal(run_a.records, run_b.records, check_exact=True)
    assert [str(p) for p in problems_a] == [str(p) for p in problems_b]
    assert digest_a == digest_b == run_a.digest == run_b.digest != ""
    reasons = " ".join(str(p) for p in problems_a)
    for expected in ("record has no item_id", "already judged on line", "record has no dataset", "counted as unscored"):
        assert expected in reasons
    assert all(f"{JUDGMENTS_NAME}:" in str(p) for p in problems_a)  # every problem names its line
    assert run_a.records.loc[run_a.records["line"] == 6, "item_id"].item() == "5"


def test_lines_with_details_are_kept(tmp_path):
    run_dir = tmp_path / "r"
    lines = awkward_lines()
    write_lines(run_dir, lines)
    write_columnar(run_dir)
    import pyarrow.parquet as pq

    stored = pq.read_table(run_dir / COLUMNAR_NAME).column("details").to_pylist()
    assert json.loads(stored[31]) == lines[31]["details"]
    run, _, _ = load_run(run_dir)
    assert run is not None and 32 in set(run.records["line"])  # line 32 holds item 31, with details


def test_a_changed_jsonl_is_read_instead_of_a_stale_companion(tmp_path):
    run_dir = tmp_path / "r"
    lines = awkward_lines()
    write_lines(run_dir, lines)
    write_columnar(run_dir)
    with open(run_dir / JUDGMENTS_NAME, "a") as handle:  # the runner resumed and appended
        handle.write(json.dumps({"item_id": "new", "dataset": "coco", "verdict": 3}) + "\n")
    assert read_columnar(run_dir, "score") is None
    run, _, _ = load_run(run_dir)
    assert run is not None and "new" in set(run.records["item_id"])
    # Same size, other content (an edit in place): the SHA-1 check catches it once the time differs.
    write_columnar(run_dir)
    data = (run_dir / JUDGMENTS_NAME).read_bytes().replace(b'"verdict": 3}', b'"verdict": 4}')
    (run_dir / JUDGMENTS_NAME).write_bytes(data)
    os.utime(run_dir / JUDGMENTS_NAME, ns=(1, 1))
    assert read_columnar(run_dir, "score") is None
    run, _, _ = load_run(run_dir)
    assert run is not None and run.records.loc[run.records["item_id"] == "new", "verdict"].item() == 4


def test_a_copied_run_keeps_using_its_companion(tmp_path):
    """A copy or a Hub download changes the modification time; the SHA-1 still matches."""
    run_dir = tmp_path / "r"
    write_lines(run_dir, awkward_lines())
    write_columnar(run_dir)
    copy = tmp_path / "copy"
    shutil.copytree(run_dir, copy)
    os.utime(copy / JUDGMENTS_NAME, ns=(10**9, 10**9))
    assert read_columnar(copy, "score") is not None
    assert read_columnar(copy, "pair") is None  # a manifest that changed mode reads the JSONL


def test_runs_the_jsonl_must_report_get_no_companion(tmp_path):
    bad_type = awkward_lines()
    bad_type[3]["verdict"] = "4"  # a string score: only the JSONL path names its type
    write_lines(tmp_path / "a", bad_type)
    assert write_columnar(tmp_path / "a") is None
    run, problems, _ = load_run(tmp_path / "a")
    assert any(":4: score verdict '4' is not an integer" in str(p) for p in problems)

    write_lines(tmp_path / "b", awkward_lines())
    with open(tmp_path / "b" / JUDGMENTS_NAME, "a") as handle:
        handle.write('{"item_id": "torn", "verd')
    assert write_columnar(tmp_path / "b") is None
    _, problems, _ = load_run(tmp_path / "b")
    assert any("last line is incomplete" in str(p) for p in problems)


def test_small_runs_get_none_and_lose_a_stale_one(tmp_path):
    run_dir = tmp_path / "r"
    manifest = Manifest("r", "Judge R", "pair", PROVENANCE_RUN)
    big = [Judgment(str(k), "coco", "AB"[k % 2]) for k in range(MIN_COLUMNAR_LINES)]
    write_run(run_dir, manifest, big)  # an importer or a submission: the companion comes with it
    assert (run_dir / COLUMNAR_NAME).is_file()
    write_run(run_dir, manifest, big[:10])
    assert not (run_dir / COLUMNAR_NAME).exists()


def test_a_corrupt_companion_is_ignored(tmp_path):
    run_dir = tmp_path / "r"
    write_lines(run_dir, awkward_lines())
    write_columnar(run_dir)
    (run_dir / COLUMNAR_NAME).write_bytes(b"PAR1 not really")
    assert read_columnar(run_dir, "score") is None
    result = load_runs([tmp_path])
    assert len(result.runs) == 1 and len(result.runs[0].records) > 1000


@pytest.mark.parametrize(
    "mode, verdicts", [("pair", ["A", "B", "tie", None, "D"]), ("batch", ["ABC", "CAB", None, "AB"])]
)
def test_text_verdict_modes_read_the_same(tmp_path, mode, verdicts):
    lines = [{"item_id": str(k), "dataset": "coco", "verdict": verdicts[k % len(verdicts)]} for k in range(1200)]
    write_lines(tmp_path / "r", lines, mode)
    assert write_columnar(tmp_path / "r") is not None
    (run_a, problems_a, _), (run_b, problems_b, _) = both_ways(tmp_path / "r")
    assert run_a is not None and run_b is not None
    pd.testing.assert_frame_equal(run_a.records, run_b.records, check_exact=True)
    assert [str(p) for p in problems_a] == [str(p) for p in problems_b]


def test_structured_judgments_with_details_keep_a_companion_and_read_the_same(tmp_path):
    details = {"criteria": [{"name": "accuracy", "verdict": "pass"}, {"name": "safety", "verdict": "fail"}]}
    judgments = [Judgment(str(k), "coco", "AB"[k % 2], details=details if k % 3 else None) for k in range(1200)]
    run_dir = write_run(tmp_path / "r", Manifest("r", "Judge R", "pair", PROVENANCE_RUN), judgments)
    assert (run_dir / COLUMNAR_NAME).is_file()
    (run_a, problems_a, _), (run_b, problems_b, _) = both_ways(run_dir)
    assert run_a is not None and run_b is not None and len(run_a.records) == 1200
    pd.testing.assert_frame_equal(run_a.records, run_b.records, check_exact=True)
    assert problems_a == problems_b == []


def test_runs_read_from_companions_share_their_item_id_strings(tmp_path):
    """Runs of one benchmark judge the same items: one string object per id, whatever the run count."""
    for name in ("a", "b"):
        write_lines(tmp_path / name, [{"item_id": f"item-{k}", "dataset": "coco", "verdict": 3} for k in range(1100)])
        write_columnar(tmp_path / name)
    (a, _, _), (b, _, _) = load_run(tmp_path / "a"), load_run(tmp_path / "b")
    assert a is not None and b is not None
    assert all(x is y for x, y in zip(a.records["item_id"], b.records["item_id"], strict=True))
    assert list(a.records["item_id"][:2]) == ["item-0", "item-1"]
