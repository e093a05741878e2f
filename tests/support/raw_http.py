"""A scripted raw HTTP/1.1 server on 127.0.0.1, and TLS certificates made in the test.

The server counts the connections it accepts, records every request head and answers exactly as a
test scripts it (chunked bodies, a connection closed while kept alive, an oversized body), over
TLS when given a context. Used by the HTTP client's and the proxy's tests.
"""

from __future__ import annotations

import datetime
import ipaddress
import itertools
import json
import re
import socket
import ssl
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

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


def serve_forever(sock: socket.socket, serve: Callable[[socket.socket, int], None]) -> None:
    """Accept connections on ``sock`` until it closes, each served on its own thread with its number."""

    def accept() -> None:
        for index in itertools.count():
            try:
                conn, _ = sock.accept()
            except OSError:
                return
            threading.Thread(target=serve, args=(conn, index), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()


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
        serve_forever(self._sock, self._serve)

    def url(self, host: str = "127.0.0.1", scheme: str = "http") -> str:
        return f"{scheme}://{host}:{self.port}/v1"

    def close(self) -> None:
        self._sock.close()

    def _serve(self, conn: socket.socket, index: int) -> None:
        with self._lock:
            self.accepted += 1
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


def certificate(tmp_path: Path, dns: str = "localhost", ip: str = "127.0.0.1") -> tuple[Path, Path]:
    """A self-signed certificate for ``dns`` and the address ``ip``, made here (cryptography)."""
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
            x509.SubjectAlternativeName([x509.DNSName(dns), x509.IPAddress(ipaddress.ip_address(ip))]),
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


def start_tls(
    raw_server, tmp_path: Path, dns: str = "localhost", ip: str = "127.0.0.1"
) -> tuple[RawServer, ssl.SSLContext]:
    """A TLS server with a certificate for ``dns`` and ``ip``, and a client context that trusts it."""
    cert, key = certificate(tmp_path, dns, ip)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    names: list[str | None] = []
    context.sni_callback = lambda sock, name, ctx: names.append(name)
    server = raw_server(tls=context)
    server.server_names = names
    return server, ssl.create_default_context(cafile=str(cert))
