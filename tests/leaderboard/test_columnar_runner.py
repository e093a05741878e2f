"""The runner keeps a finished run's columnar companion, which reads exactly like its JSONL."""

from __future__ import annotations

import argparse

import pandas as pd
import pytest

from leaderboard.runner.cli import add_run_arguments, run_command
from leaderboard.store.columnar import COLUMNAR_NAME, read_columnar
from leaderboard.store.read import load_run
from tests.support.benchmark_fixture import item_of, write_fixture
from tests.support.openai_server import reply, serve_openai

pytest.importorskip("pyarrow")


def test_a_finished_run_gets_a_companion_that_reads_like_its_jsonl(tmp_path, monkeypatch):
    monkeypatch.setattr("leaderboard.store.columnar.MIN_COLUMNAR_LINES", 1)  # the fixture is small
    monkeypatch.setenv("JUDGE_MAX_RETRIES", "0")
    fixture = write_fixture(tmp_path / "bench" / "MLLM-Judge")
    out = tmp_path / "run"

    def answer(request):
        mode, item = item_of(request.text)
        return reply(fixture.reply_for(mode, item))

    parser = argparse.ArgumentParser()
    add_run_arguments(parser)
    argv = ["--model", "judge-model", "--mode", "pair", "--benchmark", str(fixture.root), "--out", str(out)]
    with serve_openai(default=answer) as server:
        assert run_command(parser.parse_args([*argv, "--base-url", server.base_url, "--no-progress"])) == 0
    assert (out / COLUMNAR_NAME).is_file() and read_columnar(out, "pair") is not None
    with_columns, problems, digest = load_run(out)
    (out / COLUMNAR_NAME).unlink()
    from_jsonl, problems_jsonl, digest_jsonl = load_run(out)
    assert with_columns is not None and from_jsonl is not None and len(from_jsonl.records) > 0
    pd.testing.assert_frame_equal(with_columns.records, from_jsonl.records, check_exact=True)
    assert (problems, digest) == (problems_jsonl, digest_jsonl)
