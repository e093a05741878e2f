"""The ``openai`` backend: any server that speaks OpenAI's chat-completions protocol.

OpenAI itself, vLLM, Hugging Face Inference Providers (``https://router.huggingface.co/v1``),
Gemini's OpenAI endpoint and Ollama all accept the same request, so one backend covers them; what
differs between their models (vision, log-probabilities, temperature, system prompt) is declared
in :class:`~judges.types.Capabilities` and obeyed here.

Connections go through :func:`judges.endpoints.guarded_transports`: the address actually connected
to is checked at connect time (link-local always refused; loopback and private networks refused
when ``public_only``, which a public Space sets), redirects are not followed (a redirect is
reported with where it points, never with its body), and every attempt has a total deadline of
``timeout_s``, so a server that trickles its answer is cut off. httpx2's per-request INFO lines
(which print the request URL) are not emitted, and URLs in messages never carry ``user:password@``.

A reply field that cannot be read (a ``logprob`` that is not a number, ``usage`` counts that are
not numbers, content parts that are not text) is dropped: probabilities or usage become unknown,
and unreadable content is an empty output (unscored, so the Judge re-asks), never a traceback.

Retries are done here rather than by the openai client: the client's backoff starts at a fixed
0.5 s, which tests cannot shorten, and its errors must be translated into
:mod:`judges.errors` anyway. Every message raised or logged goes through
:func:`judges.errors.redact`, and errors are raised outside the ``except`` block that caught the
client's exception, so no traceback chain carries request headers.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import math
import random
import threading
import time
import weakref
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any, Literal
from urllib.parse import urlsplit

import httpx2  # openai's HTTP client, loaded with it
import openai

from judges.endpoints import guarded_transports, refusal_in, request_deadline
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


#: The chat-completions route, relative to the base URL. Requests go through the SDK's ``post`` with
#: a ready JSON body and ``cast_to=httpx2.Response`` (the raw response back) rather than through
#: ``chat.completions.create``, which walks and re-validates every message part (base64 images
#: included) before sending: that walk was a third of the client's CPU per judgment (2.31 -> 1.55 ms
#: per request at 64 in flight). Status errors and the transport are the SDK's either way.
CHAT_PATH = "/chat/completions"


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

        Raises:
            MissingApiKey: No key was given, the judge declares a key variable and the server is
                not on this machine.
            ConfigError: An option is out of range.
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
        self._api_key = self._resolve_key(api_key)
        self._client: openai.OpenAI | None = None
        self._client_lock = threading.Lock()
        # acomplete() runs on the caller's loop; an async client must not outlive or cross loops.
        self._async_client: openai.AsyncOpenAI | None = None
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
        client = self._sync_client()
        start = time.perf_counter()
        attempt = 0
        while True:
            try:
                with request_deadline(self.timeout_s):
                    raw = client.post(CHAT_PATH, body=payload, cast_to=httpx2.Response)
                return self._structured(request, payload, self._completion(raw.content, start))
            except openai.OpenAIError as exc:
                outcome = self._after_failure(exc, attempt, payload)
            # Raised here, outside the except block, so the client's exception is not even chained.
            if isinstance(outcome, JudgeError):
                raise outcome from None
            if isinstance(outcome, dict):
                payload = outcome
                continue
            time.sleep(outcome)
            attempt += 1

    async def acomplete(self, request: ChatRequest) -> Completion:
        """Answer one request from async code (on the caller's event loop).

        Raises:
            BadInput: The request has images and the model is text-only.
            BackendError: A subclass saying what failed and how to fix it.
        """
        return await self._acomplete_with(self._loop_client(), request)

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
        """Close the HTTP connections of the synchronous client.

        An async client made by :meth:`acomplete` is closed by :meth:`aclose`; the one made by
        :meth:`complete_many` lives only for that call.
        """
        with self._client_lock:
            client, self._client = self._client, None
        if client is not None:
            client.close()

    async def aclose(self) -> None:
        """Close the async client used by :meth:`acomplete` on the current loop, and the sync one."""
        client, self._async_client, self._async_loop = self._async_client, None, None
        if client is not None:
            await client.close()
        self.close()

    # ------------------------------------------------------------------ clients

    def _client_options(self) -> dict[str, Any]:
        # max_retries=0: retries are ours (see the module docstring).
        _quiet_transport_logs()
        return {
            "api_key": self._api_key,
            "base_url": self.base_url,
            "timeout": self.timeout_s,
            "max_retries": 0,
        }

    def _sync_client(self) -> openai.OpenAI:
        with self._client_lock:
            if self._client is None:
                transport, _ = guarded_transports(public=self.public_only)
                http = openai.DefaultHttpxClient(transport=transport, follow_redirects=False)
                self._client = openai.OpenAI(**self._client_options(), http_client=http)
            return self._client

    def _new_async_client(self) -> openai.AsyncOpenAI:
        _, transport = guarded_transports(public=self.public_only)
        http = openai.DefaultAsyncHttpxClient(transport=transport, follow_redirects=False)
        return openai.AsyncOpenAI(**self._client_options(), http_client=http)

    def _loop_client(self) -> openai.AsyncOpenAI:
        loop = asyncio.get_running_loop()
        if self._async_client is None or self._async_loop is None or self._async_loop() is not loop:
            self._async_client = self._new_async_client()
            self._async_loop = weakref.ref(loop)
        return self._async_client

    async def _run_many(self, requests: list[ChatRequest], limit: int) -> list[Completion | JudgeError]:
        semaphore = asyncio.Semaphore(limit)
        # A client of its own: this loop ends with the call, and connections must not outlive it.
        async with self._new_async_client() as client:

            async def one(request: ChatRequest) -> Completion | JudgeError:
                async with semaphore:
                    try:
                        return await self._acomplete_with(client, request)
                    except JudgeError as exc:
                        return exc

            return list(await asyncio.gather(*(one(r) for r in requests)))

    async def _acomplete_with(self, client: openai.AsyncOpenAI, request: ChatRequest) -> Completion:
        payload = self._payload(request)
        start = time.perf_counter()
        attempt = 0
        while True:
            try:
                with request_deadline(self.timeout_s):
                    raw = await client.post(CHAT_PATH, body=payload, cast_to=httpx2.Response)
                return self._structured(request, payload, self._completion(raw.content, start))
            except openai.OpenAIError as exc:
                outcome = self._after_failure(exc, attempt, payload)
            if isinstance(outcome, JudgeError):
                raise outcome from None
            if isinstance(outcome, dict):
                payload = outcome
                continue
            await asyncio.sleep(outcome)
            attempt += 1

    # ------------------------------------------------------------------ request building

    def _resolve_key(self, api_key: str | None) -> str:
        # The key arrives resolved (judges.settings is the one resolver); here only what to send
        # when there is none.
        key = (api_key or "").strip()
        if key:
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
            # Merged into the body as the SDK's extra_body would be: the server's own options.
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

    def _retry_delay(self, exc: openai.OpenAIError, attempt: int) -> float | None:
        """Seconds to wait before retrying ``exc``, or None when it must not be retried."""
        if attempt >= self.max_retries or refusal_in(exc):
            return None
        if isinstance(exc, openai.APIStatusError):
            code = exc.status_code
            if code != 429 and code < 500 and code != 408:
                return None
            retry_after = _retry_after(exc)
            if retry_after is not None:
                return retry_after
        elif not isinstance(exc, openai.APIConnectionError):  # timeouts are connection errors too
            return None
        # Full jitter on the upper half: concurrent requests that failed together spread out.
        ceiling = min(self.backoff_max_s, self.backoff_base_s * 2**attempt)
        return ceiling * (0.5 + random.random() / 2)

    def _after_failure(
        self, exc: openai.OpenAIError, attempt: int, payload: dict[str, Any]
    ) -> JudgeError | float | dict[str, Any]:
        """The error to raise for ``exc``, the seconds to wait before retrying (logged), or the
        payload to send at once instead: the same request without a JSON schema the server refused.
        """
        if "response_format" in payload and isinstance(exc, openai.APIStatusError) and exc.status_code in (400, 422):
            logger.info("%s: HTTP %d with a JSON schema; asking again without it", self.name, exc.status_code)
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

    def _translate(self, exc: openai.OpenAIError, attempt: int) -> JudgeError:
        """The library error for a client exception, with a message saying what to do."""
        tries = f"{attempt + 1} attempt{'s' if attempt else ''}"
        refusal = refusal_in(exc)
        if refusal:
            error: JudgeError = ConfigError(
                f"{self.name}: did not connect to {self.shown_url}: {refusal}. Use the endpoint's public "
                "URL, or run the app yourself (python app.py) to judge with a server on your own network."
            )
        elif isinstance(exc, openai.APITimeoutError):
            error = BackendTimeout(
                f"{self.name}: no complete answer from {self.shown_url} within {self.timeout_s:g} s "
                f"({tries}). The server may be overloaded or sending its answer too slowly; try again, "
                "or raise the timeout with the environment variable JUDGE_TIMEOUT_S."
            )
        elif isinstance(exc, openai.APIConnectionError):
            error = BackendUnavailable(
                f"{self.name}: cannot reach {self.shown_url} ({tries}). Is the server running, and is "
                "the base URL right (it usually ends in /v1)?"
            )
        elif isinstance(exc, openai.APIStatusError) and 300 <= exc.status_code < 400:
            # Never the body: a redirect may come from, or point at, a host we must not show.
            location = strip_userinfo(str(exc.response.headers.get("location") or "")[:200])
            error = BackendError(
                f"{self.name}: {self.shown_url} answered with a redirect (HTTP {exc.status_code})"
                + (f" to {location}" if location else "")
                + ", which the judge does not follow. Use the final address as the base URL."
            )
        elif isinstance(exc, openai.AuthenticationError | openai.PermissionDeniedError):
            error = AuthenticationFailed(
                f"{self.name}: the server rejected the API key (HTTP {exc.status_code}: "
                f"{_server_message(exc)}). Check the key "
                + (f"in {self._api_key_env} (or the one given with the request)." if self._api_key_env else "given.")
            )
        elif isinstance(exc, openai.RateLimitError):
            error = RateLimited(
                f"{self.name}: still rate-limited (HTTP 429) after {tries}. Wait a minute, lower "
                f"JUDGE_CONCURRENCY, or check the quota of the key. Server said: {_server_message(exc)}"
            )
        elif isinstance(exc, openai.NotFoundError):
            error = BackendError(
                f"{self.name}: HTTP 404 from {self.shown_url}: {_server_message(exc)}. Check the model "
                f"name {self.model!r} and the base URL."
            )
        elif isinstance(exc, openai.APIStatusError) and exc.status_code >= 500:
            error = BackendError(
                f"{self.name}: server error HTTP {exc.status_code} after {tries}: "
                f"{_server_message(exc)}. Try again later."
            )
        elif isinstance(exc, openai.APIStatusError):
            error = BackendError(
                f"{self.name}: the server refused the request (HTTP {exc.status_code}): {_server_message(exc)}"
            )
        else:
            error = BadResponse(f"{self.name}: unusable answer from {self.shown_url}: {_describe(exc)}")
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


def _retry_after(exc: openai.APIStatusError) -> float | None:
    """The server's requested wait, in seconds, when it sent a usable one."""
    headers = exc.response.headers
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


def _server_message(exc: openai.APIStatusError) -> str:
    """The server's own error message, without the client's ``Error code: ...`` wrapping."""
    body = exc.body
    if isinstance(body, dict):
        inner = body.get("error", body)
        message = inner.get("message") if isinstance(inner, dict) else inner
        if message:
            return str(message)[:500]
    return str(exc.message)[:500]


def _describe(exc: openai.OpenAIError) -> str:
    if isinstance(exc, openai.APIStatusError):
        return f"HTTP {exc.status_code}: {_server_message(exc)}"
    return f"{type(exc).__name__}: {exc}"[:500]


class _NoRequestLines(logging.Filter):
    """Drops httpx2's per-request INFO lines (they print the URL); scrubs URLs in what it keeps."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return False
        record.msg = strip_userinfo(str(record.msg))
        if record.args:
            args = record.args if isinstance(record.args, tuple) else (record.args,)
            record.args = tuple(strip_userinfo(str(a)) for a in args)
        return True


_QUIET = _NoRequestLines()


def _quiet_transport_logs() -> None:
    # Installed when the first client is built (not at import); adding the same filter twice is a no-op.
    logging.getLogger("httpx2").addFilter(_QUIET)
