"""The yes/no probe: P(yes) from top log-probabilities (loopback server) and from one forward pass
(tiny local model), and the refusal of judges that give neither, before any request is sent."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from judges.backends.catalog import build_backend, get_spec
from judges.backends.registry import create_backend
from judges.errors import ConfigError
from judges.judge import Judge
from judges.probe import (
    PROBE_MAX_TOKENS,
    Prober,
    answer_from_tokens,
    answer_word,
    forget_endpoints,
    probe_problem,
    prober_for,
    yes_probability,
)
from judges.settings import Settings
from judges.tasks import get_task
from judges.types import Capabilities, Message, TextPart, TokenLogprob
from tests.support.openai_server import reply, serve_openai, yes_no


@pytest.fixture(autouse=True)
def _fresh_endpoint_cache():
    forget_endpoints()
    yield
    forget_endpoints()


def question(text: str) -> tuple[Message, ...]:
    return (Message("user", (TextPart(text),)),)


def api(server, **caps) -> object:
    return create_backend(
        "openai", "judge-model", base_url=server.base_url, capabilities=Capabilities(**caps), max_retries=0, timeout_s=5
    )


# --------------------------------------------------------------------------- reading P(yes)


def test_spellings_of_each_word_are_summed_and_renormalised():
    alternatives = [("Yes", math.log(0.5)), (" yes", math.log(0.1)), ("YES", math.log(0.05)), ("No", math.log(0.2))]
    p_yes, mass = yes_probability(alternatives)
    assert p_yes == pytest.approx(0.65 / 0.85)
    assert mass == pytest.approx(0.85)
    # A token listed twice (the chosen token is also among the alternatives) counts once.
    assert yes_probability([("Yes", math.log(0.6)), ("Yes", math.log(0.6)), ("No", math.log(0.2))])[0] == pytest.approx(
        0.75
    )


def test_answer_words_tolerate_spaces_markup_and_sentencepiece_marks():
    assert [answer_word(t) for t in (" Yes", "▁No", "**Yes", '"no"', "Yes.", "Yesterday", "Nope")] == [
        "yes",
        "no",
        "yes",
        "no",
        "yes",
        "",
        "",
    ]


def test_the_answer_token_is_the_first_with_yes_or_no_among_its_alternatives():
    tokens = (
        TokenLogprob("\n", -0.01, (("\n", -0.01), (" ", -5.0))),
        TokenLogprob("No", math.log(0.7), (("No", math.log(0.7)), ("Yes", math.log(0.3)))),
    )
    p_yes, mass, reason = answer_from_tokens(tokens)
    assert p_yes == pytest.approx(0.3) and mass == pytest.approx(1.0) and reason == ""
    assert answer_from_tokens(None)[2] == "the judge returned no token log-probabilities"
    assert "neither Yes nor No" in answer_from_tokens((TokenLogprob("Maybe", -0.1, (("Maybe", -0.1),)),))[2]


# --------------------------------------------------------------------------- API route


def test_api_probes_ask_for_top_logprobs_and_go_out_together():
    with serve_openai(latency_s=0.1, default=lambda r: yes_no(0.8 if "bus" in r.text else 0.25)) as server:
        prober = prober_for(api(server, logprobs=True), "Relevance")
        prompts = [question(f"Is {i} a bus? Answer Yes or No.") for i in range(6)] + [question("a cat?")]
        answers = prober.ask(prompts)
        body = server.chat_requests[0].body
        in_flight = server.max_in_flight
    assert [a.p_yes for a in answers] == pytest.approx([0.8] * 6 + [0.25], abs=1e-6)
    assert body["logprobs"] is True and body["top_logprobs"] >= 5 and body["max_tokens"] == PROBE_MAX_TOKENS
    assert body["temperature"] == 0.0
    assert in_flight > 1  # concurrent, not one after another
    assert prober.requests == 7


def test_identical_probes_are_sent_once():
    with serve_openai(default=yes_no(0.6)) as server:
        prober = prober_for(api(server, logprobs=True), "Safety")
        answers = prober.ask([question("same?"), question("same?"), question("other?")])
        sent = len(server.chat_requests)
    assert sent == 2 and answers[0] == answers[1]


def test_an_answer_without_yes_or_no_is_unread_with_a_reason():
    with serve_openai(default=reply("Perhaps")) as server:
        answer = prober_for(api(server, logprobs=True), "Relevance").ask([question("q?")])[0]
    assert answer.p_yes is None and "neither Yes nor No" in answer.reason


# --------------------------------------------------------------------------- refusals


def test_a_catalog_judge_without_logprobs_is_refused_before_any_request():
    with serve_openai(default=yes_no(0.9)) as server:
        backend = build_backend(get_spec("o4-mini"), Settings(), api_key="sk-test-key-0000", base_url=server.base_url)
        judge = Judge(backend, "relevance")
        task = get_task("relevance").make_task("a bus", ["a bus", "a cat"])
        with pytest.raises(ConfigError) as caught:
            judge.judge(task)
        sent = len(server.requests)
    message = str(caught.value)
    assert sent == 0
    assert "\n" not in message and "logprobs" in message and "o4-mini" in message
    assert probe_problem(backend) != ""


def test_a_custom_endpoint_is_asked_once_and_the_answer_is_cached():
    with serve_openai(default=reply("Yes", logprobs=False)) as server:
        backend = api(server, logprobs=False)
        assert probe_problem(backend) == ""  # not known yet: it will be asked
        for _ in range(2):
            with pytest.raises(ConfigError, match="missing capability: logprobs"):
                prober_for(backend, "Safety")
        sent = len(server.chat_requests)
        first = server.chat_requests[0].body
    assert sent == 1  # one capability probe, then the cached answer
    assert first["logprobs"] is True and first["max_tokens"] == 1
    assert probe_problem(backend) != ""


def test_a_custom_endpoint_that_gives_logprobs_is_used_with_them():
    with serve_openai(default=yes_no(0.7)) as server:
        backend = api(server, logprobs=False)
        prober = prober_for(backend, "Relevance")
        answer = prober.ask([question("q?")])[0]
        asked = server.chat_requests[-1].body
    assert answer.p_yes == pytest.approx(0.7)
    assert asked["top_logprobs"] >= 5
    assert backend.capabilities.logprobs is False  # the declared backend itself is left as it was


# --------------------------------------------------------------------------- local route (tiny model)


@pytest.fixture(scope="module")
def local(tiny_vlm_dir: Path):
    return create_backend("hf", str(tiny_vlm_dir), device="cpu", batch_size=4)


def test_local_probes_read_p_yes_in_batched_forward_passes(local, monkeypatch):
    import judges.backends.hf.backend as hf

    calls = []
    real = hf.forward_on_device

    def counting(key, inputs, label_ids):
        calls.append(inputs["input_ids"].shape[0])
        return real(key, inputs, label_ids)

    monkeypatch.setattr(hf, "forward_on_device", counting)
    prober = prober_for(local, "Relevance")
    assert prober.route == "forward"
    prompts = [question(f"Is candidate {i} about the chart? Answer Yes or No.") for i in range(10)]
    batched = prober.ask(prompts)
    assert calls == [4, 4, 2]  # ten probes, batch_size 4: three forward passes, no generation
    one_by_one = [prober.ask([p])[0] for p in prompts]
    for a, b in zip(batched, one_by_one, strict=True):
        assert a.p_yes is not None and 0 < a.p_yes < 1
        assert a.p_yes == pytest.approx(b.p_yes, abs=1e-5)


def test_local_spellings_fall_back_to_the_first_sub_token(local):
    prober = prober_for(local, "Relevance")
    yes, no = prober.labels
    # The tiny vocabulary has no "Yes" token: its first sub-token stands for it.
    assert yes and no and all("Yes".startswith(y) or y in ("Yes", "yes", "YES") for y in yes)
    assert isinstance(prober, Prober)


def test_a_recording_wrapper_is_seen_through(local):
    from judges.ui.views import RecordingBackend

    wrapped_local = prober_for(RecordingBackend(local), "Relevance")
    assert wrapped_local.route == "forward" and wrapped_local.backend is local
    with serve_openai(default=yes_no(0.8)) as server:
        recording = RecordingBackend(api(server, logprobs=False))
        prober = prober_for(recording, "Relevance")  # a custom endpoint: asked once, gives logprobs
        assert prober.ask([question("q?")])[0].p_yes == pytest.approx(0.8)
    # The capability question and the probe went through a copy of the wrapper that shares its record.
    assert len(recording.exchanges) == 2 and recording.capabilities.logprobs is False
    assert "water" in recording.exchanges[0][0].messages[0].text
