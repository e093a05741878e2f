"""The ``openai`` backend's own HTTP client (``judges/backends/http_client.py``), on real sockets.

A raw HTTP/1.1 server on 127.0.0.1 (``tests/support/raw_http.py``, the ``raw_server`` fixture)
counts the connections it accepts and answers exactly as a test scripts it: chunked bodies, a
connection closed while kept alive or when the next request arrives, an oversized body, TLS with a
certificate made in the test. Every request goes through the backend, as in production.
"""

from __future__ import annotations

import asyncio
import json
import threading
from pathlib import Path

import pytest

from judges.backends import http_client
from judges.backends.openai_compat import _IMAGE_MARK, _body, create
from judges.errors import BackendUnavailable, BadResponse, ConfigError
from judges.images import load_image
from judges.types import ChatRequest, Completion, Message, TextPart
from tests.support.raw_http import (
    chunked,
    completion_body,
    start_tls,
    with_length,
)

SECRET = "sk-test-HTTPCLIENT-0123456789"


def ask(text: str = "Which is better?") -> ChatRequest:
    return ChatRequest((Message("user", (TextPart(text),)),))


def backend(url: str, **options):
    return create("judge-model", base_url=url, **{"backoff_base_s": 0.01, "timeout_s": 5, "max_retries": 0, **options})


# --------------------------------------------------------------------------- keep-alive


def test_sequential_requests_share_one_connection(raw_server):
    server = raw_server()
    judge = backend(server.url(), api_key=SECRET)

    texts = [judge.complete(ask()).text for _ in range(20)]

    assert texts == ["[[A]]"] * 20
    assert server.accepted == 1
    head = server.heads[0].decode()
    assert f"authorization: Bearer {SECRET}" in head
    assert f"host: 127.0.0.1:{server.port}" in head
    assert head.startswith("POST /v1/chat/completions HTTP/1.1")
    judge.close()


def test_concurrent_requests_open_at_most_one_connection_per_slot(raw_server):
    server = raw_server()
    judge = backend(server.url())

    first = judge.complete_many([ask(f"q{i}") for i in range(40)], concurrency=8)

    assert all(isinstance(r, Completion) for r in first)
    assert server.accepted <= 8  # 40 requests, 8 at a time: connections were reused


