"""The ``openai`` backend, tested against a real HTTP server on 127.0.0.1.

Every test goes through sockets, the openai client and its httpx2 transport, so retries, timeouts,
headers and concurrency are exercised as in production. Timeouts and backoff are set small so the
whole file runs in a few seconds.
"""

from __future__ import annotations

import asyncio
import base64
import io
import logging
import socket
import time

import pytest
from PIL import Image

from judges.backends.base import Backend
from judges.backends.openai_compat import OpenAICompatBackend, create, is_loopback_url
from judges.backends.registry import create_backend
from judges.errors import (
    AuthenticationFailed,
    BackendError,
    BackendTimeout,
    BackendUnavailable,
    BadInput,
    BadResponse,
    ConfigError,
    JudgeError,
    MissingApiKey,
    RateLimited,
)
from judges.images import load_image
from judges.types import Capabilities, ChatRequest, Completion, Message, Sampling, TextPart
from tests.support.openai_server import (
    RecordedRequest,
    empty_choices,
    empty_content,
    malformed,
    rate_limited,
    reply,
    serve_openai,
    server_error,
    slow,
    status,
    unauthorized,
)

SECRET = "sk-test-SECRET123456789"


@pytest.fixture
def server():
    with serve_openai() as running:
        yield running


def make_backend(server, **options) -> OpenAICompatBackend:
    options = {"backoff_base_s": 0.01, "timeout_s": 5, **options}
    return create("judge-model", base_url=server.base_url, **options)


def ask(text: str = "Which response is better?", *, system: str | None = "You are a fair judge.", images=()):
    messages = []
    if system is not None:
        messages.append(Message("system", (TextPart(system),)))
    messages.append(Message("user", (*images, TextPart(text))))
    return ChatRequest(tuple(messages))


def png(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


# --------------------------------------------------------------------------- happy path


def test_plain_reply(server):
    server.script(reply('{"Analysis": "B is vague.", "Judgement": "[[A]]"}'))
    backend = make_backend(server, api_key=SECRET)

    completion = backend.complete(ask())

    assert completion.text == '{"Analysis": "B is vague.", "Judgement": "[[A]]"}'
    assert completion.model == "judge-model"
    assert completion.finish_reason == "stop"
    assert completion.usage.completion_tokens > 0 and completion.usage.prompt_tokens > 0
    assert completion.tokens is None
    assert completion.latency_s > 0
    (sent,) = server.chat_requests
    assert sent.headers["authorization"] == f"Bearer {SECRET}"
    assert sent.body["model"] == "judge-model"
    assert sent.body["messages"] == [
        {"role": "system", "content": "You are a fair judge."},
        {"role": "user", "content": "Which response is better?"},
    ]
    assert (sent.body["temperature"], sent.body["top_p"], sent.body["max_tokens"]) == (0.4, 0.2, 1024)
    assert "seed" not in sent.body
    backend.close()


def test_image_is_sent_as_downscaled_data_url(server):
    backend = make_backend(server, image_max_side=256)

    backend.complete(ask("Describe it.", images=(load_image(png(1000, 500)),)))

    (sent,) = server.chat_requests
    content = sent.body["messages"][1]["content"]
    assert [part["type"] for part in content] == ["image_url", "text"]
    assert content[0]["image_url"]["detail"] == "auto"
    (url,) = sent.image_urls
    assert url.startswith("data:image/png;base64,")
    with Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))) as received:
        assert received.size == (256, 128)


def test_empty_content_is_an_empty_completion(server):
    server.script(empty_content(""), empty_content(None))
    backend = make_backend(server)

    assert backend.complete(ask()).text == ""
    assert backend.complete(ask()).text == ""


def test_options_reach_the_request(server):
    backend = make_backend(server, max_tokens_param="max_completion_tokens", extra_body={"top_k": 20})

    backend.complete(ChatRequest(ask().messages, Sampling(seed=7, max_tokens=64)))

    body = server.chat_requests[0].body
    assert body["max_completion_tokens"] == 64 and "max_tokens" not in body
    assert body["seed"] == 7
    assert body["top_k"] == 20


