"""Run a judge over a benchmark and store the judgments as a run: resumable, concurrent, loss-free.

This module is the only writer of runs during a benchmark run::

    python -m leaderboard run --model gpt-4o-mini --base-url http://localhost:8000/v1 \\
        --mode pair --benchmark ~/MLLM-Judge --split lite --out runs/my-pair-run

How it keeps its promises:

* **Loss-free.** Every judgment is one line appended with one ``write`` to an unbuffered file
  (:class:`leaderboard.store.RunWriter`) the moment its item is done. A kill, even SIGKILL, loses at
  most the items in flight, and at most leaves a torn last line, which the next start cuts off.
* **Resumable.** Started again with the same arguments, the runner reads which items the run already
  holds and judges only the others: no duplicate, nothing skipped. The arguments that define the run
  are stored in the manifest (``source.runner.args``); different arguments into the same folder are
  refused. A lock on the run file keeps two runners out of one folder.
* **Errors are not verdicts.** An output that holds no valid verdict is stored as unscored (the judge
  answered); a backend failure (429 after every retry, 5xx, timeout) is counted and *not* stored, so
  the next start retries it. Items that cannot be judged at all (an empty response, a missing image)
  are counted as invalid and not stored either.
* **Fast.** API judges share one event loop and one pool of kept-alive connections;
  ``--concurrency`` requests are in flight at any time (a sliding window over requests, not waves:
  as many again wait built at the gate), with the backend's backoff on 429.
  Local judges get items in batches of ``--batch-size``.
* **Ctrl-C** stops taking new items, writes what is in flight, prints the summary and exits 130
  (a second Ctrl-C abandons the items in flight; they are judged again on the next start).
* **One bad reply is one item's problem.** Any exception while judging an item, named by the
  library or not, is that item's error (counted, not stored, judged again on the next start); the
  run goes on with the others.
* **Disk faults stop cleanly.** No space, a file-size limit, a read-only or damaged folder: the run
  stops with exit status 4 and one line saying how many judgments are stored (all kept, no torn
  line) and what to fix before starting the same command again.
"""

from __future__ import annotations

import contextlib
import logging
import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from judges.backends.registry import get_backend
from leaderboard.benchmarks import BenchmarkError, get_benchmark
from leaderboard.runner.config import RunConfig, RunnerError, RunSummary, run_identity
from leaderboard.runner.folder import DamagedManifestError, RunLock, RunStateError, check_resume, storage_error
from leaderboard.runner.workers import SharedLoopBackend, drive, progress_bar
from leaderboard.schema import PROVENANCE_RUN
from leaderboard.store.format import Manifest, RunFormatError, code_version, new_run_id, utc_now
from leaderboard.store.write import RunWriter

if TYPE_CHECKING:
    from judges.backends.base import Backend
    from judges.backends.catalog import JudgeSpec
    from judges.judge import Judge, JudgeOptions
    from judges.settings import Settings

logger = logging.getLogger(__name__)

#: Items in progress per request slot of an API judge: its slot's, and one more built and queued.
STAGED = 2


def _spec(config: RunConfig) -> Any:
    from judges import ConfigError, custom_spec, get_spec
    from judges.backends.catalog import local_spec

    if config.judge:
        return get_spec(config.judge)
    if config.backend is not None and get_backend(config.backend).local:
        if config.base_url:
            raise RunnerError(f"--base-url goes with an API judge; drop it for --backend {config.backend}")
        return local_spec(config.model or "", config.backend)
    if not config.base_url:
        with contextlib.suppress(ConfigError):  # a catalog model id works without --base-url
            return get_spec(config.model or "")
        raise RunnerError(
            f"--model {config.model!r} needs --base-url (an OpenAI-compatible endpoint), or use --judge "
            "with a catalog name, or --backend hf for a local model"
        )
    # The researcher's own environment: a custom endpoint takes its key from OPENAI_API_KEY.
    return custom_spec(config.model or "", config.base_url, api_key_env="OPENAI_API_KEY")


