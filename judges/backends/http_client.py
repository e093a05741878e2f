"""A lean HTTP/1.1 client for the ``openai`` backend: keep-alive pools, the endpoint guard, deadlines.

The backend sends one kind of request (a JSON ``POST`` to one server) many times, often 64 at once.
General clients cost more than that needs: httpcore2's pool checked every open connection for
readability on each request (64 socket checks per request at 64 in flight), and the openai SDK
rebuilt and re-validated each request. Here:

* **One origin per pool, an O(1) free list.** A backend talks to one server. Idle connections wait
  in a last-in first-out list; taking one looks at that connection only (the most recently used,
  so the least likely to have been closed by the server). Connections idle for more than
  :data:`KEEPALIVE_S` are closed when next seen. :class:`SyncPool` is thread-safe;
  :class:`AsyncPool` belongs to the event loop it was first used on.
* **The endpoint guard.** Every connection is opened by :func:`judges.endpoints.connect_guarded` or
  :func:`judges.endpoints.open_guarded`, which resolve the host, check every address and connect
  to the address that was checked; or, behind a proxy, through a ``CONNECT`` tunnel to what
  :func:`judges.endpoints.tunnel_authority` allowed (see :mod:`judges.backends.proxy`).
* **A total deadline per request.** Connecting, the TLS handshake, sending and the whole answer end
  by ``timeout`` seconds after the request started, so a server that trickles its answer is cut off.
* **A kept-alive connection the server closed is not a failure.** When a reused connection ends
  before any byte of the answer arrives, the request goes again, once, on a fresh connection.
* **Bounded answers.** A body larger than ``max_body`` bytes is refused (:class:`BodyTooLarge`).
* **HTTPS** with SNI and certificate verification (the system's trust store, ``SSL_CERT_FILE`` and
  ``SSL_CERT_DIR`` honoured) unless another ``ssl.SSLContext`` is given.

HTTP framing (Content-Length and chunked bodies, keep-alive rules) is `h11
<https://h11.readthedocs.io>`_'s, the parser httpcore uses. Redirects are answers like any other:
the caller decides (the backend never follows them). Failures are :class:`HTTPFailure` subclasses
carrying no request data (no headers, no key), for the backend to translate.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import select
import socket
import ssl
import threading
import time
import weakref
from dataclasses import dataclass
from typing import cast
from urllib.parse import quote, urlsplit

import h11

from judges.backends.proxy import Proxy
from judges.endpoints import EndpointRefused, connect_guarded, open_guarded, tunnel_authority
from judges.errors import BackendError

#: Seconds an idle connection is kept for reuse (servers commonly close theirs after 5 to 75 s).
KEEPALIVE_S = 5.0
#: Idle connections kept per pool at most; a request beyond them opens a new one.
MAX_IDLE = 256
#: Largest answer body accepted by default (a chat completion with log-probabilities is well under).
MAX_BODY_BYTES = 32 * 2**20
_READ_SIZE = 2**16
#: Largest head of a proxy's answer read before the tunnel is up (h11 refuses a longer one).
_MAX_PROXY_HEAD = 16 * 2**10


# --------------------------------------------------------------------------- results and failures


@dataclass(frozen=True, slots=True)
class Response:
    """An HTTP answer, read whole.

    Attributes:
        status: The status code.
        headers: Header names lower-cased; a repeated header keeps its last value.
        body: The body, de-chunked.
    """

    status: int
    headers: dict[str, str]
    body: bytes


class HTTPFailure(BackendError):
    """No answer came back; the message says why (it never holds request headers).

    The backend turns each into a :mod:`judges.errors` class with a message saying what to do; they
    derive from BackendError so that even an untranslated one is a backend failure to callers.
    """


class ConnectFailed(HTTPFailure):
    """No connection could be made.

    Attributes:
        refusal: The endpoint guard's reason when it refused the address ("" otherwise).
        certificate: Why the server's TLS certificate was not accepted ("" otherwise).
        proxy: The proxy's ``host:port`` when the proxy did not open the tunnel ("" otherwise).
        proxy_status: The status the proxy refused the tunnel with (0 when none).
    """

    def __init__(
        self, detail: str, *, refusal: str = "", certificate: str = "", proxy: str = "", proxy_status: int = 0
    ) -> None:
        super().__init__(detail)
        self.refusal = refusal
        self.certificate = certificate
        self.proxy = proxy
        self.proxy_status = proxy_status


class DeadlinePassed(HTTPFailure):
    """The request's deadline passed before the whole answer arrived."""


