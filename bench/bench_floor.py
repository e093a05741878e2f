"""Benchmark: the floor under a cold leaderboard table on this machine, beside the project's own time.

Any program that prints the same table as ``python -m leaderboard table`` (the same numbers, to the
last bit) has to do at least three things, and this script times each of them alone, in its own
child process, on the synthetic runs of ``bench_leaderboard.py``:

* **start-up**: ``python -c "import numpy, pandas"`` (the table is a pandas frame of numpy values);
* **the seeded bootstrap**: the same multinomial draws from the same generator states (the stream
  fixes the intervals), the metrics of the resampled tables and their percentiles, on one thread
  per core. The draws are recorded during a normal build (untimed), then replayed alone;
* **read, join and count**: polars on the Parquet companions, the fastest peer of
  ``bench_leaderboard.py``, with ``import polars`` done before its clock starts.

Their sum is a floor: it leaves out checking each judgment, every per-judgment figure and the 8,160
rows themselves, and it grants the bootstrap perfect use of the cores. The metrics of the resampled
tables are this project's vectorised formulas, so the draws alone are printed too, as the stricter
floor. The script prints the floor beside the targets of issue 14 and beside the project's CLI
measured in the same run. Times are medians of ``--repeats`` (3) with the machine's load average;
the bench's data folder (``--keep``) is reused when it exists.

Run: ``python bench/bench_floor.py [--judgments 1000000] [--keep DIR]``; ``--judgments 10000000``
for the 10M set (where the target is a ratio to polars on Parquet, numpy and pandas imported first).
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import json
import os
import resource
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_leaderboard import ROOT, measure, peer_polars, write_source  # noqa: E402

TARGET_1M_S = 1.5  # issue 14: `leaderboard table` at 1M under 1.5 s end to end
TARGET_X_POLARS = 1.5  # issue 14: at 10M at most 1.5x polars on Parquet


@dataclasses.dataclass
class _Draw:
    """One recorded bootstrap draw: its input tables, the generator state before it, what follows it."""

    tables: np.ndarray
    n_resamples: int
    state: dict
    stats: object = None
    metrics: tuple[str, ...] = ()


def _record_bootstrap(root: Path, resamples: int) -> list[_Draw]:
    """Build the table once (untimed) and keep every multinomial draw and the family statistics after it."""
    from leaderboard.board import load_inputs
    from leaderboard.metrics import compute
    from leaderboard.metrics import tables as M

    draws: list[_Draw] = []
    lock, last = threading.Lock(), threading.local()  # a draw and its statistics run on one thread
    multinomial, families = M.multinomial_resample, compute.metric_families

    def recording_draw(tables, n_resamples, rng):
        draw = _Draw(np.array(tables), n_resamples, copy.deepcopy(rng.bit_generator.state))
        with lock:
            draws.append(draw)
        last.draw = draw
        return multinomial(tables, n_resamples, rng)

    def recording_families(j, agreement):
        def watched(fam):
            def stats(counts):
                draw = getattr(last, "draw", None)
                if np.ndim(counts) == 3 and draw is not None:  # (B, C, K): the resamples of that draw
                    draw.stats, draw.metrics, last.draw = fam.stats, fam.metrics, None
                return fam.stats(counts)

            return dataclasses.replace(fam, stats=stats)

        return [watched(fam) for fam in families(j, agreement)]

    M.multinomial_resample, compute.metric_families = recording_draw, recording_families
    try:
        labels, loaded = load_inputs([root], reusable=False)
        compute.build_leaderboard(loaded.runs, labels, None, n_resamples=resamples)
    finally:
        M.multinomial_resample, compute.metric_families = multinomial, families
    return draws


def _replay(draw: _Draw, *, metrics: bool = True) -> None:
    from leaderboard.metrics import tables as M

    rng = np.random.Generator(np.random.PCG64())
    rng.bit_generator.state = draw.state
    boot = M.multinomial_resample(draw.tables, draw.n_resamples, rng)
    if metrics and callable(draw.stats):
        stats = draw.stats(boot)
        for metric in draw.metrics:
            if metric in stats:
                M.percentile_interval(np.asarray(stats[metric], dtype=float))


def child(kind: str, root: Path, resamples: int) -> None:
    """One measurement in this process; prints bench_leaderboard's JSON line."""
    if kind in ("bootstrap", "draws"):
        draws = _record_bootstrap(root, resamples)
        started, cpu_started = time.perf_counter(), time.process_time()
        with ThreadPoolExecutor(os.cpu_count() or 1) as pool:
            list(pool.map(lambda draw: _replay(draw, metrics=kind == "bootstrap"), draws))
        result = len(draws)
    elif kind == "polars-work":
        import polars  # noqa: F401  (imported before the clock: only the work is timed)

        started, cpu_started = time.perf_counter(), time.process_time()
        result = peer_polars(root, "parquet")
    elif kind == "polars":
        started, cpu_started = time.perf_counter(), time.process_time()
        result = peer_polars(root, "parquet")
    else:
        raise SystemExit(f"unknown child {kind}")
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"s": seconds, "cpu": cpu, "peak_mb": peak_mb, "result": result}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--judgments", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--keep", help="the bench's data folder, written when missing (default: a temporary one)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--dir", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, Path(args.dir), args.resamples)
        return

    tmp = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench-floor-"))
    root = tmp / "source"
    if not (root / "runs").is_dir():
        write_source(root, args.judgments)
    me = [sys.executable, __file__, "--dir", str(root), "--resamples", str(args.resamples), "--child"]
    # bench_leaderboard's "cli" child times a whole command in a fresh process, start-up included.
    process = [sys.executable, str(ROOT / "bench" / "bench_leaderboard.py"), "--dir", str(root), "--child", "cli", "--"]
    table = ["-m", "leaderboard", "table", "--no-embedded", "--runs", str(root), "--no-reference"]
    print(f"measuring on {args.judgments:,} judgments in {root}, {os.cpu_count()} CPUs ...", file=sys.stderr)
    startup = measure("start-up", [*process, "-c", "import numpy, pandas"], args.repeats)
    boot = measure("bootstrap", [*me, "bootstrap"], args.repeats)
    draws = measure("draws", [*me, "draws"], args.repeats)
    work = measure("polars-work", [*me, "polars-work"], args.repeats)
    polars = measure("polars", [*me, "polars"], args.repeats)
    project = measure("project", [*process, *table, "--resamples", str(args.resamples)], args.repeats)

    floor_cli = startup["s"] + boot["s"] + work["s"]
    floor_work = boot["s"] + work["s"]  # bench_leaderboard's clocks start after numpy and pandas
    rows = [
        ("Python start-up, `import numpy, pandas`", startup),
        (f"the seeded bootstrap alone (draws, their metrics and percentiles; {os.cpu_count()} threads)", boot),
        ("- of it, the multinomial draws alone (not added: the stricter floor)", draws),
        ("read, join and count: polars on Parquet, its import excluded", work),
        ("**floor**: start-up + bootstrap + polars' work", {"s": floor_cli, "cpu": float("nan"), "load": float("nan")}),
        ("project CLI, start-up included", project),
        ("polars on Parquet, its import included", polars),
    ]
    print(
        f"\n{args.judgments:,} judgments, {args.resamples} resamples, median of {args.repeats}, {os.cpu_count()} CPUs\n"
    )
    print("| part | wall, median (s) | CPU, median (s) | load average |")
    print("|---|---:|---:|---:|")
    for name, r in rows:
        cells = [f"{r[key]:.2f}" if r[key] == r[key] else "" for key in ("s", "cpu")]
        load = f"{r['load']:.1f}" if r["load"] == r["load"] else ""
        print(f"| {name} | {cells[0]} | {cells[1]} | {load} |")
    strict = draws["s"] - boot["s"]  # the floor with the draws alone instead of the whole bootstrap
    print(
        f"\nend to end: floor {floor_cli:.2f} s (draws alone: {floor_cli + strict:.2f} s) against the {TARGET_1M_S} s "
        f"target, leaving {TARGET_1M_S - floor_cli:+.2f} s ({TARGET_1M_S - floor_cli - strict:+.2f} s) for everything "
        f"else; the project: {project['s']:.2f} s"
    )
    ratio = TARGET_X_POLARS * polars["s"]
    print(
        f"against polars (the 10M target): floor {floor_work / polars['s']:.2f}x "
        f"(draws alone: {(floor_work + strict) / polars['s']:.2f}x) against {TARGET_X_POLARS}x, leaving "
        f"{ratio - floor_work:+.2f} s ({ratio - floor_work - strict:+.2f} s) for everything else"
    )


if __name__ == "__main__":
    main()
