"""The benchmark runner end to end: a fixture benchmark in the Hub layout, a loopback judge server with
scripted verdicts and faults, resumes after SIGKILL and Ctrl-C, and the leaderboard numbers it yields."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from leaderboard.benchmarks.base import BenchmarkError
from leaderboard.benchmarks.mllm_judge.datasets import display_dataset
from leaderboard.benchmarks.mllm_judge.items import lite_sample, read_items, select_items
from leaderboard.metrics.compute import build_leaderboard
from leaderboard.runner.cli import add_run_arguments, run_command
from leaderboard.runner.config import EXIT_INCOMPLETE
from leaderboard.store.read import load_runs
from tests.support.benchmark_fixture import import_labels, item_of, write_fixture
from tests.support.openai_server import rate_limited, reply, serve_openai, server_error

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def fixture(tmp_path_factory):
    return write_fixture(tmp_path_factory.mktemp("bench") / "MLLM-Judge")


@pytest.fixture(scope="module")
def labels(fixture, tmp_path_factory):
    return import_labels(fixture, tmp_path_factory.mktemp("assets"))


@pytest.fixture(autouse=True)
def _one_retry(monkeypatch):
    # One retry: a single 429 is absorbed, a 500 twice in a row is an error.
    monkeypatch.setenv("JUDGE_MAX_RETRIES", "1")


class ScriptedJudge:
    """Answers each request with its item's scripted reply, after that item's queued faults."""

    def __init__(self, fixture, faults=None):
        self.fixture = fixture
        self.faults = {k: list(v) for k, v in (faults or {}).items()}
        self.asked: list[str] = []
        self._lock = threading.Lock()

    def __call__(self, request):
        mode, item = item_of(request.text)
        with self._lock:
            self.asked.append(item)
            queue = self.faults.get(item)
            if queue:
                return queue.pop(0)
        return reply(self.fixture.reply_for(mode, item))


def cli_args(*argv: str):
    import argparse

    parser = argparse.ArgumentParser()
    add_run_arguments(parser)
    return parser.parse_args(list(argv))


def run_args(fixture, server, out, mode="pair", *extra):
    return (
        "--model",
        "judge-model",
        "--base-url",
        server.base_url,
        "--mode",
        mode,
        "--benchmark",
        str(fixture.root),
        "--out",
        str(out),
        "--no-progress",
        *extra,
    )


def lines_of(run_dir: Path) -> list[dict]:
    data = (run_dir / "judgments.jsonl").read_bytes()
    assert data == b"" or data.endswith(b"\n"), "torn last line"
    return [json.loads(line) for line in data.decode().splitlines()]


def table_for(run_dir: Path, labels):
    loaded = load_runs([run_dir], labels)
    return build_leaderboard(loaded.runs, labels, None, n_resamples=0, min_n=1)


def value(table, metric: str, dataset: str) -> float:
    rows = table[(table["metric"] == metric) & (table["dataset"] == dataset)]
    assert len(rows) == 1, f"{metric}/{dataset}: {len(rows)} rows"
    return float(rows["value"].iloc[0])


# ---------------------------------------------------------------------- numbers through the whole path


def test_pair_run_with_faults_gives_hand_computed_numbers_and_resume_retries_errors(fixture, labels, tmp_path, capsys):
    faults = {
        "200": [rate_limited()],  # absorbed by the backend's retry
        "205": [rate_limited()],
        "209": [rate_limited()],
        "211": [server_error(), server_error()],  # every attempt fails: an error, not a verdict
    }
    judge = ScriptedJudge(fixture, faults)
    out = tmp_path / "pair-run"
    with serve_openai(default=judge) as server:
        assert run_command(cli_args(*run_args(fixture, server, out, "pair", "--concurrency", "4"))) == EXIT_INCOMPLETE
        first = capsys.readouterr().out
        records = lines_of(out)
        assert sorted(r["item_id"] for r in records) == [str(i) for i in range(200, 211)]
        assert "errors 1" in first and "(1 unscored)" in first and "1 item(s) missing" in first
        unscored = [r for r in records if r["verdict"] is None]
        assert [r["item_id"] for r in unscored] == ["207"] and unscored[0]["unscored_reason"]
        assert judge.asked.count("207") == 2  # one re-ask after the unparsable reply

        table = table_for(out, labels)
        # accuracy with tie: COCO 3/4; C.C. 2/3 over 3 parsed (207 unscored); Math 2/3 (211 missing).
        assert value(table, "accuracy_with_tie", "COCO") == pytest.approx(3 / 4)
        assert value(table, "accuracy_with_tie", "C.C.") == pytest.approx(2 / 3)
        assert value(table, "accuracy_with_tie", "Math") == pytest.approx(2 / 3)
        assert value(table, "accuracy_with_tie", "Average") == pytest.approx((3 / 4 + 2 / 3 + 2 / 3) / 3)
        # without ties (the authors' rule: drop human OR judge ties): COCO 2/3, C.C. 2/2, Math 2/3.
        assert value(table, "accuracy_without_tie", "COCO") == pytest.approx(2 / 3)
        assert value(table, "accuracy_without_tie", "C.C.") == pytest.approx(1.0)
        assert value(table, "accuracy_without_tie", "Math") == pytest.approx(2 / 3)
        cc = table[(table["metric"] == "accuracy_with_tie") & (table["dataset"] == "C.C.")]
        assert float(cc["coverage"].iloc[0]) == pytest.approx(3 / 4)
        assert set(table["provenance"]) == {"run with this project"}

        asked_before = len(judge.asked)
        assert run_command(cli_args(*run_args(fixture, server, out, "pair", "--concurrency", "4"))) == 0
        assert judge.asked[asked_before:] == ["211"]  # only the missing item
        assert "stored before 11" in capsys.readouterr().out
    records = lines_of(out)
    assert sorted(r["item_id"] for r in records) == [str(i) for i in range(200, 212)]
    table = table_for(out, labels)
    assert value(table, "accuracy_with_tie", "Math") == pytest.approx(3 / 4)
    assert value(table, "accuracy_with_tie", "Average") == pytest.approx((3 / 4 + 2 / 3 + 3 / 4) / 3)


def test_score_and_batch_runs_give_hand_computed_numbers(fixture, labels, tmp_path):
    with serve_openai(default=ScriptedJudge(fixture)) as server:
        for mode in ("score", "batch"):
            assert run_command(cli_args(*run_args(fixture, server, tmp_path / mode, mode))) == 0
    score = table_for(tmp_path / "score", labels)
    assert value(score, "pearson", "COCO") == pytest.approx(1.0)
    assert value(score, "pearson", "C.C.") == pytest.approx(-1.0)
    assert value(score, "pearson", "Math") == pytest.approx(0.8)
    assert value(score, "pearson", "Average") == pytest.approx((1.0 - 1.0 + 0.8) / 3)
    batch = table_for(tmp_path / "batch", labels)
    assert len(lines_of(tmp_path / "batch")) == 9  # the repeated line is one item
    assert value(batch, "normalized_levenshtein", "COCO") == pytest.approx((0 + 2 / 4 + 0) / 3)
    assert value(batch, "normalized_levenshtein", "C.C.") == pytest.approx((2 / 4 + 0 + 2 / 3) / 3)
    assert value(batch, "normalized_levenshtein", "Math") == pytest.approx((2 / 4 + 0 + 0) / 3)


def test_requests_stay_within_the_concurrency_limit_and_use_it(fixture, tmp_path):
    with serve_openai(default=ScriptedJudge(fixture), latency_s=0.05) as server:
        assert run_command(cli_args(*run_args(fixture, server, tmp_path / "r", "pair", "--concurrency", "3"))) == 0
        assert server.max_in_flight == 3
        body = server.chat_requests[0].body
        assert body["temperature"] == 0.4 and body["top_p"] == 0.2
        assert server.chat_requests[0].image_urls[0].startswith("data:image/jpeg;base64,")


# ---------------------------------------------------------------------- resume, refusal, kills


def test_same_arguments_resume_with_nothing_to_do_and_different_ones_are_refused(fixture, tmp_path, capsys):
    out = tmp_path / "run"
    with serve_openai(default=ScriptedJudge(fixture)) as server:
        assert run_command(cli_args(*run_args(fixture, server, out, "pair", "--limit", "3"))) == 0
        before = len(server.chat_requests)
        assert run_command(cli_args(*run_args(fixture, server, out, "pair", "--limit", "3", "--concurrency", "2"))) == 0
        assert len(server.chat_requests) == before  # concurrency is not part of the run's identity
        capsys.readouterr()
        assert run_command(cli_args(*run_args(fixture, server, out, "pair", "--limit", "4"))) == 1
        err = capsys.readouterr().err
        assert "other arguments" in err and "limit: 3 in the run, 4 now" in err and "--out" in err
        assert run_command(cli_args(*run_args(fixture, server, out, "score", "--limit", "3"))) == 1
        assert "mode" in capsys.readouterr().err
    assert len(lines_of(out)) == 3


def _spawn(fixture, server, out, *extra):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "JUDGE_MAX_RETRIES": "1"}
    args = run_args(fixture, server, out, "pair", "--concurrency", "2", *extra)
    return subprocess.Popen(
        [sys.executable, "-m", "leaderboard.runner", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for_lines(path: Path, count: int, proc, timeout: float = 20.0) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists():
            n = path.read_bytes().count(b"\n")
            if n >= count:
                return n
        if proc.poll() is not None:
            pytest.fail(f"runner ended early: {proc.communicate()}")
        time.sleep(0.005)
    pytest.fail("runner wrote nothing in time")


def test_sigkill_mid_run_then_resume_judges_every_item_exactly_once(fixture, tmp_path):
    out = tmp_path / "killed"
    judge = ScriptedJudge(fixture)
    with serve_openai(default=judge, latency_s=0.15) as server:
        proc = _spawn(fixture, server, out)
        _wait_for_lines(out / "judgments.jsonl", 3, proc)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        written = lines_of(out)
        assert 3 <= len(written) < 12, "the kill must land mid-run"
        # A kill in the middle of a write leaves a partial line: the restart must cut it off.
        with open(out / "judgments.jsonl", "ab") as handle:
            handle.write(b'{"item_id": "2')
        asked_before = len(judge.asked)
        server.latency_s = 0.0
        assert run_command(cli_args(*run_args(fixture, server, out, "pair", "--concurrency", "2"))) == 0
        resumed = judge.asked[asked_before:]
    records = lines_of(out)
    ids = [r["item_id"] for r in records]
    assert sorted(ids) == [str(i) for i in range(200, 212)] and len(ids) == len(set(ids))
    # Only the missing items were asked for again (207 twice: its reply is unparsable, so re-asked).
    assert set(resumed) == set(ids) - {r["item_id"] for r in written}


def test_ctrl_c_finishes_in_flight_judgments_prints_summary_and_exits_130(fixture, tmp_path):
    out = tmp_path / "interrupted"
    with serve_openai(default=ScriptedJudge(fixture), latency_s=0.2) as server:
        proc = _spawn(fixture, server, out)
        _wait_for_lines(out / "judgments.jsonl", 2, proc)
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=20)
    assert proc.returncode == 130, stderr
    assert "interrupted" in stdout and "judged now" in stdout
    records = lines_of(out)
    assert len(records) < 12 and len({r["item_id"] for r in records}) == len(records)


def test_a_missing_image_is_an_invalid_item_not_a_judgment(fixture, tmp_path, capsys):
    import shutil

    copy = tmp_path / "bench"
    shutil.copytree(fixture.root, copy)
    (copy / "image" / "100.jpg").unlink()  # pair item 200's image
    with serve_openai(default=ScriptedJudge(fixture)) as server:
        args = run_args(fixture, server, tmp_path / "run", "pair", "--limit", "3")
        args = tuple(str(copy) if a == str(fixture.root) else a for a in args)
        assert run_command(cli_args(*args)) == EXIT_INCOMPLETE
    text = capsys.readouterr().out
    assert "invalid items 1" in text and "100.jpg" in text
    assert sorted(r["item_id"] for r in lines_of(tmp_path / "run")) == ["201", "202"]


def test_unknown_judge_and_missing_benchmark_fail_with_advice(tmp_path, capsys):
    args = cli_args(
        "--judge", "no-such-judge", "--mode", "pair", "--benchmark", str(tmp_path), "--out", str(tmp_path / "o")
    )
    assert run_command(args) == 1
    assert "Unknown judge" in capsys.readouterr().err
    args = cli_args(
        "--model",
        "m",
        "--base-url",
        "http://127.0.0.1:9/v1",
        "--mode",
        "pair",
        "--benchmark",
        str(tmp_path / "none"),
        "--out",
        str(tmp_path / "o"),
    )
    assert run_command(args) == 1
    assert "--benchmark" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_one_runner_per_folder_and_a_failed_start_leaves_nothing(fixture, tmp_path, capsys):
    from leaderboard.runner.folder import RunLock

    out = tmp_path / "run"
    with serve_openai(default=ScriptedJudge(fixture)) as server:
        with RunLock(out):
            assert run_command(cli_args(*run_args(fixture, server, out, "pair", "--limit", "2"))) == 1
            assert "another runner is writing" in capsys.readouterr().err
        assert not out.exists()
        assert run_command(cli_args(*run_args(fixture, server, out, "pair", "--max-tokens", "0"))) == 1
        assert "--max-tokens" in capsys.readouterr().err and not out.exists()
        # A catalog judge without its key fails after the folder was claimed: it is left as it was.
        no_key = ("--judge", "GPT-4o-mini", "--mode", "pair", "--benchmark", str(fixture.root), "--out", str(out))
        assert run_command(cli_args(*no_key)) == 1
        assert "OPENAI_API_KEY" in capsys.readouterr().err and not out.exists()
        assert run_command(cli_args(*run_args(fixture, server, out, "pair", "--limit", "2"))) == 0
    assert sorted(p.name for p in out.iterdir()) == ["judgments.jsonl", "manifest.json"]


# ---------------------------------------------------------------------- reading the benchmark


def test_items_carry_texts_images_and_every_label_spelling(fixture):
    score, _, _ = read_items(fixture.root, "score")
    pair, _, _ = read_items(fixture.root, "pair")
    batch, _, problems = read_items(fixture.root, "batch")
    assert [i.human_label for i in score[:4]] == [1, 2, 3, 4]  # Human_answer
    assert [i.human_label for i in pair[4:8]] == ["A", "A", "B", "B"]  # human, and human_answer on 205
    assert pair[0].responses[0].startswith("The background colour") and pair[0].image_path.is_file()
    assert pair[0].response_models == ("gpt4", "gemini")
    assert len(batch) == 9 and [len(i.responses) for i in batch].count(3) == 1
    assert any("read once" in p for p in problems)
    hq = select_items(fixture.root, "score", "hq")
    assert [i.item_id for i in hq.items] == ["0", "3", "6", "9"] and hq.subset == "hq"


def test_repeated_ids_on_different_items_are_kept_as_the_importer_keeps_them(tmp_path):
    rows = [
        {"id": "1", "instruction": "q", "answers": [{"name": "a", "answer": "x"}, {"name": "b", "answer": "y"}]},
        {"id": "1", "instruction": "other", "answers": json.dumps([{"name": "a", "answer": "z"}, {"answer": "w"}])},
    ]
    (tmp_path / "Dataset" / "Benchmark").mkdir(parents=True)
    (tmp_path / "Dataset" / "Benchmark" / "batch.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    items, _, _ = read_items(tmp_path, "batch")
    assert [i.item_id for i in items] == ["1", "1~2"] and items[1].responses == ("z", "w")


def test_lite_split_is_a_fixed_sample_per_dataset_and_filters_say_what_exists(fixture):
    items, _, _ = read_items(fixture.root, "pair")
    two = lite_sample(items, per_dataset=2)
    assert len(two) == 6 and two == lite_sample(list(reversed(items)), per_dataset=2)[::-1]
    chosen = select_items(fixture.root, "pair", "all", datasets=["COCO", "mathvista"], limit=5)
    assert {i.dataset for i in chosen.items} == {"coco", "mathvista"} and len(chosen.items) == 5
    with pytest.raises(BenchmarkError, match="choose among"):
        select_items(fixture.root, "pair", "all", datasets=["WIT"])
    with pytest.raises(BenchmarkError, match="Hard"):
        select_items(fixture.root, "pair", "hard")


def test_a_local_judge_gets_items_in_batches(fixture, tiny_vlm_dir, tmp_path, capsys):
    out = tmp_path / "local"
    base = ("--backend", "hf", "--model", str(tiny_vlm_dir), "--mode", "score", "--benchmark", str(fixture.root))
    args = (*base, "--limit", "5", "--batch-size", "2", "--forward", "--out", str(out), "--no-progress")
    assert run_command(cli_args(*args)) == 0, capsys.readouterr()
    records = lines_of(out)
    assert len(records) == 5 and all(isinstance(r["verdict"], int) for r in records)
    assert all(set(r["probabilities"]["probabilities"]) == {"1", "2", "3", "4", "5"} for r in records)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["backend"] == "hf_local" and manifest["sampling"]["verdict_source"] == "forward"
    generated = tmp_path / "generated"
    args = (*base, "--limit", "2", "--max-tokens", "8", "--out", str(generated), "--no-progress")
    assert run_command(cli_args(*args)) == 0  # gibberish output is stored as unscored, with a reason
    assert all(r["verdict"] in (1, 2, 3, 4, 5) or r["unscored_reason"] for r in lines_of(generated))
    assert len(lines_of(generated)) == 2


def test_the_api_key_is_sent_but_never_stored(fixture, tmp_path, monkeypatch, capsys):
    secret = "sk-test-RUNNERsecret0123456789"
    monkeypatch.setenv("OPENAI_API_KEY", secret)
    out = tmp_path / "keyed"
    with serve_openai(default=ScriptedJudge(fixture)) as server:
        assert run_command(cli_args(*run_args(fixture, server, out, "pair", "--limit", "3"))) == 0
        assert all(r.headers.get("authorization") == f"Bearer {secret}" for r in server.chat_requests)
    stored = b"".join(p.read_bytes() for p in out.rglob("*") if p.is_file())
    assert secret.encode() not in stored and b"RUNNERsecret" not in stored
    assert secret not in capsys.readouterr().out


def test_swap_and_samples_are_stored_and_become_consistency_columns(fixture, labels, tmp_path):
    # The scripted judge answers each item's letter whatever the order: a pure position bias, so a
    # swapped pair maps back to the other letter and the reconciled verdict is a tie.
    out = tmp_path / "swap-run"
    with serve_openai(default=ScriptedJudge(fixture)) as server:
        args = run_args(fixture, server, out, "pair", "--swap", "--samples", "2", "--limit", "6")
        assert run_command(cli_args(*args)) == 0
    records = lines_of(out)
    assert len(records) == 6
    for record in records:
        swap = record["swap"]
        assert set(swap) >= {"original_verdict", "swapped_verdict", "consistent", "reconciled"}
        assert record["consistency"]["kind"] == "samples" and len(record["consistency"]["verdicts"]) == 2
        if swap["consistent"] is False:
            assert record["verdict"] == "tie"
    table = table_for(out, labels)
    rows = table[table["metric"] == "swap_consistency"]
    by_dataset = {}
    for r in records:
        if r["swap"]["consistent"] is not None:
            by_dataset.setdefault(r["dataset"], []).append(r["swap"]["consistent"])
    shares = {d: sum(v) / len(v) for d, v in by_dataset.items()}
    for dataset, share in shares.items():
        cell = rows[rows["dataset"] == display_dataset(dataset)]
        assert float(cell["value"].iloc[0]) == pytest.approx(share)
    average = rows[rows["dataset"] == "Average"]
    assert float(average["value"].iloc[0]) == pytest.approx(sum(shares.values()) / len(shares))
    assert (table["metric"] == "self_consistency").any()


# ---------------------------------------------------------------------- where a run goes by default


def no_out_args(fixture, server, mode="pair", *extra):
    argv = list(run_args(fixture, server, "unused", mode, *extra))
    at = argv.index("--out")
    return argv[:at] + argv[at + 2 :]


@pytest.mark.parametrize("runs_dir_set", [True, False], ids=["RUNS_DIR", "./runs"])
def test_without_out_a_run_goes_where_the_space_reads_runs_and_the_same_command_resumes_it(
    fixture, tmp_path, monkeypatch, capsys, runs_dir_set
):
    from judges.settings import Settings
    from leaderboard.store.sources import leaderboard_sources

    if runs_dir_set:
        monkeypatch.setenv("RUNS_DIR", str(tmp_path / "space-runs"))
        where = tmp_path / "space-runs"
    else:
        monkeypatch.delenv("RUNS_DIR", raising=False)
        monkeypatch.chdir(tmp_path)
        where = Path("runs")
    with serve_openai(default=ScriptedJudge(fixture)) as server:
        assert run_command(cli_args(*no_out_args(fixture, server, "pair", "--limit", "3"))) == 0
        folders = sorted(where.iterdir())
        assert len(folders) == 1 and folders[0].name.startswith("judge-model-mllm-as-a-judge-pair-all-no-cot-")
        assert str(folders[0]) in capsys.readouterr().out  # the summary says where the run is
        # The same command finds the same folder: nothing is judged twice.
        asked = len(server.chat_requests)
        assert run_command(cli_args(*no_out_args(fixture, server, "pair", "--limit", "3"))) == 0
        assert len(server.chat_requests) == asked and "stored before 3" in capsys.readouterr().out
        # Other options are another run, in a folder of its own.
        assert run_command(cli_args(*no_out_args(fixture, server, "pair", "--limit", "2"))) == 0
    assert len(list(where.iterdir())) == 2
    # The Space lists both, as it would a submission stored there.
    sources = leaderboard_sources(Settings.from_env())
    assert any(s.resolve() == where.resolve() for s in sources)
    loaded = load_runs(sources)
    assert {len(r.records) for r in loaded.runs if r.path.parent.resolve() == where.resolve()} == {2, 3}


def test_an_explicit_out_still_wins_over_the_default(fixture, tmp_path, monkeypatch):
    monkeypatch.setenv("RUNS_DIR", str(tmp_path / "space-runs"))
    with serve_openai(default=ScriptedJudge(fixture)) as server:
        assert run_command(cli_args(*run_args(fixture, server, tmp_path / "mine", "pair", "--limit", "2"))) == 0
    assert len(lines_of(tmp_path / "mine")) == 2 and not (tmp_path / "space-runs").exists()
