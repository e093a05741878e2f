"""The ``run`` command: ``python -m leaderboard run ...`` (and ``python -m leaderboard.runner``).

:func:`add_run_arguments` adds its options to a parser, :func:`config_from_args` turns them into a
:class:`~leaderboard.runner.config.RunConfig`, :func:`run_command` runs it and prints the summary.
The choices of ``--mode`` and ``--split`` are the benchmarks' (:mod:`leaderboard.benchmarks`).
Without ``--out`` the run goes to :func:`default_out`: a folder named after the run in ``RUNS_DIR``
(else ``./runs``), where the Space reads runs and submissions.

Exit status (also in ``--help``): 0 complete; 1 the run could not start (bad option, unknown judge,
a folder holding another run) or its push failed; 3 items still missing after backend errors (start
again to retry them); 4 the run folder cannot be written or read (disk full, file too large, a
read-only folder, a file where the folder should be, a damaged manifest): what is stored is kept,
fix the cause and start the same command again; 130 interrupted.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import signal
import sys
import threading
from collections.abc import Sequence
from dataclasses import fields
from pathlib import Path
from typing import Any

from judges.backends.registry import backend_names
from leaderboard.benchmarks import BENCHMARKS, BenchmarkError, benchmark_names
from leaderboard.runner.config import (
    EXIT_INCOMPLETE,
    EXIT_INTERRUPTED,
    EXIT_STORAGE,
    OPTION_BOUNDS,
    RunConfig,
    RunnerError,
    RunStorageError,
)
from leaderboard.runner.folder import RunStateError
from leaderboard.runner.run import run_benchmark
from leaderboard.schema import DEFAULT_BENCHMARK
from leaderboard.store.format import RunFormatError

EXIT_STATUS_HELP = (
    f"Exit status: 0 complete; 1 the run could not start, or its push failed; {EXIT_INCOMPLETE} items still "
    f"missing after backend errors (start again to retry them); {EXIT_STORAGE} the run folder cannot be written "
    "or read (disk full, file too large, read-only, not a folder, damaged manifest): what is stored is kept, fix "
    f"it and start the same command again; {EXIT_INTERRUPTED} interrupted."
)


def _bounds(name: str) -> str:
    least, most = OPTION_BOUNDS[name]
    return f"{least:,}..{most:,}"


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``run`` command's options to ``parser`` (a subparser of ``python -m leaderboard``)."""
    from judges.prompts import SETTINGS, template_names

    parser.epilog = EXIT_STATUS_HELP

    who = parser.add_argument_group("judge (one of)")
    who.add_argument("--judge", help="a judge from the catalog (python -m judges list)")
    who.add_argument("--model", help="a model id: with --base-url (OpenAI-compatible) or --backend hf (local)")
    who.add_argument("--base-url", help="OpenAI-compatible endpoint, e.g. http://localhost:8000/v1")
    who.add_argument("--backend", choices=backend_names(), default="openai", help="hf: a local transformers model")
    what = parser.add_argument_group("what to judge")
    modes = list(dict.fromkeys(m for b in BENCHMARKS.values() for m in b.modes))
    splits = list(dict.fromkeys(s for b in BENCHMARKS.values() for s in b.splits))
    what.add_argument(
        "--benchmark-name", default=DEFAULT_BENCHMARK, choices=benchmark_names(), help="which benchmark to judge"
    )
    what.add_argument("--mode", required=True, choices=modes)
    what.add_argument(
        "--benchmark", type=Path, help="local copy of the benchmark (Hub layout); default BENCHMARK_DIR, else download"
    )
    what.add_argument("--split", choices=splits, default="all", help="lite: a fixed sample of a few items per dataset")
    what.add_argument("--datasets", nargs="+", default=(), metavar="NAME", help="only these source datasets")
    what.add_argument("--limit", type=int, help=f"at most N items ({_bounds('limit')})")
    how = parser.add_argument_group("how")
    how.add_argument("--setting", default="no-cot", choices=list(SETTINGS), help="the paper's prompt settings")
    how.add_argument("--template", default="mllm-judge", choices=template_names(), help="prompt template")
    how.add_argument("--swap", action="store_true", help="pair: judge both orders and reconcile")
    how.add_argument("--shuffles", type=int, default=0, help=f"batch: extra random orders ({_bounds('shuffles')})")
    how.add_argument(
        "--samples", type=int, default=1, help=f"samples per judgment, majority verdict ({_bounds('samples')})"
    )
    how.add_argument("--seed", type=int, default=0, help="seed of the batch shuffles")
    how.add_argument("--forward", action="store_true", help="local judges: verdict from one forward pass")
    how.add_argument("--max-tokens", type=int, help=f"most tokens one judgment may generate ({_bounds('max_tokens')})")
    speed = parser.add_argument_group("speed and output")
    speed.add_argument(
        "--concurrency", type=int, default=8, help=f"API requests in flight (default 8; {_bounds('concurrency')})"
    )
    speed.add_argument(
        "--batch-size", type=int, default=8, help=f"local judges: items per batch (default 8; {_bounds('batch_size')})"
    )
    speed.add_argument(
        "--out",
        type=Path,
        help="the run's folder (resumed when it exists); default: a folder named after the run "
        "(judge-benchmark-mode-split-setting-<hash of the options>) in RUNS_DIR, else in ./runs, the folders "
        "the Space reads runs and submissions from; the same command resumes the same folder",
    )
    speed.add_argument("--push", metavar="REPO_ID", help="push the finished run to this HF dataset repo (HF_TOKEN)")
    speed.add_argument("--no-progress", action="store_true", help="no progress bar")


