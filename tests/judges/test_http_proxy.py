"""The ``openai`` backend behind an HTTP proxy (``judges/backends/proxy.py``), on real sockets.

A real ``CONNECT`` proxy on 127.0.0.1 (``tests/support/http_proxy.py``) tunnels whatever it is
asked for to a local scripted server (``tests/support/raw_http.py``), so a request for a public
address or for a name goes through the whole path, TLS to the server included, with no traffic
leaving the machine. Names are resolved by a stand-in for ``socket.getaddrinfo`` (the tests never
wait on DNS); everything else is the production code.
"""

from __future__ import annotations

import base64
import socket

import pytest

from judges.backends.openai_compat import create
from judges.backends.proxy import Proxy, proxy_for
from judges.errors import BackendUnavailable, ConfigError
from judges.types import ChatRequest, Message, TextPart
from tests.support.http_proxy import TunnelProxy
from tests.support.raw_http import start_tls

SECRET = "sk-test-PROXY-0123456789abcdef"
PUBLIC = "8.8.8.8"  # never contacted: the proxy tunnels every request to the local server
DOCUMENTATION = "203.0.113.7"  # TEST-NET-3: neither loopback nor link-local


def ask() -> ChatRequest:
    return ChatRequest((Message("user", (TextPart("Which is better?"),)),))


def backend(url: str, **options):
    return create("judge-model", base_url=url, api_key=SECRET, **{"timeout_s": 5, "max_retries": 0, **options})


def results(judge, how: str, n: int = 3) -> list:
    if how == "sync":
        out = []
        for _ in range(n):
            try:
                out.append(judge.complete(ask()))
            except BackendUnavailable as exc:
                out.append(exc)
        return out
    return judge.complete_many([ask() for _ in range(n)], concurrency=1)


@pytest.fixture
def names(monkeypatch):
    """Host names that resolve here to the addresses a test gives; any other name does not resolve."""
    table: dict[str, str] = {}
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if host in table:
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (table[host], port or 0))]
        try:
            socket.inet_pton(socket.AF_INET6 if ":" in str(host) else socket.AF_INET, str(host))
        except (OSError, TypeError):
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known") from None
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return table


# --------------------------------------------------------------------------- which proxy


def test_the_environment_names_the_proxy_per_scheme_and_no_proxy_bypasses_it(monkeypatch):
    monkeypatch.setenv("https_proxy", "http://secure.proxy:3128")
    monkeypatch.setenv("HTTP_PROXY", "plain.proxy:8080")  # no scheme means http://
    monkeypatch.setenv("no_proxy", "internal.example,.corp.example")

    assert proxy_for("api.openai.com", tls=True) == Proxy("secure.proxy", 3128)
    assert proxy_for("api.openai.com", tls=False) == Proxy("plain.proxy", 8080)
    assert proxy_for("internal.example", tls=True) is None
    assert proxy_for("judge.corp.example", tls=True) is None
    monkeypatch.delenv("https_proxy")
    monkeypatch.setenv("ALL_PROXY", "http://every.proxy")
    assert proxy_for("api.openai.com", tls=True) == Proxy("every.proxy", 80)


@pytest.mark.parametrize("host", ["localhost", "judge.localhost", "127.0.0.1", "127.3.4.5", "::1", "[::1]"])
def test_loopback_servers_never_go_through_the_proxy(monkeypatch, host):
    monkeypatch.setenv("https_proxy", "http://proxy.example:3128")
    monkeypatch.setenv("http_proxy", "http://proxy.example:3128")

    assert proxy_for(host, tls=True) is None
    assert proxy_for(host, tls=False) is None


def test_credentials_in_the_proxy_url_become_a_basic_header_that_is_never_shown(monkeypatch):
    monkeypatch.setenv("https_proxy", "http://judge%40corp:s3cr%3At@proxy.example:3128")

    proxy = proxy_for("api.openai.com", tls=True)

    assert proxy is not None
    assert proxy.authorization == "Basic " + base64.b64encode(b"judge@corp:s3cr:t").decode()
    assert "s3cr" not in repr(proxy) and "s3cr" not in proxy.shown and proxy.shown == "proxy.example:3128"


