"""The runner's machinery for judging: a shared event loop, and the loop that judges items on worker
threads and writes each result as it arrives.

* :class:`SharedLoopBackend`: API backends answer :meth:`complete_many` by starting an event loop and
  an HTTP client per call. The runner judges items from several threads (a sliding window, so a
  slow item never holds up the others); this adapter sends every call to one long-lived loop with
  one connection pool, and keeps at most ``concurrency`` requests in flight across all threads. A
  backend that can build its requests ahead (``prepare`` and ``asend``, as the ``openai`` one)
  has them built on the calling worker thread, so the loop's thread only sends and reads.
* :func:`drive`: worker threads build tasks (reading images) and judge them, a chunk of items per
  call; the calling thread alone writes, so the run file has a single writer and needs no lock.
  At high concurrency a thread hands the loop several items per call (16 threads for 64 slots, not
  a thread per slot), and the runner keeps twice the slots' items going, so requests wait built
  at the loop's gate and take a slot the moment one frees while the threads build later tasks.
  The threads take turns to build (:data:`BUILDERS`): CPU work under the GIL finishes sooner one
  chunk at a time, so the first requests leave after one chunk's build, not after all of them.

The run folder's lock and resume check are :mod:`leaderboard.runner.folder`'s.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import math
import queue
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Iterator, Sequence
from concurrent.futures import CancelledError, Future
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from judges.errors import BackendError, redact
from leaderboard.benchmarks.base import BenchmarkItem
from leaderboard.store.format import Judgment, verdict_problem
from leaderboard.store.write import RunWriter

if TYPE_CHECKING:
    from judges.backends.base import AsyncBackend, Backend
    from judges.errors import JudgeError
    from judges.judge import Judge
    from judges.types import JudgeResult, Task

logger = logging.getLogger(__name__)

#: Most worker threads :func:`drive` starts. Above it, each thread judges several items per call
#: (the request slots stay ``workers``): threads beyond a few per core only contend for the GIL with
#: the event loop that does the HTTP work.
MAX_THREADS = 16
#: Worker threads building requests (tasks, prompts, bodies) at once on a shared loop. The build is
#: CPU work under the GIL: 16 threads taking turns would each finish late, so the first requests
#: would wait for nearly all of them; one at a time, each chunk leaves as soon as it is built.
BUILDERS = 1


class SharedLoopBackend:
    """A backend adapter that runs every request on one event loop thread with one client.

    Attributes:
        name: The wrapped backend's name.
        capabilities: The wrapped backend's capabilities.
    """

    def __init__(self, backend: AsyncBackend, concurrency: int) -> None:
        """Start the loop thread.

        Args:
            backend: A backend with ``acomplete`` (and optionally ``aclose``).
            concurrency: Requests in flight at most, across all callers.
        """
        self.backend = backend
        self.name = backend.name
        self.capabilities = backend.capabilities
        self._loop = asyncio.new_event_loop()
        # Bound to the loop on first use (Python >= 3.10), so it can be made on this thread.
        self._semaphore = asyncio.Semaphore(concurrency)
        prepare, asend = getattr(backend, "prepare", None), getattr(backend, "asend", None)
        if callable(prepare) and inspect.iscoroutinefunction(asend):
            self._prepare: Any = prepare
            self._send: Any = asend
        else:
            self._prepare, self._send = None, backend.acomplete
        self._builders = threading.Semaphore(BUILDERS)
        self._building = threading.local()
        self._thread = threading.Thread(target=self._loop.run_forever, name="runner-loop", daemon=True)
        self._thread.start()
        self._closed = False

    @classmethod
    def wrap(cls, backend: Backend, concurrency: int) -> SharedLoopBackend | None:
        """An adapter for ``backend`` when it has an async path, else None."""
        if not inspect.iscoroutinefunction(getattr(backend, "acomplete", None)):
            return None
        return cls(cast("AsyncBackend", backend), concurrency)

    def complete(self, request: Any) -> Any:
        """Answer one request (raises the backend's error)."""
        answer = self.complete_many([request])[0]
        if isinstance(answer, BaseException):
            raise answer
        return answer

    def complete_many(self, requests: Sequence[Any]) -> list[Any]:
        """Answer requests on the shared loop; one slot per request (a Completion or a JudgeError).

        A backend that can build its requests ahead (``prepare``, then ``asend`` on the loop) has
        them built here, on the calling worker thread: the loop's thread then only sends and reads,
        and requests waiting for a slot are ready to go the moment one frees.
        """
        from judges.errors import BackendError, JudgeError

        items: list[Any] = list(requests)
        if self._prepare is not None:
            for index, request in enumerate(items):
                try:
                    items[index] = self._prepare(request)
                except JudgeError as exc:
                    items[index] = _Failed(exc)
                except Exception as exc:  # as in _one: that request's error, not the run's
                    items[index] = _Failed(UnexpectedFailure(exc))
        self.end_build()  # built: another thread may build while this one waits for the answers
        future = asyncio.run_coroutine_threadsafe(self._gather(items), self._loop)
        try:
            return future.result()
        except CancelledError:
            return [BackendError("abandoned: the run was interrupted; it is judged on the next start")] * len(requests)

    def begin_build(self) -> None:
        """Wait for a builder's turn (see :data:`BUILDERS`); held until this thread's next
        :meth:`complete_many` hands its requests to the loop, or :meth:`end_build`."""
        self._builders.acquire()
        self._building.held = True

    def end_build(self) -> None:
        """Give the builder's turn back, if this thread holds one."""
        if getattr(self._building, "held", False):
            self._building.held = False
            self._builders.release()

    async def _gather(self, items: list[Any]) -> list[Any]:
        return list(await asyncio.gather(*(self._one(item) for item in items)))

    async def _one(self, item: Any) -> Any:
        from judges.errors import JudgeError

        if type(item) is _Failed:
            return item.error
        async with self._semaphore:
            try:
                return await self._send(item)
            except JudgeError as exc:
                return exc
            except Exception as exc:  # one unreadable reply must not stop the run (cancelling is no Exception)
                return UnexpectedFailure(exc)

    def cancel_all(self) -> None:
        """Cancel every request in flight (their callers get a BackendError)."""

        def cancel() -> None:
            for task in asyncio.all_tasks(self._loop):
                task.cancel()

        if not self._closed:
            self._loop.call_soon_threadsafe(cancel)

    def close(self) -> None:
        """Close the async client and stop the loop thread (idempotent)."""
        if self._closed:
            return
        self._closed = True
        aclose = getattr(self.backend, "aclose", None)
        if inspect.iscoroutinefunction(aclose):
            with contextlib.suppress(Exception):  # closing must not hide the run's own outcome
                asyncio.run_coroutine_threadsafe(aclose(), self._loop).result(timeout=5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        if not self._thread.is_alive():
            self._loop.close()


@dataclass(frozen=True)
class _Failed:
    """A request that failed while being built: its slot's answer, never sent."""

    error: BaseException


# --------------------------------------------------------------------------- judging and writing


class UnexpectedFailure(BackendError):
    """A judgment that failed in a way the library does not name: a reply field it could not read,
    a bug. It is that item's error (counted, not stored, judged again on the next start), and the
    run goes on.

    Attributes:
        kind: The original exception's type name, for the summary's count by kind.
    """

    def __init__(self, exc: BaseException) -> None:
        self.kind = type(exc).__name__
        detail = str(exc)
        detail = detail if len(detail) <= 200 else detail[:197] + "..."
        # redact: an exception's text may quote a request (a URL with credentials, a key).
        super().__init__(redact(f"unexpected {self.kind}: {detail}; judged again on the next start"))
        logger.debug("unexpected failure of one judgment", exc_info=exc)


@dataclass(frozen=True)
class _Done:
    """One item's outcome, handed from a worker to the writing thread."""

    item: BenchmarkItem
    result: JudgeResult | JudgeError
    prepare_s: float  # CPU time of building the task, image included


class ImageCache:
    """Validated images by path, the most recent ones kept.

    Items that share an image (the benchmark asks several questions, and compares several answers,
    about one image; such items are adjacent in the files) read and validate it once. Thread-safe.
    """

    def __init__(self, size: int = 64) -> None:
        self.size = size
        self._parts: OrderedDict[Path, Future[Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, path: Path) -> Any:
        """The image at ``path`` as a validated ``ImagePart``; one read per path, even when asked
        for by several threads at once.

        Raises:
            judges.errors.ImageError: Missing, unreadable or too large.
        """
        from judges.images import load_image

        with self._lock:
            found = self._parts.get(path)
            owner = found is None
            if found is None:
                entry: Future[Any] = Future()
                self._parts[path] = entry
                while len(self._parts) > self.size:
                    self._parts.popitem(last=False)
            else:
                entry = found
                self._parts.move_to_end(path)
        if owner:
            try:
                # Outside the lock: decoding releases the GIL, and other paths go on meanwhile.
                entry.set_result(load_image(path))
            except Exception as exc:  # handed to every item of this image, then raised there
                entry.set_exception(exc)
        return entry.result()


def _judge_chunk(judge: Judge, items: Sequence[BenchmarkItem], images: ImageCache | None) -> list[_Done]:
    """Build the tasks of ``items`` and judge them in one ``judge_many`` call.

    A failure the library does not name (an exception that is not a JudgeError) is the failing
    item's error, never the chunk's: a chunk that fails as a whole is judged again item by item.
    """
    from judges.errors import JudgeError

    out: list[_Done] = []
    tasks, ready, costs = [], [], []
    for item in items:
        started = time.thread_time()
        try:
            shown = [images.get(path) for path in item.image_paths] if images is not None else []
            task = judge.task.make_task(item.instruction, item.responses, shown)
        except JudgeError as exc:
            out.append(_Done(item, exc, time.thread_time() - started))
            continue
        except Exception as exc:  # an item the library trips on: that item's error
            out.append(_Done(item, UnexpectedFailure(exc), time.thread_time() - started))
            continue
        tasks.append(task)
        ready.append(item)
        costs.append(time.thread_time() - started)
    if not tasks:
        return out
    try:
        results = judge.judge_many(tasks)
    except Exception as exc:
        # One task: its error. Several: judge them one by one, so only the failing item fails.
        results = [UnexpectedFailure(exc)] if len(tasks) == 1 else [_judge_one(judge, task) for task in tasks]
    out.extend(_Done(i, r, c) for i, r, c in zip(ready, results, costs, strict=True))
    return out


def _judged(judge: Judge, items: Sequence[BenchmarkItem], images: ImageCache | None) -> list[_Done]:
    """:func:`_judge_chunk`, building in turn with the other threads when the backend is shared."""
    shared = judge.backend if isinstance(judge.backend, SharedLoopBackend) else None
    if shared is None:
        return _judge_chunk(judge, items, images)
    shared.begin_build()
    try:
        return _judge_chunk(judge, items, images)
    finally:
        shared.end_build()  # when nothing was sent (every item invalid), or after an error


def _judge_one(judge: Judge, task: Task) -> JudgeResult | JudgeError:
    try:
        return judge.judge_many([task])[0]
    except Exception as exc:
        return UnexpectedFailure(exc)


def _chunks(items: Sequence[BenchmarkItem], size: int) -> Iterator[list[BenchmarkItem]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


class _Tally:
    """Counts kept by the writing thread while results arrive; times are CPU time of the thread."""

    def __init__(self) -> None:
        self.judged = self.unscored = self.errors = self.invalid = 0
        self.prompt_tokens = self.completion_tokens = 0
        self.kinds: Counter[str] = Counter()
        self.examples: list[str] = []
        self.prepare_s = 0.0
        self.record_s = 0.0

    def error(self, exc: BaseException, invalid: bool) -> None:
        if invalid:
            self.invalid += 1
        else:
            self.errors += 1
        self.kinds[getattr(exc, "kind", type(exc).__name__)] += 1
        if len(self.examples) < 3 and str(exc) not in self.examples:
            self.examples.append(str(exc)[:300])


def _record(done: _Done, writer: RunWriter, tally: _Tally) -> None:
    """Write one item's outcome, or count it as an error.

    Raises:
        OSError: The line could not be written (the file is as it was; see :class:`RunWriter`).
    """
    from judges.errors import BadInput, JudgeError

    started = time.thread_time()
    result = done.result
    if isinstance(result, JudgeError):
        tally.error(result, invalid=isinstance(result, BadInput))
    else:
        try:
            judgment = _judgment(done, result, writer.manifest.mode)
            writer.append(judgment)
        except OSError:  # the disk, not the item: the run stops (see run_benchmark)
            raise
        except Exception as exc:  # a result that cannot be stored: that item's error
            tally.error(UnexpectedFailure(exc), invalid=False)
        else:
            tally.judged += 1
            tally.unscored += judgment.verdict is None
            usage = result.usage
            if usage is not None:
                tally.prompt_tokens += _count(usage.prompt_tokens)
                tally.completion_tokens += _count(usage.completion_tokens)
    tally.prepare_s += done.prepare_s
    tally.record_s += time.thread_time() - started


def _judgment(done: _Done, result: JudgeResult, mode: str) -> Judgment:
    """The line of an item's result; a verdict the run's mode cannot hold is stored as unscored."""
    judgment = Judgment.from_judge_result(done.item.item_id, done.item.dataset, result)
    problem = verdict_problem(mode, judgment.verdict)
    if problem:
        return replace(judgment, verdict=None, unscored_reason=f"the judge's verdict is not valid here: {problem}")
    return judgment


def _count(tokens: object) -> int:
    """A token count as reported, or 0 when the reply's number is not a count."""
    return tokens if type(tokens) is int and tokens >= 0 else 0


def progress_bar(total: int, initial: int, enabled: bool | None) -> Any:
    """A tqdm bar over the planned items (rate, ETA); ``enabled=None`` shows it only on a terminal."""
    from tqdm import tqdm

    return tqdm(
        total=total,
        initial=initial,
        unit="item",
        desc="judging",
        dynamic_ncols=True,
        disable=(not enabled) if enabled is not None else None,
        smoothing=0.1,
    )


class _Worker(threading.Thread):
    """Takes the next chunk as soon as it is done with one: a sliding window, no round trip through
    the writing thread between two items."""

    def __init__(
        self, judge: Judge, work: queue.SimpleQueue, results: queue.SimpleQueue, images: Any, stop: Any, go: Any
    ):
        super().__init__(name="runner-worker", daemon=True)
        self.judge, self.work, self.results, self.images, self.stop = judge, work, results, images, stop
        self.go = go

    def run(self) -> None:
        try:
            # Every thread is started before any works: a thread started while others already
            # build tasks waits for the GIL just to say it has started (~2 ms each).
            self.go.wait()
            while not self.stop.is_set():
                try:
                    batch = self.work.get_nowait()
                except queue.Empty:
                    break
                self.results.put(_judged(self.judge, batch, self.images))
        except Exception as exc:  # a bug, not a judging error: handed to the writing thread to raise
            self.results.put(exc)
        finally:
            self.results.put(None)


def drive(
    judge: Judge,
    todo: Sequence[BenchmarkItem],
    writer: RunWriter,
    *,
    workers: int,
    chunk: int,
    with_image: bool,
    bar: Any,
    cancel: Any = None,
) -> tuple[_Tally, bool]:
    """Judge ``todo`` with ``workers`` threads, ``chunk`` items per call, writing each result at once.

    Above :data:`MAX_THREADS` workers, that many threads judge proportionally larger chunks.

    Only the calling thread writes. The first Ctrl-C stops handing out items and writes what is in
    flight; a second one abandons it (``cancel`` is called to cut the requests short).

    Returns:
        The tally and whether Ctrl-C stopped the run.

    Raises:
        OSError: A judgment could not be written; the workers are stopped first.
        Exception: An unexpected error in a worker, after the other workers stopped.
    """
    tally = _Tally()
    images = ImageCache() if with_image else None
    if workers > MAX_THREADS:
        # Not a thread per request slot: at high concurrency each thread hands its calls several
        # items at once (the shared loop keeps them all in flight), so 64 slots are 16 threads.
        chunk *= math.ceil(workers / MAX_THREADS)
        workers = MAX_THREADS
    work: queue.SimpleQueue = queue.SimpleQueue()
    for batch in _chunks(todo, chunk):
        work.put(batch)
    results: queue.SimpleQueue = queue.SimpleQueue()
    stop, go = threading.Event(), threading.Event()
    threads = [_Worker(judge, work, results, images, stop, go) for _ in range(max(1, min(workers, len(todo))))]
    for thread in threads:
        thread.start()
    go.set()
    running, interrupted, failure = len(threads), False, None
    while running:
        try:
            message = results.get(timeout=0.25)
            if message is None:
                running -= 1
            elif isinstance(message, Exception):
                failure = failure or message
                stop.set()
            else:
                # Taken off the queue before it is written: a Ctrl-C in between loses these
                # judgments (judged again on the next start) but can never write them twice.
                for item_done in message:
                    _record(item_done, writer, tally)
                    bar.update(1)
                bar.set_postfix(unscored=tally.unscored, errors=tally.errors + tally.invalid, refresh=False)
        except queue.Empty:
            continue
        except OSError:
            # The run file cannot take another line (disk full, file too large): nothing more can be
            # stored, so the judgments in flight are abandoned (judged again on the next start).
            stop.set()
            if cancel is not None:
                cancel()
            for thread in threads:
                thread.join(timeout=5)
            raise
        except KeyboardInterrupt:
            stop.set()
            if interrupted:
                logger.warning("abandoning the judgments in flight; they are judged on the next start")
                if cancel is not None:
                    cancel()
                for thread in threads:
                    thread.join(timeout=5)
                break
            interrupted = True
            logger.warning("stopping: writing the judgments in flight (Ctrl-C again to abandon them)")
    if failure is not None:
        raise failure
    return tally, interrupted
