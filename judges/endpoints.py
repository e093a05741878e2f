"""Which addresses the ``openai`` backend may connect to, checked where the connection is made.

A custom base URL makes the server send a request wherever the visitor says. On a public Space that
must not reach the machine's own network: cloud metadata services (link-local 169.254.0.0/16,
fe80::/10), the Space's loopback, or private ranges. Link-local addresses are refused everywhere;
loopback, private, unspecified and reserved addresses only on Hugging Face Spaces (``SPACE_ID`` is
set), so a local ``python app.py`` or the CLI can still judge with a vLLM on localhost. IPv6 forms
that carry an IPv4 address (``::ffff:169.254.169.254``, NAT64, 6to4) are judged by the address they
carry.

Two checks, both from :func:`address_problem`:

* :func:`check_custom_endpoint`, when a visitor types a URL, for a clear message at once;
* the connect-time guard of :func:`guarded_transports`: every TCP connection the backend opens
  resolves the host itself, refuses the connection if any address is not allowed, and connects to
  the very address it checked. A name that resolves to a public address when the URL is checked
  and to loopback a moment later (DNS rebinding) is therefore refused, and so is every later hop.
  The backend follows no redirects (see :mod:`judges.backends.openai_compat`).

The same guard enforces a total deadline per request (:func:`request_deadline`): every read and
write waits at most until the deadline, so a server that trickles a byte at a time is cut off.
"""

from __future__ import annotations

import contextlib
import contextvars
import ipaddress
import socket
import time
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit

from judges.errors import ConfigError

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

#: The wall-clock moment (``time.monotonic()``) by which the current request must be answered.
_DEADLINE: contextvars.ContextVar[float | None] = contextvars.ContextVar("judges_request_deadline", default=None)


def on_public_space(env: Mapping[str, str]) -> bool:
    """Whether the app runs on Hugging Face Spaces (which sets ``SPACE_ID``)."""
    return bool(env.get("SPACE_ID"))


def _carried(address: Address) -> Address:
    """The IPv4 address an IPv6 address stands for (mapped, NAT64, 6to4, IPv4-compatible), else itself."""
    if isinstance(address, ipaddress.IPv4Address):
        return address
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    packed = address.packed
    if packed[:12] == bytes.fromhex("0064ff9b0000000000000000"):  # NAT64 well-known prefix
        return ipaddress.IPv4Address(packed[12:])
    if packed[:12] == bytes(12) and int(address) > 1:  # deprecated IPv4-compatible ::a.b.c.d
        return ipaddress.IPv4Address(packed[12:])
    return address


def address_problem(address: Address, *, public: bool) -> str:
    """Why the backend may not connect to ``address`` ("" when it may).

    Args:
        address: The address about to be connected to.
        public: True on a public Space: loopback, private, unspecified and reserved addresses are
            refused too.
    """
    for form in {address, _carried(address)}:
        if form.is_link_local:
            return f"{address} is a link-local address (a cloud metadata service lives there)"
        if public and (
            form.is_loopback or form.is_private or form.is_reserved or form.is_unspecified or form.is_multicast
        ):
            return f"{address} is on this server's own or a private network, which a public Space does not call"
    return ""


def _literal(host: str) -> Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]").split("%")[0])
    except ValueError:
        return None


def resolve(host: str, port: int | None = None) -> list[Address]:
    """Every address ``host`` resolves to now ([] when it does not resolve)."""
    literal = _literal(host)
    if literal is not None:
        return [literal]
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return []
    addresses: list[Address] = []
    for info in infos:
        address = _literal(str(info[4][0]))
        if address is not None and address not in addresses:
            addresses.append(address)
    return addresses


def check_custom_endpoint(base_url: str, *, public: bool) -> None:
    """Refuse endpoints a visitor must not point the server at.

    Args:
        base_url: The custom endpoint's base URL (already checked to be http(s)).
        public: True on a public Space: loopback and private addresses are refused too.

    Raises:
        ConfigError: The URL points at a link-local address, or (public) at loopback or a private network.
    """
    host = urlsplit(base_url).hostname or ""
    for address in resolve(host):
        problem = address_problem(address, public=public)
        if problem:
            where = host if str(address) == host.strip("[]") else f"{host} ({address})"
            fix = (
                "Use a public URL, or run the app yourself (python app.py) to judge with a local server."
                if public and not address_problem(address, public=False)
                else "Use the endpoint's public URL."
            )
            raise ConfigError(f"{where}: {problem.split(' is ', 1)[1]}. {fix}")


# --------------------------------------------------------------------------- the request deadline


@contextlib.contextmanager
def request_deadline(seconds: float) -> Iterator[None]:
    """Every read and write of connections opened through :func:`guarded_transports` ends by then."""
    token = _DEADLINE.set(time.monotonic() + seconds)
    try:
        yield
    finally:
        _DEADLINE.reset(token)


def _remaining(timeout: float | None) -> float | None:
    deadline = _DEADLINE.get()
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    return left if timeout is None else min(timeout, left)


# --------------------------------------------------------------------------- the connect-time guard


