"""``python -m judges judge --mode rubric`` as a user runs it, against the loopback server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from PIL import Image

from judges.render import chromium_path
from judges.rubrics import ARTIFACTS, JUDGE_ANYTHING
from judges.settings import SECRET_VARIABLES
from tests.support.openai_server import reply, serve_openai

ROOT = Path(__file__).resolve().parents[2]
_INHERITED_OUT = {v.name for v in SECRET_VARIABLES} | {"OPENAI_BASE_URL", "SPACE_ID"}
JA_KEYS = [c.key for c in JUDGE_ANYTHING.criteria]
ART_KEYS = [c.key for c in ARTIFACTS.criteria]


def run_cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    inherited = {k: v for k, v in os.environ.items() if k not in _INHERITED_OUT}
    full_env = {**inherited, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "judges", *args], capture_output=True, text=True, env=full_env, cwd=ROOT, timeout=120
    )


def judged(base_url: str, *extra: str) -> list[str]:
    return [
        "judge", "--mode", "rubric", "--model", "judge-model", "--base-url", base_url,
        "--instruction", "Why is the sky blue?", "--response", "Rayleigh scattering.", *extra,
    ]  # fmt: skip


def answer(keys, value=4, overall=4, drop=()):
    out = {k: {"comment": f"{k} comment", "score": value} for k in keys if k not in drop}
    out["overall"] = {"comment": "overall comment", "score": overall} if overall is not None else {"comment": "sum"}
    return json.dumps(out)


def test_json_output_has_the_overall_the_criteria_and_parsed():
    with serve_openai(default=reply(answer(JA_KEYS, 4, overall=5, drop=("clarity",)))) as server:
        proc = run_cli(*judged(server.base_url, "--setting", "no-figure", "--reasks", "0", "--json"))
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["mode"] == "rubric" and out["parsed"] is False and out["verdict"] is None
    assert out["overall"]["verdict"] == 5 and out["rubric"] == "judge-anything"
    assert set(out["criteria"]) == {c.name for c in JUDGE_ANYTHING.criteria}
    clarity = out["criteria"]["clarity"]
    assert {k: clarity[k] for k in ("verdict", "comment", "parsed", "reason")} == {
        "verdict": None, "comment": "", "parsed": False, "reason": "missing from the answer",
    }  # fmt: skip
    assert out["criteria"]["relevance"]["verdict"] == 4 and out["criteria"]["relevance"]["parsed"] is True
    assert "clarity: missing from the answer" in out["reason"]


def test_checklist_code_and_a_rubric_file(tmp_path):
    rubric = tmp_path / "mine.toml"
    rubric.write_text('[[criteria]]\nname = "fit"\ndescription = "fits the task"\nscale = [1, 3]\n', encoding="utf-8")
    code = tmp_path / "app.js"
    code.write_text("console.log('hi');\n", encoding="utf-8")
    reply_text = json.dumps({"fit": {"comment": "fits", "score": 3}, "overall": {"comment": "fine", "score": 4}})
    with serve_openai(default=reply(reply_text)) as server:
        proc = run_cli(
            *judged(server.base_url, "--setting", "no-figure", "--rubric", str(rubric), "--checklist", "fit: logs hi",
                    "--checklist", "no errors", "--code", str(code), "--json"),
        )  # fmt: skip
        prompt = server.chat_requests[0].text
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["parsed"] is True and out["verdict"] == 4 and out["criteria"]["fit"]["verdict"] == 3
    assert out["checklist"] == {"fit": ["logs hi"], "general": ["no errors"]}
    assert out["code"]["truncated"] is False and "console.log('hi');" in prompt and "- no errors" in prompt


def test_human_output_is_a_readable_table():
    with serve_openai(default=reply(answer(JA_KEYS, 3, overall=3))) as server:
        proc = run_cli(*judged(server.base_url, "--setting", "no-figure"))
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert "verdict:  3" in lines
    assert any(line.split()[:3] == ["relevance", "3", "/"] and "relevance comment" in line for line in lines)
    assert not any(line.startswith("criteria:") for line in lines)  # no raw JSON dump


def test_a_bad_rubric_is_a_one_line_error():
    with serve_openai(default=reply("{}")) as server:
        proc = run_cli(*judged(server.base_url, "--setting", "no-figure", "--rubric", "nonsense"))
    assert proc.returncode == 1 and proc.stderr.startswith("error: Unknown rubric 'nonsense'")
    assert len(proc.stderr.strip().splitlines()) == 1


def test_render_through_the_cli_sends_the_screenshots(tmp_path):
    if chromium_path() is None:
        if os.environ.get("REQUIRE_BROWSER") == "1":
            raise AssertionError("REQUIRE_BROWSER=1 but no Chromium on this machine")
        import pytest

        pytest.skip("no Chromium on this machine (apt-get install -y chromium)")
    page = tmp_path / "page.html"
    page.write_text("<h1 id=t>0</h1><script>setInterval(()=>t.textContent=Date.now(),100)</script>", encoding="utf-8")
    with serve_openai(default=reply(answer(ART_KEYS, 5, overall=None))) as server:
        proc = run_cli(
            *judged(server.base_url, "--rubric", "artifacts", "--render", str(page), "--shots", "2", "--json")
        )
        images = server.chat_requests[0].image_urls
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["verdict"] == 50 and out["rendered"]["shots"] == 2 and len(images) == 2


def test_render_is_refused_on_a_public_space(tmp_path):
    page = tmp_path / "page.html"
    page.write_text("<p>x</p>", encoding="utf-8")
    Image.new("RGB", (8, 8)).save(tmp_path / "x.png")
    with serve_openai(default=reply("{}")) as server:
        proc = run_cli(*judged(server.base_url, "--render", str(page)), env={"SPACE_ID": "someone/space"})
    assert proc.returncode == 1 and "upload screenshots" in proc.stderr