def test_async_complete(server):
    server.script(reply("async answer"))
    backend = make_backend(server)

    async def main() -> Completion:
        try:
            return await backend.acomplete(ask())
        finally:
            await backend.aclose()

    assert asyncio.run(main()).text == "async answer"


# --------------------------------------------------------------------------- capabilities


def test_logprobs_are_read_when_returned(server):
    server.script(reply("Verdict: [[A]]", alternatives={"A": [("A", -0.2), ("B", -1.8), ("C", -3.5)]}))
    backend = make_backend(server, capabilities=Capabilities(logprobs=True))

    completion = backend.complete(ask())

    body = server.chat_requests[0].body
    assert body["logprobs"] is True and body["top_logprobs"] == 5
    assert "".join(t.token for t in completion.tokens) == "Verdict: [[A]]"
    verdict = next(t for t in completion.tokens if t.token == "A")
    assert verdict.logprob == -0.2
    assert verdict.top == (("A", -0.2), ("B", -1.8), ("C", -3.5))


def test_logprobs_missing_from_reply_give_none(server):
    server.script(reply("[[B]]", logprobs=False))
    backend = make_backend(server, capabilities=Capabilities(logprobs=True))

    completion = backend.complete(ask())

    assert server.chat_requests[0].body["logprobs"] is True
    assert completion.text == "[[B]]" and completion.tokens is None


def test_no_logprobs_requested_without_the_capability(server):
    backend = make_backend(server, capabilities=Capabilities(logprobs=False))

    backend.complete(ask())

    body = server.chat_requests[0].body
    assert "logprobs" not in body and "top_logprobs" not in body


def test_no_temperature_without_the_capability(server):
    backend = make_backend(server, capabilities=Capabilities(temperature=False))

    backend.complete(ask())

    body = server.chat_requests[0].body
    assert "temperature" not in body and "top_p" not in body


def test_system_prompt_merged_without_the_capability(server):
    backend = make_backend(server, capabilities=Capabilities(system_prompt=False))

    backend.complete(ask("Question?", system="Be fair."))

    assert server.chat_requests[0].body["messages"] == [{"role": "user", "content": "Be fair.\n\nQuestion?"}]


def test_text_only_judge_refuses_images(server):
    backend = make_backend(server, capabilities=Capabilities(vision=False))

    with pytest.raises(BadInput, match="text-only.*(no-figure|vision-expert)"):
        backend.complete(ask(images=(load_image(png(8, 8)),)))
    assert server.requests == []


# --------------------------------------------------------------------------- retries and faults


def test_429_then_success_is_retried(server):
    server.script(rate_limited(), reply("after the wait"))

    assert make_backend(server).complete(ask()).text == "after the wait"
    assert len(server.chat_requests) == 2


def test_429_storm_raises_rate_limited(server):
    server.set_default(rate_limited())

    with pytest.raises(RateLimited, match="429"):
        make_backend(server, max_retries=2).complete(ask())
    assert len(server.chat_requests) == 3


def test_500_then_success_is_retried(server):
    server.script(server_error(500), server_error(503), reply("recovered"))

    assert make_backend(server).complete(ask()).text == "recovered"
    assert len(server.chat_requests) == 3


def test_persistent_500_raises_backend_error(server):
    server.set_default(server_error(500))

    with pytest.raises(BackendError, match="HTTP 500") as caught:
        make_backend(server, max_retries=2).complete(ask())
    assert type(caught.value) is BackendError
    assert len(server.chat_requests) == 3


def test_bad_request_is_not_retried_and_quotes_the_server(server):
    server.script(status(400, "image_url is not supported by this model"))

    with pytest.raises(BackendError, match="image_url is not supported"):
        make_backend(server).complete(ask())
    assert len(server.chat_requests) == 1