def test_the_sync_pool_is_shared_safely_by_threads(raw_server):
    server = raw_server()
    judge = backend(server.url())
    texts: list[str] = []

    def calls() -> None:
        texts.extend(judge.complete(ask()).text for _ in range(10))

    threads = [threading.Thread(target=calls) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    judge.close()

    assert texts == ["[[A]]"] * 80
    assert server.accepted <= 8  # never more connections than threads asking at once


def test_acomplete_keeps_its_connections_on_the_loop(raw_server):
    server = raw_server()
    judge = backend(server.url())

    async def main() -> list[Completion]:
        try:
            out = []
            for _ in range(3):  # three waves of four
                out += await asyncio.gather(*(judge.acomplete(ask()) for _ in range(4)))
            return out
        finally:
            await judge.aclose()

    assert [c.text for c in asyncio.run(main())] == ["[[A]]"] * 12
    assert server.accepted == 4


@pytest.mark.parametrize("how", ["sync", "async"])
def test_a_connection_closed_while_kept_alive_is_replaced(raw_server, how):
    # The server closes after every answer, without saying so (an idle timeout, a restart).
    server = raw_server(lambda index, n, head, body: (with_length(completion_body()), True))
    judge = backend(server.url())  # no retries: a failure would surface

    if how == "sync":
        texts = [judge.complete(ask()).text for _ in range(3)]
    else:

        async def main() -> list[str]:
            try:
                out = []
                for _ in range(3):
                    out.append((await judge.acomplete(ask())).text)
                    await asyncio.sleep(0.05)  # the loop notices the close while idle
                return out
            finally:
                await judge.aclose()

        texts = asyncio.run(main())

    assert texts == ["[[A]]"] * 3
    assert server.accepted == 3


@pytest.mark.parametrize("how", ["sync", "async"])
def test_a_request_the_kept_alive_connection_drops_is_sent_again_on_a_fresh_one(raw_server, how):
    # Each connection answers its first request and drops the second one unanswered: the client
    # cannot know beforehand, so the second request must go again, once, on a new connection.
    def first_only(index: int, n: int, head: bytes, body: bytes):
        return (with_length(completion_body(f"conn {index}")), False) if n == 0 else None

    server = raw_server(first_only)
    judge = backend(server.url())

    if how == "sync":
        texts = [judge.complete(ask()).text for _ in range(3)]
    else:

        async def main() -> list[str]:
            try:
                return [(await judge.acomplete(ask())).text for _ in range(3)]
            finally:
                await judge.aclose()

        texts = asyncio.run(main())

    assert texts == ["conn 0", "conn 1", "conn 2"]
    assert server.accepted == 3
    assert len(server.heads) == 5  # the two dropped requests, each answered on the next connection


def test_a_fresh_connection_closed_without_an_answer_is_a_failure(raw_server):
    server = raw_server(lambda index, n, head, body: None)

    with pytest.raises(BackendUnavailable, match="cannot reach"):
        backend(server.url(), max_retries=1).complete(ask())
    assert server.accepted == 2  # one retry, no endless resending


def test_idle_connections_expire(raw_server, monkeypatch):
    monkeypatch.setattr(http_client, "KEEPALIVE_S", 0.0)
    server = raw_server()
    judge = backend(server.url())

    judge.complete(ask())
    judge.complete(ask())

    assert server.accepted == 2


# --------------------------------------------------------------------------- bodies


@pytest.mark.parametrize("how", ["sync", "many"])
def test_chunked_and_length_bodies_are_read(raw_server, how):
    def alternate(index: int, n: int, head: bytes, body: bytes):
        prompt = json.loads(body)["messages"][0]["content"]
        text = f"answer to {prompt}"
        return (chunked(completion_body(text)) if prompt.startswith("c") else with_length(completion_body(text))), False

    server = raw_server(alternate)
    judge = backend(server.url())
    prompts = ["c1", "l1", "c2", "l2", "c3"]

    if how == "sync":
        results = [judge.complete(ask(p)) for p in prompts]
    else:
        results = judge.complete_many([ask(p) for p in prompts], concurrency=2)

    assert [r.text for r in results] == [f"answer to {p}" for p in prompts]


@pytest.mark.parametrize("how", ["sync", "many"])
def test_a_body_over_the_cap_is_refused_clearly(raw_server, how):
    big = completion_body("x" * 5000)
    server = raw_server(lambda index, n, head, body: (chunked(big, 1000) if n % 2 else with_length(big), False))
    judge = backend(server.url(), max_response_bytes=2000, max_retries=2)

    if how == "sync":
        with pytest.raises(BadResponse, match="larger than") as caught:
            judge.complete(ask())
        error = caught.value
    else:
        (error,) = judge.complete_many([ask()])
    assert isinstance(error, BadResponse) and "not read" in str(error)
    assert len(server.heads) == 1  # the same answer would come again: not retried


def test_a_body_that_is_not_http_is_a_connection_failure(raw_server):
    server = raw_server(lambda index, n, head, body: (b"SMTP ready\r\n\r\n", True))

    with pytest.raises(BackendUnavailable, match="cannot reach"):
        backend(server.url(), api_key=SECRET).complete(ask())


def test_a_password_in_the_base_url_is_never_sent(raw_server):
    server = raw_server()

    backend(server.url().replace("http://", "http://alice:hunter2pass@")).complete(ask())

    assert b"hunter2pass" not in server.raw and b"alice" not in server.raw


def test_images_are_spliced_into_the_same_json(tmp_path: Path):
    from PIL import Image

    Image.new("RGB", (40, 30), (10, 200, 30)).save(tmp_path / "a.png")
    part = load_image(tmp_path / "a.png")
    judge = create("judge-model", base_url="http://127.0.0.1:9/v1")
    for text in ("plain", f"holds the mark {_IMAGE_MARK} by chance", 'quotes " and \\ and \u00e9'):
        payload = judge._payload(ChatRequest((Message("user", (part, TextPart(text), part)),)))
        assert json.loads(_body(payload)) == payload


def test_a_key_that_cannot_go_in_a_header_is_refused_without_showing_it():
    with pytest.raises(ConfigError, match="API key") as caught:
        create("judge-model", base_url="http://127.0.0.1:9/v1", api_key="sk-abc\r\nX-Evil: 1")
    assert "sk-abc" not in str(caught.value)


@pytest.mark.parametrize("url", ["ftp://example.com/v1", "http:///v1", "http://host:port/v1"])
def test_a_base_url_that_is_not_http_is_refused_at_once(url):
    with pytest.raises(ConfigError, match="http:// or https://"):
        create("judge-model", base_url=url, api_key="sk-x")


# --------------------------------------------------------------------------- the guard on the async path


def test_the_async_path_applies_the_guard(raw_server):
    server = raw_server()

    (error,) = backend(server.url(), public_only=True).complete_many([ask()])

    assert isinstance(error, ConfigError) and "public Space does not call" in str(error)
    assert server.accepted == 0


def test_the_async_path_does_not_follow_redirects(raw_server):
    def redirect(index: int, n: int, head: bytes, body: bytes):
        out = b"HTTP/1.1 307 Temporary Redirect\r\nLocation: http://u:pw@10.0.0.1/v1\r\nContent-Length: 11\r\n\r\nSECRET-BODY"
        return out, False

    server = raw_server(redirect)

    (error,) = backend(server.url()).complete_many([ask()])

    message = str(error)
    assert "redirect (HTTP 307) to http://10.0.0.1/v1" in message and "does not follow" in message
    assert "SECRET-BODY" not in message and "pw" not in message
    assert len(server.heads) == 1


# --------------------------------------------------------------------------- TLS


@pytest.fixture
def tls_server(raw_server, tmp_path):
    return start_tls(raw_server, tmp_path)


@pytest.mark.parametrize("how", ["sync", "many"])
def test_https_with_a_trusted_certificate_sends_sni_and_keeps_the_connection(tls_server, how):
    server, trusted = tls_server
    judge = backend(server.url("localhost", "https"), ssl_context=trusted)

    if how == "sync":
        results = [judge.complete(ask()) for _ in range(3)]
    else:
        results = judge.complete_many([ask() for _ in range(3)], concurrency=1)

    assert [r.text for r in results] == ["[[A]]"] * 3
    assert server.accepted == 1
    assert server.server_names == ["localhost"]


@pytest.mark.parametrize("how", ["sync", "many"])
def test_https_refuses_a_certificate_it_cannot_verify(tls_server, how):
    server, _ = tls_server
    judge = backend(server.url("localhost", "https"), max_retries=2)  # the system's trust store

    if how == "sync":
        with pytest.raises(BackendUnavailable) as caught:
            judge.complete(ask())
        error = caught.value
    else:
        (error,) = judge.complete_many([ask()])
    assert isinstance(error, BackendUnavailable) and "TLS certificate" in str(error)
    assert server.heads == []  # nothing was sent, and a certificate failure is not retried
    assert server.accepted == 1


def test_https_checks_the_host_name(raw_server, tmp_path):
    # A certificate trusted, but for another name than the one connected to.
    server, trusted = start_tls(raw_server, tmp_path, dns="judge.example")
    judge = backend(server.url("localhost", "https"), ssl_context=trusted)

    with pytest.raises(BackendUnavailable, match="TLS certificate"):
        judge.complete(ask())
    assert server.heads == []
