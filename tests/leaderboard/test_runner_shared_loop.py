"""The runner's shared event loop (``SharedLoopBackend``) over the real ``openai`` backend and server."""

from __future__ import annotations

import threading

from judges.backends.openai_compat import OpenAICompatBackend, PreparedRequest, create
from judges.errors import BadInput
from judges.images import load_image
from judges.types import Capabilities, ChatRequest, Completion, Message, TextPart
from leaderboard.runner import SharedLoopBackend
from tests.support.openai_server import serve_openai


def ask(text: str, images=()) -> ChatRequest:
    return ChatRequest((Message("user", (*images, TextPart(text))),))


def png() -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (1, 2, 3)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_requests_are_built_on_the_calling_thread_and_a_bad_one_fails_alone():
    built_on: list[str] = []

    class Recording(OpenAICompatBackend):
        def prepare(self, request: ChatRequest) -> PreparedRequest:
            built_on.append(threading.current_thread().name)
            return super().prepare(request)

    with serve_openai() as server:
        backend = Recording("judge-model", base_url=server.base_url, capabilities=Capabilities(vision=False))
        shared = SharedLoopBackend.wrap(backend, concurrency=4)
        assert shared is not None
        try:
            image = load_image(png())
            results = shared.complete_many([ask("q0"), ask("q1", (image,)), ask("q2")])
        finally:
            shared.close()
    assert [type(r) for r in results] == [Completion, BadInput, Completion]
    assert "text-only" in str(results[1])
    assert set(built_on) == {threading.current_thread().name}  # not the loop's thread
    assert len(server.chat_requests) == 2  # the bad one was never sent


def test_many_threads_share_the_gate():
    with serve_openai(latency_s=0.05) as server:
        shared = SharedLoopBackend.wrap(create("judge-model", base_url=server.base_url), concurrency=6)
        assert shared is not None
        out: list[list] = []

        def call(k: int) -> None:
            out.append(shared.complete_many([ask(f"t{k}-{i}") for i in range(4)]))

        threads = [threading.Thread(target=call, args=(k,)) for k in range(8)]
        try:
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        finally:
            shared.close()
    assert sum(isinstance(r, Completion) for chunk in out for r in chunk) == 32
    assert server.max_in_flight <= 6


class _AsyncOnly:
    """A backend with ``acomplete`` and no ``prepare``: the adapter still drives it."""

    name = "async-only"
    capabilities = Capabilities()

    def complete(self, request):  # pragma: no cover - the adapter never calls it
        raise AssertionError

    def complete_many(self, requests):  # pragma: no cover
        raise AssertionError

    def close(self) -> None:
        pass

    async def acomplete(self, request: ChatRequest) -> Completion:
        return Completion(text=request.messages[-1].text.upper(), model="m", latency_s=0.0)


def test_a_backend_without_prepare_goes_through_acomplete():
    shared = SharedLoopBackend.wrap(_AsyncOnly(), concurrency=2)
    assert shared is not None
    try:
        assert [c.text for c in shared.complete_many([ask("a"), ask("b")])] == ["A", "B"]
    finally:
        shared.close()


def test_the_builders_turn_passes_when_requests_are_handed_to_the_loop():
    shared = SharedLoopBackend.wrap(_AsyncOnly(), concurrency=2)
    assert shared is not None
    order: list[str] = []

    def other() -> None:
        shared.begin_build()  # waits until the main thread's requests have gone to the loop
        order.append("other built")
        shared.end_build()

    try:
        shared.end_build()  # not holding a turn: nothing happens
        shared.begin_build()
        thread = threading.Thread(target=other)
        thread.start()
        thread.join(0.2)
        assert order == [] and thread.is_alive()
        order.append("main sent")
        assert [c.text for c in shared.complete_many([ask("x")])] == ["X"]
        thread.join(5)
    finally:
        shared.close()
    assert order == ["main sent", "other built"]
