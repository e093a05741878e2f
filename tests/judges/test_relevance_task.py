"""Task ``relevance`` (UniME-V2): P(yes) per candidate, ranking, false-negative and hard-negative
mining, the CLI and the resumable batch form, against the loopback server and the tiny local model."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image

from judges.backends.registry import create_backend
from judges.errors import BadInput
from judges.judge import Judge
from judges.probe import forget_endpoints
from judges.relevance_batch import done_ids, run_batch
from judges.tasks import get_task
from judges.tasks.relevance import mine, ranking_of
from judges.types import Capabilities
from tests.support.openai_server import RecordedRequest, serve_openai, yes_no

ROOT = Path(__file__).resolve().parents[2]
KIND = get_task("relevance")


@pytest.fixture(autouse=True)
def _fresh_endpoint_cache():
    forget_endpoints()
    yield
    forget_endpoints()


def backend_for(server, **options):
    return create_backend(
        "openai",
        "judge-model",
        base_url=server.base_url,
        capabilities=Capabilities(logprobs=True),
        max_retries=0,
        timeout_s=10,
        **options,
    )


def by_candidate(scores: dict[str, float]):
    """Answer with the score of the first key found in the candidate block (0.1 otherwise)."""

    def respond(request: RecordedRequest):
        candidate = request.text.split("[Candidate]", 1)[-1]
        return yes_no(next((p for key, p in scores.items() if key in candidate), 0.1))

    return respond


# --------------------------------------------------------------------------- mining


def test_mining_flags_false_negatives_and_keeps_the_top_k_hard_negatives():
    scores = [0.80, 0.795, 0.90, 0.30, None, 0.60, 0.50]
    false, hard = mine(scores, positive=1, beta=0.01, k=2)
    assert false == [2, 3]  # above s_pos - beta = 0.79
    assert hard == [6, 7]  # best remaining negatives; unscored 5 is in neither list
    assert ranking_of(scores) == [3, 1, 2, 6, 7, 4]
    assert mine([None, 0.5], positive=1) == ([], [])


# --------------------------------------------------------------------------- inputs


def test_bad_inputs_are_refused(tmp_path: Path):
    picture = tmp_path / "c.png"
    Image.new("RGB", (8, 8)).save(picture)
    with pytest.raises(BadInput, match="query is empty"):
        KIND.make_task("", ["a"])
    with pytest.raises(BadInput, match="1 to 50 candidates, got 0"):
        KIND.make_task("q", [])
    with pytest.raises(BadInput, match="1 to 50 candidates, got 51"):
        KIND.make_task("q", [f"c{i}" for i in range(51)])
    with pytest.raises(BadInput, match="2 candidate texts and 1 candidate images"):
        KIND.make_task("q", ["a", "b"], [], None, {"candidate_image": [str(picture)]})
    with pytest.raises(BadInput, match="positive must be from 1 to 2"):
        KIND.make_task("q", ["a", "b"], [], None, {"positive": 3})
    with pytest.raises(BadInput, match="Candidate 2 is empty"):
        KIND.make_task("q", ["a", " "])


# --------------------------------------------------------------------------- judging


def test_scores_ranking_and_mining_from_the_judge():
    task = KIND.make_task(
        "a red double-decker bus",
        ["a red bus on a street", "a red double-decker bus", "a cat", "a blue car", "a bus stop"],
        [],
        None,
        {"positive": 2, "hard_negatives": 2},
    )
    table = {"double-decker": 0.95, "red bus": 0.945, "bus stop": 0.4, "blue car": 0.2}
    with serve_openai(latency_s=0.05, default=by_candidate(table)) as server:
        result = Judge(backend_for(server), KIND).judge(task)
        in_flight = server.max_in_flight
        sent = len(server.chat_requests)
    details = result.details
    assert details["scores"] == pytest.approx([0.945, 0.95, 0.1, 0.2, 0.4])
    assert details["ranking"] == [2, 1, 5, 4, 3] and result.verdict == 2
    assert details["false_negatives"] == [1] and details["hard_negatives"] == [5, 4]
    assert details["positive_rank"] == 1 and details["hit_at_1"] is True and details["reciprocal_rank"] == 1.0
    assert result.probabilities is not None and result.probabilities.probabilities["2"] == pytest.approx(0.95)
    assert sent == 5 and in_flight > 1 and result.attempts == 5


def test_candidate_images_go_in_their_own_block_after_the_query(tmp_path: Path):
    paths = []
    for i, colour in enumerate([(255, 0, 0), (0, 0, 255)]):
        paths.append(tmp_path / f"c{i}.png")
        Image.new("RGB", (16, 16), colour).save(paths[-1])
    query = tmp_path / "q.png"
    Image.new("RGB", (16, 16), (250, 5, 5)).save(query)
    task = KIND.make_task("", [], [query], None, {"candidate_image": [str(p) for p in paths]})
    assert task.responses == ("candidate image 1", "candidate image 2")
    with serve_openai(default=yes_no(0.7)) as server:
        result = Judge(backend_for(server), KIND).judge(task)
        request = server.chat_requests[0]
    parts = request.messages[-1]["content"]
    kinds = [p["type"] if p["type"] == "image_url" else p["text"].strip()[:11] for p in parts]
    assert kinds[:4] == ["[Query]", "image_url", "[Candidate]", "image_url"]
    assert result.details["scores"] == pytest.approx([0.7, 0.7])


def test_fifty_candidates_use_the_concurrency_fully():
    task = KIND.make_task("q", [f"candidate {i}" for i in range(50)])
    # Half a second per answer: on a loaded machine 40 requests still leave before the first returns.
    with serve_openai(latency_s=0.5, default=yes_no(0.6)) as server:
        started = time.perf_counter()
        result = Judge(backend_for(server, concurrency=50), KIND).judge(task)
        elapsed = time.perf_counter() - started
        in_flight = server.max_in_flight
    assert len(result.details["scores"]) == 50
    assert in_flight >= 40  # all at once, not a sequential loop (that would take 25 s)
    assert elapsed < 4


def test_tiny_local_model_scores_many_candidates_batched_as_one_at_a_time(tiny_vlm_dir: Path):
    backend = create_backend("hf", str(tiny_vlm_dir), device="cpu", batch_size=8)
    candidates = [f"a chart with {i} bars" for i in range(12)]
    task = KIND.make_task("a bar chart", candidates, [], None, {"positive": 1})
    result = Judge(backend, KIND).judge(task)
    assert result.details["probe_source"] == "forward"
    batched = result.details["scores"]
    alone = [Judge(backend, KIND).judge(KIND.make_task("a bar chart", [c])).details["scores"][0] for c in candidates]
    assert all(s is not None and 0 < s < 1 for s in batched)
    assert batched == pytest.approx(alone, abs=1e-5)
    assert result.details["positive_rank"] is not None


def test_details_html_lists_candidates_with_their_scores_escaped():
    task = KIND.make_task("q", ["<b>bold</b> candidate", "plain"], [], None, {"positive": 1})
    with serve_openai(default=by_candidate({"bold": 0.9})) as server:
        result = Judge(backend_for(server), KIND).judge(task)
    table = KIND.details_html(result.details)
    assert '<table class="details details-relevance">' in table
    assert "<b>" not in table and "&lt;b&gt;bold" in table and "0.9000" in table and "positive" in table
    assert "Candidate 1" in KIND.verdict_html(1, task.responses)


# --------------------------------------------------------------------------- command line


def run_cli(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "judges", *args], capture_output=True, text=True, cwd=ROOT, timeout=120, **kwargs
    )


def test_cli_judge_relevance_json():
    with serve_openai(default=by_candidate({"bus": 0.9})) as server:
        proc = run_cli(
            "judge", "--mode", "relevance", "--model", "judge-model", "--base-url", server.base_url, "--logprobs",
            "--instruction", "a bus", "--response", "a bus", "--response", "a cat", "--positive", "2", "--json",
        )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["scores"] == pytest.approx([0.9, 0.1]) and out["ranking"] == [1, 2]
    assert out["positive"] == 2 and out["false_negatives"] == [1] and out["hit_at_1"] is False
    assert out["probabilities"] == {"1": 0.9, "2": 0.1} and "latency_s" in out and "usage" in out


def write_queries(path: Path, n: int) -> None:
    lines = [
        json.dumps(
            {"id": f"q{i}", "query": f"query {i}", "candidates": [f"hit {i}", "other", {"text": "x"}], "positive": 1}
        )
        for i in range(n)
    ]
    lines.insert(3, json.dumps({"id": "bad", "query": "q", "candidates": []}))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def read_out(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_batch_scores_every_query_and_a_rerun_skips_them(tmp_path: Path):
    queries, out = tmp_path / "queries.jsonl", tmp_path / "out.jsonl"
    write_queries(queries, 5)
    with serve_openai(default=by_candidate({"hit": 0.9})) as server:
        judge = Judge(backend_for(server), KIND)
        first = run_batch(queries, out, judge, chunk=2)
        sent = len(server.chat_requests)
        again = run_batch(queries, out, judge, chunk=2)
        assert len(server.chat_requests) == sent  # nothing asked twice
    records = read_out(out)
    assert (first.written, first.bad, again.written, again.skipped) == (5, 1, 0, 6)
    by_id = {r["id"]: r for r in records}
    assert len(records) == len(by_id) == 6 and set(by_id) == {"q0", "q1", "q2", "q3", "q4", "bad"}
    assert by_id["q0"]["scores"] == pytest.approx([0.9, 0.1, 0.1]) and by_id["q0"]["hit_at_1"] is True
    assert "1 to 50 candidates" in by_id["bad"]["error"]


def test_batch_resumes_after_a_kill_without_duplicates(tmp_path: Path):
    queries, out = tmp_path / "queries.jsonl", tmp_path / "out.jsonl"
    write_queries(queries, 12)
    args = [
        "relevance", "--queries", str(queries), "--out", str(out), "--model", "judge-model", "--logprobs",
        "--chunk", "1",
    ]  # fmt: skip
    with serve_openai(latency_s=0.15, default=by_candidate({"hit": 0.9})) as server:
        args += ["--base-url", server.base_url]
        proc = subprocess.Popen([sys.executable, "-m", "judges", *args], cwd=ROOT, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and (not out.exists() or out.read_bytes().count(b"\n") < 3):
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        partial = read_out(out)
        assert 3 <= len(partial) < 13
        # A kill in the middle of a write leaves a cut-off line: the rerun drops it.
        with out.open("ab") as handle:
            handle.write(b'{"id": "q11", "scores": [0.9')
        assert "q11" not in done_ids(out) and out.read_bytes().endswith(b"\n")
        with out.open("ab") as handle:
            handle.write(b'{"id": "q11", "scores": [0.9')
        done = run_cli(*args)
    assert done.returncode == 0, done.stderr
    records = read_out(out)
    ids = [r["id"] for r in records]
    assert len(ids) == len(set(ids)) == 13
    assert set(ids) == {f"q{i}" for i in range(12)} | {"bad"}
    assert ids[: len(partial)] == [r["id"] for r in partial]
    assert "already done" in done.stderr


def test_batch_refuses_a_judge_without_logprobs(tmp_path: Path):
    queries, out = tmp_path / "queries.jsonl", tmp_path / "out.jsonl"
    write_queries(queries, 2)
    proc = run_cli(
        "relevance", "--queries", str(queries), "--out", str(out), "--judge", "o4-mini",
        env={**os.environ, "OPENAI_API_KEY": "sk-test-not-used-0000"},
    )  # fmt: skip
    assert proc.returncode == 1
    assert proc.stderr.count("\n") == 1 and "missing capability: logprobs" in proc.stderr
    assert not out.exists() or out.read_text() == ""


def test_candidates_also_come_from_the_candidate_input():
    task = KIND.make_task("q", ["from --response"], [], None, {"candidate": ["from the list", "another"]})
    assert task.responses == ("from --response", "from the list", "another")
    assert KIND.max_responses == 0  # no response boxes: the Judge tab shows the candidate list
