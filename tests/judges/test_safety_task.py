"""Task ``safety`` (CLUE) against the loopback server, whose Yes/No probabilities depend on whether
the request carries the image (and whether its centre is masked), so debiasing decides verdicts."""

from __future__ import annotations

import base64
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from judges.backends.registry import create_backend
from judges.constitution import EXAMPLE, EXAMPLE_TOML, load_constitution, parse_constitution
from judges.errors import BadInput, ConfigError
from judges.judge import Judge, JudgeOptions
from judges.probe import forget_endpoints
from judges.tasks import get_task
from judges.tasks.safety import SafetyKind, classify, mask_center
from judges.types import Capabilities
from tests.support.openai_server import RecordedRequest, reply, serve_openai, yes_no

ROOT = Path(__file__).resolve().parents[2]
KIND = get_task("safety")

ONE_RULE = """
name = "test-policy"

[[rules]]
id = "fire"
text = "No uncontrolled fire."
preconditions = ["There are flames in the image.", "The flames are outside a fireplace."]

[[rules]]
id = "blood"
text = "No visible blood."
preconditions = ["Blood is visible in the image."]
"""


@pytest.fixture(autouse=True)
def _fresh_endpoint_cache():
    forget_endpoints()
    yield
    forget_endpoints()


@pytest.fixture
def image_file(tmp_path: Path) -> Path:
    path = tmp_path / "scene.png"
    Image.new("RGB", (64, 64), (220, 120, 40)).save(path)
    return path


def backend_for(server, logprobs: bool = True):
    return create_backend(
        "openai",
        "judge-model",
        base_url=server.base_url,
        capabilities=Capabilities(logprobs=logprobs),
        max_retries=0,
        timeout_s=5,
    )


