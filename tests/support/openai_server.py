"""A real, scriptable OpenAI-compatible HTTP server on 127.0.0.1 for tests and benchmarks.

The openai client's transport (httpx2) cannot be intercepted by respx, and a real socket is the
honest test anyway: retries, timeouts, headers and concurrency all go through the same code as in
production. The server speaks just enough of the protocol: ``POST /v1/chat/completions`` and
``GET /v1/models``.

Typical use::

    from tests.support.openai_server import reply, rate_limited, serve_openai

    with serve_openai() as server:
        server.script(rate_limited(), reply('{"Judgement": "[[A]]"}'))
        backend = create_backend("openai", "judge", base_url=server.base_url)
        backend.complete(request)
        assert len(server.requests) == 2

Each request takes the next behaviour from the script queue; when the queue is empty the server's
default behaviour answers (a fixed :class:`Behaviour`, or a callable that builds one from the
:class:`RecordedRequest`, useful when the reply must depend on the prompt). Every request is
recorded, whatever the behaviour.
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal, TypeAlias

__all__ = [
    "Behaviour",
    "OpenAIServer",
    "RecordedRequest",
    "empty_choices",
    "empty_content",
    "malformed",
    "raw_json",
    "redirect",
    "trickle",
    "rate_limited",
    "reply",
    "serve_openai",
    "server_error",
    "slow",
    "split_tokens",
    "status",
    "unauthorized",
    "yes_no",
]

Kind: TypeAlias = Literal["reply", "status", "malformed", "empty_choices", "raw", "trickle"]

#: Log-probability given to a generated token when the script does not say otherwise.
DEFAULT_TOKEN_LOGPROB = -0.05


# --------------------------------------------------------------------------- behaviours


@dataclass(frozen=True)
class Behaviour:
    """How the server answers one request. Build it with the helpers below, not directly.

    Attributes:
        kind: ``reply`` (a chat completion), ``status`` (an HTTP error), ``malformed`` (a 200 whose
            body is not JSON) or ``empty_choices`` (a valid completion with ``choices: []``).
        text: The assistant text of a ``reply``; None sends ``"content": null``.
        logprobs: ``"auto"`` returns token log-probabilities only when the request asks for them;
            True always, False never.
        alternatives: Token -> ``(token, logprob)`` pairs listed as ``top_logprobs`` wherever that
            token is generated. Its own entry, if present, sets the generated token's logprob.
        finish_reason: Reported ``finish_reason``.
        status: HTTP status of a ``status`` behaviour.
        message: Error message of a ``status`` behaviour.
        headers: Extra response headers (e.g. ``Retry-After``).
        delay_s: Seconds to wait before answering, on top of the server's latency.
    """

    kind: Kind = "reply"
    text: str | None = ""
    logprobs: bool | Literal["auto"] = "auto"
    alternatives: Mapping[str, Sequence[tuple[str, float]]] = field(default_factory=dict)
    finish_reason: str = "stop"
    status: int = 200
    message: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    payload: Any = None


def raw_json(payload: Any) -> Behaviour:
    """HTTP 200 whose JSON body is exactly ``payload`` (for malformed completions)."""
    return Behaviour("raw", payload=payload)


def redirect(location: str, code: int = 302, body: str = "redirect body") -> Behaviour:
    """An HTTP redirect to ``location``, with a body a client must never show."""
    return status(code, body, headers={"Location": location})


def trickle(interval_s: float = 0.05) -> Behaviour:
    """HTTP 200 that announces a long body and sends one byte every ``interval_s``, until stopped."""
    return Behaviour("trickle", delay_s=0.0, payload=interval_s)


def reply(
    text: str,
    *,
    logprobs: bool | Literal["auto"] = "auto",
    alternatives: Mapping[str, Sequence[tuple[str, float]]] | None = None,
    finish_reason: str = "stop",
    delay_s: float = 0.0,
) -> Behaviour:
    """A successful chat completion whose assistant message is ``text``.

    Args:
        text: The assistant's reply. Token log-probabilities are built by :func:`split_tokens`.
        logprobs: ``"auto"`` (as the request asks), True (always) or False (never).
        alternatives: For a token such as ``"A"``, the ``top_logprobs`` to report where it occurs,
            e.g. ``{"A": [("A", -0.1), ("B", -2.4), ("C", -4.0)]}``.
        finish_reason: The reported finish reason (``stop``, ``length``...).
        delay_s: Extra seconds to wait before answering.
    """
    return Behaviour(
        "reply",
        text=text,
        logprobs=logprobs,
        alternatives=dict(alternatives or {}),
        finish_reason=finish_reason,
        delay_s=delay_s,
    )


def yes_no(p_yes: float, *, spellings: tuple[str, str] = ("Yes", "No"), delay_s: float = 0.0) -> Behaviour:
    """A one-word Yes/No answer whose first token's ``top_logprobs`` give P(Yes) = ``p_yes``.

    The answer is the likelier word; both spellings are listed as alternatives (a probability of 0
    leaves that word out), plus a small unrelated token, as a real server would list.
    """
    import math

    yes, no = spellings
    alternatives = [(t, math.log(p)) for t, p in ((yes, p_yes), (no, 1.0 - p_yes)) if p > 0]
    alternatives.append(("Maybe", math.log(1e-4)))
    word = yes if p_yes >= 0.5 else no
    return reply(word, logprobs="auto", alternatives={word: alternatives}, delay_s=delay_s)


def status(code: int, message: str = "", *, headers: Mapping[str, str] | None = None) -> Behaviour:
    """An HTTP error with an OpenAI-shaped body ``{"error": {"message": ...}}``."""
    return Behaviour("status", status=code, message=message or f"HTTP {code}", headers=dict(headers or {}))


def rate_limited(retry_after_s: float = 0) -> Behaviour:
    """HTTP 429 with ``Retry-After`` (0 by default, so clients may retry at once)."""
    return status(429, "Rate limit reached. Please retry later.", headers={"Retry-After": f"{retry_after_s:g}"})


def server_error(code: int = 500) -> Behaviour:
    """An HTTP 5xx error."""
    return status(code, "The server had an error while processing your request.")


def unauthorized(echo: str = "") -> Behaviour:
    """HTTP 401. ``echo`` is quoted in the message, as real servers quote part of a bad key."""
    return status(401, f"Incorrect API key provided: {echo}." if echo else "Invalid API key.")


def slow(seconds: float, then: Behaviour | None = None) -> Behaviour:
    """Wait ``seconds`` before answering with ``then`` (a short reply by default)."""
    base = then if then is not None else reply("slow reply")
    return replace(base, delay_s=base.delay_s + seconds)


def malformed() -> Behaviour:
    """HTTP 200 with ``Content-Type: application/json`` and a body that is not JSON."""
    return Behaviour("malformed")


def empty_choices() -> Behaviour:
    """A completion with ``choices: []``."""
    return Behaviour("empty_choices")


def empty_content(content: Literal["", None] = "") -> Behaviour:
    """A completion whose message content is ``""`` (or ``null``)."""
    return Behaviour("reply", text=content)


_TOKEN = re.compile(r"\w+|\s+|[^\w\s]")


def split_tokens(text: str) -> list[str]:
    """Split text the way the server tokenises it: words, whitespace runs, single punctuation.

    ``[[A]]`` becomes ``[``, ``[``, ``A``, ``]``, ``]``, so a verdict label is always its own token.
    """
    return _TOKEN.findall(text)


# --------------------------------------------------------------------------- recording


@dataclass(frozen=True)
class RecordedRequest:
    """One request the server received.

    Attributes:
        method: ``GET`` or ``POST``.
        path: The request path, e.g. ``/v1/chat/completions``.
        headers: Header names lower-cased -> values.
        raw: The raw body bytes.
        body: The body parsed as JSON, or None when it was empty or not JSON.
        received_at: ``time.monotonic()`` when the request arrived.
    """

    method: str
    path: str
    headers: Mapping[str, str]
    raw: bytes = field(repr=False)
    body: Any
    received_at: float

    @property
    def messages(self) -> list[dict]:
        """The ``messages`` of a chat-completions request ([] otherwise)."""
        return (self.body or {}).get("messages", []) if isinstance(self.body, dict) else []

    @property
    def image_urls(self) -> list[str]:
        """Every ``image_url.url`` in the messages, in order."""
        return [
            part["image_url"]["url"]
            for message in self.messages
            if isinstance(message.get("content"), list)
            for part in message["content"]
            if part.get("type") == "image_url"
        ]

    @property
    def text(self) -> str:
        """All text of all messages, joined by newlines (handy for prompt-dependent replies)."""
        chunks = []
        for message in self.messages:
            content = message.get("content")
            if isinstance(content, str):
                chunks.append(content)
            elif isinstance(content, list):
                chunks.extend(p.get("text", "") for p in content if p.get("type") == "text")
        return "\n".join(chunks)


Responder: TypeAlias = Callable[[RecordedRequest], Behaviour]
ScriptItem: TypeAlias = Behaviour | Responder


# --------------------------------------------------------------------------- the server


class OpenAIServer:
    """The running server. Get one from :func:`serve_openai`.

    Attributes:
        base_url: ``http://127.0.0.1:PORT/v1``, what the openai client takes as ``base_url``.
        latency_s: Seconds every request waits before its answer (change it at any time).
    """

    def __init__(
        self,
        *,
        latency_s: float = 0.0,
        default: ScriptItem | None = None,
        models: Sequence[str] = ("judge-model",),
    ) -> None:
        self.latency_s = latency_s
        self._default: ScriptItem = default if default is not None else reply("OK")
        self._models = tuple(models)
        self._queue: deque[ScriptItem] = deque()
        self._requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        # Set on shutdown: handlers waiting out a delay wake up, so exiting is never slow.
        self._stopping = threading.Event()
        # Open client connections, closed on stop so no keep-alive handler thread outlives the server.
        self._connections: set[socket.socket] = set()
        self._in_flight = 0
        self._max_in_flight = 0
        self._httpd = _Server(("127.0.0.1", 0), _make_handler(self))
        # A short poll interval keeps shutdown (one poll) fast; tests start many servers.
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, args=(0.02,), name="openai-test-server", daemon=True
        )

    @property
    def port(self) -> int:
        """The TCP port the server listens on."""
        return self._httpd.server_address[1]

    @property
    def base_url(self) -> str:
        """The base URL for an OpenAI client."""
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def requests(self) -> list[RecordedRequest]:
        """A snapshot of every request received so far, in arrival order."""
        with self._lock:
            return list(self._requests)

    @property
    def chat_requests(self) -> list[RecordedRequest]:
        """Only the ``POST /v1/chat/completions`` requests."""
        return [r for r in self.requests if r.path.endswith("/chat/completions")]

    def script(self, *items: ScriptItem) -> None:
        """Queue behaviours for the next requests, one each, in order.

        Args:
            *items: Behaviours, or callables ``RecordedRequest -> Behaviour``.
        """
        with self._lock:
            self._queue.extend(items)

    def set_default(self, item: ScriptItem) -> None:
        """Set what answers when the script queue is empty."""
        with self._lock:
            self._default = item

    def reset(self) -> None:
        """Forget recorded requests and queued behaviours (the default stays)."""
        with self._lock:
            self._requests.clear()
            self._queue.clear()
            self._max_in_flight = self._in_flight

    @property
    def max_in_flight(self) -> int:
        """The most chat requests that were being answered at the same moment (checks concurrency)."""
        with self._lock:
            return self._max_in_flight

    @property
    def pending(self) -> int:
        """How many scripted behaviours have not been used yet."""
        with self._lock:
            return len(self._queue)

    # -- lifecycle

    def start(self) -> OpenAIServer:
        """Start serving in a background thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket; waits at most a few seconds."""
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):  # already closed by the client
                connection.shutdown(socket.SHUT_RDWR)
        self._thread.join(timeout=5)

    # -- used by the handler

    def _next(self, request: RecordedRequest) -> Behaviour:
        with self._lock:
            self._requests.append(request)
            item = self._queue.popleft() if self._queue else self._default
        return item(request) if callable(item) else item

    def _enter(self) -> None:
        with self._lock:
            self._in_flight += 1
            self._max_in_flight = max(self._max_in_flight, self._in_flight)

    def _leave(self) -> None:
        with self._lock:
            self._in_flight -= 1

    def _wait(self, seconds: float) -> None:
        if seconds > 0:
            self._stopping.wait(seconds)

    def _models_body(self) -> dict:
        return {
            "object": "list",
            "data": [{"id": m, "object": "model", "created": 0, "owned_by": "tests"} for m in self._models],
        }


class _Server(ThreadingHTTPServer):
    # The stdlib's backlog of 5 overflows when a client opens 16+ connections at once, and the
    # kernel then resets some of them; real servers listen with a deep backlog.
    request_queue_size = 128
    daemon_threads = True


def _completion_body(behaviour: Behaviour, request: RecordedRequest) -> dict:
    body = request.body if isinstance(request.body, dict) else {}
    if behaviour.kind == "empty_choices":
        choices: list[dict] = []
        completion_tokens = 0
    else:
        text = behaviour.text
        tokens = split_tokens(text or "")
        choice: dict[str, Any] = {
            "index": 0,
            "message": {"role": "assistant", "content": text},
            "finish_reason": behaviour.finish_reason,
            "logprobs": None,
        }
        wanted = bool(body.get("logprobs")) if behaviour.logprobs == "auto" else behaviour.logprobs
        if wanted:
            choice["logprobs"] = {"content": _logprobs(tokens, behaviour, body.get("top_logprobs"))}
        choices = [choice]
        completion_tokens = len(tokens)
    prompt_tokens = len(split_tokens(request.text)) + 85 * len(request.image_urls)
    return {
        "id": f"chatcmpl-test-{int(request.received_at * 1e6)}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model", "judge-model"),
        "choices": choices,
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


def _logprobs(tokens: list[str], behaviour: Behaviour, top_n: int | None) -> list[dict]:
    out = []
    for token in tokens:
        alternatives = list(behaviour.alternatives.get(token, ()))
        own = dict(alternatives).get(token, DEFAULT_TOKEN_LOGPROB)
        if not any(t == token for t, _ in alternatives):
            alternatives.insert(0, (token, own))
        # Real servers list the top alternatives best first and return as many as asked.
        alternatives.sort(key=lambda pair: pair[1], reverse=True)
        top = alternatives[: top_n or 0]
        out.append(
            {
                "token": token,
                "logprob": own,
                "bytes": list(token.encode()),
                "top_logprobs": [{"token": t, "logprob": lp, "bytes": list(t.encode())} for t, lp in top],
            }
        )
    return out


def _make_handler(server: OpenAIServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        # HTTP/1.1 keeps connections alive, as real API servers do; every response has a length.
        protocol_version = "HTTP/1.1"
        # Headers and body go out in two writes; with Nagle on, each answer would wait ~40 ms for
        # the client's delayed ACK. Real servers disable it too.
        disable_nagle_algorithm = True

        def setup(self) -> None:
            super().setup()
            with server._lock:
                server._connections.add(self.connection)

        def finish(self) -> None:
            with server._lock:
                server._connections.discard(self.connection)
            with contextlib.suppress(OSError):  # the peer vanished mid-answer
                super().finish()

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
            """Silence the per-request stderr lines; tests read ``server.requests`` instead."""

        def do_GET(self) -> None:  # noqa: N802 - stdlib naming
            recorded = self._record(b"")
            if recorded.path.rstrip("/").endswith("/models"):
                self._send_json(200, server._models_body())
            else:
                self._send_json(404, {"error": {"message": f"No route {recorded.path}", "type": "not_found"}})

        def do_POST(self) -> None:  # noqa: N802 - stdlib naming
            length = int(self.headers.get("Content-Length") or 0)
            recorded = self._record(self.rfile.read(length))
            if not recorded.path.rstrip("/").endswith("/chat/completions"):
                self._send_json(404, {"error": {"message": f"No route {recorded.path}", "type": "not_found"}})
                return
            server._enter()
            try:
                self._answer(recorded)
            finally:
                server._leave()

        def _answer(self, recorded: RecordedRequest) -> None:
            behaviour = server._next(recorded)
            server._wait(server.latency_s + behaviour.delay_s)
            if server._stopping.is_set():
                return
            if behaviour.kind == "status":
                error = {"message": behaviour.message, "type": "test_error", "code": behaviour.status}
                self._send_json(behaviour.status, {"error": error}, behaviour.headers)
            elif behaviour.kind == "raw":
                self._send_raw(200, json.dumps(behaviour.payload).encode(), "application/json")
            elif behaviour.kind == "trickle":
                self._trickle(float(behaviour.payload))
            elif behaviour.kind == "malformed":
                self._send_raw(200, b'{"id": "chatcmpl-broken", "choices": [', "application/json")
            else:
                self._send_json(200, _completion_body(behaviour, recorded))

        def _trickle(self, interval_s: float) -> None:
            try:
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", "100000000")
                self.end_headers()
                self.wfile.write(b"{")
                self.wfile.flush()
                while not server._stopping.wait(interval_s):
                    self.wfile.write(b" ")
                    self.wfile.flush()
            except OSError:
                pass  # the client gave up, as it should
            self.close_connection = True

        def _record(self, raw: bytes) -> RecordedRequest:
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = None
            recorded = RecordedRequest(
                method=self.command,
                path=self.path,
                headers={k.lower(): v for k, v in self.headers.items()},
                raw=raw,
                body=body,
                received_at=time.monotonic(),
            )
            if self.command == "GET":
                with server._lock:
                    server._requests.append(recorded)
            return recorded

        def _send_json(self, code: int, payload: dict, headers: Mapping[str, str] | None = None) -> None:
            self._send_raw(code, json.dumps(payload).encode(), "application/json", headers)

        def _send_raw(
            self, code: int, data: bytes, content_type: str, headers: Mapping[str, str] | None = None
        ) -> None:
            try:
                self.send_response(code)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                # The client gave up (a timeout test); nothing is waiting for this answer.
                self.close_connection = True

    return Handler


@contextmanager
def serve_openai(
    *,
    latency_s: float = 0.0,
    default: ScriptItem | None = None,
    models: Sequence[str] = ("judge-model",),
) -> Iterator[OpenAIServer]:
    """Run an OpenAI-compatible server on 127.0.0.1 for the duration of a ``with`` block.

    Args:
        latency_s: Seconds every request waits before being answered (e.g. 0.2 for benchmarks).
        default: What answers when the script is empty: a Behaviour or a callable
            ``RecordedRequest -> Behaviour``. Defaults to ``reply("OK")``.
        models: Model ids listed by ``GET /v1/models``.

    Yields:
        The running :class:`OpenAIServer`; it is shut down when the block exits.
    """
    server = OpenAIServer(latency_s=latency_s, default=default, models=models).start()
    try:
        yield server
    finally:
        server.stop()