def test_slow_reply_times_out(server):
    server.script(slow(2.0))
    backend = make_backend(server, timeout_s=0.3, max_retries=0)

    started = time.monotonic()
    with pytest.raises(BackendTimeout, match=r"0\.3 s.*JUDGE_TIMEOUT_S"):
        backend.complete(ask())
    assert time.monotonic() - started < 1.5


def test_timeout_is_retried(server):
    server.script(slow(2.0), reply("second try"))

    assert make_backend(server, timeout_s=0.3, max_retries=1).complete(ask()).text == "second try"


def test_malformed_json_raises_bad_response(server):
    server.script(malformed())

    with pytest.raises(BadResponse, match="not JSON"):
        make_backend(server).complete(ask())


def test_empty_choices_raise_bad_response(server):
    server.script(empty_choices())

    with pytest.raises(BadResponse, match="without any choice"):
        make_backend(server).complete(ask())


def test_unreachable_server_raises_backend_unavailable():
    with socket.socket() as probe:  # a port that was free a moment ago, now closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    base_url = f"http://127.0.0.1:{port}/v1"
    backend = create("judge-model", base_url=base_url, max_retries=1, backoff_base_s=0.01, timeout_s=2)

    with pytest.raises(BackendUnavailable, match="server running") as caught:
        backend.complete(ask())
    assert base_url in str(caught.value)


# --------------------------------------------------------------------------- keys and secrets


def test_missing_key_for_remote_url_names_the_env_var(monkeypatch):
    monkeypatch.delenv("MY_JUDGE_KEY", raising=False)

    with pytest.raises(MissingApiKey, match="MY_JUDGE_KEY"):
        create("gpt-4o", base_url="https://api.example.com/v1", api_key_env="MY_JUDGE_KEY")
    with pytest.raises(MissingApiKey, match="OPENAI_API_KEY"):
        monkeypatch.delenv("OPENAI_API_KEY", raising=False)
        create("gpt-4o")