def config_from_args(args: argparse.Namespace) -> RunConfig:
    """The :class:`RunConfig` of parsed ``run`` arguments.

    Options are named like the config's fields (``--batch-size`` -> ``batch_size``), so they are
    copied by name; only the three that read differently on the command line are converted here.
    """
    given = {f.name: getattr(args, f.name) for f in fields(RunConfig) if hasattr(args, f.name)}
    if given.get("out") is None:
        given["out"] = default_out(args)
    given["datasets"] = tuple(args.datasets or ())
    given["verdict_source"] = "forward" if args.forward else "generate"
    given["progress"] = False if args.no_progress else None
    return RunConfig(**given)


#: The options that decide what a run judges (speed, where the judge or the benchmark copy is, and
#: where to push do not): the default folder's name is drawn from them, so that the same command
#: finds its folder again and another run never lands in it.
_NAMING_OPTIONS = (
    "judge",
    "model",
    "backend",
    "benchmark_name",
    "mode",
    "split",
    "datasets",
    "limit",
    "setting",
    "template",
    "swap",
    "shuffles",
    "samples",
    "seed",
    "forward",
    "max_tokens",
)


def default_out(args: argparse.Namespace) -> Path:
    """The run folder used when ``--out`` is not given: named after the run, where the Space reads runs.

    The folder is ``RUNS_DIR`` (else :data:`leaderboard.store.sources.DEFAULT_SUBMISSIONS_DIR`,
    ``./runs``) / ``<judge>-<benchmark>-<mode>-<split>-<setting>-<hash>``; the hash covers every
    option that changes what is judged, so starting the same command again resumes the same run.
    """
    from judges.settings import Settings
    from leaderboard.store.format import slug
    from leaderboard.store.sources import submissions_dir

    chosen = {name: getattr(args, name, None) for name in _NAMING_OPTIONS}
    chosen["datasets"] = sorted(chosen["datasets"] or ())
    digest = hashlib.sha256(json.dumps(chosen, sort_keys=True, default=str).encode()).hexdigest()[:8]
    judge = str(args.judge or str(args.model or "judge").rstrip("/").rsplit("/", 1)[-1])
    parts = (judge, args.benchmark_name, args.mode, args.split, args.setting)
    name = "-".join(slug(str(part)) for part in parts).lstrip(".") or "run"
    return submissions_dir(Settings.from_env()) / f"{name}-{digest}"


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
        backend errors (start again to retry them), 4 when the run folder cannot be written or
        read (nothing stored is lost; fix it and start again), 130 after Ctrl-C, 1 when the run
        could not start or its push failed.
    """
    from judges.errors import JudgeError

    logging.getLogger("httpx2").setLevel(logging.WARNING)  # a line per request would drown the progress bar
    previous = _sigterm_as_interrupt()
    try:
        summary = run_benchmark(config_from_args(args))
    except RunStorageError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return EXIT_STORAGE
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