@pytest.mark.parametrize("url", ["socks5://user:hunter2@proxy.example:1080", "https://proxy.example", "http://:3128"])
def test_a_proxy_this_backend_cannot_speak_to_is_refused_clearly(monkeypatch, url):
    monkeypatch.setenv("https_proxy", url)
    judge = backend(f"https://{PUBLIC}/v1")

    with pytest.raises(ConfigError, match="http:// proxies only") as caught:
        judge.complete(ask())
    assert "hunter2" not in str(caught.value)


# --------------------------------------------------------------------------- through the tunnel


@pytest.mark.parametrize("how", ["sync", "many"])
def test_https_goes_through_one_kept_tunnel_with_tls_to_the_server_itself(raw_server, tmp_path, monkeypatch, how):
    server, trusted = start_tls(raw_server, tmp_path, dns="localhost", ip=DOCUMENTATION)
    with TunnelProxy(("127.0.0.1", server.port)) as proxy:
        monkeypatch.setenv("https_proxy", proxy.url)
        judge = backend(f"https://{DOCUMENTATION}:{server.port}/v1", ssl_context=trusted)

        answers = results(judge, how)

    assert [a.text for a in answers] == ["[[A]]"] * 3
    assert proxy.asked == [f"{DOCUMENTATION}:{server.port}"]  # one tunnel, kept alive for all three
    assert server.accepted == 1 and len(server.heads) == 3
    assert all(SECRET.encode() not in head for head in proxy.heads)  # the key travels inside TLS only


@pytest.mark.parametrize("how", ["sync", "many"])
def test_plain_http_servers_are_tunnelled_too(raw_server, monkeypatch, how):
    server = raw_server()
    with TunnelProxy(("127.0.0.1", server.port)) as proxy:
        monkeypatch.setenv("http_proxy", proxy.url)
        judge = backend(f"http://{DOCUMENTATION}:{server.port}/v1")

        answers = results(judge, how, n=2)

    assert [a.text for a in answers] == ["[[A]]"] * 2
    assert proxy.asked == [f"{DOCUMENTATION}:{server.port}"]
    assert server.heads[0].startswith(b"POST /v1/chat/completions HTTP/1.1")


@pytest.mark.parametrize("how", ["sync", "many"])
def test_off_a_public_space_the_proxy_is_asked_for_the_name(raw_server, tmp_path, monkeypatch, names, how):
    # judge.example resolves nowhere here: only the proxy can reach it (a proxy-only network).
    server, trusted = start_tls(raw_server, tmp_path, dns="judge.example")
    with TunnelProxy(("127.0.0.1", server.port)) as proxy:
        monkeypatch.setenv("https_proxy", proxy.url)
        judge = backend(f"https://judge.example:{server.port}/v1", ssl_context=trusted)

        answers = results(judge, how, n=1)

    assert [a.text for a in answers] == ["[[A]]"]
    assert proxy.asked == [f"judge.example:{server.port}"]
    assert server.server_names == ["judge.example"]  # SNI and the certificate check name the server


@pytest.mark.parametrize("how", ["sync", "many"])
def test_on_a_public_space_the_proxy_is_asked_for_the_checked_address(raw_server, tmp_path, monkeypatch, names, how):
    names["judge.example"] = PUBLIC
    server, trusted = start_tls(raw_server, tmp_path, dns="judge.example")
    with TunnelProxy(("127.0.0.1", server.port)) as proxy:  # the operator's proxy, on loopback: allowed
        monkeypatch.setenv("https_proxy", proxy.url)
        judge = backend(f"https://judge.example:{server.port}/v1", ssl_context=trusted, public_only=True)

        answers = results(judge, how, n=1)

    assert [a.text for a in answers] == ["[[A]]"]
    # The proxy connects to the address the guard allowed, so a name that re-resolves cannot steer it.
    assert proxy.asked == [f"{PUBLIC}:{server.port}"]
    assert server.server_names == ["judge.example"]