def test_the_registry_gives_the_backend_the_key_settings_resolve(server, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env-0000000000")

    create_backend("openai", "judge-model", base_url=server.base_url, timeout_s=5).complete(ask())

    assert server.chat_requests[0].headers["authorization"] == "Bearer sk-from-env-0000000000"


def test_a_backend_built_without_a_key_never_reads_the_environment(server, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env-0000000000")
    monkeypatch.setenv("MY_JUDGE_KEY", "sk-from-env-1111111111")

    make_backend(server).complete(ask())
    make_backend(server, api_key_env="MY_JUDGE_KEY").complete(ask())
    create_backend("openai", "judge-model", base_url=server.base_url, api_key_env=None).complete(ask())

    # Loopback servers get the placeholder: the variables in the environment were not picked up.
    assert [r.headers["authorization"] for r in server.chat_requests] == ["Bearer not-needed"] * 3
    with pytest.raises(MissingApiKey, match="OPENAI_API_KEY"):
        create("gpt-4o")  # a remote URL, the variable set, and still no key: the backend never looks


def test_the_registry_refuses_a_key_variable_nothing_reads(monkeypatch):
    monkeypatch.setenv("MY_JUDGE_KEY", "sk-from-env-1111111111")

    with pytest.raises(ConfigError, match="MY_JUDGE_KEY is not one this library reads"):
        create_backend("openai", "gpt-4o", api_key_env="MY_JUDGE_KEY")
    # A key given explicitly needs no variable at all.
    assert create_backend("openai", "gpt-4o", api_key="sk-explicit-000000", api_key_env="MY_JUDGE_KEY")


def test_loopback_urls_need_no_key(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    assert is_loopback_url("http://localhost:11434/v1")
    assert is_loopback_url("http://[::1]:8000/v1")
    assert not is_loopback_url("https://router.huggingface.co/v1")

    create("llava", base_url="http://localhost:11434/v1")  # no MissingApiKey


@pytest.mark.parametrize("code", [401, 403])
def test_rejected_key_never_leaks(server, caplog, code):
    caplog.set_level(logging.DEBUG)
    # Real servers quote the key back; the backend must scrub it anyway.
    server.set_default(unauthorized(echo=SECRET) if code == 401 else status(403, f"key {SECRET} forbidden"))
    backend = make_backend(server, api_key=SECRET)

    with pytest.raises(AuthenticationFailed, match="OPENAI_API_KEY") as caught:
        backend.complete(ask())
    results = backend.complete_many([ask(), ask()])

    assert len(server.chat_requests) == 3  # never retried
    texts = [str(caught.value), repr(caught.value), repr(backend), *map(repr, results), *map(str, results)]
    texts += [record.getMessage() for record in caplog.records]
    assert all(SECRET not in text for text in texts)
    assert caught.value.__cause__ is None and caught.value.__context__ is None


def test_retry_logs_carry_no_key(server, caplog):
    caplog.set_level(logging.DEBUG)
    server.script(status(500, f"upstream said {SECRET}"), reply("ok"))

    make_backend(server, api_key=SECRET).complete(ask())

    assert any("retry 1 of" in record.getMessage() for record in caplog.records)
    assert all(SECRET not in record.getMessage() for record in caplog.records)


# --------------------------------------------------------------------------- many requests


def by_prompt(request: RecordedRequest):
    """Fault chosen by the prompt, because concurrent requests arrive in any order."""
    prompt = request.messages[-1]["content"]
    if prompt == "bad-request":
        return status(400, "unsupported parameter")
    if prompt == "malformed":
        return malformed()
    if prompt == "auth":
        return unauthorized()
    return reply(f"answer to {prompt}")


def test_complete_many_keeps_order_and_isolates_failures(server):
    server.set_default(by_prompt)
    prompts = ["q0", "bad-request", "q2", "malformed", "q4", "auth", "q6"]

    results = make_backend(server).complete_many([ask(p) for p in prompts], concurrency=4)

    assert [r.text for r in results if isinstance(r, Completion)] == [
        "answer to q0",
        "answer to q2",
        "answer to q4",
        "answer to q6",
    ]
    assert [type(r) for r in results] == [
        Completion,
        BackendError,
        Completion,
        BadResponse,
        Completion,
        AuthenticationFailed,
        Completion,
    ]
    assert all(isinstance(r, JudgeError) for r in results[1::2])


def test_complete_many_is_concurrent_and_bounded(server):
    server.latency_s = 0.2
    backend = make_backend(server)
    requests = [ask(f"q{i}") for i in range(32)]

    started = time.perf_counter()
    results = backend.complete_many(requests, concurrency=16)
    elapsed = time.perf_counter() - started

    ideal = 32 * 0.2 / 16
    assert all(isinstance(r, Completion) for r in results)
    assert elapsed < 2 * ideal, f"{elapsed:.2f} s for an ideal {ideal:.2f} s"
    assert server.max_in_flight <= 16


def test_complete_many_inside_a_running_loop(server):
    async def main():
        return make_backend(server).complete_many([ask("a"), ask("b")])

    results = asyncio.run(main())

    assert [r.text for r in results] == ["OK", "OK"]


def test_registry_builds_the_backend(server):
    backend = create_backend("openai", "judge-model", base_url=server.base_url, timeout_s=5)

    assert isinstance(backend, OpenAICompatBackend) and isinstance(backend, Backend)
    assert backend.name == "openai:judge-model"
    assert backend.complete(ask()).text == "OK"
    backend.close()


def test_models_endpoint(server):
    import openai

    client = openai.OpenAI(base_url=server.base_url, api_key="x", max_retries=0)
    assert [m.id for m in client.models.list()] == ["judge-model"]
    client.close()
