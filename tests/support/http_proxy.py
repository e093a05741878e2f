"""A real HTTP ``CONNECT`` proxy on 127.0.0.1 for tests: it tunnels to one upstream and records.

Whatever ``host:port`` a client asks for, the tunnel goes to the upstream the test gave (a local
server), so a test can ask for a public address or a name that resolves nowhere without any
traffic leaving the machine, and then check what the proxy was asked. It answers ``407`` when it
wants credentials and the client's ``Proxy-Authorization`` differs, or any status the test sets.

Typical use::

    with TunnelProxy(("127.0.0.1", server.port), credentials="Basic ...") as proxy:
        monkeypatch.setenv("https_proxy", proxy.url)
        ...
        assert proxy.asked == ["8.8.8.8:443"]
"""

from __future__ import annotations

import contextlib
import socket
import threading
from dataclasses import dataclass, field

from tests.support.raw_http import serve_forever


@dataclass
class TunnelProxy:
    """The proxy; a context manager that closes its socket.

    Attributes:
        upstream: ``(host, port)`` every tunnel connects to.
        credentials: The ``Proxy-Authorization`` value required (None: no credentials needed).
        refuse: Answer every ``CONNECT`` with this status instead of tunnelling (None: tunnel).
        asked: The ``CONNECT`` targets, in order.
        heads: Every request head received, raw.
    """

    upstream: tuple[str, int]
    credentials: str | None = None
    refuse: int | None = None
    asked: list[str] = field(default_factory=list)
    heads: list[bytes] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.port = self._sock.getsockname()[1]
        self._lock = threading.Lock()
        serve_forever(self._sock, self._serve)

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> TunnelProxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self._sock.close()

    def _serve(self, conn: socket.socket, index: int) -> None:
        with conn:
            head = b""
            while b"\r\n\r\n" not in head:
                data = conn.recv(4096)
                if not data or len(head) > 65536:
                    return
                head += data
            head = head.split(b"\r\n\r\n", 1)[0]
            method, target = head.split(b"\r\n", 1)[0].split(b" ")[:2]
            headers = dict(
                (name.strip().lower(), value.strip())
                for name, _, value in (line.partition(b":") for line in head.split(b"\r\n")[1:])
            )
            with self._lock:
                self.heads.append(head)
                self.asked.append(target.decode())
            if method != b"CONNECT":
                conn.sendall(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
                return
            if self.credentials is not None and headers.get(b"proxy-authorization") != self.credentials.encode():
                conn.sendall(
                    b"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic\r\n"
                    b"Content-Length: 0\r\n\r\n"
                )
                return
            if self.refuse is not None:
                conn.sendall(b"HTTP/1.1 %d Refused\r\nContent-Length: 0\r\n\r\n" % self.refuse)
                return
            with socket.create_connection(self.upstream) as up:
                conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                pump = threading.Thread(target=_pipe, args=(up, conn), daemon=True)
                pump.start()
                _pipe(conn, up)
                pump.join(5)


def _pipe(source: socket.socket, sink: socket.socket) -> None:
    """Copy bytes until ``source`` ends, then end ``sink``'s sending side."""
    with contextlib.suppress(OSError):
        while data := source.recv(65536):
            sink.sendall(data)
    with contextlib.suppress(OSError):
        sink.shutdown(socket.SHUT_WR)