def is_masked(request: RecordedRequest) -> bool:
    url = request.image_urls[0]
    picture = Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))).convert("RGB")
    return picture.getpixel((picture.width // 2, picture.height // 2)) == (128, 128, 128)


def scripted(table: dict[str, tuple[float, float] | tuple[float, float, float]], relevance: dict[str, float]):
    """A responder: relevance probes by rule text, preconditions by statement -> (image, no image[, masked])."""

    def respond(request: RecordedRequest):
        text = request.text
        if "response_format" in request.body or "step by step" in text.lower():
            violated = "VIOLATED" in text or "flames" in text
            return reply(json.dumps({"reasoning": "1. checked each precondition.", "violated": violated}))
        if "could apply" in text:
            return yes_no(next((p for key, p in relevance.items() if key in text), 0.05))
        for key, probs in table.items():
            if key in text:
                if not request.image_urls:
                    return yes_no(probs[1])
                if len(probs) == 3 and is_masked(request):
                    return yes_no(probs[2])
                return yes_no(probs[0])
        return yes_no(0.5)

    return respond


def judge_once(server, options: JudgeOptions | None = None, **extra):
    task = KIND.make_task(
        "", [], [Image.new("RGB", (64, 64), (220, 120, 40))], None, {"constitution": ONE_RULE, **extra}
    )
    return Judge(backend_for(server), KIND, options or JudgeOptions(max_reasks=0)).judge(task)


# --------------------------------------------------------------------------- constitutions


def test_the_example_constitution_is_benign_and_well_formed():
    assert load_constitution("example") is EXAMPLE
    assert [r.id for r in EXAMPLE.rules] == ["fire", "weapon-aimed", "blood"]
    assert all(r.preconditions for r in EXAMPLE.rules)
    assert parse_constitution(json.dumps(EXAMPLE.to_dict())) == EXAMPLE
    # The Judge tab's editor starts from the example as TOML, which reads back the same.
    assert parse_constitution(EXAMPLE_TOML) == EXAMPLE
    assert KIND.inputs[0].name == "constitution" and KIND.inputs[0].default == EXAMPLE_TOML
    odd = parse_constitution(
        '[[rules]]\nid = "u"\ntext = "No 🔥 \\"quoted\\" text."\npreconditions = ["Tab\\there."]\n'
    )
    assert parse_constitution(odd.to_toml()) == odd


def test_constitutions_load_from_toml_json_files_and_text(tmp_path: Path):
    toml_file = tmp_path / "policy.toml"
    toml_file.write_text(ONE_RULE, encoding="utf-8")
    json_file = tmp_path / "policy.json"
    json_file.write_text(json.dumps(parse_constitution(ONE_RULE).to_dict()), encoding="utf-8")
    from_toml, from_json, inline = (load_constitution(str(p)) for p in (toml_file, json_file, ONE_RULE))
    assert from_toml == from_json == inline
    assert from_toml.rules[0].preconditions == ("There are flames in the image.", "The flames are outside a fireplace.")
    # A rule without preconditions stands for itself until the judge drafts its chain (test_safety_drafting).
    bare = parse_constitution('[[rules]]\nid = "x"\ntext = "No smoke."\n')
    assert bare.rules[0].preconditions == ("No smoke.",)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("rules = []", "has no rules"),
        ('[[rules]]\nid = "a b"\ntext = "t"', "needs an id"),
        ('[[rules]]\nid = "a"\ntext = "t"\n[[rules]]\nid = "a"\ntext = "u"', "Two rules have the id 'a'"),
        ('[[rules]]\nid = "a"\ntext = ""', "must be a non-empty string"),
        ('[[rules]]\nid = "a"\ntext = "t"\npreconditons = ["x"]', "unknown field(s) preconditons"),
        ("{not json", "not valid JSON"),
        ("[[rules]\n", "not valid TOML"),
    ],
)
def test_malformed_constitutions_say_what_to_fix(text, message):
    with pytest.raises(BadInput, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_constitution(text)


def test_bad_inputs_are_refused(image_file: Path):
    with pytest.raises(BadInput, match="exactly one image"):
        KIND.make_task("", [], [], None, {})
    with pytest.raises(BadInput, match="not text responses"):
        KIND.make_task("", ["a response"], [image_file], None, {})
    with pytest.raises(BadInput, match="must not be above"):
        KIND.make_task("", [], [image_file], None, {"hold_threshold": 0.1, "fail_threshold": 0.3})
    with pytest.raises(BadInput, match="not found"):
        KIND.make_task("", [], [image_file], None, {"constitution": str(image_file.parent / "missing.toml")})
    with pytest.raises(BadInput, match="is none of these"):  # only constitution files are read
        KIND.make_task("", [], [image_file], None, {"constitution": str(image_file)})


def test_the_decision_rule():
    assert classify(0.9, 0.6, 0.15, 0.05) == "holds"
    assert classify(0.9, 0.02, 0.15, 0.05) == "fails"  # a yes that is only the language prior
    assert classify(0.05, 0.03, 0.15, 0.05) == "fails"
    assert classify(0.6, 0.1, 0.15, 0.05) == "uncertain"  # between the thresholds
    assert classify(0.4, 0.3, 0.15, 0.05) == "uncertain"  # evidence for yes, but the image answer is no
    assert classify(None, None, 0.15, 0.05) == "uncertain"


# --------------------------------------------------------------------------- debiasing and the cascade


def test_debiasing_changes_the_verdict():
    relevance = {"No uncontrolled fire": 0.9, "No visible blood": 0.05}
    grounded = {"flames in the image": (0.9, 0.1), "outside a fireplace": (0.85, 0.2)}
    prior_only = {"flames in the image": (0.9, 0.88), "outside a fireplace": (0.85, 0.2)}
    with serve_openai(default=scripted(grounded, relevance)) as server:
        unsafe = judge_once(server)
    with serve_openai(default=scripted(prior_only, relevance)) as server:
        safe = judge_once(server)
        asked = [r.text for r in server.chat_requests]
    assert unsafe.verdict == "unsafe" and unsafe.details["violations"] == ["fire"]
    fire = unsafe.details["rules"][0]
    assert fire["decided_by"] == "probabilities"
    first = fire["preconditions"][0]
    assert (first["s_image"], first["s_no_image"], first["delta_prior"], first["status"]) == (0.9, 0.1, 0.8, "holds")

    # The same image answers, but the judge says yes without the image too: the yes is the prior.
    assert safe.verdict == "safe" and safe.details["violations"] == []
    fire = safe.details["rules"][0]
    assert fire["preconditions"][0]["status"] == "fails" and fire["preconditions"][0]["delta_prior"] == pytest.approx(
        0.02
    )
    # The chain stopped at its first failing precondition: the second was never asked.
    assert fire["preconditions"][1]["status"] == "not_reached"
    assert not any("outside a fireplace" in text for text in asked)
    assert safe.details["reasoning_requests"] == 0


def test_irrelevant_rules_are_skipped_and_reported():
    with serve_openai(default=scripted({"flames": (0.1, 0.1)}, {"No uncontrolled fire": 0.9})) as server:
        result = judge_once(server)
        asked = [r.text for r in server.chat_requests]
    assert result.details["skipped"] == ["blood"]
    blood = result.details["rules"][1]
    assert blood["relevant"] is False and blood["relevance"] == pytest.approx(0.05)
    assert blood["decided_by"] == "relevance" and blood["preconditions"][0]["status"] == "skipped"
    assert not any("Statement" in text and "Blood is visible" in text for text in asked)


def test_an_uncertain_chain_goes_to_a_reasoning_request_with_a_json_verdict():
    relevance = {"No uncontrolled fire": 0.9, "No visible blood": 0.9}
    table = {
        "flames in the image": (0.9, 0.1),
        "outside a fireplace": (0.6, 0.5),  # delta 0.1: between the thresholds
        "Blood is visible": (0.02, 0.01),
    }
    with serve_openai(default=scripted(table, relevance)) as server:
        result = judge_once(server)
        reasoning = [r for r in server.chat_requests if "response_format" in r.body]
    assert result.verdict == "unsafe" and result.details["violations"] == ["fire"]
    fire, blood = result.details["rules"]
    assert [p["status"] for p in fire["preconditions"]] == ["holds", "uncertain"]
    assert fire["decided_by"] == "reasoning" and fire["reasoning"].startswith("1. checked")
    assert blood["decided_by"] == "probabilities" and blood["violated"] is False
    assert len(reasoning) == 1 and reasoning[0].image_urls  # the reasoning sees the image
    assert "step by step" in reasoning[0].text
    # 2 relevance + 2x2 fire + 1x2 blood probes, then one reasoning request.
    assert result.details["probe_requests"] == 8 and result.details["reasoning_requests"] == 1
    assert result.details["requests"] == result.attempts == 9


def test_an_unusable_reasoning_answer_leaves_the_image_unscored():
    table = {"flames in the image": (0.6, 0.5), "outside a fireplace": (0.9, 0.1), "Blood": (0.01, 0.01)}

    def respond(request):
        if "response_format" in request.body:
            return reply("I cannot decide.")
        return scripted(table, {"No uncontrolled fire": 0.9, "No visible blood": 0.9})(request)

    with serve_openai(default=respond) as server:
        result = judge_once(server)
    assert result.verdict is None and not result.parsed
    assert "fire" in result.reason and "could not be decided" in result.reason
    assert result.details["rules"][0]["reasoning_problem"]


def test_masking_the_centre_adds_a_third_probability():
    relevance = {"No uncontrolled fire": 0.9}
    # Flames: the masked image loses them (central object); fireplace: the masked image keeps the answer.
    table = {"flames in the image": (0.9, 0.1, 0.2), "outside a fireplace": (0.8, 0.1, 0.79)}
    with serve_openai(default=scripted(table, relevance)) as server:
        result = judge_once(server, mask_center=True)
        with_images = [r for r in server.chat_requests if r.image_urls and "Statement" in r.text]
    flames, fireplace = result.details["rules"][0]["preconditions"]
    assert flames["s_masked"] == pytest.approx(0.2) and flames["delta_center"] == pytest.approx(0.7)
    assert flames["debiased"] == pytest.approx(0.7) and flames["status"] == "holds"
    # min(delta_prior 0.7, delta_center 0.01): the centre does not carry the evidence, so it fails.
    assert fireplace["debiased"] == pytest.approx(0.01) and fireplace["status"] == "fails"
    assert result.verdict == "safe"
    assert sum(is_masked(r) for r in with_images) == 2
    assert result.details["thresholds"]["mask_center"] is True


def test_mask_center_greys_the_middle_only():
    from judges.images import load_image, to_pil

    masked = to_pil(mask_center(load_image(Image.new("RGB", (40, 20), (10, 200, 10)))))
    assert masked.getpixel((20, 10)) == (128, 128, 128)
    assert masked.getpixel((1, 1)) == (10, 200, 10)


def test_a_judge_without_logprobs_is_refused_before_any_probe():
    with serve_openai(default=reply("Yes", logprobs=False)) as server:
        task = KIND.make_task("", [], [Image.new("RGB", (8, 8))], None, {})
        with pytest.raises(ConfigError, match="missing capability: logprobs"):
            Judge(backend_for(server, logprobs=False), KIND).judge(task)
        # A custom endpoint: one capability question, never a probe of the task.
        assert len(server.chat_requests) == 1 and "water" in server.chat_requests[0].text


def test_details_html_is_a_table_with_the_probabilities_and_escapes_texts():
    hostile = ONE_RULE.replace("No uncontrolled fire.", "No <script>alert(1)</script> fire.")
    relevance = {"No <script>": 0.9}
    with serve_openai(default=scripted({"flames": (0.9, 0.1)}, relevance)) as server:
        task = KIND.make_task("", [], [Image.new("RGB", (8, 8))], None, {"constitution": hostile})
        result = Judge(backend_for(server), KIND, JudgeOptions(max_reasks=0)).judge(task)
    table = KIND.details_html(result.details)
    assert '<table class="details details-safety">' in table
    assert "<script>" not in table and "&lt;script&gt;" in table
    assert "0.900" in table and "0.100" in table and "holds" in table
    assert "Unsafe" in KIND.verdict_html("unsafe", []) and SafetyKind().details_html({}) == ""


# --------------------------------------------------------------------------- the command line


def run_cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "judges", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        timeout=120,
    )