class ConnectionLost(HTTPFailure):
    """The connection ended mid-answer, or the answer was not valid HTTP."""


class BodyTooLarge(HTTPFailure):
    """The answer's body is larger than the pool accepts.

    Attributes:
        limit: The pool's limit, in bytes.
    """

    def __init__(self, limit: int) -> None:
        super().__init__(f"the answer is larger than {limit / 2**20:g} MiB")
        self.limit = limit


class _Stale(HTTPFailure):
    """The connection ended before any byte of the answer: the request may go again on a new one."""


# --------------------------------------------------------------------------- the origin


@dataclass(frozen=True)
class Origin:
    """Where a pool connects: scheme, host and port of a base URL, and its path prefix.

    Attributes:
        tls: Whether the scheme is ``https``.
        host: The host name or address (IPv6 without brackets).
        port: The port (the scheme's default when the URL names none).
        prefix: The base URL's path without a trailing slash (``/v1``).
        query: The base URL's query string ("" when none), appended to every target.
    """

    tls: bool
    host: str
    port: int
    prefix: str
    query: str

    @classmethod
    def parse(cls, url: str) -> Origin:
        """The origin of an ``http://`` or ``https://`` URL (user:password@ is dropped, never sent).

        Raises:
            ValueError: Another scheme, no host, or a port that is not a number.
        """
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("the URL must start with http:// or https:// and name a host")
        port = parts.port  # ValueError for a port that is not a number
        tls = scheme == "https"
        # Quoted as a browser would (a space, a non-ASCII letter); what is already quoted stays.
        prefix = quote(parts.path.rstrip("/"), safe="/%:@!$&'()*+,;=~")
        query = quote(parts.query, safe="/%:@!$&'()*+,;=~?")
        return cls(tls, parts.hostname, port or (443 if tls else 80), prefix, query)

    def target(self, path: str) -> str:
        """The request target for ``path`` under the prefix."""
        return self.prefix + path + (f"?{self.query}" if self.query else "")

    @property
    def host_header(self) -> str:
        """The ``Host`` header: the port only when not the scheme's default."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == (443 if self.tls else 80) else f"{host}:{self.port}"


@functools.lru_cache(maxsize=1)
def default_ssl_context() -> ssl.SSLContext:
    """The system's trust store, hostname checking on, HTTP/1.1 offered by ALPN (built once)."""
    context = ssl.create_default_context()
    context.set_alpn_protocols(["http/1.1"])
    return context