def _public_url(url: str | None) -> str | None:
    """A URL without credentials or query string, fit to be stored in a manifest."""
    if not url:
        return None
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = host + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def _new_manifest(
    config: RunConfig, spec: JudgeSpec, judge: Judge, identity: dict, planned: int, run_id: str
) -> Manifest:
    notes = []
    if config.split == "lite":
        notes.append("lite split: a fixed sample of the full benchmark, a few items per dataset")
    if config.limit:
        notes.append(f"limited to the first {config.limit} items")
    if config.datasets:
        notes.append(f"datasets: {', '.join(identity['datasets'])}")
    return Manifest(
        run_id=run_id,
        judge=spec.name,
        mode=config.mode,
        provenance=PROVENANCE_RUN,
        split=get_benchmark(config.benchmark_name).subset_of_split(config.split),
        benchmark=config.benchmark_name,
        backend=get_backend(spec.backend).stored_as,
        model_id=spec.model,
        template=judge.template.name,
        template_version=str(judge.template.version),
        setting=config.setting,
        sampling={
            "temperature": identity["temperature"],
            "top_p": identity["top_p"],
            "max_tokens": identity["max_tokens"],
            "samples": config.samples,
            "swap": config.swap,
            "shuffles": config.shuffles,
            "seed": config.seed,
            "verdict_source": config.verdict_source,
        },
        created_at=utc_now(),
        code_version=code_version(),
        source={
            "runner": {
                "args": identity,
                "endpoint": _public_url(spec.base_url),
                "planned_items": planned,
                "split": config.split,
            }
        },
        notes="; ".join(notes),
    )


# --------------------------------------------------------------------------- the run


def _benchmark_root(config: RunConfig, settings: Settings) -> tuple[Path, bool]:
    root = config.benchmark or settings.benchmark_dir
    if root is not None:
        return Path(root).expanduser(), False
    bench = get_benchmark(config.benchmark_name)
    logger.info("no --benchmark given: downloading %s from the Hub", bench.repo_id)
    return bench.download(token=settings.hf_token), True


def run_benchmark(config: RunConfig, *, settings: Settings | None = None, backend: Backend | None = None) -> RunSummary:
    """Judge the benchmark items of ``config`` that its run folder does not hold yet.

    Args:
        config: The run.
        settings: :class:`judges.Settings` (default: from the environment).
        backend: A ready backend to use instead of building one from ``config`` (tests, benchmarks).

    Returns:
        What was done.

    Raises:
        RunnerError: Bad arguments, a folder holding another run, or a missing benchmark; the
            message says what to change.
    """
    from judges import ConfigError, JudgeOptions, Settings, get_setting

    settings = settings or Settings.from_env()
    settings = replace(settings, concurrency=config.concurrency)
    try:
        spec = _spec(config)
        root, downloaded = _benchmark_root(config, settings)
        read_started = time.perf_counter()
        bench = get_benchmark(config.benchmark_name)
        selection = bench.select_items(root, config.mode, config.split, config.datasets, config.limit)
        read_s = time.perf_counter() - read_started
        options = JudgeOptions(
            setting=config.setting,
            template=config.template,
            swap=config.swap,
            shuffles=config.shuffles,
            samples=config.samples,
            seed=config.seed,
            verdict_source=config.verdict_source,  # type: ignore[arg-type]
        )
        if config.max_tokens is not None:
            options = replace(options, sampling=replace(options.sampling, max_tokens=config.max_tokens))
        with_image = get_setting(config.setting).sees_image
    except (BenchmarkError, ConfigError) as exc:
        raise RunnerError(str(exc)) from None

    identity = run_identity(config, spec, options.sampling)
    out = Path(config.out)
    try:
        with RunLock(out):
            manifest, already, tally, interrupted, elapsed, todo = _judge_into(
                config, out, identity, spec, options, settings, backend, selection, bench, downloaded, with_image
            )
    except OSError as exc:  # the folder, the disk or the file-size limit: stop, keep what is stored
        raise storage_error(exc, out) from None
    summary = RunSummary(
        run_id=manifest.run_id,
        run_dir=out,
        planned=len(selection.items),
        already_done=already,
        judged=tally.judged,
        unscored=tally.unscored,
        errors=tally.errors,
        invalid=tally.invalid,
        elapsed_s=elapsed,
        prompt_tokens=tally.prompt_tokens,
        completion_tokens=tally.completion_tokens,
        interrupted=interrupted,
        error_kinds=dict(tally.kinds),
        examples=tuple(tally.examples),
        read_ms=1000 * read_s / len(selection.items),
        task_ms=1000 * tally.prepare_s / max(1, len(todo)),
        write_ms=1000 * tally.record_s / max(1, len(todo)),
    )
    if config.push and not interrupted:
        summary = _push(summary, config.push, settings)
    return summary


