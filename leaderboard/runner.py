"""Run a judge over the benchmark and store the judgments as a run: resumable, concurrent, loss-free.

This module is the only writer of runs during a benchmark run::

    python -m leaderboard run --model gpt-4o-mini --base-url http://localhost:8000/v1 \\
        --mode pair --benchmark ~/MLLM-Judge --split lite --out runs/my-pair-run

How it keeps its promises:

* **Loss-free.** Every judgment is one line appended with one ``write`` to an unbuffered file
  (:class:`leaderboard.runs.RunWriter`) the moment its item is done. A kill, even SIGKILL, loses at
  most the items in flight, and at most leaves a torn last line, which the next start cuts off.
* **Resumable.** Started again with the same arguments, the runner reads which items the run already
  holds and judges only the others: no duplicate, nothing skipped. The arguments that define the run
  are stored in the manifest (``source.runner.args``); different arguments into the same folder are
  refused. A lock on the run file keeps two runners out of one folder.
* **Errors are not verdicts.** An output that holds no valid verdict is stored as unscored (the judge
  answered); a backend failure (429 after every retry, 5xx, timeout) is counted and *not* stored, so
  the next start retries it. Items that cannot be judged at all (an empty response, a missing image)
  are counted as invalid and not stored either.
* **Fast.** API judges share one event loop and one HTTP client; ``--concurrency`` requests are in
  flight at any time (a sliding window over items, not waves), with the backend's backoff on 429.
  Local judges get items in batches of ``--batch-size``.
* **Ctrl-C** stops taking new items, writes what is in flight, prints the summary and exits 130
  (a second Ctrl-C abandons the items in flight; they are judged again on the next start).
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import signal
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from leaderboard.benchmark import (
    BENCHMARK_REPO,
    SPLITS,
    BenchmarkError,
    download_benchmark,
    download_images,
    select_items,
)
from leaderboard.columns import PROVENANCE_RUN
from leaderboard.labels import display_dataset
from leaderboard.runner_support import RunLock, RunStateError, SharedLoopBackend, check_resume, drive, progress_bar
from leaderboard.runs import MODES, Manifest, RunFormatError, RunWriter, code_version, new_run_id, utc_now

logger = logging.getLogger(__name__)

#: Exit status when some items are still missing because of backend errors (run again to retry).
EXIT_INCOMPLETE = 3
EXIT_INTERRUPTED = 130


class RunnerError(RuntimeError):
    """The run cannot start or go on; the message says what to change."""


# --------------------------------------------------------------------------- configuration


@dataclass(frozen=True)
class RunConfig:
    """Everything a benchmark run needs, as given on the command line.

    Attributes:
        mode: score, pair or batch.
        out: The run's folder (created; resumed when it already holds this run).
        judge: A catalog name (``--judge``), or None with ``model``.
        model: A model id for an OpenAI-compatible endpoint or a local model (``--model``).
        base_url: The endpoint of ``model`` (``--base-url``).
        backend: ``openai`` or ``hf`` (local transformers), with ``model``.
        benchmark: A local copy of the benchmark in its Hub layout; None downloads it.
        split: all, hq, hard or lite.
        datasets: Only these source datasets.
        limit: At most this many items.
        setting: The prompt setting.
        template: The prompt template.
        swap: Pair: judge both orders.
        shuffles: Batch: extra random orders.
        samples: Samples per order (majority verdict).
        seed: Seed of the batch shuffles.
        verdict_source: ``generate`` or ``forward`` (local judges).
        max_tokens: Most tokens a judgment may generate (None: the library's default).
        concurrency: Requests in flight for API judges.
        batch_size: Items per batch for local judges.
        push: A Hugging Face dataset repo to push the finished run to.
        progress: Show a progress bar (None: only on a terminal).
    """

    mode: str
    out: Path
    judge: str | None = None
    model: str | None = None
    base_url: str | None = None
    backend: str = "openai"
    benchmark: Path | None = None
    split: str = "all"
    datasets: tuple[str, ...] = ()
    limit: int | None = None
    setting: str = "no-cot"
    template: str = "mllm-judge"
    swap: bool = False
    shuffles: int = 0
    samples: int = 1
    seed: int = 0
    verdict_source: str = "generate"
    max_tokens: int | None = None
    concurrency: int = 8
    batch_size: int = 8
    push: str | None = None
    progress: bool | None = None

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise RunnerError(f"--mode must be one of {', '.join(MODES)}, got {self.mode!r}")
        if self.split not in SPLITS:
            raise RunnerError(f"--split must be one of {', '.join(SPLITS)}, got {self.split!r}")
        if (
            min(self.concurrency, self.batch_size, self.samples, 1 if self.max_tokens is None else self.max_tokens) < 1
            or self.shuffles < 0
        ):
            raise RunnerError(
                "--concurrency, --batch-size, --samples and --max-tokens must be at least 1, --shuffles at least 0"
            )
        if bool(self.judge) == bool(self.model):
            raise RunnerError(
                "give either --judge NAME (from the catalog) or --model ID (with --base-url or --backend hf)"
            )


@dataclass(frozen=True)
class RunSummary:
    """What a call of :func:`run_benchmark` did.

    Attributes:
        run_id: The run.
        run_dir: Its folder.
        planned: Items the run covers.
        already_done: Items stored before this call.
        judged: Judgments stored by this call (unscored ones included).
        unscored: Of those, how many hold no valid verdict.
        errors: Items whose judgment failed in the backend (not stored; retried next time).
        invalid: Items that cannot be judged (not stored).
        elapsed_s: Wall time of the judging.
        prompt_tokens: Prompt tokens reported by the backend.
        completion_tokens: Completion tokens reported by the backend.
        interrupted: Whether Ctrl-C stopped the run.
        error_kinds: Error type -> count.
        examples: A few error messages, to show.
        pushed: The commit URL when the run was pushed.
        push_error: Why the push failed (the run itself is complete and kept).
        read_ms: Reading the benchmark file, per planned item (wall time).
        task_ms: Building a task, per item: reading and validating its image (once per image); CPU
            time of the worker thread.
        write_ms: Turning a result into a line, writing it, updating the progress bar, per item;
            CPU time of the writing thread.
    """

    run_id: str
    run_dir: Path
    planned: int
    already_done: int
    judged: int
    unscored: int
    errors: int
    invalid: int
    elapsed_s: float
    prompt_tokens: int = 0
    completion_tokens: int = 0
    interrupted: bool = False
    error_kinds: dict[str, int] = field(default_factory=dict)
    examples: tuple[str, ...] = ()
    pushed: str | None = None
    push_error: str | None = None
    read_ms: float = 0.0
    task_ms: float = 0.0
    write_ms: float = 0.0

    @property
    def missing(self) -> int:
        """Items the run still lacks."""
        return self.planned - self.already_done - self.judged

    @property
    def complete(self) -> bool:
        """Whether every planned item is stored."""
        return self.missing == 0

    def to_text(self) -> str:
        """A few lines for the terminal."""
        rate = self.judged / self.elapsed_s if self.elapsed_s > 0 else 0.0
        lines = [
            f"run {self.run_id} in {self.run_dir}",
            f"  judged now {self.judged} ({self.unscored} unscored) in {self.elapsed_s:.1f} s ({rate:.1f}/s); "
            f"stored before {self.already_done}; planned {self.planned}",
            f"  errors {self.errors} (not stored, retried on the next start); invalid items {self.invalid}",
            f"  tokens: {self.prompt_tokens} prompt, {self.completion_tokens} completion",
        ]
        if self.error_kinds:
            lines.append("  by kind: " + ", ".join(f"{k} x{v}" for k, v in sorted(self.error_kinds.items())))
        lines.extend(f"  e.g. {message}" for message in self.examples)
        if self.interrupted:
            lines.append("  interrupted: start the same command again to judge the rest")
        elif not self.complete:
            lines.append(f"  {self.missing} item(s) missing: start the same command again to retry them")
        else:
            lines.append("  complete")
        if self.pushed:
            lines.append(f"  pushed: {self.pushed}")
        if self.push_error:
            lines.append(f"  not pushed: {self.push_error}")
        return "\n".join(lines)


# --------------------------------------------------------------------------- building the judge


def _spec(config: RunConfig) -> Any:
    from judges import ConfigError, custom_spec, get_spec
    from judges.backends.catalog import local_spec

    if config.judge:
        return get_spec(config.judge)
    if config.backend == "hf":
        if config.base_url:
            raise RunnerError("--base-url goes with an API judge; drop it for --backend hf")
        return local_spec(config.model or "")
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


def run_identity(config: RunConfig, spec: Any, sampling: Any) -> dict[str, Any]:
    """The arguments that define a run; resuming requires the same ones.

    Speed settings (concurrency, batch size), where the judge is reached (its base URL: a local
    server may come back on another port), where the benchmark copy lives, and where to push are not
    part of it: they do not change what is judged.
    """
    return {
        "judge": spec.name,
        "backend": spec.backend,
        "model": spec.model,
        "mode": config.mode,
        "split": config.split,
        "datasets": sorted({display_dataset(d) for d in config.datasets}),
        "limit": config.limit,
        "setting": config.setting,
        "template": config.template,
        "swap": config.swap,
        "shuffles": config.shuffles,
        "samples": config.samples,
        "seed": config.seed,
        "verdict_source": config.verdict_source,
        "temperature": sampling.temperature,
        "top_p": sampling.top_p,
        "max_tokens": sampling.max_tokens,
    }


def _new_manifest(config: RunConfig, spec: Any, judge: Any, identity: dict, planned: int, run_id: str) -> Manifest:
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
        split="all" if config.split == "lite" else config.split,
        backend={"openai": "openai_compat", "hf": "hf_local"}.get(spec.backend, spec.backend),
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


# --------------------------------------------------------------------------- judging


# --------------------------------------------------------------------------- the run


def _benchmark_root(config: RunConfig, settings: Any) -> tuple[Path, bool]:
    root = config.benchmark or settings.benchmark_dir
    if root is not None:
        return Path(root).expanduser(), False
    logger.info("no --benchmark given: downloading %s from the Hub", BENCHMARK_REPO)
    return download_benchmark(token=settings.hf_token), True


def run_benchmark(config: RunConfig, *, settings: Any = None, backend: Any = None) -> RunSummary:
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
    from judges import ConfigError, Judge, JudgeOptions, Settings, build_backend, get_setting

    settings = settings or Settings.from_env()
    settings = replace(settings, concurrency=config.concurrency)
    try:
        spec = _spec(config)
        root, downloaded = _benchmark_root(config, settings)
        read_started = time.perf_counter()
        selection = select_items(root, config.mode, config.split, config.datasets, config.limit)
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
    with RunLock(out):
        try:
            existing = check_resume(out, identity)
        except RunStateError as exc:
            raise RunnerError(str(exc)) from None
        own_backend = backend is None
        shared = None
        try:
            if backend is None:
                extra = {"batch_size": config.batch_size} if spec.backend == "hf" else {}
                backend = build_backend(spec, settings, **extra)
            shared = SharedLoopBackend.wrap(backend, config.concurrency)
            judge = Judge(shared or backend, config.mode, options, name=spec.name)
        except ConfigError as exc:
            raise RunnerError(str(exc)) from None
        try:
            run_id = existing.run_id if existing else new_run_id(spec.name, config.mode, config.setting)
            manifest = existing or _new_manifest(config, spec, judge, identity, len(selection.items), run_id)
            with RunWriter(out, manifest) as writer:
                already = sum(item.item_id in writer.done_ids for item in selection.items)
                todo = [item for item in selection.items if item.item_id not in writer.done_ids]
                if downloaded and with_image and todo:
                    download_images(todo, token=settings.hf_token)
                logger.info("%d item(s) planned, %d stored, %d to judge", len(selection.items), already, len(todo))
                # API judges: a sliding window of single items over one shared client. Local
                # judges: one worker feeding batches to the model.
                workers, chunk = (config.concurrency, 1) if shared else (1, config.batch_size)
                views = (2 if config.swap else 1) * (1 + config.shuffles) * config.samples
                workers = max(1, workers // views) if shared else workers
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
            if shared is not None:
                shared.close()
            if own_backend and backend is not None:
                backend.close()
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


def _push(summary: RunSummary, repo_id: str, settings: Any) -> RunSummary:
    if not summary.complete:
        logger.warning("not pushed: %d item(s) still missing; start the same command again to finish", summary.missing)
        return summary
    from leaderboard.hub import HubError, push_run

    try:
        url = push_run(summary.run_dir, repo_id, token=settings.hf_token)
    except HubError as exc:
        return replace(summary, push_error=f"{exc} (push again with the same command once fixed)")
    return replace(summary, pushed=url)


# --------------------------------------------------------------------------- command line


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``run`` command's options to ``parser`` (a subparser of ``python -m leaderboard``)."""
    from judges.prompts import SETTINGS, template_names

    who = parser.add_argument_group("judge (one of)")
    who.add_argument("--judge", help="a judge from the catalog (python -m judges list)")
    who.add_argument("--model", help="a model id: with --base-url (OpenAI-compatible) or --backend hf (local)")
    who.add_argument("--base-url", help="OpenAI-compatible endpoint, e.g. http://localhost:8000/v1")
    who.add_argument("--backend", choices=("openai", "hf"), default="openai", help="hf: a local transformers model")
    what = parser.add_argument_group("what to judge")
    what.add_argument("--mode", required=True, choices=MODES)
    what.add_argument(
        "--benchmark", type=Path, help="local copy of the benchmark (Hub layout); default BENCHMARK_DIR, else download"
    )
    what.add_argument("--split", choices=SPLITS, default="all", help="lite: a fixed sample of a few items per dataset")
    what.add_argument("--datasets", nargs="+", default=(), metavar="NAME", help="only these source datasets")
    what.add_argument("--limit", type=int, help="at most N items")
    how = parser.add_argument_group("how")
    how.add_argument("--setting", default="no-cot", choices=list(SETTINGS), help="the paper's prompt settings")
    how.add_argument("--template", default="mllm-judge", choices=template_names(), help="prompt template")
    how.add_argument("--swap", action="store_true", help="pair: judge both orders and reconcile")
    how.add_argument("--shuffles", type=int, default=0, help="batch: extra random orders")
    how.add_argument("--samples", type=int, default=1, help="samples per judgment (majority verdict)")
    how.add_argument("--seed", type=int, default=0, help="seed of the batch shuffles")
    how.add_argument("--forward", action="store_true", help="local judges: verdict from one forward pass")
    how.add_argument("--max-tokens", type=int, help="most tokens one judgment may generate")
    speed = parser.add_argument_group("speed and output")
    speed.add_argument("--concurrency", type=int, default=8, help="API requests in flight (default 8)")
    speed.add_argument("--batch-size", type=int, default=8, help="local judges: items per batch (default 8)")
    speed.add_argument("--out", required=True, type=Path, help="the run's folder (resumed when it exists)")
    speed.add_argument("--push", metavar="REPO_ID", help="push the finished run to this HF dataset repo (HF_TOKEN)")
    speed.add_argument("--no-progress", action="store_true", help="no progress bar")


def config_from_args(args: argparse.Namespace) -> RunConfig:
    """The :class:`RunConfig` of parsed ``run`` arguments."""
    return RunConfig(
        mode=args.mode,
        out=args.out,
        judge=args.judge,
        model=args.model,
        base_url=args.base_url,
        backend=args.backend,
        benchmark=args.benchmark,
        split=args.split,
        datasets=tuple(args.datasets or ()),
        limit=args.limit,
        setting=args.setting,
        template=args.template,
        swap=args.swap,
        shuffles=args.shuffles,
        samples=args.samples,
        seed=args.seed,
        verdict_source="forward" if args.forward else "generate",
        max_tokens=args.max_tokens,
        concurrency=args.concurrency,
        batch_size=args.batch_size,
        push=args.push,
        progress=False if args.no_progress else None,
    )


def _sigterm_as_interrupt() -> Any:
    if threading.current_thread() is not threading.main_thread():
        return None

    def handler(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    return signal.signal(signal.SIGTERM, handler)


def run_command(args: argparse.Namespace) -> int:
    """The ``run`` command: judge, print a summary, return the exit status.

    Returns:
        0 when the run is complete (and pushed, with ``--push``), 3 when items are missing after
        backend errors (start again to retry them), 130 after Ctrl-C, 1 when the run could not
        start or its push failed.
    """
    from judges.errors import JudgeError

    logging.getLogger("httpx2").setLevel(logging.WARNING)  # a line per request would drown the progress bar
    previous = _sigterm_as_interrupt()
    try:
        summary = run_benchmark(config_from_args(args))
    except (RunnerError, BenchmarkError, JudgeError, RunFormatError, RunStateError) as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 1
    except KeyboardInterrupt:  # before judging started: nothing written
        sys.stderr.write("interrupted\n")
        return EXIT_INTERRUPTED
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    sys.stdout.write(summary.to_text() + "\n")
    if summary.interrupted:
        return EXIT_INTERRUPTED
    if not summary.complete:
        return EXIT_INCOMPLETE
    return 1 if summary.push_error else 0


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m leaderboard.runner``: the ``run`` command on its own."""
    parser = argparse.ArgumentParser(prog="python -m leaderboard.runner", description="Judge the benchmark into a run.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    add_run_arguments(parser)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(message)s")
    return run_command(args)


if __name__ == "__main__":
    sys.exit(main())
