"""Preconditions drafted by the judge for rules written without them, cached with the constitution."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from PIL import Image

from judges.backends.registry import create_backend
from judges.constitution import load_constitution, parse_constitution
from judges.drafting import drafts_file, forget_drafts
from judges.judge import Judge, JudgeOptions
from judges.probe import forget_endpoints
from judges.tasks import get_task
from judges.types import Capabilities
from tests.support.openai_server import RecordedRequest, reply, serve_openai, yes_no

KIND = get_task("safety")
POLICY = """
name = "smoke-policy"

[[rules]]
id = "smoke"
text = "No image may show smoke pouring out of a building."

[[rules]]
id = "fire"
text = "No uncontrolled fire."
preconditions = ["There are flames in the image."]
"""
DRAFT = ["There is smoke in the image.", "The smoke comes out of a building."]


@pytest.fixture(autouse=True)
def _fresh_caches():
    forget_drafts()
    forget_endpoints()
    yield
    forget_drafts()
    forget_endpoints()


def is_draft_request(request: RecordedRequest) -> bool:
    schema = (request.body or {}).get("response_format") or {}
    return schema.get("json_schema", {}).get("name") == "rule_preconditions" or "Write 1 to" in request.text


def responder(draft_reply: str = json.dumps({"preconditions": DRAFT})):
    """Drafts on request; probes: smoke seen in the image (not a prior), no flames."""

    def respond(request: RecordedRequest):
        text = request.text
        if is_draft_request(request):
            return reply(draft_reply)
        if "could apply" in text:
            return yes_no(0.9)
        image = bool(request.image_urls)
        if "smoke in the image" in text or "smoke pouring" in text:
            return yes_no(0.92 if image else 0.1)
        if "out of a building" in text:
            return yes_no(0.88 if image else 0.2)
        return yes_no(0.02 if image else 0.1)

    return respond


def judge(server, constitution: str):
    backend = create_backend(
        "openai",
        "judge-model",
        base_url=server.base_url,
        capabilities=Capabilities(logprobs=True),
        max_retries=0,
        timeout_s=5,
    )
    task = KIND.make_task("", [], [Image.new("RGB", (48, 48), "gray")], None, {"constitution": constitution})
    return Judge(backend, KIND, JudgeOptions(max_reasks=0)).judge(task)


def rule(result, rule_id: str) -> dict:
    return next(r for r in result.details["rules"] if r["id"] == rule_id)


def test_a_rule_without_preconditions_is_drafted_once_and_cached_beside_its_file(tmp_path: Path):
    policy = tmp_path / "policy.toml"
    policy.write_text(POLICY, encoding="utf-8")
    with serve_openai(default=responder()) as server:
        first = judge(server, str(policy))
        drafted = [r for r in server.chat_requests if is_draft_request(r)]
    smoke = rule(first, "smoke")
    assert first.verdict == "unsafe" and first.details["violations"] == ["smoke"]
    assert smoke["preconditions_from"] == "judge" and [p["text"] for p in smoke["preconditions"]] == DRAFT
    assert rule(first, "fire")["preconditions_from"] == "user"
    assert len(drafted) == 1 and "smoke pouring out of a building" in drafted[0].text
    assert first.details["draft_requests"] == 1
    cached = json.loads(drafts_file(load_constitution(str(policy))).read_text(encoding="utf-8"))
    assert cached == {"openai:judge-model": {"No image may show smoke pouring out of a building.": DRAFT}}

    # A new process (memory cache gone) reads the file: the judge is not asked again.
    forget_drafts()
    with serve_openai(default=responder()) as server:
        second = judge(server, str(policy))
        assert not any(is_draft_request(r) for r in server.chat_requests)
    assert rule(second, "smoke")["preconditions_from"] == "cache" and second.verdict == "unsafe"
    assert second.details["draft_requests"] == 0


def test_a_typed_constitution_is_drafted_once_per_process():
    with serve_openai(default=responder()) as server:
        judge(server, POLICY)
        judge(server, POLICY)
        assert sum(is_draft_request(r) for r in server.chat_requests) == 1


def test_a_failed_draft_checks_the_rule_text_itself_and_says_why():
    with serve_openai(default=responder(draft_reply='{"preconditions": []}')) as server:
        result = judge(server, POLICY)
    smoke = rule(result, "smoke")
    assert smoke["preconditions_from"].startswith("rule text: the draft failed")
    assert [p["text"] for p in smoke["preconditions"]] == ["No image may show smoke pouring out of a building."]
    assert result.verdict == "unsafe"  # the rule's own text, seen in the image, still decides


def test_a_cache_that_cannot_be_written_costs_only_the_cache(tmp_path: Path, caplog):
    folder = tmp_path / "gone"
    folder.mkdir()
    policy = folder / "policy.toml"
    policy.write_text(POLICY, encoding="utf-8")
    constitution = load_constitution(str(policy))
    shutil.rmtree(folder)  # the folder vanishes (or the disk is full) after the constitution was read
    with serve_openai(default=responder()) as server:
        backend = create_backend(
            "openai", "judge-model", base_url=server.base_url, capabilities=Capabilities(logprobs=True), max_retries=0
        )
        from judges.drafting import draft_preconditions

        drafting = draft_preconditions(Judge(backend, KIND, JudgeOptions(max_reasks=0)), [constitution])
    assert drafting.drafted == {"No image may show smoke pouring out of a building.": "judge"}
    assert drafting.constitutions[0].rules[0].preconditions == tuple(DRAFT)
    assert "could not cache drafted preconditions" in caplog.text


def test_rules_to_draft_round_trip_through_the_editor():
    parsed = parse_constitution(POLICY)
    assert parsed.rules[0].to_draft and not parsed.rules[1].to_draft
    assert parse_constitution(parsed.to_toml()) == parsed
    assert parse_constitution(json.dumps(parsed.to_dict())) == parsed
