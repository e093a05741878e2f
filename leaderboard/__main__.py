"""Command line: ``python -m leaderboard <command>``.

Commands:
    import-mllm-judge SRC_DIR [--out assets] [--from-hub]
        Import the released MLLM-as-a-Judge data into stored runs and a label table, re-parsing every
        raw verdict with judges.parsing, and print what could not be parsed, per file.
    table [--runs DIR ...] [--no-embedded] [--labels CSV ...] [--format csv|markdown] [--mode MODE ...]
          [--metric NAME ...] [--benchmark NAME ...] [--subset SUBSET ...] [--min-n N]
          [--no-reference] [--resamples N] [--seed S] [--stream | --no-stream]
        Print the leaderboard in long form (columns: see leaderboard.schema.COLUMNS), every benchmark
        by default. ``--runs`` adds folders of runs to the embedded ones. Every figure is recomputed
        from the stored records on each call.

More subcommands (``run``) register themselves through :func:`build_parser`'s ``subparsers``.
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from leaderboard.errors import LeaderboardError


def _format_value(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return "-"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value).replace("|", "\\|")


def to_markdown(frame: pd.DataFrame) -> str:
    """A GitHub-style markdown table; numbers to 3 decimals, missing values as '-'."""
    head = "| " + " | ".join(frame.columns) + " |"
    rule = "|" + "|".join("---:" if pd.api.types.is_numeric_dtype(frame[c]) else "---" for c in frame.columns) + "|"
    body = [
        "| " + " | ".join(_format_value(v) for v in row) + " |" for row in frame.astype(object).itertuples(index=False)
    ]
    return "\n".join([head, rule, *body])


def _cmd_import(args: argparse.Namespace) -> int:
    import inspect

    from leaderboard.benchmarks import BenchmarkError, get_benchmark

    bench = get_benchmark(args.benchmark_name)
    importer = bench.importers[args.command]
    # Importers of judge outputs stored elsewhere read SRC and take the benchmark's release only to
    # map item ids; importers of the release itself read the downloaded release as SRC.
    takes_release = "release" in inspect.signature(importer).parameters
    if args.from_hub and bench.fetch_release is None:
        print(f"error: {bench.name} cannot download its release; give SRC_DIR", file=sys.stderr)
        return 2
    if args.src is None and (takes_release or not args.from_hub):
        print("error: give SRC_DIR, or --from-hub to download the dataset first", file=sys.stderr)
        return 2
    try:
        if takes_release:
            release = bench.fetch_release() if args.from_hub and bench.fetch_release else None
            summary = importer(Path(args.src), args.out, release=release)
        else:
            src = bench.fetch_release(cache_dir=args.src) if args.from_hub and bench.fetch_release else Path(args.src)
            summary = importer(src, args.out)
    except (FileNotFoundError, BenchmarkError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(summary.to_markdown())
    print(f"\nwrote {len(summary.runs)} runs and labels to {args.out}")
    return 0


#: Above this many bytes of judgments files, ``table`` streams runs (see ``--stream``): about 30M
#: judgments, which in memory take some 4.5 GB.
STREAM_ABOVE_BYTES = 4 * 2**30


def _judgments_bytes(sources: Sequence[Path]) -> int:
    """The size of every run's judgments file under ``sources`` (what loading them all would hold)."""
    from leaderboard.store.format import JUDGMENTS_NAME

    total = 0
    for source in sources:
        for path in Path(source).rglob(JUDGMENTS_NAME) if Path(source).is_dir() else ():
            try:
                total += path.stat().st_size
            except OSError:
                continue  # the loader reports it
    return total


def _cmd_table(args: argparse.Namespace) -> int:
    from leaderboard.board import load_inputs, reference_rows, scan_inputs
    from leaderboard.metrics import build_leaderboard
    from leaderboard.store.read import StoredRun
    from leaderboard.store.sources import default_assets_dir

    embedded = [] if args.no_embedded else [default_assets_dir()]
    sources = [*embedded, *(Path(p) for p in args.runs or [])]
    if not sources:
        print("error: --no-embedded needs at least one --runs DIR", file=sys.stderr)
        return 2
    if args.min_n < 1:
        print(f"error: --min-n must be at least 1 (1 keeps every cell), got {args.min_n}", file=sys.stderr)
        return 2
    # Labels travel with the runs' sources; the embedded table is the fallback when none do.
    stream = args.stream if args.stream is not None else _judgments_bytes(sources) > STREAM_ABOVE_BYTES
    runs: Sequence[StoredRun]
    if stream:
        if args.stream is None:
            print(
                f"note: more than {STREAM_ABOVE_BYTES / 2**30:.0f} GiB of judgments: each run's records are read "
                "when its rows are computed, not all kept in memory (--no-stream keeps them)",
                file=sys.stderr,
            )
        labels, runs, problems = scan_inputs(sources, args.labels or [])
    else:
        labels, loaded = load_inputs(sources, args.labels or [], reusable=False)
        runs, problems = loaded.runs, loaded.problems
    _report_problems(problems)
    reference = None if args.no_reference else reference_rows(args.reference)
    table = build_leaderboard(
        runs,
        labels,
        reference,
        modes=args.mode,
        n_resamples=args.resamples,
        seed=args.seed,
        min_n=args.min_n,
        benchmarks=args.benchmark,
        subsets=args.subset,
    )
    if args.metric:
        table = table[table["metric"].isin(args.metric)]
    if args.format == "markdown":
        print(to_markdown(table))
    else:
        table.to_csv(sys.stdout, index=False, float_format="%.6g", lineterminator="\n")
    return 0


