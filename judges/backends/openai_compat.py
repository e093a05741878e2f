"""The ``openai`` backend: any server that speaks OpenAI's chat-completions protocol.

OpenAI itself, vLLM, Hugging Face Inference Providers (``https://router.huggingface.co/v1``),
Gemini's OpenAI endpoint and Ollama all accept the same request, so one backend covers them; what
differs between their models (vision, log-probabilities, temperature, system prompt) is declared
in :class:`~judges.types.Capabilities` and obeyed here.

Requests go through :mod:`judges.backends.http_client`, our own small HTTP/1.1 client (no SDK on
the path: its request building and httpcore2's pool were most of the client's CPU per judgment).
Every connection passes the endpoint guard of :mod:`judges.endpoints`: the address actually
connected to is checked at connect time (link-local always refused; loopback and private networks
refused when ``public_only``, which a public Space sets). Redirects are not followed (a redirect is
reported with where it points, never with its body), and every attempt has a total deadline of
``timeout_s``, so a server that trickles its answer is cut off. HTTPS verifies the server's
certificate (the system's trust store, or ``ssl_context``). No request is logged, and URLs in
messages never carry ``user:password@`` (nor is it sent).

A reply field that cannot be read (a ``logprob`` that is not a number, ``usage`` counts that are
not numbers, content parts that are not text) is dropped: probabilities or usage become unknown,
and unreadable content is an empty output (unscored, so the Judge re-asks), never a traceback.

Retries (429, 408, 5xx, timeouts, lost connections) are done here, with exponential backoff and
jitter, honouring ``Retry-After``. Every message raised or logged goes through
:func:`judges.errors.redact`, and errors are raised outside the ``except`` block that caught the
transport's failure, so no traceback chain carries the request.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import math
import os
import random
import ssl
import threading
import time
import weakref
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any, Literal
from urllib.parse import urlsplit

from judges.backends.http_client import (
    MAX_BODY_BYTES,
    AsyncPool,
    BodyTooLarge,
    ConnectFailed,
    DeadlinePassed,
    HTTPFailure,
    Origin,
    Response,
    SyncPool,
)
from judges.backends.proxy import proxy_for
from judges.errors import (
    AuthenticationFailed,
    BackendError,
    BackendTimeout,
    BackendUnavailable,
    BadInput,
    BadResponse,
    ConfigError,
    JudgeError,
    MissingApiKey,
    RateLimited,
    redact,
    strip_userinfo,
)
from judges.images import to_data_url
from judges.types import (
    Capabilities,
    ChatRequest,
    Completion,
    ImagePart,
    Message,
    TextPart,
    TokenLogprob,
    Usage,
    text_problem,
)

logger = logging.getLogger(__name__)

OPENAI_DEFAULT_BASE_URL = "https://api.openai.com/v1"
#: Sent to loopback servers (vLLM, Ollama on this machine) that ignore the key; the client needs one.
LOCAL_PLACEHOLDER_KEY = "not-needed"
#: Longest server-requested wait (Retry-After) we honour; beyond it we fall back to our own backoff.
MAX_RETRY_AFTER_S = 60.0

MaxTokensParam = Literal["max_tokens", "max_completion_tokens"]


def create(model: str, **options: Any) -> OpenAICompatBackend:
    """Build the backend directly (no key resolution: pass ``api_key``, or use the registry).

    Args:
        model: The model id the server knows (``gpt-4o``, ``Qwen/Qwen2.5-VL-7B-Instruct``...).
        **options: Keyword arguments of :class:`OpenAICompatBackend`.
    """
    return OpenAICompatBackend(model, **options)


def is_loopback_url(url: str | None) -> bool:
    """Whether ``url`` points at this machine (a server that usually needs no API key)."""
    if not url:
        return False
    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


#: The chat-completions route, relative to the base URL.
CHAT_PATH = "/chat/completions"
#: Sent with every request, so server operators can tell the judge's traffic apart.
USER_AGENT = "mllm-judge/1 (OpenAI-compatible chat client)"


@dataclass(frozen=True)
class PreparedRequest:
    """A request with its JSON body built (:meth:`OpenAICompatBackend.prepare`).

    Attributes:
        request: The request.
        payload: The body as a dict (the JSON-schema fallback sends a copy without its schema).
        body: The encoded body.
    """

    request: ChatRequest
    payload: dict[str, Any]
    body: bytes


class StatusError(BackendError):
    """An answer that is not a success (3xx, 4xx, 5xx): the backend's own control flow, turned into
    a :mod:`judges.errors` class with a message before callers see it.

    Attributes:
        response: The answer, read whole.
    """

    def __init__(self, response: Response) -> None:
        super().__init__(f"HTTP {response.status}")
        self.response = response

    @property
    def status(self) -> int:
        """The status code."""
        return self.response.status


class OpenAICompatBackend:
    """A judge model behind an OpenAI-compatible chat-completions endpoint.

    Attributes:
        name: Display name, ``openai:<model>`` unless given.
        model: The model id sent with every request.
        capabilities: What the model accepts; requests are adapted to it.
        base_url: The server's base URL (ends in ``/v1`` for most servers).
    """

    def __init__(
        self,
        model: str,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        api_key_env: str | None = "OPENAI_API_KEY",
        capabilities: Capabilities | None = None,
        timeout_s: float = 60.0,
        max_retries: int = 3,
        concurrency: int = 8,
        image_max_side: int | None = 1024,
        extra_body: dict[str, Any] | None = None,
        name: str | None = None,
        max_tokens_param: MaxTokensParam = "max_tokens",
        backoff_base_s: float = 0.5,
        backoff_max_s: float = 8.0,
        public_only: bool = False,
        ssl_context: ssl.SSLContext | None = None,
        max_response_bytes: int = MAX_BODY_BYTES,
    ) -> None:
        """Configure the backend; no request is made until the first completion.

        Args:
            model: The model id the server knows.
            base_url: The server's base URL; None means OpenAI's.
            api_key: The key, resolved by :class:`~judges.settings.Settings` (the backend never
                reads the environment itself).
            api_key_env: The variable the key was meant to come from, named in error messages.
                None: the judge may receive no secret (an endpoint typed by a visitor must not
                receive the Space's secrets); without a key such a backend sends a placeholder and
                lets the server decide.
            capabilities: What the model accepts (default: vision, no log-probabilities).
            timeout_s: Seconds one attempt may take in all (connect, send, the whole answer).
            max_retries: Retries after a 429, 5xx, timeout or connection error.
            concurrency: Default number of simultaneous requests in :meth:`complete_many`.
            image_max_side: Images are downscaled to this long side before upload (None: never).
            extra_body: Extra JSON fields for servers with their own options (vLLM, Ollama...).
            name: Display name.
            max_tokens_param: ``max_tokens`` (accepted by most servers) or ``max_completion_tokens``
                (required by OpenAI's reasoning models).
            backoff_base_s: First retry delay; doubled at each retry, with jitter.
            backoff_max_s: Longest delay between two retries.
            public_only: Refuse to connect to loopback and private addresses (a public Space);
                link-local addresses are refused always.
            ssl_context: TLS settings for an ``https`` base URL (a private CA, say); None: the
                system's trust store, certificates verified.
            max_response_bytes: Largest answer body accepted; a larger one is a BadResponse.

        Raises:
            MissingApiKey: No key was given, the judge declares a key variable and the server is
                not on this machine.
            ConfigError: An option is out of range, or the base URL is not an http(s) URL.
        """
        if max_tokens_param not in ("max_tokens", "max_completion_tokens"):
            raise ConfigError(
                f"max_tokens_param must be 'max_tokens' or 'max_completion_tokens', got {max_tokens_param!r}."
            )
        if not (isinstance(timeout_s, int | float) and math.isfinite(timeout_s)) or timeout_s <= 0:
            raise ConfigError(f"timeout_s must be a positive number of seconds, got {timeout_s!r}.")
        if max_retries < 0 or concurrency < 1:
            raise ConfigError(
                "timeout_s must be positive, max_retries at least 0 and concurrency at least 1 "
                f"(got {timeout_s}, {max_retries}, {concurrency})."
            )
        self.model = model
        self.name = name or f"openai:{model}"
        self.base_url = (base_url or OPENAI_DEFAULT_BASE_URL).rstrip("/")
        #: The base URL as messages show it: without ``user:password@``.
        self.shown_url = strip_userinfo(self.base_url)
        self.public_only = bool(public_only)
        self.capabilities = capabilities or Capabilities(vision=True, logprobs=False)
        self.timeout_s = float(timeout_s)
        self.max_retries = int(max_retries)
        self.concurrency = int(concurrency)
        self.image_max_side = image_max_side
        self.extra_body = dict(extra_body) if extra_body else None
        self.max_tokens_param = max_tokens_param
        self.backoff_base_s = backoff_base_s
        self.backoff_max_s = backoff_max_s
        self._api_key_env = api_key_env
        if max_response_bytes < 1:
            raise ConfigError(f"max_response_bytes must be at least 1, got {max_response_bytes!r}.")
        try:
            self._origin = Origin.parse(self.base_url)
        except ValueError:
            raise ConfigError(
                f"The base URL {self.shown_url!r} of {self.name} is not an http:// or https:// URL with a "
                "host (and a numeric port, if any); it usually ends in /v1."
            ) from None
        self.ssl_context = ssl_context
        self.max_response_bytes = int(max_response_bytes)
        self._api_key = self._resolve_key(api_key)
        self._target = self._origin.target(CHAT_PATH)
        # Built once: the same headers go with every request (h11 adds the body's length).
        self._headers = [
            (b"host", self._origin.host_header.encode("idna" if not self._origin.host.isascii() else "ascii")),
            (b"user-agent", USER_AGENT.encode()),
            (b"accept", b"application/json"),
            (b"content-type", b"application/json"),
            (b"authorization", b"Bearer " + self._api_key.encode("ascii")),
        ]
        self._pool: SyncPool | None = None
        self._pool_lock = threading.Lock()
        # acomplete() runs on the caller's loop; an async pool must not outlive or cross loops.
        self._async_pool: AsyncPool | None = None
        self._async_loop: weakref.ref[asyncio.AbstractEventLoop] | None = None
        # Set once the server has refused a JSON schema (and accepted the same request without
        # one): later requests go without it instead of failing once each.
        self.schema_refused = not self.capabilities.structured_output

    def __repr__(self) -> str:
        return f"OpenAICompatBackend(name={self.name!r}, model={self.model!r}, base_url={self.shown_url!r})"

    # ------------------------------------------------------------------ public API

    def complete(self, request: ChatRequest) -> Completion:
        """Answer one request, retrying transient failures.

        Raises:
            BadInput: The request has images and the model is text-only.
            BackendError: A subclass saying what failed and how to fix it.
        """
        payload = self._payload(request)
        body = _body(payload)
        pool = self._sync_pool()
        start = time.perf_counter()
        attempt = 0
        while True:
            try:
                answer = pool.post(self._target, self._headers, body, self.timeout_s)
                if not 200 <= answer.status < 300:
                    raise StatusError(answer)
                return self._structured(request, payload, self._completion(answer.body, start))
            except (HTTPFailure, StatusError) as exc:
                outcome = self._after_failure(exc, attempt, payload)
            # Raised here, outside the except block, so the transport's failure is not even chained.
            if isinstance(outcome, JudgeError):
                raise outcome from None
            if isinstance(outcome, dict):
                payload = outcome
                body = _body(payload)
                continue
            time.sleep(outcome)
            attempt += 1

    async def acomplete(self, request: ChatRequest) -> Completion:
        """Answer one request from async code (on the caller's event loop).

        Raises:
            BadInput: The request has images and the model is text-only.
            BackendError: A subclass saying what failed and how to fix it.
        """
        return await self._asend_with(self._loop_pool(), self.prepare(request))

    def prepare(self, request: ChatRequest) -> PreparedRequest:
        """Build a request's body, on any thread, ahead of :meth:`asend`.

        A caller that feeds one event loop from worker threads (the benchmark runner) builds bodies
        on the workers, so the loop's thread only sends and reads.

        Raises:
            BadInput: The request has images and the model is text-only (and the like).
        """
        payload = self._payload(request)
        return PreparedRequest(request, payload, _body(payload))

    async def asend(self, prepared: PreparedRequest) -> Completion:
        """Send a request built by :meth:`prepare`, on the caller's event loop (as :meth:`acomplete`).

        Raises:
            BackendError: A subclass saying what failed and how to fix it.
        """
        return await self._asend_with(self._loop_pool(), prepared)

    def complete_many(
        self, requests: Sequence[ChatRequest], concurrency: int | None = None
    ) -> list[Completion | JudgeError]:
        """Answer many requests concurrently, at most ``concurrency`` in flight.

        Safe to call from any thread. When the calling thread already runs an event loop (a
        notebook, an async web handler), the work runs on a helper thread's loop instead.

        Args:
            requests: The requests, answered in any order but returned in this order.
            concurrency: Simultaneous requests; defaults to the backend's ``concurrency``.

        Returns:
            One slot per request: its Completion, or the JudgeError that ended it.
        """
        if not requests:
            return []
        limit = max(1, concurrency or self.concurrency)
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return asyncio.run(self._run_many(list(requests), limit))
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="judge-complete-many") as pool:
            return pool.submit(asyncio.run, self._run_many(list(requests), limit)).result()

    def close(self) -> None:
        """Close the connections of the synchronous path.

        The connections :meth:`acomplete` keeps on a loop are closed by :meth:`aclose`; those of
        :meth:`complete_many` live only for that call.
        """
        with self._pool_lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.close()

    async def aclose(self) -> None:
        """Close the connections :meth:`acomplete` keeps on the current loop, and the synchronous ones."""
        pool, self._async_pool, self._async_loop = self._async_pool, None, None
        if pool is not None:
            await pool.aclose()
        self.close()

    # ------------------------------------------------------------------ connections

    def _sync_pool(self) -> SyncPool:
        with self._pool_lock:
            if self._pool is None:
                self._pool = SyncPool(
                    self._origin,
                    public=self.public_only,
                    ssl_context=self.ssl_context,
                    max_body=self.max_response_bytes,
                    proxy=proxy_for(self._origin.host, tls=self._origin.tls),
                )
            return self._pool

    def _new_async_pool(self) -> AsyncPool:
        return AsyncPool(
            self._origin,
            public=self.public_only,
            ssl_context=self.ssl_context,
            max_body=self.max_response_bytes,
            proxy=proxy_for(self._origin.host, tls=self._origin.tls),
        )

    def _loop_pool(self) -> AsyncPool:
        loop = asyncio.get_running_loop()
        if self._async_pool is None or self._async_loop is None or self._async_loop() is not loop:
            self._async_pool = self._new_async_pool()
            self._async_loop = weakref.ref(loop)
        return self._async_pool

    async def _run_many(self, requests: list[ChatRequest], limit: int) -> list[Completion | JudgeError]:
        semaphore = asyncio.Semaphore(limit)
        # A pool of its own: this loop ends with the call, and connections must not outlive it.
        pool = self._new_async_pool()

        async def one(request: ChatRequest) -> Completion | JudgeError:
            async with semaphore:
                try:
                    return await self._asend_with(pool, self.prepare(request))
                except JudgeError as exc:
                    return exc

        try:
            return list(await asyncio.gather(*(one(r) for r in requests)))
        finally:
            await pool.aclose()

    async def _asend_with(self, pool: AsyncPool, prepared: PreparedRequest) -> Completion:
        request, payload, body = prepared.request, prepared.payload, prepared.body
        start = time.perf_counter()
        attempt = 0
        while True:
            try:
                answer = await pool.post(self._target, self._headers, body, self.timeout_s)
                if not 200 <= answer.status < 300:
                    raise StatusError(answer)
                return self._structured(request, payload, self._completion(answer.body, start))
            except (HTTPFailure, StatusError) as exc:
                outcome = self._after_failure(exc, attempt, payload)
            if isinstance(outcome, JudgeError):
                raise outcome from None
            if isinstance(outcome, dict):
                payload = outcome
                body = _body(payload)
                continue
            await asyncio.sleep(outcome)
            attempt += 1

    # ------------------------------------------------------------------ request building

    def _resolve_key(self, api_key: str | None) -> str:
        # The key arrives resolved (judges.settings is the one resolver); here only what to send
        # when there is none.
        key = (api_key or "").strip()
        if key:
            if not key.isprintable() or not key.isascii() or " " in key:
                # Not sendable in a header; the key itself is never shown.
                raise ConfigError(
                    f"The API key for {self.name} holds spaces, control or non-ASCII characters; copy it "
                    "again without them."
                )
            return key
        env = self._api_key_env
        if env is None or is_loopback_url(self.base_url):
            return LOCAL_PLACEHOLDER_KEY
        # Said for every caller: the command line has only the environment; a UI that takes a typed
        # key adds its own hint (``MissingApiKey.variable`` names the variable).
        raise MissingApiKey(
            f"The judge {self.name} needs an API key for {self.shown_url}: set the environment "
            f"variable {env} (on a Space, a secret of that name).",
            variable=env,
        )

    def _payload(self, request: ChatRequest) -> dict[str, Any]:
        caps = self.capabilities
        sampling = request.sampling
        payload: dict[str, Any] = {"model": self.model, "messages": self._messages(request.messages)}
        if caps.temperature:
            if sampling.temperature is not None:
                payload["temperature"] = sampling.temperature
            if sampling.top_p is not None:
                payload["top_p"] = sampling.top_p
        payload[self.max_tokens_param] = sampling.max_tokens
        if sampling.seed is not None:
            payload["seed"] = sampling.seed
        if sampling.logprobs and caps.logprobs:
            payload["logprobs"] = True
            if sampling.top_logprobs > 0:
                payload["top_logprobs"] = sampling.top_logprobs
        schema = request.response_format
        if schema is not None and not self.schema_refused:
            payload["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": schema.name, "schema": dict(schema.schema), "strict": True},
            }
        if self.extra_body:
            # Merged into the body, over our fields: the server's own options.
            payload = {**payload, **self.extra_body}
        return payload

    def _structured(self, request: ChatRequest, payload: dict[str, Any], completion: Completion) -> Completion:
        """Say on the completion whether its request went with the JSON schema it asked for."""
        if request.response_format is None:
            return completion
        sent = "response_format" in payload
        if not sent and not self.schema_refused:
            # Sent without the schema although none had been refused yet: the server refused this
            # request's schema, and the same request without it passed, so the schema was the cause.
            self.schema_refused = True
            logger.warning("%s: the server refuses JSON schemas; sending later requests without one", self.name)
        return replace(completion, structured=sent)

    def _messages(self, messages: Sequence[Message]) -> list[dict[str, Any]]:
        images = sum(len(m.images) for m in messages)
        if images and not self.capabilities.vision:
            raise BadInput(
                f"The judge {self.name} is text-only and cannot see images. Choose the no-figure "
                "or the vision-expert setting (an image description instead of the image)."
            )
        limit = self.capabilities.max_images
        if limit is not None and images > limit:
            raise BadInput(
                f"The judge {self.name} accepts at most {limit} image{'s' if limit != 1 else ''} per request; "
                f"got {images}."
            )
        for message in messages:
            problem = text_problem(f"A {message.role} message", message.text)
            if problem:
                raise BadInput(f"{self.name}: {problem}.")
        if not self.capabilities.system_prompt:
            messages = _merge_system(messages)
        return [{"role": m.role, "content": self._content(m)} for m in messages]

    def _content(self, message: Message) -> str | list[dict[str, Any]]:
        # Plain strings for text-only messages: some servers' chat templates reject part lists
        # in system and assistant turns.
        if not message.images:
            return message.text
        parts: list[dict[str, Any]] = []
        for part in message.content:
            if isinstance(part, TextPart):
                parts.append({"type": "text", "text": part.text})
            elif isinstance(part, ImagePart):
                url = to_data_url(part, self.image_max_side)
                parts.append({"type": "image_url", "image_url": {"url": url, "detail": "auto"}})
        return parts

    # ------------------------------------------------------------------ responses

    def _completion(self, content: bytes, start: float) -> Completion:
        """Read a chat completion out of a raw response body."""
        try:
            body = json.loads(content)
        except ValueError:
            raise BadResponse(
                f"{self.name}: the server at {self.shown_url} answered with a body that is not JSON "
                f"({self._clean(content[:120].decode('utf-8', 'replace'))!r}). Check the base URL "
                "points at an OpenAI-compatible /v1 endpoint."
            ) from None
        choices = body.get("choices") if isinstance(body, dict) else None
        if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
            raise BadResponse(
                f"{self.name}: the server answered without any choice (no completion). "
                "Try again; if it persists, check the model name and the server's logs."
            )
        choice = choices[0]
        message = choice.get("message")
        if not isinstance(message, dict):
            message = {}
        model = body.get("model")
        finish = choice.get("finish_reason")
        return Completion(
            text=_text_of(message.get("content")),
            model=model[:200] if isinstance(model, str) and model else self.model,
            latency_s=time.perf_counter() - start,
            usage=_usage_of(body.get("usage")),
            tokens=_tokens_of(choice.get("logprobs")),
            finish_reason=finish if isinstance(finish, str) else None,
        )

    # ------------------------------------------------------------------ retries and errors

    def _retry_delay(self, exc: HTTPFailure | StatusError, attempt: int) -> float | None:
        """Seconds to wait before retrying ``exc``, or None when it must not be retried."""
        if attempt >= self.max_retries:
            return None
        if isinstance(exc, StatusError):
            code = exc.status
            if code != 429 and code < 500 and code != 408:
                return None
            retry_after = _retry_after(exc.response)
            if retry_after is not None:
                return retry_after
        elif isinstance(exc, BodyTooLarge) or (
            isinstance(exc, ConnectFailed) and (exc.refusal or exc.certificate or 400 <= exc.proxy_status < 500)
        ):
            return None  # the same answer again
        # Full jitter on the upper half: concurrent requests that failed together spread out.
        ceiling = min(self.backoff_max_s, self.backoff_base_s * 2**attempt)
        return ceiling * (0.5 + random.random() / 2)

    def _after_failure(
        self, exc: HTTPFailure | StatusError, attempt: int, payload: dict[str, Any]
    ) -> JudgeError | float | dict[str, Any]:
        """The error to raise for ``exc``, the seconds to wait before retrying (logged), or the
        payload to send at once instead: the same request without a JSON schema the server refused.
        """
        if "response_format" in payload and isinstance(exc, StatusError) and exc.status in (400, 422):
            logger.info("%s: HTTP %d with a JSON schema; asking again without it", self.name, exc.status)
            return {k: v for k, v in payload.items() if k != "response_format"}
        delay = self._retry_delay(exc, attempt)
        if delay is None:
            return self._translate(exc, attempt)
        logger.warning(
            "%s: %s; retry %d of %d in %.2f s",
            self.name,
            self._clean(_describe(exc)),
            attempt + 1,
            self.max_retries,
            delay,
        )
        return delay

    def _translate(self, exc: HTTPFailure | StatusError, attempt: int) -> JudgeError:
        """The library error for a transport failure or an HTTP error, with a message saying what to do."""
        tries = f"{attempt + 1} attempt{'s' if attempt else ''}"
        code = exc.status if isinstance(exc, StatusError) else 0
        if isinstance(exc, ConnectFailed) and exc.refusal:
            error: JudgeError = ConfigError(
                f"{self.name}: did not connect to {self.shown_url}: {exc.refusal}. Use the endpoint's public "
                "URL, or run the app yourself (python app.py) to judge with a server on your own network."
            )
        elif isinstance(exc, ConnectFailed) and exc.certificate:
            error = BackendUnavailable(
                f"{self.name}: the TLS certificate of {self.shown_url} was not accepted ({exc.certificate}). "
                "Check the base URL's host name; a server with a private certificate authority needs "
                "that authority trusted (SSL_CERT_FILE)."
            )
        elif isinstance(exc, ConnectFailed) and exc.proxy:
            error = BackendUnavailable(
                f"{self.name}: {exc} on the way to {self.shown_url} ({tries}). Check the proxy the "
                "environment names (https_proxy or http_proxy, and its user:password), or list the "
                "server's host in no_proxy to reach it directly."
            )
        elif isinstance(exc, DeadlinePassed):
            error = BackendTimeout(
                f"{self.name}: no complete answer from {self.shown_url} within {self.timeout_s:g} s "
                f"({tries}). The server may be overloaded or sending its answer too slowly; try again, "
                "or raise the timeout with the environment variable JUDGE_TIMEOUT_S."
            )
        elif isinstance(exc, BodyTooLarge):
            error = BadResponse(
                f"{self.name}: the answer from {self.shown_url} is larger than "
                f"{exc.limit / 2**20:g} MiB, more than a chat completion needs; it was not read. Check "
                "the base URL points at an OpenAI-compatible /v1 endpoint, or lower max_tokens."
            )
        elif isinstance(exc, HTTPFailure):
            error = BackendUnavailable(
                f"{self.name}: cannot reach {self.shown_url} ({tries}). Is the server running, and is "
                "the base URL right (it usually ends in /v1)?"
            )
        elif isinstance(exc, StatusError) and 300 <= code < 400:
            # Never the body: a redirect may come from, or point at, a host we must not show.
            location = strip_userinfo(str(exc.response.headers.get("location") or "")[:200])
            error = BackendError(
                f"{self.name}: {self.shown_url} answered with a redirect (HTTP {code})"
                + (f" to {location}" if location else "")
                + ", which the judge does not follow. Use the final address as the base URL."
            )
        elif code in (401, 403):
            error = AuthenticationFailed(
                f"{self.name}: the server rejected the API key (HTTP {code}: "
                f"{_server_message(exc)}). Check the key "
                + (f"in {self._api_key_env} (or the one given with the request)." if self._api_key_env else "given.")
            )
        elif code == 429:
            error = RateLimited(
                f"{self.name}: still rate-limited (HTTP 429) after {tries}. Wait a minute, lower "
                f"JUDGE_CONCURRENCY, or check the quota of the key. Server said: {_server_message(exc)}"
            )
        elif code == 404:
            error = BackendError(
                f"{self.name}: HTTP 404 from {self.shown_url}: {_server_message(exc)}. Check the model "
                f"name {self.model!r} and the base URL."
            )
        elif code >= 500:
            error = BackendError(
                f"{self.name}: server error HTTP {code} after {tries}: {_server_message(exc)}. Try again later."
            )
        else:
            error = BackendError(f"{self.name}: the server refused the request (HTTP {code}): {_server_message(exc)}")
        return type(error)(self._clean(str(error)))

    def _clean(self, text: str) -> str:
        return redact(text, [self._api_key])


# ---------------------------------------------------------------------- helpers


def _merge_system(messages: Sequence[Message]) -> tuple[Message, ...]:
    """Fold system messages into the first user message, for models without a system role."""
    system = "\n\n".join(m.text for m in messages if m.role == "system" and m.text)
    rest = [m for m in messages if m.role != "system"]
    if not system:
        return tuple(rest)
    for i, message in enumerate(rest):
        if message.role == "user":
            merged = Message("user", (TextPart(system + "\n\n"), *message.content))
            return (*rest[:i], merged, *rest[i + 1 :])
    return (Message("user", (TextPart(system),)), *rest)


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # some servers answer with a list of parts; unreadable parts count as nothing
        return "".join(p["text"] for p in content if isinstance(p, dict) and isinstance(p.get("text"), str))
    return ""


def _count(value: Any) -> int | None:
    """A token count as reported, or None when it is not a usable whole number."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 <= value < 2**53 else None
    if isinstance(value, float) and value.is_integer() and 0 <= value < 2**53:
        return int(value)
    return None


def _usage_of(usage: Any) -> Usage | None:
    if not isinstance(usage, dict):
        return None
    prompt, completion = (_count(usage.get(key, 0) or 0) for key in ("prompt_tokens", "completion_tokens"))
    if prompt is None or completion is None:
        return None  # unknown rather than wrong
    return Usage(prompt, completion)


def _logprob(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if number <= 0 and not math.isnan(number) else None


def _tokens_of(logprobs: Any) -> tuple[TokenLogprob, ...] | None:
    """Per-token log-probabilities, or None when any entry cannot be read (then they are unknown)."""
    content = logprobs.get("content") if isinstance(logprobs, dict) else None
    if not isinstance(content, list) or not content:
        return None
    tokens = []
    for item in content:
        if not isinstance(item, dict) or not isinstance(item.get("token"), str):
            return None
        logprob = _logprob(item.get("logprob"))
        top_raw = item.get("top_logprobs") or ()
        if logprob is None or not isinstance(top_raw, list | tuple):
            return None
        top = []
        for alternative in top_raw:
            if not isinstance(alternative, dict) or not isinstance(alternative.get("token"), str):
                return None
            alt_logprob = _logprob(alternative.get("logprob"))
            if alt_logprob is None:
                return None
            top.append((alternative["token"], alt_logprob))
        tokens.append(TokenLogprob(token=item["token"], logprob=logprob, top=tuple(top)))
    return tuple(tokens)


#: Stands for an image's data URL while the rest of the body is JSON-encoded (random, so no text
#: can hold it by chance; a body where it is not found exactly once per image is encoded plainly).
_IMAGE_MARK = "judge-image-" + os.urandom(8).hex()


def _body(payload: dict[str, Any]) -> bytes:
    """The request's JSON, compact and ASCII (a lone surrogate in a text cannot break the encoding).

    Images' data URLs (base64, JSON-safe as they are) are spliced into the encoded body rather than
    passed through the JSON encoder, which scans every character of a string for escapes: for a
    90 KB photo that scan was half of the client's CPU per request.
    """
    urls: list[str] = []
    messages = []
    for message in payload.get("messages") or ():
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, list):
            parts = []
            for part in content:
                url = part.get("image_url", {}).get("url") if isinstance(part, dict) else None
                if isinstance(url, str) and _json_safe(url):
                    urls.append(url)
                    part = {**part, "image_url": {**part["image_url"], "url": _IMAGE_MARK}}
                parts.append(part)
            message = {**message, "content": parts}
        messages.append(message)
    if not urls:
        return json.dumps(payload, separators=(",", ":")).encode("ascii")
    pieces = json.dumps({**payload, "messages": messages}, separators=(",", ":")).split(_IMAGE_MARK)
    if len(pieces) != len(urls) + 1:
        return json.dumps(payload, separators=(",", ":")).encode("ascii")
    out = [pieces[0].encode("ascii")]
    for url, piece in zip(urls, pieces[1:], strict=True):
        out += (url.encode("ascii"), piece.encode("ascii"))
    return b"".join(out)


def _json_safe(url: str) -> bool:
    """Whether ``url`` can stand in the body unescaped: ASCII without a quote or backslash (so it
    cannot end its JSON string), and a printable head. The base64 data after the comma holds no
    control characters by construction; it is not scanned again (that scan costs what the
    encoder's does)."""
    if not url.isascii() or '"' in url or "\\" in url:
        return False
    head, comma, _ = url.partition(",")
    return bool(comma) and head.startswith("data:") and head.isprintable()


def _retry_after(response: Response) -> float | None:
    """The server's requested wait, in seconds, when it sent a usable one."""
    headers = response.headers
    for header, scale in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = headers.get(header)
        if value is None:
            continue
        try:
            seconds = float(value) / scale
        except ValueError:
            return None  # an HTTP date: rare from APIs, our own backoff is good enough
        return seconds if 0 <= seconds <= MAX_RETRY_AFTER_S else None
    return None


def _server_message(exc: StatusError) -> str:
    """The server's own error message (``error.message`` of a JSON body), else the status code."""
    try:
        body = json.loads(exc.response.body)
    except ValueError:
        body = None
    if isinstance(body, dict):
        inner = body.get("error", body)
        message = inner.get("message") if isinstance(inner, dict) else inner
        if message:
            return str(message)[:500]
    return f"Error code: {exc.status}"


def _describe(exc: HTTPFailure | StatusError) -> str:
    if isinstance(exc, StatusError):
        return f"HTTP {exc.status}: {_server_message(exc)}"
    return f"{type(exc).__name__}: {exc}"[:500]
