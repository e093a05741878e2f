"""Rubric runs as stored runs, and their per-criterion and overall agreement with human labels.

The test writes a small fixture benchmark of its own: twelve single-response items and twelve pairs,
each with per-criterion human labels, judges them through the loopback server with scripted replies,
stores both runs with the store's writer, and checks the agreement figures against numbers worked
out by hand from the tables below. It also checks the main leaderboard loads rubric runs (ints and
letters) without calling their verdicts invalid.
"""

from __future__ import annotations

import csv
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from judges.backends.registry import create_backend
from judges.judge import Judge, JudgeOptions
from judges.tasks import get_task
from judges.types import Capabilities, JudgeResult
from leaderboard.metrics.criteria import criteria_rows, read_labels, read_rubric_run
from leaderboard.store.format import Judgment, Manifest
from leaderboard.store.write import write_run
from tests.support.openai_server import reply, serve_openai

ROOT = Path(__file__).resolve().parents[2]
KIND = get_task("rubric")
RUBRIC = """
name = "fixture"
[[criteria]]
name = "accuracy"
description = "Says only what is true."
[[criteria]]
name = "style"
description = "Reads well."
"""

#: single items: (judge accuracy, human accuracy, judge style, human style, judge overall, human overall).
#: accuracy: judge = human on 10 of 12, off by one on 2 -> exact 10/12, within1 1.
#: style: the judge leaves item s11 unscored (off-scale 9) -> coverage 11/12.
SINGLE = [
    (1, 1, 2, 2, 1, 1), (2, 2, 2, 3, 2, 2), (3, 3, 3, 3, 3, 3), (4, 4, 4, 4, 4, 4), (5, 5, 5, 5, 5, 5),
    (1, 2, 1, 1, 1, 1), (2, 2, 2, 2, 2, 3), (3, 3, 3, 3, 3, 3), (4, 4, 4, 4, 4, 4), (5, 4, 5, 5, 5, 5),
    (3, 3, 3, 3, 3, 3), (2, 2, 9, 2, 2, 2),
]  # fmt: skip
#: pair items: (judge accuracy, human accuracy, judge overall, human overall); "C" = tie.
#: accuracy: 9 of 12 equal (with tie); without ties (judge or human): items 0-7 and 10-11 minus ties.
PAIR = [
    ("A", "A", "A", "A"), ("B", "B", "B", "B"), ("A", "B", "A", "A"), ("C", "C", "C", "A"),
    ("A", "A", "A", "A"), ("B", "B", "B", "B"), ("A", "C", "A", "A"), ("B", "B", "B", "B"),
    ("A", "A", "A", "B"), ("B", "A", "B", "B"), ("A", "A", "A", "A"), ("B", "B", "B", "B"),
]  # fmt: skip


def _single_reply(item: int) -> str:
    acc, _, style, _, overall, _ = SINGLE[item]
    return json.dumps(
        {
            "accuracy": {"comment": "checked", "score": acc},
            "style": {"comment": "read it", "score": style},
            "overall": {"comment": "sum up", "score": overall},
        }
    )


def _pair_reply(item: int) -> str:
    acc, _, overall, _ = PAIR[item]
    return json.dumps(
        {
            "accuracy": {"comment": "compared", "winner": acc},
            "style": {"comment": "both read well", "winner": "C"},
            "overall": {"comment": "overall", "winner": overall},
        }
    )


def _answer(recorded):
    tag = recorded.text.split("[The Start of Instruction]\n")[1].split("]")[0]  # "[s3" / "[p7"
    kind, item = tag[1], int(tag[2:])
    return reply(_single_reply(item) if kind == "s" else _pair_reply(item))