def _report_problems(problems: Sequence[object], limit: int = 20) -> None:
    if not problems:
        return
    print(f"{len(problems)} input problem(s) (file:line: reason):", file=sys.stderr)
    for problem in problems[:limit]:
        print(f"  {problem}", file=sys.stderr)
    if len(problems) > limit:
        kinds = Counter(str(p.reason).split(";")[0][:60] for p in problems)  # type: ignore[attr-defined]
        print(f"  ... {len(problems) - limit} more; by kind:", file=sys.stderr)
        for kind, count in kinds.most_common(10):
            print(f"    {count} x {kind}", file=sys.stderr)


def build_parser() -> tuple[argparse.ArgumentParser, argparse._SubParsersAction]:
    """The argument parser and its subparsers (so that other modules can add commands)."""
    from leaderboard.benchmarks import BENCHMARKS, benchmark_names
    from leaderboard.metrics import METRIC_NAMES
    from leaderboard.runner.cli import add_run_arguments, run_command
    from leaderboard.schema import DEFAULT_MIN_N, MODES, SUBSETS

    parser = argparse.ArgumentParser(prog="python -m leaderboard", description="MLLM-as-a-Judge leaderboard data.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    sub = parser.add_subparsers(dest="command", required=True)

    # One command per importer a benchmark registers (today: import-mllm-judge).
    for bench in BENCHMARKS.values():
        for command in bench.importers:
            imp = sub.add_parser(command, help="import the released benchmark data into stored runs")
            imp.add_argument(
                "src", nargs="?", help="folder with the released data (with --from-hub: download cache folder)"
            )
            imp.add_argument("--out", default="assets", help="output folder (default: assets)")
            imp.add_argument("--from-hub", action="store_true", help=f"download {bench.repo_id} from the Hub first")
            imp.set_defaults(func=_cmd_import, benchmark_name=bench.name)

    tab = sub.add_parser("table", help="print the leaderboard in long form")
    tab.add_argument("--runs", action="append", help="folder with stored runs, added to the embedded ones (repeatable)")
    tab.add_argument("--no-embedded", action="store_true", help="leave out the embedded runs (then give --runs)")
    tab.add_argument("--labels", action="append", help="extra label CSV (repeatable)")
    tab.add_argument("--format", choices=("csv", "markdown"), default="csv")
    tab.add_argument("--mode", action="append", choices=MODES, help="only these modes (repeatable)")
    tab.add_argument("--metric", action="append", choices=METRIC_NAMES, help="only these metrics (repeatable)")
    tab.add_argument(
        "--benchmark",
        action="append",
        choices=benchmark_names(),
        help="only these benchmarks (repeatable; default all)",
    )
    subsets = sorted({*SUBSETS, *(s for b in BENCHMARKS.values() for s in b.subsets)})
    tab.add_argument("--subset", action="append", choices=subsets, help="only these subsets (repeatable; default all)")
    tab.add_argument(
        "--min-n",
        type=int,
        default=DEFAULT_MIN_N,
        help=f"a cell on fewer items has no value and is left out of Average (default {DEFAULT_MIN_N}; 1: keep all)",
    )
    tab.add_argument("--no-reference", action="store_true", help="leave out the paper's reported numbers")
    tab.add_argument("--reference", help="CSV of reported numbers (default: the embedded one)")
    tab.add_argument("--resamples", type=int, default=1000, help="bootstrap resamples (0: no intervals)")
    tab.add_argument(
        "--stream",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="keep no run's records in memory beyond the runs being computed (memory grows with the largest "
        "run; each run is read twice); default: only above 4 GiB of judgments files",
    )
    tab.add_argument("--seed", type=int, default=0, help="bootstrap seed")
    tab.set_defaults(func=_cmd_table)

    run = sub.add_parser("run", help="judge the benchmark with a judge and store the run (resumable)")
    add_run_arguments(run)
    run.set_defaults(func=run_command)
    return parser, sub


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser, _sub = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(message)s")
    try:
        return args.func(args)
    except LeaderboardError as exc:  # said plainly: a run changed under the command, a bad benchmark ...
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        # The reader went away (`| head`): silence the flush at exit instead of printing a traceback.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
