"""Streamed runs (``table --stream``): the same table, with only the runs being computed in memory."""

from __future__ import annotations

import io
import json
import shutil
import weakref
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from leaderboard.__main__ import main
from leaderboard.board import load_inputs, scan_inputs
from leaderboard.errors import LeaderboardError
from leaderboard.metrics.compute import build_leaderboard
from leaderboard.schema import PROVENANCE_RUN
from leaderboard.store import read
from leaderboard.store.columnar import write_columnar
from leaderboard.store.format import JUDGMENTS_NAME, Manifest
from leaderboard.store.labels import LABEL_COLUMNS, write_labels
from leaderboard.store.sources import default_assets_dir


def write_run(run_dir: Path, run_id: str, mode: str, lines: list[dict], *, columnar: bool) -> None:
    run_dir.mkdir(parents=True)
    (run_dir / "manifest.json").write_text(json.dumps(Manifest(run_id, f"J {run_id}", mode, PROVENANCE_RUN).to_dict()))
    (run_dir / JUDGMENTS_NAME).write_text("".join(json.dumps(line) + "\n" for line in lines))
    if columnar:
        write_columnar(run_dir, min_lines=0)


def mixed_source(root: Path, n_runs: int = 12, n: int = 120) -> Path:
    """Score and batch runs, Parquet and JSONL, a run id used twice, rankings the labels make invalid."""
    rng = np.random.default_rng(7)
    datasets = ["coco", "WIT", "textVQA"]
    labels = []
    for k in range(n):
        lengths = "|".join(str(x) for x in rng.integers(5, 90, 4))
        labels.append(
            ("mllm-as-a-judge", "score", "all", str(k), datasets[k % 3], str(1 + k % 5), 1, str(10 + k), str(k), "")
        )
        width = 3 if k % 9 == 0 else 4  # rankings of four letters are invalid on these
        labels.append(
            ("mllm-as-a-judge", "batch", "all", str(k), datasets[k % 3], "ABCD"[:width], width, lengths, str(k), "")
        )
    for r in range(n_runs):
        mode = "score" if r % 2 == 0 else "batch"
        lines = []
        for k in range(n):
            verdict = int(rng.integers(1, 6)) if mode == "score" else "".join(rng.permutation(list("ABCD")))
            lines.append({"item_id": str(k), "dataset": datasets[k % 3], "verdict": verdict if k % 13 else None})
        run_id = "twice" if r in (0, 2) else f"run{r}"  # a collision: the second becomes twice~2
        write_run(root / "runs" / f"r{r:02d}", run_id, mode, lines, columnar=r % 3 != 0)
    frame = pd.DataFrame(labels, columns=list(LABEL_COLUMNS))
    write_labels(frame, root / "benchmark" / "labels.csv")
    return root


def test_streamed_runs_give_the_same_table_and_problems(tmp_path):
    source = mixed_source(tmp_path)
    for sources in ([source], [default_assets_dir()]):
        labels, loaded = load_inputs(sources)
        labels_s, runs, problems = scan_inputs(sources)
        assert [str(p) for p in problems] == [str(p) for p in loaded.problems]
        assert [r.run_id for r in runs] == [r.run_id for r in loaded.runs]
        assert all(isinstance(r, read.StreamedRun) for r in runs)
        kept = build_leaderboard(loaded.runs, labels, None, n_resamples=100)
        streamed = build_leaderboard(runs, labels_s, None, n_resamples=100)
        pd.testing.assert_frame_equal(kept, streamed, check_exact=True)
    labels, runs, problems = scan_inputs([source])
    assert "twice~2" in [r.run_id for r in runs]
    assert any("counted as unscored" in str(p) for p in problems)  # the label check's changes come back too


def test_only_the_runs_being_computed_are_in_memory(tmp_path, monkeypatch):
    source = mixed_source(tmp_path, n_runs=16)
    labels, runs, _ = scan_inputs([source])
    alive: set[int] = set()
    most = 0
    original = read.StreamedRun.materialized

    def tracked(self):
        nonlocal most
        run = original(self)
        key = id(run)
        alive.add(key)
        weakref.finalize(run.records, alive.discard, key)
        most = max(most, len(alive))
        return run

    monkeypatch.setattr(read.StreamedRun, "materialized", tracked)
    build_leaderboard(runs, labels, None, n_resamples=20)
    assert 1 <= most <= 5  # the thread pool's four at most, whatever the number of runs


def test_a_run_changed_under_the_table_is_an_error_not_mixed_data(tmp_path):
    source = mixed_source(tmp_path, n_runs=2)
    labels, runs, _ = scan_inputs([source])
    target = source / "runs" / "r01" / JUDGMENTS_NAME
    target.write_text(target.read_text().replace('"verdict": ', '"verdict":  ', 1))
    (source / "runs" / "r01" / "judgments.parquet").unlink(missing_ok=True)
    with pytest.raises(LeaderboardError, match="changed while the table was computed"):
        build_leaderboard(runs, labels, None, n_resamples=10)


def test_the_cli_streams_on_request_and_prints_the_same(tmp_path):
    source = mixed_source(tmp_path, n_runs=4)
    outputs = []
    for flag in ("--stream", "--no-stream"):
        out, err = io.StringIO(), io.StringIO()
        with redirect_stdout(out), redirect_stderr(err):
            code = main(["table", "--no-embedded", "--runs", str(source), "--no-reference", "--resamples", "50", flag])
        assert code == 0
        outputs.append(out.getvalue())
    assert outputs[0] == outputs[1] and outputs[0].count("\n") > 100
    shutil.rmtree(source)


def test_the_cli_streams_by_itself_above_the_size_limit(tmp_path, monkeypatch):
    import leaderboard.__main__ as cli

    source = mixed_source(tmp_path, n_runs=2)
    calls = []
    monkeypatch.setattr(cli, "STREAM_ABOVE_BYTES", 1000)
    monkeypatch.setattr("leaderboard.board.scan_inputs", lambda *a, **k: calls.append(1) or scan_inputs(*a, **k))
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        assert cli.main(["table", "--no-embedded", "--runs", str(source), "--no-reference", "--resamples", "20"]) == 0
    assert calls == [1] and "each run's records are read when its rows are computed" in err.getvalue()


def test_the_cli_says_plainly_that_a_run_changed_under_it(tmp_path, monkeypatch):
    source = mixed_source(tmp_path, n_runs=2)
    real_scan = scan_inputs

    def scan_then_change(*args, **kwargs):
        found = real_scan(*args, **kwargs)
        target = source / "runs" / "r01" / JUDGMENTS_NAME
        target.write_text(target.read_text().replace('"verdict": ', '"verdict":  ', 1))
        return found

    monkeypatch.setattr("leaderboard.board.scan_inputs", scan_then_change)
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(
            ["table", "--no-embedded", "--runs", str(source), "--no-reference", "--resamples", "20", "--stream"]
        )
    assert code == 1 and out.getvalue() == ""
    last = err.getvalue().strip().splitlines()[-1]  # after the input problems report
    assert last.startswith("error: ") and "changed while the table was computed" in last
    assert "Traceback" not in err.getvalue()