class EndpointRefused(OSError):
    """The guard refused to connect; ``reason`` says why (also found as the cause of client errors)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _checked(host: str, addresses: list[Address], public: bool) -> list[Address]:
    if not addresses:
        raise socket.gaierror(f"cannot resolve {host}")
    for address in addresses:
        problem = address_problem(address, public=public)
        if problem:
            raise EndpointRefused(problem if str(address) == host.strip("[]") else f"{host} resolves to {problem}")
    return addresses


def _within_deadline(timeout: float | None, what: type[Exception]) -> float | None:
    """The time an I/O step may take: its own timeout cut to what is left of the request's deadline.

    Raises:
        what: The deadline has passed (the transport's own timeout error, so the client reports it).
    """
    left = _remaining(timeout)
    if left is not None and left <= 0:
        raise what("the request's deadline passed")
    return left


def guarded_transports(*, public: bool, limits: Any = None) -> tuple[Any, Any]:
    """A sync and an async httpx2 transport that apply the address guard and the request deadline.

    Imports httpx2/httpcore2 on call (they come with openai), not when this module is imported.

    Args:
        public: True on a public Space (see :func:`address_problem`).
        limits: ``httpx2.Limits`` for the connection pools (default: httpx2's).
    """
    import httpcore2
    import httpx2
    from httpcore2._backends.auto import AutoBackend
    from httpcore2._backends.sync import SyncBackend

    class Stream(httpcore2.NetworkStream):
        def __init__(self, inner: httpcore2.NetworkStream) -> None:
            self._inner = inner

        def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
            return self._inner.read(max_bytes, _within_deadline(timeout, httpcore2.ReadTimeout))

        def write(self, buffer: bytes, timeout: float | None = None) -> None:
            self._inner.write(buffer, _within_deadline(timeout, httpcore2.WriteTimeout))

        def close(self) -> None:
            self._inner.close()

        def start_tls(self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None) -> Any:
            left = _within_deadline(timeout, httpcore2.ConnectTimeout)
            return Stream(self._inner.start_tls(ssl_context, server_hostname, left))

        def get_extra_info(self, info: str) -> Any:
            return self._inner.get_extra_info(info)

    class AsyncStream(httpcore2.AsyncNetworkStream):
        def __init__(self, inner: httpcore2.AsyncNetworkStream) -> None:
            self._inner = inner

        async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
            return await self._inner.read(max_bytes, _within_deadline(timeout, httpcore2.ReadTimeout))

        async def write(self, buffer: bytes, timeout: float | None = None) -> None:
            await self._inner.write(buffer, _within_deadline(timeout, httpcore2.WriteTimeout))

        async def aclose(self) -> None:
            await self._inner.aclose()

        async def start_tls(
            self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None
        ) -> Any:
            left = _within_deadline(timeout, httpcore2.ConnectTimeout)
            return AsyncStream(await self._inner.start_tls(ssl_context, server_hostname, left))

        def get_extra_info(self, info: str) -> Any:
            return self._inner.get_extra_info(info)

    def refused(exc: Exception) -> Exception:
        error = httpcore2.ConnectError(str(exc))
        error.__cause__ = exc
        return error

    class Backend(httpcore2.NetworkBackend):
        def __init__(self) -> None:
            self._inner = SyncBackend()

        def connect_tcp(
            self,
            host: str,
            port: int,
            timeout: float | None = None,
            local_address: str | None = None,
            socket_options: Any = None,
        ) -> httpcore2.NetworkStream:
            try:
                addresses = _checked(host, resolve(host, port), public)
            except OSError as exc:
                raise refused(exc) from exc
            last: Exception | None = None
            for address in addresses:  # connect to the address that was checked, never re-resolve
                try:
                    inner = self._inner.connect_tcp(
                        str(address), port, _remaining(timeout), local_address, socket_options
                    )
                except httpcore2.ConnectError as exc:
                    last = exc
                    continue
                return Stream(inner)
            raise last or httpcore2.ConnectError(f"cannot connect to {host}")

    class AsyncBackend(httpcore2.AsyncNetworkBackend):
        def __init__(self) -> None:
            self._inner = AutoBackend()

        async def connect_tcp(
            self,
            host: str,
            port: int,
            timeout: float | None = None,
            local_address: str | None = None,
            socket_options: Any = None,
        ) -> httpcore2.AsyncNetworkStream:
            import anyio.to_thread

            found = await anyio.to_thread.run_sync(resolve, host, port)
            try:
                addresses = _checked(host, found, public)
            except OSError as exc:
                raise refused(exc) from exc
            last: Exception | None = None
            for address in addresses:
                try:
                    inner = await self._inner.connect_tcp(
                        str(address), port, _remaining(timeout), local_address, socket_options
                    )
                except httpcore2.ConnectError as exc:
                    last = exc
                    continue
                return AsyncStream(inner)
            raise last or httpcore2.ConnectError(f"cannot connect to {host}")

        async def sleep(self, seconds: float) -> None:
            await self._inner.sleep(seconds)

    limits = limits or httpx2.Limits(max_connections=100, max_keepalive_connections=20)
    pool_options = {
        "max_connections": limits.max_connections,
        "max_keepalive_connections": limits.max_keepalive_connections,
        "keepalive_expiry": limits.keepalive_expiry,
    }

    class Transport(httpx2.HTTPTransport):
        def __init__(self) -> None:
            super().__init__(limits=limits)
            # httpx2's transport takes no network backend; rebuild its pool (same options) with ours.
            self._pool = httpcore2.ConnectionPool(
                ssl_context=self._pool._ssl_context, network_backend=Backend(), **pool_options
            )

    class AsyncTransport(httpx2.AsyncHTTPTransport):
        def __init__(self) -> None:
            super().__init__(limits=limits)
            self._pool = httpcore2.AsyncConnectionPool(
                ssl_context=self._pool._ssl_context, network_backend=AsyncBackend(), **pool_options
            )

    return Transport(), AsyncTransport()


def refusal_in(exc: BaseException | None) -> str:
    """The guard's reason when ``exc`` (a client error) or one of its causes is a refusal, else ""."""
    seen = 0
    while exc is not None and seen < 20:
        if isinstance(exc, EndpointRefused):
            return exc.reason
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return ""
