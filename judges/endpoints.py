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
* the connect-time guard of :func:`connect_guarded` and :func:`open_guarded`, through which
  :mod:`judges.backends.http_client` opens every connection: the host is resolved there, the
  connection refused if any address is not allowed, and made to the very address that was checked.
  A name that resolves to a public address when the URL is checked and to loopback a moment later
  (DNS rebinding) is therefore refused. The backend follows no redirects (see
  :mod:`judges.backends.openai_compat`).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from judges.errors import ConfigError

if TYPE_CHECKING:
    import asyncio

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


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


# --------------------------------------------------------------------------- the connect-time guard


class EndpointRefused(OSError):
    """The guard refused to connect; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def checked_addresses(host: str, addresses: list[Address], public: bool) -> list[Address]:
    """``addresses`` (what ``host`` resolved to), when every one of them may be connected to.

    Raises:
        socket.gaierror: ``host`` resolved to nothing.
        EndpointRefused: One of the addresses is not allowed (one bad answer refuses the name: a
            rebinding name may hand out a good and a bad address together).
    """
    if not addresses:
        raise socket.gaierror(f"cannot resolve {host}")
    for address in addresses:
        problem = address_problem(address, public=public)
        if problem:
            raise EndpointRefused(problem if str(address) == host.strip("[]") else f"{host} resolves to {problem}")
    return addresses


def connect_guarded(host: str, port: int, *, public: bool, timeout: float) -> socket.socket:
    """A TCP connection to ``host``, made to an address the guard allowed (blocking socket).

    The name is resolved here, every address checked, and the connection made to the very address
    that was checked, never to the name again.

    Raises:
        EndpointRefused: The guard refused the host.
        OSError: The name does not resolve, or no address accepts the connection in ``timeout``.
    """
    last: OSError | None = None
    for address in checked_addresses(host, resolve(host, port), public):
        try:
            sock = socket.create_connection((str(address), port), timeout=timeout)
        except OSError as exc:
            last = exc
            continue
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock
    raise last or OSError(f"cannot connect to {host}")


async def open_guarded(
    protocol_factory: Callable[[], asyncio.Protocol],
    host: str,
    port: int,
    *,
    public: bool,
    ssl: Any = None,
) -> tuple[asyncio.Transport, asyncio.Protocol]:
    """An asyncio connection to ``host`` (TLS with SNI when ``ssl`` is a context), made to an
    address the guard allowed.

    A literal address is checked at once; a name is resolved on the loop's executor, as
    ``loop.create_connection`` would. The caller bounds the time (``asyncio.timeout``).

    Raises:
        EndpointRefused: The guard refused the host.
        OSError: The name does not resolve, or no address accepts the connection.
    """
    import asyncio

    loop = asyncio.get_running_loop()
    found = resolve(host, port) if _literal(host) is not None else await loop.run_in_executor(None, resolve, host, port)
    last: OSError | None = None
    for address in checked_addresses(host, found, public):
        try:
            transport, protocol = await loop.create_connection(
                protocol_factory, str(address), port, ssl=ssl, server_hostname=host.strip("[]") if ssl else None
            )
        except OSError as exc:
            last = exc
            continue
        return transport, protocol
    raise last or OSError(f"cannot connect to {host}")


def refusal_in(exc: BaseException | None) -> str:
    """The guard's reason when ``exc`` (a client error) or one of its causes is a refusal, else ""."""
    seen = 0
    while exc is not None and seen < 20:
        if isinstance(exc, EndpointRefused):
            return exc.reason
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return ""


def tunnel_authority(host: str, port: int, *, public: bool) -> str:
    """What a proxy tunnel to ``host`` is asked for (``host:port``), once the guard allowed it.

    On a public Space, the address that was checked: the proxy then connects to that address and no
    other, whatever the name resolves to later. Elsewhere, the name itself (a proxy that allows
    hosts by name, or the only resolver on the network, keeps working), after the addresses it has
    here, if it resolves here, were checked.

    Raises:
        EndpointRefused: The guard refused the host.
        socket.gaierror: On a public Space, the name does not resolve here.
    """
    found = resolve(host, port)
    if public or found:
        checked = checked_addresses(host, found, public)
        if public:
            address = checked[0]
            return f"[{address}]:{port}" if address.version == 6 else f"{address}:{port}"
    name = host.strip("[]")
    return f"[{name}]:{port}" if ":" in name else f"{name}:{port}"
