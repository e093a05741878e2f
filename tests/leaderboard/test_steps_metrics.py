"""Step-level metrics of process judgments (leaderboard/metrics/steps.py): hand-computed cases on a
labels fixture the test writes, and the whole path from loopback judgments to the metrics."""

from __future__ import annotations

import json

import pytest

from judges import Judge, JudgeOptions, create_backend, get_task
from judges.types import Capabilities
from leaderboard.metrics.steps import StepLabel, marks_from_judgments, read_step_labels, step_metrics
from tests.support.openai_server import reply, serve_openai


def mark(correct, kind=None, parsed=True):
    return {"correct": correct, "error_type": kind, "parsed": parsed}


LABELS = [
    {"item_id": "a", "steps": [1, 1, {"correct": False, "error_type": "NC"}]},
    {"item_id": "b", "steps": [{"correct": True}, {"correct": False, "error_type": "reasoning"}, 0]},
    {"item_id": "c", "steps": [True, True]},
    {"item_id": "d", "steps": [True]},  # no judgment: counted as missing, not as wrong
]


@pytest.fixture
def labels_file(tmp_path):
    path = tmp_path / "labels.jsonl"
    lines = [json.dumps(row) for row in LABELS]
    lines += ["not json", json.dumps({"item_id": "e", "steps": ["maybe"]}), json.dumps(LABELS[0]), ""]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_labels_are_read_and_bad_lines_reported(labels_file):
    labels, problems = read_step_labels(labels_file)
    assert set(labels) == {"a", "b", "c", "d"}
    assert labels["a"][2] == StepLabel(False, "numerical calculation")
    assert labels["b"][2] == StepLabel(False, None)
    assert [p.split(": ", 1)[0] for p in problems] == ["labels.jsonl:5", "labels.jsonl:6", "labels.jsonl:7"]


def test_hand_computed_metrics(labels_file):
    labels, _ = read_step_labels(labels_file)
    marks = {
        # a: all right, the wrong step with its class: first error 3 = 3.
        "a": [mark(True), mark(True), mark(False, "numerical calculation")],
        # b: step 2 found wrong but with another class; step 3 unscored; first error 2 = 2.
        "b": [mark(True), mark(False, "knowledge"), mark(None, parsed=False)],
        # c: a false alarm on step 1: first error 1 != 0.
        "c": [mark(False, "reasoning"), mark(True)],
    }
    got = step_metrics(marks, labels)
    assert (got.cases, got.steps, got.wrong_steps, got.missing_cases) == (3, 8, 3, 1)
    assert got.coverage == pytest.approx(7 / 8)
    # Agreeing steps: a 3, b 2 (step 3 unscored), c 1.
    assert got.step_accuracy == pytest.approx(6 / 8)
    # Typed wrong steps: a3 (right class), b2 (wrong class); b3 has no labelled class.
    assert got.error_type_accuracy == pytest.approx(1 / 2)
    # TP a3, b2; FP c1; FN b3 (unscored): F1 = 4 / (4 + 1 + 1).
    assert got.erroneous_f1 == pytest.approx(4 / 6)
    assert got.first_error_accuracy == pytest.approx(2 / 3)
    assert got.to_dict()["erroneous_f1"] == 0.6667


def test_nothing_to_count_is_none_not_zero():
    got = step_metrics({"x": [mark(True)]}, {"x": (StepLabel(True),)})
    assert got.error_type_accuracy is None and got.erroneous_f1 is None and got.step_accuracy == 1.0
    empty = step_metrics({}, {"x": (StepLabel(True),)})
    assert empty.cases == 0 and empty.step_accuracy is None and empty.missing_cases == 1


def test_from_loopback_judgments_to_metrics(tmp_path):
    problems = {"a": ["x = 2", "y = 3", "x + y = 6"], "c": ["p", "q"]}
    answers = {
        "x + y = 6": {"steps": [{"step": 1, "correct": True, "error_type": "none", "explanation": "ok"},
                                {"step": 2, "correct": True, "error_type": "none", "explanation": "ok"},
                                {"step": 3, "correct": False, "error_type": "NC", "explanation": "2 + 3 = 5"}]},
        "q": {"steps": [{"step": 1, "correct": True, "error_type": "none", "explanation": "ok"}]},
    }  # fmt: skip

    def by_problem(recorded):
        key = next(k for k in answers if k in recorded.text)
        return reply(json.dumps({"solution": "s", **answers[key]}))

    with serve_openai(default=by_problem) as server:
        backend = create_backend("openai", "m", base_url=server.base_url, capabilities=Capabilities(vision=True))
        kind = get_task("process")
        tasks = [kind.make_task(f"Problem {k}", [], extra={"steps": s}) for k, s in problems.items()]
        results = Judge(backend, kind, JudgeOptions(setting="no-figure", max_reasks=0)).judge_many(tasks)
    lines = [{"item_id": k, "details": r.details} for k, r in zip(problems, results, strict=True)]
    path = tmp_path / "labels.jsonl"
    path.write_text("\n".join(json.dumps(row) for row in LABELS[::2]))
    labels, _ = read_step_labels(path)
    got = step_metrics(marks_from_judgments(lines), labels)
    # a: all three right. c: step 1 right, step 2 skipped by the judge (unscored).
    assert (got.cases, got.steps) == (2, 5)
    assert got.step_accuracy == pytest.approx(4 / 5) and got.coverage == pytest.approx(4 / 5)
    assert got.erroneous_f1 == 1.0 and got.error_type_accuracy == 1.0
    assert got.first_error_accuracy == pytest.approx(1 / 2)
