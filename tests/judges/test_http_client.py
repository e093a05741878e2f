"""The ``openai`` backend's own HTTP client (``judges/backends/http_client.py``), on real sockets.

A raw HTTP/1.1 server on 127.0.0.1, written here, counts the connections it accepts and answers
exactly as a test scripts it: chunked bodies, a connection closed while kept alive or when the
next request arrives, an oversized body, TLS with a certificate made in the test. Every request
goes through the backend, as in production.
"""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import json
import re
import socket
import ssl
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from judges.backends import http_client
from judges.backends.openai_compat import _IMAGE_MARK, _body, create
from judges.errors import BackendUnavailable, BadResponse, ConfigError
from judges.images import load_image
from judges.types import ChatRequest, Completion, Message, TextPart

SECRET = "sk-test-HTTPCLIENT-0123456789"

#: (connection number, request number on that connection, request head, body) -> what to send
#: back and whether to close afterwards; None closes the connection without answering.
Handler = Callable[[int, int, bytes, bytes], "tuple[bytes, bool] | None"]


def completion_body(text: str = "[[A]]") -> bytes:
    return json.dumps(
        {
            "model": "judge-model",
            "choices": [{"message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 5, "completion_tokens": 2},
        }
    ).encode()


def with_length(body: bytes, *extra: str) -> bytes:
    head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n" + "".join(f"{h}\r\n" for h in extra)
    return head.encode() + b"Content-Length: %d\r\n\r\n" % len(body) + body


def chunked(body: bytes, size: int = 7) -> bytes:
    pieces = [body[i : i + size] for i in range(0, len(body), size)]
    framed = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces) + b"0\r\n\r\n"
    return b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" + framed


def answer_all(index: int, n: int, head: bytes, body: bytes) -> tuple[bytes, bool]:
    return with_length(completion_body()), False


class RawServer:
    """A scripted HTTP/1.1 server: one thread per connection, every connection counted."""

    def __init__(self, handler: Handler = answer_all, tls: ssl.SSLContext | None = None) -> None:
        self.handler = handler
        self.tls = tls
        self.accepted = 0
        self.heads: list[bytes] = []
        self.raw = bytearray()
        self.server_names: list[str | None] = []
        self._lock = threading.Lock()
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.port = self._sock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def url(self, host: str = "127.0.0.1", scheme: str = "http") -> str:
        return f"{scheme}://{host}:{self.port}/v1"

    def close(self) -> None:
        self._sock.close()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            with self._lock:
                index = self.accepted
                self.accepted += 1
            threading.Thread(target=self._serve, args=(conn, index), daemon=True).start()

    def _serve(self, conn: socket.socket, index: int) -> None:
        try:
            if self.tls is not None:
                conn = self.tls.wrap_socket(conn, server_side=True)
            buffer, n = b"", 0
            while True:
                while b"\r\n\r\n" not in buffer:
                    data = conn.recv(65536)
                    if not data:
                        return
                    buffer += data
                head, buffer = buffer.split(b"\r\n\r\n", 1)
                found = re.search(rb"(?im)^content-length: *(\d+)", head)
                length = int(found.group(1)) if found else 0
                while len(buffer) < length:
                    data = conn.recv(65536)
                    if not data:
                        return
                    buffer += data
                body, buffer = buffer[:length], buffer[length:]
                with self._lock:
                    self.heads.append(head)
                    self.raw += head + body
                out = self.handler(index, n, head, body)
                n += 1
                if out is None:
                    return
                data, close = out
                conn.sendall(data)
                if close:
                    return
        except (OSError, ssl.SSLError):
            return
        finally:
            conn.close()


@pytest.fixture
def raw_server():
    servers: list[RawServer] = []

    def start(handler: Handler = answer_all, tls: ssl.SSLContext | None = None) -> RawServer:
        servers.append(RawServer(handler, tls))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


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


def _certificate(tmp_path: Path, dns: str = "localhost") -> tuple[Path, Path]:
    """A self-signed certificate for ``dns`` and 127.0.0.1, made here (cryptography)."""
    x509 = pytest.importorskip("cryptography.x509")
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, dns)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName(dns), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


def start_tls(raw_server, tmp_path: Path, dns: str = "localhost") -> tuple[RawServer, ssl.SSLContext]:
    cert, key = _certificate(tmp_path, dns)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    names: list[str | None] = []
    context.sni_callback = lambda sock, name, ctx: names.append(name)
    server = raw_server(tls=context)
    server.server_names = names
    return server, ssl.create_default_context(cafile=str(cert))


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