@pytest.mark.parametrize(
    ("url", "public", "why"),
    [
        ("http://10.1.2.3:8000/v1", True, "private network"),
        ("http://judge.example:8000/v1", True, "cannot reach"),  # a name it cannot check stays unsent
        ("http://169.254.169.254/v1", False, "link-local"),
        ("http://judge.example:8000/v1", False, "link-local"),
    ],
)
@pytest.mark.parametrize("how", ["sync", "many"])
def test_the_guard_judges_the_server_before_the_proxy_is_asked(monkeypatch, names, url, public, why, how):
    if not public:
        names["judge.example"] = "169.254.169.254"
    with TunnelProxy(("127.0.0.1", 9)) as proxy:
        monkeypatch.setenv("http_proxy", proxy.url)
        judge = backend(url, public_only=public)

        if how == "sync":
            with pytest.raises((ConfigError, BackendUnavailable)) as caught:
                judge.complete(ask())
            error = caught.value
        else:
            (error,) = judge.complete_many([ask()])

    assert why in str(error)
    assert proxy.asked == []


# --------------------------------------------------------------------------- the proxy's failures


@pytest.mark.parametrize("how", ["sync", "many"])
def test_proxy_credentials_are_sent_and_a_refusal_says_what_to_check(raw_server, monkeypatch, how):
    server = raw_server()
    wanted = "Basic " + base64.b64encode(b"judge:hunter2").decode()
    with TunnelProxy(("127.0.0.1", server.port), credentials=wanted) as proxy:
        monkeypatch.setenv("http_proxy", f"http://judge:hunter2@127.0.0.1:{proxy.port}")
        assert [a.text for a in results(backend(f"http://{DOCUMENTATION}:{server.port}/v1"), how, n=1)] == ["[[A]]"]

        monkeypatch.setenv("http_proxy", f"http://judge:wrong-password@127.0.0.1:{proxy.port}")
        (error,) = results(backend(f"http://{DOCUMENTATION}:{server.port}/v1", max_retries=2), how, n=1)

    assert isinstance(error, BackendUnavailable)
    message = str(error)
    assert f"the proxy 127.0.0.1:{proxy.port} refused the tunnel (HTTP 407 Proxy Authentication Required)" in message
    assert "http_proxy" in message and "no_proxy" in message
    assert "wrong-password" not in message and "hunter2" not in message and SECRET not in message
    assert len(proxy.asked) == 2  # the good one, then the refused one once: a 407 is not retried


def test_a_proxy_error_from_upstream_is_retried(monkeypatch):
    with TunnelProxy(("127.0.0.1", 9), refuse=502) as proxy:
        monkeypatch.setenv("https_proxy", proxy.url)
        judge = backend(f"https://{PUBLIC}/v1", max_retries=1, backoff_base_s=0.01)

        with pytest.raises(BackendUnavailable, match="HTTP 502"):
            judge.complete(ask())
    assert proxy.asked == [f"{PUBLIC}:443"] * 2


@pytest.mark.parametrize("how", ["sync", "many"])
def test_a_proxy_that_cannot_be_reached_is_named(monkeypatch, how):
    closed = socket.create_server(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    monkeypatch.setenv("https_proxy", f"http://user:hunter2@127.0.0.1:{port}")

    (error,) = results(backend(f"https://{PUBLIC}/v1"), how, n=1)

    assert isinstance(error, BackendUnavailable)
    assert f"the proxy 127.0.0.1:{port} cannot be reached" in str(error) and "hunter2" not in str(error)


def test_a_loopback_server_is_reached_directly_with_a_proxy_set(raw_server, monkeypatch):
    server = raw_server()
    with TunnelProxy(("127.0.0.1", 9)) as proxy:
        monkeypatch.setenv("http_proxy", proxy.url)
        monkeypatch.setenv("https_proxy", proxy.url)

        assert backend(server.url()).complete(ask()).text == "[[A]]"
    assert proxy.asked == [] and server.accepted == 1