def _left(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise DeadlinePassed("the request's deadline passed")
    return left


def _connect_failure(exc: OSError, shown: str) -> HTTPFailure:
    """Our failure for an error raised while connecting."""
    if isinstance(exc, EndpointRefused):
        return ConnectFailed(exc.reason, refusal=exc.reason)
    if isinstance(exc, ssl.SSLCertVerificationError):
        reason = str(exc.verify_message or exc.reason or exc)
        return ConnectFailed(f"TLS certificate not accepted: {reason}", certificate=reason)
    if isinstance(exc, TimeoutError):
        return DeadlinePassed(f"no connection to {shown} before the deadline")
    return ConnectFailed(f"cannot connect to {shown}: {type(exc).__name__}: {exc}"[:300])


# --------------------------------------------------------------------------- reading an answer


class _Answer:
    """One answer, assembled from h11's events as bytes arrive."""

    __slots__ = ("chunks", "headers", "limit", "size", "status")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.status = 0
        self.headers: dict[str, str] = {}
        self.chunks: list[bytes] = []
        self.size = 0

    def feed(self, conn: h11.Connection) -> Response | None:
        """Take every event h11 can give now; the Response once the answer is complete.

        Raises:
            BodyTooLarge: The body passed the limit.
            ConnectionLost: The bytes are not HTTP, or the connection ended mid-answer.
        """
        try:
            while True:
                event = conn.next_event()
                kind = type(event)
                if kind is h11.Data:
                    self.size += len(event.data)  # type: ignore[union-attr]
                    if self.size > self.limit:
                        raise BodyTooLarge(self.limit)
                    self.chunks.append(bytes(event.data))  # type: ignore[union-attr]
                elif kind is h11.Response:
                    self.status = event.status_code  # type: ignore[union-attr]
                    self.headers = {
                        name.decode("latin-1"): value.decode("latin-1")
                        for name, value in event.headers  # type: ignore[union-attr]
                    }
                elif kind is h11.EndOfMessage:
                    return Response(self.status, self.headers, b"".join(self.chunks))
                elif event is h11.NEED_DATA:
                    return None
                elif kind is h11.ConnectionClosed:
                    raise ConnectionLost("the server closed the connection mid-answer")
                # InformationalResponse (100 Continue) and the like: nothing to keep.
        except h11.RemoteProtocolError as exc:
            raise ConnectionLost(f"the answer is not valid HTTP/1.1 ({exc})") from None


def _request_head(conn: h11.Connection, target: str, headers: list[tuple[bytes, bytes]], size: int) -> bytes:
    """The request line and headers, framed by h11 (which checks them)."""
    try:
        return conn.send(
            h11.Request(
                method=b"POST", target=target.encode("ascii"), headers=[*headers, (b"content-length", b"%d" % size)]
            )
        )
    except (h11.LocalProtocolError, UnicodeEncodeError):
        # Never h11's message: it quotes the offending header, which may be the Authorization one.
        raise ConnectionLost("the request could not be framed as HTTP/1.1 (a header or the path)") from None


def _reusable(conn: h11.Connection) -> bool:
    """Whether both sides finished the exchange cleanly and the connection may carry the next one."""
    if conn.our_state is h11.DONE and conn.their_state is h11.DONE:
        conn.start_next_cycle()
        return True
    return False


# --------------------------------------------------------------------------- proxy tunnels


def _proxy_failed(shown: str, status: int, detail: str) -> ConnectFailed:
    """The failure for a proxy that did not open the tunnel (``shown``: its host:port, no credentials)."""
    return ConnectFailed(f"the proxy {shown} {detail}"[:300], proxy=shown, proxy_status=status)


def _unreachable(proxy: Proxy, exc: OSError | None) -> ConnectFailed:
    """The failure for a proxy that no connection reached (``exc``: the last error, None: no address)."""
    detail = f"{type(exc).__name__}: {exc}" if exc is not None else "no address"
    return _proxy_failed(proxy.shown, 0, f"cannot be reached ({detail})")


class Tunnel:
    """The ``CONNECT`` exchange on a fresh connection to the proxy, without I/O (the pools do it).

    Send :attr:`request`, then :meth:`feed` what the proxy answers until it returns True.
    """

    def __init__(self, proxy: Proxy, authority: str) -> None:
        """Build the request.

        Args:
            proxy: The proxy.
            authority: ``host:port`` the proxy is asked to connect to.
        """
        self.proxy = proxy
        self._h11 = h11.Connection(h11.CLIENT, max_incomplete_event_size=_MAX_PROXY_HEAD)
        target = authority.encode("idna") if not authority.isascii() else authority.encode("ascii")
        headers = [(b"host", target)]
        if proxy.authorization:
            headers.append((b"proxy-authorization", proxy.authorization.encode("ascii")))
        self.request = self._h11.send(h11.Request(method="CONNECT", target=target, headers=headers))
        self.request += self._h11.send(h11.EndOfMessage())

    def feed(self, data: bytes) -> bool:
        """Take the next bytes of the answer; True once the tunnel is up.

        Raises:
            ConnectFailed: The proxy refused (its status and reason are in the message), closed the
                connection, or answered something that is not HTTP.
        """
        shown = self.proxy.shown
        try:
            self._h11.receive_data(data)
            event = self._h11.next_event()
            while isinstance(event, h11.InformationalResponse):  # a 1xx before the real answer
                event = self._h11.next_event()
        except h11.RemoteProtocolError:
            raise _proxy_failed(shown, 0, "did not answer the tunnel request with HTTP") from None
        if event is h11.NEED_DATA:
            if not data:
                raise _proxy_failed(shown, 0, "closed the connection instead of opening the tunnel")
            return False
        if isinstance(event, h11.Response) and 200 <= event.status_code < 300:
            if self._h11.trailing_data[0]:
                raise _proxy_failed(shown, 0, "sent data before the tunnel was used")
            return True
        status = getattr(event, "status_code", 0)
        reason = getattr(event, "reason", b"").decode("latin-1")[:100]
        raise _proxy_failed(shown, status, f"refused the tunnel (HTTP {status} {reason})".rstrip())


def _tunnel(proxy: Proxy, origin: Origin, public: bool, deadline: float) -> socket.socket:
    """A blocking socket to ``origin`` through a ``CONNECT`` tunnel of ``proxy``."""
    authority = tunnel_authority(origin.host, origin.port, public=public)
    try:
        sock = socket.create_connection((proxy.host, proxy.port), timeout=_left(deadline))
    except TimeoutError:
        raise  # the request's deadline, reported as such by the pool
    except OSError as exc:
        raise _unreachable(proxy, exc) from None
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        tunnel = Tunnel(proxy, authority)
        sock.sendall(tunnel.request)
        while True:
            sock.settimeout(_left(deadline))
            if tunnel.feed(sock.recv(_READ_SIZE)):
                return sock
    except BaseException:
        sock.close()
        raise


async def _tunnel_async(proxy: Proxy, origin: Origin, public: bool) -> socket.socket:
    """A non-blocking socket to ``origin`` through a ``CONNECT`` tunnel of ``proxy`` (the caller bounds the time)."""
    loop = asyncio.get_running_loop()
    authority = await loop.run_in_executor(
        None, functools.partial(tunnel_authority, origin.host, origin.port, public=public)
    )
    try:
        infos = await loop.getaddrinfo(proxy.host, proxy.port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise _unreachable(proxy, exc) from None
    last: OSError | None = None
    for family, kind, proto, _, address in infos:
        sock = socket.socket(family, kind, proto)
        try:
            sock.setblocking(False)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            try:
                await loop.sock_connect(sock, address)
            except OSError as exc:
                last = exc
                sock.close()
                continue
            tunnel = Tunnel(proxy, authority)
            await loop.sock_sendall(sock, tunnel.request)
            while not tunnel.feed(await loop.sock_recv(sock, _READ_SIZE)):
                pass
            return sock
        except BaseException:
            sock.close()
            raise
    raise _unreachable(proxy, last)


# --------------------------------------------------------------------------- the blocking pool


class _SyncConnection:
    __slots__ = ("h11", "idle_since", "sock")

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.h11 = h11.Connection(h11.CLIENT)
        self.idle_since = 0.0

    def dead(self) -> bool:
        """An idle connection with something to read has been closed (or spoken out of turn) by the server."""
        try:
            poller = select.poll()
        except AttributeError:  # no poll() (Windows)
            return bool(select.select([self.sock], [], [], 0)[0])
        poller.register(self.sock, select.POLLIN)
        return bool(poller.poll(0))

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()


class _Pool:
    """What both pools hold: where they connect and how; no connection is opened before a request."""

    def __init__(
        self,
        origin: Origin,
        *,
        public: bool,
        ssl_context: ssl.SSLContext | None = None,
        max_body: int = MAX_BODY_BYTES,
        proxy: Proxy | None = None,
    ) -> None:
        """Open nothing yet.

        Args:
            origin: The server.
            public: Passed to the endpoint guard (see :func:`judges.endpoints.address_problem`).
            ssl_context: For ``https``; the system trust store when None.
            max_body: Largest answer body accepted, in bytes.
            proxy: Reach the server through this proxy's tunnels (see :mod:`judges.backends.proxy`).
        """
        self.origin = origin
        self.public = public
        self.ssl_context = ssl_context
        self.max_body = max_body
        self.proxy = proxy
        self.opened = 0  # connections opened so far, for tests and benchmarks
        self._closed = False
        self._start()

    def _start(self) -> None:
        """Set up the pool's own state (its list of idle connections)."""


class SyncPool(_Pool):
    """Keep-alive connections to one origin for blocking callers; thread-safe."""

    def _start(self) -> None:
        self._idle: list[_SyncConnection] = []  # one list for the pool's life (the finalizer holds it)
        self._lock = threading.Lock()
        # A backend nobody closed: its idle sockets close with it, without a ResourceWarning each.
        weakref.finalize(self, _close_all, self._idle)

    def post(self, target: str, headers: list[tuple[bytes, bytes]], body: bytes, timeout: float) -> Response:
        """Send ``body`` to ``target`` and read the whole answer within ``timeout`` seconds.

        Raises:
            HTTPFailure: A subclass saying what went wrong.
        """
        deadline = time.monotonic() + timeout
        conn = self._take()
        while True:
            reused = conn is not None
            if conn is None:
                conn = self._open(deadline)
            try:
                response = self._exchange(conn, target, headers, body, deadline)
            except _Stale:
                conn.close()
                if reused:
                    conn = None
                    continue
                raise ConnectionLost("the server closed the connection without answering") from None
            except BaseException:
                conn.close()
                raise
            self._give_back(conn)
            return response

    def close(self) -> None:
        """Close the idle connections; those in use close when their request ends."""
        with self._lock:
            self._closed = True
            idle = self._idle[:]
            self._idle.clear()
        _close_all(idle)

    def _take(self) -> _SyncConnection | None:
        now = time.monotonic()
        with self._lock:
            while self._idle:
                conn = self._idle.pop()
                if now - conn.idle_since > KEEPALIVE_S:
                    # The most recent is too old, so all are: close them all.
                    stale = [conn, *self._idle]
                    self._idle.clear()
                    _close_all(stale)
                    return None
                if conn.dead():
                    conn.close()
                    continue
                return conn
        return None

    def _give_back(self, conn: _SyncConnection) -> None:
        if _reusable(conn.h11):
            conn.idle_since = time.monotonic()
            with self._lock:
                if not self._closed and len(self._idle) < MAX_IDLE:
                    self._idle.append(conn)
                    return
        conn.close()

    def _open(self, deadline: float) -> _SyncConnection:
        origin = self.origin
        try:
            if self.proxy is not None:
                sock = _tunnel(self.proxy, origin, self.public, deadline)
            else:
                sock = connect_guarded(origin.host, origin.port, public=self.public, timeout=_left(deadline))
            if origin.tls:
                try:
                    sock.settimeout(_left(deadline))
                    sock = (self.ssl_context or default_ssl_context()).wrap_socket(sock, server_hostname=origin.host)
                except BaseException:
                    sock.close()
                    raise
        except OSError as exc:
            failure = _connect_failure(exc, origin.host_header)
        else:
            self.opened += 1
            return _SyncConnection(sock)
        raise failure

    def _exchange(
        self, conn: _SyncConnection, target: str, headers: list[tuple[bytes, bytes]], body: bytes, deadline: float
    ) -> Response:
        sock, state = conn.sock, conn.h11
        answer = _Answer(self.max_body)
        received = 0
        try:
            head = _request_head(state, target, headers, len(body))
            state.send(h11.Data(data=body))
            state.send(h11.EndOfMessage())
            sock.settimeout(_left(deadline))
            sock.sendall(head)
            sock.sendall(body)
            while True:
                sock.settimeout(_left(deadline))
                data = sock.recv(_READ_SIZE)
                if not data and not received:
                    raise _Stale
                received += len(data)
                state.receive_data(data)
                response = answer.feed(state)
                if response is not None:
                    return response
        except TimeoutError:
            raise DeadlinePassed("the request's deadline passed") from None
        except OSError as exc:
            if not received:
                raise _Stale from None
            raise ConnectionLost(f"the connection broke mid-answer ({type(exc).__name__})") from None


def _close_all(connections: list[_SyncConnection]) -> None:
    for conn in connections:
        conn.close()


# --------------------------------------------------------------------------- the asyncio pool


class _Protocol(asyncio.Protocol):
    """One connection: h11 fed from ``data_received``, one answer awaited at a time."""

    def __init__(self, max_body: int) -> None:
        self.max_body = max_body
        self.h11 = h11.Connection(h11.CLIENT)
        self.transport: asyncio.Transport | None = None
        self.waiter: asyncio.Future[Response] | None = None
        self.answer: _Answer | None = None
        self.received = 0
        self.closed = False
        self.idle_since = 0.0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        waiter = self.waiter
        if waiter is None or waiter.done() or self.answer is None:
            # Bytes while idle: the server closes (a 408) or misbehaves; never reuse this connection.
            self.close()
            return
        self.received += len(data)
        try:
            self.h11.receive_data(data)
            response = self.answer.feed(self.h11)
        except (HTTPFailure, h11.ProtocolError) as exc:
            waiter.set_exception(exc if isinstance(exc, HTTPFailure) else ConnectionLost(str(exc)))
            return
        if response is not None:
            waiter.set_result(response)

    def eof_received(self) -> bool:
        self._ended()
        return False  # close the transport

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._ended()

    def _ended(self) -> None:
        self.closed = True
        waiter = self.waiter
        if waiter is None or waiter.done():
            return
        if not self.received:
            waiter.set_exception(_Stale())
            return
        try:
            self.h11.receive_data(b"")
            response = self.answer.feed(self.h11) if self.answer is not None else None
        except (HTTPFailure, h11.ProtocolError) as exc:
            waiter.set_exception(exc if isinstance(exc, HTTPFailure) else ConnectionLost(str(exc)))
            return
        if response is not None:  # an answer framed by the end of the connection
            waiter.set_result(response)
        else:
            waiter.set_exception(ConnectionLost("the server closed the connection mid-answer"))

    def send(self, target: str, headers: list[tuple[bytes, bytes]], body: bytes) -> asyncio.Future[Response]:
        """Start one exchange; the future is the answer (or the failure)."""
        assert self.transport is not None
        loop = asyncio.get_running_loop()
        self.waiter = waiter = loop.create_future()
        self.answer = _Answer(self.max_body)
        self.received = 0
        if self.closed or self.transport.is_closing():
            waiter.set_exception(_Stale())  # closed since it was taken: nothing would ever answer
            return waiter
        head = _request_head(self.h11, target, headers, len(body))
        self.h11.send(h11.Data(data=body))
        self.h11.send(h11.EndOfMessage())
        # No drain: the transport sends what the socket does not take at once while we wait.
        self.transport.write(head)
        self.transport.write(body)
        return waiter

    def finish(self) -> bool:
        """After an answer: whether the connection may carry the next request."""
        self.waiter = self.answer = None
        return (
            not self.closed and self.transport is not None and not self.transport.is_closing() and _reusable(self.h11)
        )

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    def abort(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.abort()


class AsyncPool(_Pool):
    """Keep-alive connections to one origin, on the event loop that uses it (not thread-safe)."""

    def _start(self) -> None:
        self._idle: list[_Protocol] = []

    async def post(self, target: str, headers: list[tuple[bytes, bytes]], body: bytes, timeout: float) -> Response:
        """Send ``body`` to ``target`` and read the whole answer within ``timeout`` seconds.

        Raises:
            HTTPFailure: A subclass saying what went wrong.
        """
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout_at(loop.time() + timeout):
                conn = self._take(loop.time())
                while True:
                    reused = conn is not None
                    if conn is None:
                        conn = await self._open()
                    try:
                        response = await conn.send(target, headers, body)
                    except _Stale:
                        conn.abort()
                        if reused:
                            conn = None
                            continue
                        raise ConnectionLost("the server closed the connection without answering") from None
                    except BaseException:
                        conn.abort()  # cancelled or timed out mid-exchange: the connection is unusable
                        raise
                    self._give_back(conn, loop.time())
                    return response
        except TimeoutError:
            raise DeadlinePassed("the request's deadline passed") from None

    async def aclose(self) -> None:
        """Close the idle connections; those in use close when their request ends."""
        self._closed = True
        idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()

    def _take(self, now: float) -> _Protocol | None:
        while self._idle:
            conn = self._idle.pop()
            if now - conn.idle_since > KEEPALIVE_S:
                stale, self._idle = [conn, *self._idle], []
                for old in stale:
                    old.close()
                return None
            if conn.closed or conn.transport is None or conn.transport.is_closing():
                continue  # the loop saw the server close it while idle: no system call needed
            return conn
        return None

    def _give_back(self, conn: _Protocol, now: float) -> None:
        if conn.finish() and not self._closed and len(self._idle) < MAX_IDLE:
            conn.idle_since = now
            self._idle.append(conn)
        else:
            conn.close()

    async def _open(self) -> _Protocol:
        origin = self.origin
        context = (self.ssl_context or default_ssl_context()) if origin.tls else None
        protocol: asyncio.BaseProtocol
        try:
            if self.proxy is not None:
                sock = await _tunnel_async(self.proxy, origin, self.public)
                loop = asyncio.get_running_loop()
                hostname = origin.host if context is not None else None
                _, protocol = await loop.create_connection(
                    lambda: _Protocol(self.max_body), sock=sock, ssl=context, server_hostname=hostname
                )
            else:
                _, protocol = await open_guarded(
                    lambda: _Protocol(self.max_body), origin.host, origin.port, public=self.public, ssl=context
                )
        except OSError as exc:
            failure = _connect_failure(exc, origin.host_header)
        else:
            self.opened += 1
            return cast(_Protocol, protocol)
        raise failure
