"""Which custom endpoints a public Space may call on a visitor's behalf.

A custom base URL makes the Space's server send a request wherever the visitor says. On a public
Space that must not reach the machine's own network: cloud metadata services (link-local
169.254.0.0/16), the Space's loopback, or private ranges. Link-local addresses are refused
everywhere; loopback and private addresses only when running on Hugging Face Spaces (``SPACE_ID`` is
set), so a local ``python app.py`` can still judge with a vLLM on localhost.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Mapping
from urllib.parse import urlsplit

from judges.errors import ConfigError


def on_public_space(env: Mapping[str, str]) -> bool:
    """Whether the app runs on Hugging Face Spaces (which sets ``SPACE_ID``)."""
    return bool(env.get("SPACE_ID"))


def _addresses(host: str) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    try:
        return [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None)
    except (socket.gaierror, UnicodeError):
        return []  # unresolvable here: the request itself will fail with a readable error
    return [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]


def check_custom_endpoint(base_url: str, *, public: bool) -> None:
    """Refuse endpoints a visitor must not point the server at.

    Args:
        base_url: The custom endpoint's base URL (already checked to be http(s)).
        public: True on a public Space: loopback and private addresses are refused too.

    Raises:
        ConfigError: The URL points at a link-local address, or (public) at loopback or a private network.
    """
    host = urlsplit(base_url).hostname or ""
    for address in _addresses(host):
        if address.is_link_local:
            raise ConfigError(f"{host} is a link-local address; use the endpoint's public URL.")
        if public and (address.is_loopback or address.is_private or address.is_reserved):
            raise ConfigError(
                f"{host} is on this server's own or a private network, which a public Space does not call. "
                "Use a public URL, or run the app yourself (python app.py) to judge with a local server."
            )
