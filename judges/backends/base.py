"""The backend contract: messages in, :class:`~judges.types.Completion` out.

A backend is transport only. It knows nothing of modes, prompts or verdicts; it turns a
:class:`~judges.types.ChatRequest` into text (and token log-probabilities when it can).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from judges.errors import JudgeError
from judges.types import Capabilities, ChatRequest, Completion


@runtime_checkable
class Backend(Protocol):
    """What every backend provides.

    Attributes:
        name: A display name such as ``openai:gpt-4o`` or ``hf:HuggingFaceTB/SmolVLM``.
        capabilities: What the model accepts; the Judge adapts prompts and sampling to it.
    """

    name: str
    capabilities: Capabilities

    def complete(self, request: ChatRequest) -> Completion:
        """Answer one request.

        Raises:
            BackendError: A subclass saying what failed and how to fix it.
        """
        ...

    def complete_many(self, requests: Sequence[ChatRequest]) -> list[Completion | JudgeError]:
        """Answer many requests as fast as the backend can (concurrently or in batches).

        One failure does not sink the others: each slot holds a Completion or the error for it.
        """
        ...

    def close(self) -> None:
        """Release connections or memory held by the backend."""
        ...


@runtime_checkable
class LabelScorer(Protocol):
    """Optional: a backend that reads verdict-label probabilities in one forward pass.

    Local models can do this: the prompt is followed by an assistant prefix that ends right where
    the verdict goes, and the next-token distribution over the label tokens is the verdict
    distribution. No analysis is generated, so it is much faster than generation.
    """

    def label_logprobs(
        self, requests: Sequence[ChatRequest], prefix: str, labels: Sequence[str]
    ) -> list[dict[str, float]]:
        """Log-probabilities of each label as the next token after ``prefix``, one dict per request."""
        ...


@runtime_checkable
class AsyncBackend(Backend, Protocol):
    """Optional: a backend with an asyncio path, so many callers can share one event loop and client.

    The benchmark runner drives such a backend from one loop thread at high concurrency instead of
    one thread per request.
    """

    async def acomplete(self, request: ChatRequest) -> Completion:
        """Answer one request on the running event loop (raises a BackendError subclass)."""
        ...

    async def aclose(self) -> None:
        """Release the async client."""
        ...