def _judge_all(tmp_path: Path) -> tuple[Path, Path, Path]:
    singles = [KIND.make_task(f"[s{i}] Describe it.", [f"answer {i}"], extra={"rubric": RUBRIC}) for i in range(12)]
    pairs = [
        KIND.make_task(f"[p{i}] Describe it.", [f"one {i}", f"two {i}"], extra={"rubric": RUBRIC}) for i in range(12)
    ]
    with serve_openai(default=_answer) as server:
        backend = create_backend(
            "openai", "judge-model", base_url=server.base_url, capabilities=Capabilities(), max_retries=0, timeout_s=5
        )
        judge = Judge(backend, KIND, JudgeOptions(setting="no-figure", max_reasks=0), name="Fixture judge")
        single_results = judge.judge_many(singles)
        pair_results = judge.judge_many(pairs)
    folders = []
    for name, results, prefix in (("single", single_results, "s"), ("pair", pair_results, "p")):
        assert all(isinstance(r, JudgeResult) for r in results)
        lines = [Judgment.from_judge_result(f"{prefix}{i}", "fixture", r) for i, r in enumerate(results)]  # type: ignore[arg-type]
        manifest = Manifest(
            run_id=f"rubric-{name}", judge="Fixture judge", mode="rubric", provenance="run with this project"
        )
        folders.append(write_run(tmp_path / "runs" / f"rubric-{name}", manifest, lines))
    labels = tmp_path / "labels.csv"
    with labels.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["item_id", "criterion", "human_label"])
        for i, (_, h_acc, _, h_style, _, h_overall) in enumerate(SINGLE):
            writer.writerows(
                [(f"s{i}", "accuracy", h_acc), (f"s{i}", "style", h_style), (f"s{i}", "overall", h_overall)]
            )
        for i, (_, h_acc, _, h_overall) in enumerate(PAIR):
            writer.writerows([(f"p{i}", "accuracy", h_acc), (f"p{i}", "overall", h_overall)])
    return folders[0], folders[1], labels


@pytest.fixture(scope="module")
def fixture_runs(tmp_path_factory):
    return _judge_all(tmp_path_factory.mktemp("criteria"))


def _value(rows, run, criterion, metric):
    found = [r for r in rows if (r["run_id"], r["criterion"], r["metric"]) == (run, criterion, metric)]
    assert len(found) == 1, (run, criterion, metric)
    return found[0]


def test_stored_lines_keep_every_criterion_in_details(fixture_runs):
    single, pair, _ = fixture_runs
    line = json.loads((single / "judgments.jsonl").read_text().splitlines()[11])
    assert line["verdict"] is None and "style: its score 9 is off its scale 1-5" in line["unscored_reason"]
    assert line["details"]["criteria"]["accuracy"]["verdict"] == 2
    assert line["details"]["overall"]["verdict"] == 2  # the overall stands on its own
    first_pair = json.loads((pair / "judgments.jsonl").read_text().splitlines()[3])
    assert first_pair["verdict"] == "tie" and first_pair["details"]["criteria"]["style"]["verdict"] == "tie"


def test_per_criterion_and_overall_agreement_of_single_responses(fixture_runs):
    single, _, labels = fixture_runs
    rows = criteria_rows([read_rubric_run(single)], read_labels(labels))
    exact = _value(rows, "rubric-single", "accuracy", "exact_agreement")
    assert exact["value"] == pytest.approx(10 / 12) and exact["n"] == 12 and exact["coverage"] == 1.0
    assert _value(rows, "rubric-single", "accuracy", "within1_agreement")["value"] == 1.0
    judge = [s[0] for s in SINGLE]
    human = [s[1] for s in SINGLE]
    assert _value(rows, "rubric-single", "accuracy", "pearson")["value"] == pytest.approx(_pearson(judge, human))
    assert _value(rows, "rubric-single", "accuracy", "mean_score_difference")["value"] == pytest.approx(0.0)
    style = _value(rows, "rubric-single", "style", "exact_agreement")
    assert style["n"] == 11 and style["coverage"] == pytest.approx(11 / 12) and style["value"] == pytest.approx(10 / 11)
    overall = _value(rows, "rubric-single", "overall", "exact_agreement")
    assert overall["n"] == 12 and overall["value"] == pytest.approx(11 / 12)
    assert [r["criterion"] for r in rows][-1] == "overall"


