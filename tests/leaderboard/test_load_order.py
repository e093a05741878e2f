"""Runs read ahead on threads come out in the order, and with the problems, of a sequential read."""

from __future__ import annotations

import json

import pytest

from leaderboard.schema import PROVENANCE_RUN
from leaderboard.store import read
from leaderboard.store.columnar import write_columnar
from leaderboard.store.format import JUDGMENTS_NAME, Manifest


def write_run(run_dir, run_id: str, n: int, *, bad_line: bool = False) -> None:
    run_dir.mkdir(parents=True)
    (run_dir / "manifest.json").write_text(
        json.dumps(Manifest(run_id, f"J {run_id}", "score", PROVENANCE_RUN).to_dict())
    )
    lines = [json.dumps({"item_id": str(k), "dataset": "coco", "verdict": 1 + k % 5}) for k in range(n)]
    if bad_line:
        lines.insert(3, "{not json")
    (run_dir / JUDGMENTS_NAME).write_text("\n".join(lines) + "\n")
    write_columnar(run_dir, min_lines=0)


@pytest.fixture
def sources(tmp_path):
    first, second = tmp_path / "one", tmp_path / "two"
    for k in range(6):
        write_run(first / f"run{k}", f"run{k % 4}", 20 + 30 * k, bad_line=k % 3 == 0)  # run0, run1 collide
    (first / "orphan").mkdir()
    (first / "orphan" / JUDGMENTS_NAME).write_text("{}\n")
    (first / "broken").mkdir()
    (first / "broken" / "manifest.json").write_text("{")
    write_run(second / "run9", "run9", 40)
    return [first, tmp_path / "missing", second, first]  # a missing folder, and one given twice


def test_threads_change_neither_the_order_nor_the_problems(sources, monkeypatch):
    monkeypatch.setattr(read, "LOAD_THREADS", 1)
    one = read.load_runs(sources)
    monkeypatch.setattr(read, "LOAD_THREADS", 4)
    many = read.load_runs(sources)
    assert [r.run_id for r in one.runs] == [r.run_id for r in many.runs]
    assert [str(p) for p in one.problems] == [str(p) for p in many.problems]
    assert [len(r.records) for r in one.runs] == [len(r.records) for r in many.runs]
    ids = [r.run_id for r in many.runs]
    assert ids == ["run0", "run1", "run2", "run3", "run0~2", "run1~2", "run9"]
    text = " ".join(str(p) for p in many.problems)
    for expected in ("folder not found", "no manifest.json beside it", "run skipped", "kept as 'run0~2'"):
        assert expected in text
    assert text.index("folder not found") > text.index("kept as 'run1~2'")  # in source order


def test_a_one_off_load_is_never_reused_by_a_refresh(sources, monkeypatch):
    once = read.load_runs(sources, reusable=False)
    calls = []
    original = read.load_run
    monkeypatch.setattr(read, "load_run", lambda run_dir: calls.append(run_dir) or original(run_dir))
    again = read.load_runs(sources, previous=once)
    assert len(calls) == 8  # every run folder read again: the one-off load kept no labels' digest
    calls.clear()
    read.load_runs(sources, previous=again)
    assert calls == []  # a reusable load is reused whole when nothing changed
