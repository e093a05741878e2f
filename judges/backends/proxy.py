"""HTTP proxies for the ``openai`` backend: which one, if any, a server is reached through.

The proxy comes from the environment, as for curl and requests: ``https_proxy`` for ``https://``
servers, ``http_proxy`` for ``http://`` ones, ``all_proxy`` for either (each in either case), and
``no_proxy`` lists the hosts reached directly (urllib's ``getproxies_environment`` and
``proxy_bypass`` read them). Loopback servers (``localhost``, 127.0.0.0/8, ``::1``) never go
through a proxy: the proxy's loopback is not this machine's (Go's ``net/http`` and the browsers make
the same exception), so a vLLM on localhost keeps working behind a proxy.

Every request to a proxied server goes through an HTTP ``CONNECT`` tunnel, for ``http://`` servers
too (:class:`judges.backends.http_client.Tunnel`), so that inside it the pool speaks to the server
exactly as over a direct connection: TLS to the server itself (its certificate checked against its
name), keep-alive, deadlines. A proxy that tunnels only to port 443 refuses plain-HTTP servers; the
error carries its status.

The endpoint guard (:mod:`judges.endpoints`) still judges the server, never the proxy, which is the
operator's setting, not a visitor's. On a public Space the tunnel is asked for the very address
that was checked, so the proxy cannot be steered elsewhere by a name that re-resolves; elsewhere it
is asked for the name (a proxy that allows hosts by name, or a network where only the proxy
resolves names, keeps working) after the addresses the name has here, if any, were checked.

Only ``http://`` proxy URLs are spoken (``socks5://`` or ``https://`` proxies are refused with a
message saying so). A ``user:password@`` in the proxy URL is sent as ``Proxy-Authorization: Basic``
and never shown: messages name the proxy by host and port only.
"""

from __future__ import annotations

import base64
import ipaddress
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

from judges.errors import ConfigError


@dataclass(frozen=True)
class Proxy:
    """An ``http://`` proxy.

    Attributes:
        host: Its host name or address (IPv6 without brackets).
        port: Its port (3128, say; 80 when the URL names none).
        authorization: The ``Proxy-Authorization`` header value ("" without credentials); never shown.
    """

    host: str
    port: int
    authorization: str = field(default="", repr=False)

    @property
    def shown(self) -> str:
        """``host:port``, without credentials."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @classmethod
    def parse(cls, url: str) -> Proxy:
        """The proxy named by ``url`` (``http://[user:password@]host[:port]``; no scheme means http).

        Raises:
            ConfigError: Another scheme, no host or a port that is not a number (the message
                never repeats the URL, which may hold a password).
        """
        parts = urlsplit(url if "://" in url else f"http://{url}")
        try:
            port = parts.port
        except ValueError:
            port = -1
        if parts.scheme.lower() != "http" or not parts.hostname or port == -1:
            scheme = parts.scheme.lower() or "?"
            raise ConfigError(
                f"The proxy in the environment (https_proxy, http_proxy or all_proxy) is a {scheme}:// URL "
                "or has no host or a bad port; the openai backend speaks to http:// proxies only. Set an "
                "http://host:port proxy, or list the server in no_proxy to reach it directly."
            )
        authorization = ""
        if parts.username is not None:
            pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
            authorization = "Basic " + base64.b64encode(pair.encode()).decode("ascii")
        return cls(parts.hostname, port or 80, authorization)


def _loopback(host: str) -> bool:
    name = host.strip("[]").lower().rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name.split("%")[0]).is_loopback
    except ValueError:
        return False


def proxy_for(host: str, *, tls: bool) -> Proxy | None:
    """The proxy the environment names for a server at ``host`` (None: connect directly).

    Raises:
        ConfigError: The environment names a proxy this backend cannot speak to.
    """
    import urllib.request  # only when a backend opens its first connection

    proxies = urllib.request.getproxies_environment()
    url = proxies.get("https" if tls else "http") or proxies.get("all")
    if not url or _loopback(host) or urllib.request.proxy_bypass(host):
        return None
    return Proxy.parse(url)