def test_per_criterion_and_overall_agreement_of_pairs(fixture_runs):
    _, pair, labels = fixture_runs
    rows = criteria_rows([read_rubric_run(pair)], read_labels(labels))
    with_tie = _value(rows, "rubric-pair", "accuracy", "accuracy_with_tie")
    assert with_tie["value"] == pytest.approx(9 / 12) and with_tie["n"] == 12
    decided = [(j, h) for j, h, _, _ in PAIR if "C" not in (j, h)]
    without = _value(rows, "rubric-pair", "accuracy", "accuracy_without_tie")
    assert without["value"] == pytest.approx(sum(j == h for j, h in decided) / len(decided))
    overall = _value(rows, "rubric-pair", "overall", "accuracy_with_tie")
    assert overall["value"] == pytest.approx(
        sum(j == h.replace("C", "tie") for _, _, j, h in [(a, b, c.replace("C", "tie"), d) for a, b, c, d in PAIR]) / 12
    )
    assert not [r for r in rows if r["criterion"] == "style"]  # no human labels for style on pairs


def test_small_cells_have_no_value_and_say_why(fixture_runs):
    single, _, labels = fixture_runs
    rows = criteria_rows([read_rubric_run(single)], read_labels(labels), min_n=20)
    cell = _value(rows, "rubric-single", "accuracy", "exact_agreement")
    assert math.isnan(cell["value"]) and cell["reason"] == "n < 20"


def test_the_command_line_prints_the_table(fixture_runs):
    single, pair, labels = fixture_runs
    proc = subprocess.run(
        [sys.executable, "-m", "leaderboard.metrics.criteria_cli", str(single), str(pair), "--labels", str(labels)],
        capture_output=True, text=True, cwd=ROOT, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    table = list(csv.DictReader(proc.stdout.splitlines()))
    assert {"rubric-single", "rubric-pair"} == {row["run_id"] for row in table}
    row = next(
        r
        for r in table
        if (r["run_id"], r["criterion"], r["metric"]) == ("rubric-single", "accuracy", "exact_agreement")
    )
    assert row["value"] == f"{10 / 12:.4f}"


def test_a_broken_line_is_reported_and_the_rest_is_read(fixture_runs, tmp_path):
    single, _, _ = fixture_runs
    copy = tmp_path / "copy"
    copy.mkdir()
    (copy / "manifest.json").write_text((single / "manifest.json").read_text())
    lines = (single / "judgments.jsonl").read_text().splitlines()
    (copy / "judgments.jsonl").write_text("\n".join([lines[0], "{broken", lines[0], *lines[1:]]) + "\n")
    run = read_rubric_run(copy)
    assert len(run.verdicts) == 12
    assert run.problems == (
        "judgments.jsonl:2: not JSON; skipped",
        "judgments.jsonl:3: item s0 already judged; this line is ignored",
    )


def test_the_main_leaderboard_loads_rubric_runs_with_ints_and_letters(fixture_runs):
    from leaderboard.metrics.compute import build_leaderboard
    from leaderboard.store.read import load_runs

    single, pair, _ = fixture_runs
    loaded = load_runs([single.parent])
    assert {run.manifest.run_id for run in loaded.runs} == {"rubric-single", "rubric-pair"}
    assert not [p for p in loaded.problems if "verdict" in str(p)], loaded.problems
    table = build_leaderboard(loaded.runs, None, n_resamples=10)
    assert set(table["mode"]) <= {"rubric"}


def _pearson(x, y):
    n = len(x)
    mx, my = sum(x) / n, sum(y) / n
    cov = sum((a - mx) * (b - my) for a, b in zip(x, y, strict=True))
    return cov / math.sqrt(sum((a - mx) ** 2 for a in x) * sum((b - my) ** 2 for b in y))