def _judge_into(
    config: RunConfig,
    out: Path,
    identity: dict[str, Any],
    spec: JudgeSpec,
    options: JudgeOptions,
    settings: Settings,
    backend: Backend | None,
    selection: Any,
    bench: Any,
    downloaded: bool,
    with_image: bool,
) -> tuple[Manifest, int, Any, bool, float, list[Any]]:
    """Inside the folder's lock: check the resume, open the writer, judge what is missing.

    Raises:
        RunnerError: The folder holds another run, or the backend cannot be built.
        RunStorageError: The folder's manifest or judgments file cannot be read or written.
        OSError: Writing failed while judging (turned into a RunStorageError by the caller).
    """
    from judges import ConfigError, Judge, build_backend

    try:
        existing = check_resume(out, identity)
    except DamagedManifestError as exc:
        raise storage_error(exc, out) from None
    except RunStateError as exc:
        raise RunnerError(str(exc)) from None
    own_backend = backend is None
    shared = None
    try:
        if backend is None:
            local = get_backend(spec.backend).local
            extra: dict[str, Any] = {"batch_size": config.batch_size} if local else {}
            backend = build_backend(spec, settings, **extra)
        shared = SharedLoopBackend.wrap(backend, config.concurrency)
        judge = Judge(shared or backend, config.mode, options, name=spec.name)
    except ConfigError as exc:
        if shared is not None:
            shared.close()
        if own_backend and backend is not None:
            backend.close()
        raise RunnerError(str(exc)) from None
    try:
        run_id = existing.run_id if existing else new_run_id(spec.name, config.mode, config.setting)
        manifest = existing or _new_manifest(config, spec, judge, identity, len(selection.items), run_id)
        writer = RunWriter(out, manifest)
        try:
            writer.open()
        except RunFormatError as exc:  # the folder's files are not what a run's are
            raise storage_error(exc, out) from None
        try:
            already = sum(item.item_id in writer.done_ids for item in selection.items)
            todo = [item for item in selection.items if item.item_id not in writer.done_ids]
            if downloaded and with_image and todo:
                bench.download_images(todo, token=settings.hf_token)
            logger.info("%d item(s) planned, %d stored, %d to judge", len(selection.items), already, len(todo))
            # API judges: a sliding window of items over one shared client, with as many items
            # again built and waiting at its gate (STAGED), so a slot that frees is taken at once,
            # whichever chunk it belonged to, while the threads build later tasks. Local judges:
            # one worker feeding batches to the model.
            views = (2 if config.swap else 1) * (1 + config.shuffles) * config.samples
            workers, chunk = (STAGED * max(1, config.concurrency // views), 1) if shared else (1, config.batch_size)
            started = time.perf_counter()
            with progress_bar(len(selection.items), already, config.progress) as bar:
                tally, interrupted = drive(
                    judge,
                    todo,
                    writer,
                    workers=workers,
                    chunk=chunk,
                    with_image=with_image,
                    bar=bar,
                    cancel=shared.cancel_all if shared else None,
                )
            elapsed = time.perf_counter() - started
        finally:
            writer.close()
        if not interrupted:
            # The run is closed: keep its typed copy for the loader (large runs; the JSONL stays the log).
            # Imported here: numpy and pyarrow load when a run closes, not when the runner starts.
            from leaderboard.store.columnar import write_columnar

            write_columnar(out)
    finally:
        if shared is not None:
            shared.close()
        if own_backend and backend is not None:
            backend.close()
    return manifest, already, tally, interrupted, elapsed, todo


def _push(summary: RunSummary, repo_id: str, settings: Settings) -> RunSummary:
    if not summary.complete:
        logger.warning("not pushed: %d item(s) still missing; start the same command again to finish", summary.missing)
        return summary
    from leaderboard.store.hub import HubError, push_run

    try:
        url = push_run(summary.run_dir, repo_id, token=settings.hf_token)
    except HubError as exc:
        return replace(summary, push_error=f"{exc} (push again with the same command once fixed)")
    return replace(summary, pushed=url)
