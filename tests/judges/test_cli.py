"""``python -m judges judge`` as a script user runs it, against a loopback OpenAI-compatible server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from judges.settings import SECRET_VARIABLES
from tests.support.openai_server import reply, serve_openai, unauthorized

ROOT = Path(__file__).resolve().parents[2]
SECRET = "sk-test-CLIsecret0123456789"
#: Variables of the developer's own environment that would change what the CLI does.
_INHERITED_OUT = {v.name for v in SECRET_VARIABLES} | {"OPENAI_BASE_URL"}


def run_cli(*args: str, env: dict | None = None, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    inherited = {k: v for k, v in os.environ.items() if k not in _INHERITED_OUT}
    full_env = {**inherited, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "judges", *args], capture_output=True, text=True, env=full_env, cwd=cwd, timeout=60
    )


@pytest.fixture
def image(tmp_path) -> str:
    path = tmp_path / "chart.png"
    Image.new("RGB", (40, 30), "orange").save(path)
    return str(path)


def pair_args(base_url: str, image: str, *extra: str) -> list[str]:
    return [
        "judge", "--mode", "pair", "--model", "judge-model", "--base-url", base_url, "--image", image,
        "--instruction", "Which answer reads the chart right?", "--response", "Sales doubled.",
        "--response", "Sales fell.", *extra,
    ]  # fmt: skip


def test_pair_json_with_swap(image):
    with serve_openai() as server:
        # Both orders are sent at once: answer by content, the way a consistent judge would.
        server.set_default(
            lambda r: reply(
                '{"Analysis": "A matches the bars", "Judgement": "[[%s]]"}'
                % ("A" if r.text.index("Sales doubled.") < r.text.index("Sales fell.") else "B")
            )
        )
        proc = run_cli(*pair_args(server.base_url, image, "--swap", "--json"))
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["mode"] == "pair" and out["verdict"] == "A" and out["parsed"] is True
    assert out["analysis"] == "A matches the bars"
    assert out["judge"] == "judge-model" and out["latency_s"] >= 0
    assert "[[A]]" in out["raw_output"]
    assert out["swap"]["consistent"] is True
    assert "probabilities" in out


def test_score_with_probabilities_and_setting(image):
    with serve_openai() as server:
        server.script(reply('{"Figure Analysis": "bars", "Analysis": "ok", "Judgement": "[[4]]"}',
                            alternatives={"4": [("4", -0.3), ("5", -1.5)]}))  # fmt: skip
        proc = run_cli(
            "judge", "--mode", "score", "--model", "judge-model", "--base-url", server.base_url,
            "--image", image, "--instruction", "Describe.", "--response", "Bars.",
            "--setting", "cot-figure", "--logprobs", "--json",
        )  # fmt: skip
        sent = server.chat_requests[0].text
    out = json.loads(proc.stdout)
    assert out["verdict"] == 4
    assert out["probabilities"]["4"] > out["probabilities"]["5"] > 0
    assert 4 < out["expected_score"] < 5
    assert "Figure Analysis" in sent


def test_batch_verdict_is_a_list(image):
    with serve_openai() as server:
        server.script(reply('{"Analysis": "x", "Judgement": "[[B]], [[C]], [[A]]"}'))
        proc = run_cli(
            "judge", "--mode", "batch", "--model", "judge-model", "--base-url", server.base_url,
            "--image", image, "--instruction", "Rank.", "--response", "a", "--response", "b", "--response", "c",
            "--json",
        )  # fmt: skip
    assert json.loads(proc.stdout)["verdict"] == ["B", "C", "A"]


def test_unparsed_output_exits_zero_and_says_why(image):
    with serve_openai() as server:
        server.set_default(reply("I refuse to choose."))
        proc = run_cli(*pair_args(server.base_url, image, "--json"))
    assert proc.returncode == 0
    out = json.loads(proc.stdout)
    assert out["parsed"] is False and out["verdict"] is None and "no verdict" in out["reason"]


def test_human_output(image):
    with serve_openai() as server:
        server.script(reply('{"Analysis": "A is right", "Judgement": "[[A]]"}'))
        proc = run_cli(*pair_args(server.base_url, image))
    assert proc.returncode == 0 and "verdict:  A" in proc.stdout
    assert "s, 1 request\n" in proc.stdout  # not "1 requests"


def test_usage_error_is_nonzero():
    proc = run_cli("judge", "--mode", "pair")
    assert proc.returncode == 2 and "--instruction" in proc.stderr


@pytest.mark.parametrize(
    ("extra_args", "message"),
    [
        (["--mode", "pair", "--response", "only one"], "takes 2 responses, got 1"),
        (["--mode", "score", "--response", "x", "--response", "y"], "Score mode takes 1 response, got 2."),
        (
            ["--mode", "score", "--response", "x", "--setting", "no-figure", "--swap"],
            "Position swap applies to pair mode",
        ),
    ],
)
def test_bad_input_one_line_message(image, extra_args, message):
    with serve_openai() as server:
        proc = run_cli(
            "judge", "--model", "m", "--base-url", server.base_url, "--image", image, "--instruction", "Q",
            *extra_args,
        )  # fmt: skip
    assert proc.returncode == 1
    assert proc.stderr.startswith("error: ") and message in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_unreachable_server(image):
    with serve_openai() as server:
        url = server.base_url
    proc = run_cli(*pair_args(url, image), env={"JUDGE_MAX_RETRIES": "0", "JUDGE_TIMEOUT_S": "3"})
    assert proc.returncode == 1 and proc.stderr.startswith("error: ")
    assert "Traceback" not in proc.stderr


def test_rejected_key_never_printed(image):
    with serve_openai() as server:
        server.set_default(unauthorized(echo=SECRET))
        proc = run_cli(*pair_args(server.base_url, image), env={"OPENAI_API_KEY": SECRET, "JUDGE_MAX_RETRIES": "0"})
    assert proc.returncode == 1
    assert SECRET not in proc.stderr + proc.stdout
    assert SECRET[-10:] not in proc.stderr + proc.stdout
    assert "Check the key in OPENAI_API_KEY" in proc.stderr and "key box" not in proc.stderr


@pytest.mark.parametrize("how", [["--judge", "GPT-4o-mini"], ["--model", "GPT-4o-mini"]])
def test_missing_key_names_the_variable_to_set_and_no_key_box(image, how):
    proc = run_cli("judge", "--mode", "score", *how, "--image", image, "--instruction", "Q", "--response", "a")
    assert proc.returncode == 1 and proc.stderr.startswith("error: ")
    assert "set the environment variable OPENAI_API_KEY" in proc.stderr
    assert "key box" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_a_catalog_judge_by_name_judges_through_its_endpoint(image):
    # OPENAI_BASE_URL points the catalog's OpenAI judges at the loopback server.
    with serve_openai() as server:
        server.script(reply('{"Analysis": "B reads it right", "Judgement": "[[B]]"}'))
        env = {"OPENAI_API_KEY": SECRET, "OPENAI_BASE_URL": server.base_url}
        proc = run_cli(
            "judge", "--mode", "pair", "--judge", "GPT-4o-mini", "--image", image, "--instruction", "Which?",
            "--response", "Sales doubled.", "--response", "Sales fell.", "--json", env=env,
        )  # fmt: skip
        sent = server.chat_requests
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["judge"] == "GPT-4o-mini" and out["verdict"] == "B"
    assert [r.body["model"] for r in sent] == ["gpt-4o-mini"]
    assert sent[0].headers["authorization"] == f"Bearer {SECRET}"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--base-url", "http://127.0.0.1:9/v1"], "drop --base-url, or give --model with them instead"),
        (["--backend", "hf"], "drop --backend"),
    ],
)
def test_judge_with_an_endpoint_option_says_what_to_drop(image, extra, message):
    proc = run_cli(
        "judge", "--mode", "score", "--judge", "GPT-4o", *extra, "--image", image, "--instruction", "Q",
        "--response", "a",
    )  # fmt: skip
    assert proc.returncode == 1 and message in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_an_unknown_judge_lists_the_catalog(image):
    proc = run_cli("judge", "--mode", "score", "--judge", "GPT-5-ultra", "--instruction", "Q", "--response", "a")
    assert proc.returncode == 1 and "Unknown judge 'GPT-5-ultra'" in proc.stderr and "GPT-4o-mini" in proc.stderr


@pytest.mark.parametrize("given", [[], ["--judge", "GPT-4o", "--model", "gpt-4o"]])
def test_exactly_one_of_judge_and_model_is_a_usage_rule(given):
    proc = run_cli("judge", "--mode", "score", *given, "--instruction", "Q", "--response", "a")
    assert proc.returncode == 2
    assert "--judge" in proc.stderr and "--model" in proc.stderr


def test_runs_from_another_folder_with_the_repository_on_pythonpath(tmp_path):
    # The project is not installed: from elsewhere, PYTHONPATH names the repository (as README says);
    # relative image paths are then read from the folder the command runs in.
    Image.new("RGB", (20, 10), "teal").save(tmp_path / "here.png")
    with serve_openai() as server:
        server.script(reply('{"Analysis": "fine", "Judgement": "[[3]]"}'))
        proc = run_cli(
            "judge", "--mode", "score", "--model", "m", "--base-url", server.base_url, "--image", "here.png",
            "--instruction", "Q", "--response", "a", "--json", cwd=tmp_path,
        )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["verdict"] == 3
    assert run_cli("list", cwd=tmp_path).returncode == 0


def test_list():
    proc = run_cli("list")
    assert proc.returncode == 0 and "vision-expert" in proc.stdout and "GPT-4o" in proc.stdout
