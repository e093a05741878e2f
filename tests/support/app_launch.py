"""Launch the Space in-process on 127.0.0.1 for API and browser tests.

Usage::

    with launched_app(settings) as running:
        Client(running.url).predict("pair", api_name="/leaderboard")
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from judges.settings import Settings


def free_port() -> int:
    """A TCP port that was free a moment ago on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class RunningApp:
    """A launched demo: its URL, the Blocks and the leaderboard store."""

    url: str
    demo: Any
    store: Any


@contextmanager
def launched_app(settings: Settings | None = None) -> Iterator[RunningApp]:
    """Build the demo exactly as ``python app.py`` does and serve it on a free port until exit."""
    import app
    from leaderboard.board import LazyLeaderboard

    settings = settings or Settings.from_env({})
    store = LazyLeaderboard(settings)
    demo = app.build_demo(settings, store=store)
    port = free_port()
    demo.queue(default_concurrency_limit=8).launch(
        server_name="127.0.0.1",
        server_port=port,
        prevent_thread_lock=True,
        quiet=True,
        **app.launch_options(settings),
    )
    try:
        yield RunningApp(f"http://127.0.0.1:{port}/", demo, store)
    finally:
        demo.close()