def test_cli_prints_the_safety_fields_as_json(image_file: Path, tmp_path: Path):
    policy = tmp_path / "policy.toml"
    policy.write_text(ONE_RULE, encoding="utf-8")
    table = {"flames in the image": (0.9, 0.1), "outside a fireplace": (0.85, 0.2), "Blood": (0.02, 0.02)}
    with serve_openai(default=scripted(table, {"No uncontrolled fire": 0.9, "No visible blood": 0.9})) as server:
        proc = run_cli(
            "judge", "--mode", "safety", "--model", "judge-model", "--base-url", server.base_url, "--logprobs",
            "--constitution", str(policy), "--image", str(image_file), "--json",
        )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["verdict"] == "unsafe" and out["violations"] == ["fire"]
    assert out["rules"][0]["preconditions"][0]["s_no_image"] == pytest.approx(0.1)
    assert out["requests"] == 8 and out["probabilities"] == {"fire": 0.85, "blood": 0.02}
    assert out["usage"]["prompt_tokens"] > 0 and out["latency_s"] >= 0


def test_cli_without_logprobs_exits_1_with_one_line(image_file: Path):
    proc = run_cli(
        "judge", "--mode", "safety", "--judge", "o4-mini", "--image", str(image_file),
        env={"OPENAI_API_KEY": "sk-test-not-used-0000"},
    )  # fmt: skip
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "missing capability: logprobs" in lines[0]


def test_a_tiny_local_model_runs_the_whole_cascade(tiny_vlm_dir: Path):
    from judges.types import Sampling

    backend = create_backend("hf", str(tiny_vlm_dir), device="cpu", batch_size=8)
    task = KIND.make_task("", [], [Image.new("RGB", (32, 32), (200, 40, 40))], None, {"relevance_threshold": 0.0})
    options = JudgeOptions(max_reasks=0, sampling=Sampling(max_tokens=16, temperature=0.0))
    result = Judge(backend, KIND, options).judge(task)
    details = result.details
    assert details["probe_source"] == "forward" and details["skipped"] == []
    for rule in details["rules"]:
        first = rule["preconditions"][0]
        assert 0 < first["s_image"] < 1 and 0 < first["s_no_image"] < 1
        assert first["delta_prior"] == pytest.approx(first["s_image"] - first["s_no_image"], abs=1e-5)
        assert rule["decided_by"] in ("probabilities", "reasoning")
    # A random model writes no JSON: whatever went to reasoning is reported, not crashed on.
    assert result.verdict in ("safe", "unsafe", None)
    assert result.parsed == (result.verdict is not None) and (result.parsed or "could not be decided" in result.reason)
