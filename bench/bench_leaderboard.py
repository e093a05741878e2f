"""Benchmark: the leaderboard table from stored runs, beside pandas, polars and DuckDB on the same files.

Synthetic stored runs in this project's format (20 judges x score, pair, batch x 14 datasets, 1M
judgments by default) are written once to a temporary folder: ``judgments.jsonl`` per run plus its
columnar companion ``judgments.parquet`` (what the runner, the importers and accepted submissions
write), and the label table. Then every measurement runs in its own child process, ``--repeats``
times (default 3); the table prints the median wall time and CPU time (every thread of the child;
on a shared machine the wall time grows with the others' load, the CPU time much less), the largest
peak RSS of the child and the machine's load average (``os.getloadavg``) when that work started.
Times start in the child after numpy and pandas are imported, before the work's own imports (the
project's modules, polars, duckdb), which a user pays too.

The project's rows:

* ``project, JSONL``: what ``python -m leaderboard table`` does (read and validate every run, join
  with the labels, every metric with 1,000-resample bootstrap intervals, Average and Pooled rows),
  with the columnar companions ignored;
* ``project, Parquet``: the same reading the companions (the default when they exist);
* ``project, Parquet + warm cache``: the Space's store (``LazyLeaderboard.get``, reference rows
  included) with the row cache filled by an earlier process: a restart's first table, less Gradio;
* ``project, Refresh after one new run``: the store loaded, one new run of ``--judgments`` / 60
  judgments added, then only ``LazyLeaderboard.refresh`` timed: what Refresh or Submit costs;
* ``project CLI, start-up included``: ``python -m leaderboard table --no-embedded --runs DIR`` as a
  user runs it, Python start-up and imports included.

The peers do strictly less work on the same files: read every run, join with the labels on
``(mode, subset, item_id)`` and count the contingency table of (run, dataset, verdict, human label),
the part of the computation that touches every judgment (every agreement metric is a function of
those tables; the bootstrap resamples the tables, so its cost does not grow with the judgments).
They do not validate values, report bad lines or compute any metric or interval. ``pandas``:
``read_json(lines=True)`` per file; ``polars``: ``read_ndjson`` and ``read_parquet`` per file;
``DuckDB``: ``read_json`` / ``read_parquet`` over the file list in one query.

``--copies K`` adds a scale test: K hard-linked copies of every run under new run ids (K x the
judgments, no extra disk), measured with ``python -m leaderboard table --stream`` (memory bounded by
the largest runs) and with polars on Parquet only; pandas and a table kept in memory would need
tens of gigabytes there.

Run: ``python bench/bench_leaderboard.py [--judgments 1000000] [--repeats 3] [--resamples 1000]``;
``--judgments 10000000`` for the 10M set (writing it takes minutes and about 2 GB of disk);
``--judgments 10000000 --copies 10 --repeats 1`` for 100M judgments in 600 runs.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DATASETS = (
    "coco", "Concept Caption", "diffusiondb", "infographicsVQA", "mathvista", "textVQA", "WIT", "ChartQA",
    "VisitBench", "CC-3M", "Mind2Web", "ScienceQA", "AesBench", "MM-Vet",
)  # fmt: skip
N_JUDGES = 20
MODES = ("score", "pair", "batch")
PAIR = np.array(["A", "B", "tie"], dtype=object)


# --------------------------------------------------------------------------- data


def _perms(n: int, rng: np.random.Generator, size: int) -> np.ndarray:
    letters = np.array(list("ABCD"[:n]))
    order = np.argsort(rng.random((size, n)), axis=1)
    return np.array(["".join(row) for row in letters[order]], dtype=object)


def write_source(root: Path, total: int, seed: int = 0) -> None:
    """Stored runs (JSONL + Parquet companion) and their labels with ``total`` judgments in all."""
    from leaderboard.store import LABEL_COLUMNS, write_labels
    from leaderboard.store.columnar import write_columnar
    from leaderboard.store.format import Manifest

    rng = np.random.default_rng(seed)
    per_run = max(total // (N_JUDGES * len(MODES)), 14)
    label_frames = []
    for mode in MODES:
        items = np.array([str(i) for i in range(per_run)], dtype=object)
        ds = np.array(DATASETS, dtype=object)[rng.integers(0, len(DATASETS), per_run)]
        if mode == "score":
            human: np.ndarray = rng.integers(1, 6, per_run)
            human_text, n_resp = human.astype(str), 1
        elif mode == "pair":
            human = PAIR[rng.choice(3, per_run, p=[0.45, 0.45, 0.1])]
            human_text, n_resp = human, 2
        else:
            human = _perms(4, rng, per_run)
            human_text, n_resp = human, 4
        lengths = rng.integers(20, 2000, (per_run, n_resp))
        label_frames.append(
            pd.DataFrame(
                {
                    "benchmark": "mllm-as-a-judge",
                    "mode": mode,
                    "subset": "all",
                    "item_id": items,
                    "dataset": ds,
                    "human_label": human_text,
                    "n_responses": n_resp,
                    "response_lengths": ["|".join(map(str, row)) for row in lengths],
                    "image_id": items,
                    "label_issue": "",
                }  # fmt: skip
            )
        )
        for j in range(N_JUDGES):
            agree = rng.random(per_run) < 0.2 + 0.6 * j / (N_JUDGES - 1)
            if mode == "score":
                verdict = np.where(agree, human, rng.integers(1, 6, per_run)).astype(object)
            elif mode == "pair":
                verdict = np.where(agree, human, PAIR[rng.integers(0, 3, per_run)])
            else:
                verdict = np.where(agree, human, _perms(4, rng, per_run))
            unparsed = rng.random(per_run) < 0.03
            manifest = Manifest(f"synthetic-{mode}-judge{j:02d}", f"judge{j:02d}", mode, "run with this project")
            run_dir = root / "runs" / manifest.run_id
            run_dir.mkdir(parents=True)
            (run_dir / "manifest.json").write_text(json.dumps(manifest.to_dict(), indent=2) + "\n")
            with open(run_dir / "judgments.jsonl", "w", encoding="utf-8") as handle:
                for k in range(per_run):
                    v = None if unparsed[k] else verdict[k]
                    line = {
                        "item_id": items[k], "dataset": ds[k], "verdict": int(v) if mode == "score" and v is not None else v,
                        "unscored_reason": "no verdict found" if unparsed[k] else None,
                        "probabilities": None, "swap": None, "consistency": None, "latency_s": None,
                    }  # fmt: skip
                    handle.write(json.dumps(line, separators=(",", ":")) + "\n")
            write_columnar(run_dir, min_lines=0)  # the project writes them from 1,000 lines; small sets too here
    labels = pd.concat(label_frames, ignore_index=True)[list(LABEL_COLUMNS)]
    write_labels(labels, root / "benchmark" / "labels.csv")


def link_copies(root: Path, dst: Path, copies: int) -> None:
    """``copies`` copies of every run of ``root`` under new run ids and judges, files hard-linked."""
    (dst / "runs").mkdir(parents=True)
    shutil.copytree(root / "benchmark", dst / "benchmark")
    for run_dir in sorted((root / "runs").iterdir()):
        manifest = json.loads((run_dir / "manifest.json").read_text())
        for k in range(copies):
            out = dst / "runs" / f"{run_dir.name}-c{k}"
            out.mkdir()
            copy = {**manifest, "run_id": f"{manifest['run_id']}-c{k}", "judge": f"{manifest['judge']} copy {k}"}
            (out / "manifest.json").write_text(json.dumps(copy, indent=2) + "\n")
            for name in ("judgments.jsonl", "judgments.parquet"):
                os.link(run_dir / name, out / name)  # same size and time: the companion stays current


def add_run(root: Path, tag: str) -> None:
    """One more run (a copy of the first score run under a new id), as a submission adds it."""
    src = sorted((root / "runs").glob("synthetic-score-*"))[0]
    dst = root / "runs" / f"new-{tag}"
    shutil.copytree(src, dst)
    manifest = json.loads((dst / "manifest.json").read_text())
    manifest["run_id"], manifest["judge"] = f"new-{tag}", f"new judge {tag}"
    (dst / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    os.utime(dst / "judgments.jsonl")  # a new file: the companion is checked by its SHA-1


# --------------------------------------------------------------------------- the measured work (child side)


def _runs(root: Path, ext: str) -> dict[str, list[tuple[str, Path]]]:
    out: dict[str, list[tuple[str, Path]]] = {m: [] for m in MODES}
    for run_dir in sorted((root / "runs").iterdir()):
        manifest = json.loads((run_dir / "manifest.json").read_text())
        out[manifest["mode"]].append((manifest["run_id"], run_dir / f"judgments.{ext}"))
    return out


def project(root: Path, resamples: int, *, columnar: bool, cache_dir: Path | None) -> int:
    from leaderboard.board import load_inputs
    from leaderboard.metrics.compute import build_leaderboard
    from leaderboard.store import read
    from leaderboard.store.rowcache import RowCache

    if not columnar:
        read.read_columnar = lambda *args, **kwargs: None  # type: ignore[assignment]
    labels, loaded = load_inputs([root])
    assert not loaded.problems, loaded.problems[:3]
    cache = RowCache(cache_dir) if cache_dir is not None else None
    table = build_leaderboard(loaded.runs, labels, None, n_resamples=resamples, cache=cache)
    return len(table)


def space_store(root: Path, resamples: int, cache_dir: Path):
    """The Space's store (:class:`leaderboard.board.LazyLeaderboard`) over ``root`` with a row cache."""
    from leaderboard.board import LazyLeaderboard

    return LazyLeaderboard(sources=lambda: [root], n_resamples=resamples, cache_dir=cache_dir)


def peer_pandas(root: Path) -> int:
    labels = pd.read_csv(root / "benchmark" / "labels.csv", dtype=str, keep_default_na=False)
    cells = 0
    for mode, files in _runs(root, "jsonl").items():
        frames = []
        for run_id, path in files:
            frame = pd.read_json(path, lines=True, dtype={"item_id": str, "verdict": str, "dataset": str})
            frames.append(frame[["item_id", "dataset", "verdict"]].assign(run_id=run_id))
        rec = pd.concat(frames, ignore_index=True)
        lab = labels[(labels["mode"] == mode) & (labels["subset"] == "all")][["item_id", "dataset", "human_label"]]
        joined = rec.merge(lab, on="item_id", how="left", suffixes=("_run", ""))
        cells += len(joined.groupby(["run_id", "dataset", "verdict", "human_label"], dropna=False).size())
    return cells


def peer_polars(root: Path, ext: str) -> int:
    import polars as pl

    labels = pl.read_csv(root / "benchmark" / "labels.csv", infer_schema=False)
    cells = 0
    for mode, files in _runs(root, ext).items():
        frames = []
        for run_id, path in files:
            if ext == "jsonl":
                frame = pl.read_ndjson(
                    path,
                    schema={"item_id": pl.Utf8, "dataset": pl.Utf8, "verdict": pl.Utf8, "unscored_reason": pl.Utf8},
                )
            else:
                frame = pl.read_parquet(path, columns=["item_id", "dataset", "verdict"])
            frames.append(
                frame.select(
                    pl.col("item_id"),
                    pl.col("dataset"),
                    pl.col("verdict").cast(pl.Utf8),
                    pl.lit(run_id).alias("run_id"),
                )
            )
        lab = labels.filter((pl.col("mode") == mode) & (pl.col("subset") == "all")).select(
            "item_id", pl.col("dataset").alias("label_dataset"), "human_label"
        )
        joined = pl.concat(frames).join(lab, on="item_id", how="left")
        cells += joined.group_by(["run_id", "label_dataset", "verdict", "human_label"]).len().height
    return cells


def peer_duckdb(root: Path, ext: str) -> int:
    import duckdb

    con = duckdb.connect()
    con.execute(f"SET threads = {os.cpu_count() or 1}")
    labels = f"read_csv('{root / 'benchmark' / 'labels.csv'}', all_varchar = true)"
    cells = 0
    for mode, files in _runs(root, ext).items():
        names = "[" + ", ".join(f"'{path}'" for _, path in files) + "]"
        if ext == "jsonl":
            source = (
                f"read_json({names}, format = 'newline_delimited', filename = true, "
                "columns = {item_id: 'VARCHAR', dataset: 'VARCHAR', verdict: 'VARCHAR'})"
            )
        else:
            source = f"read_parquet({names}, filename = true)"
        query = f"""
            SELECT count(*) FROM (
                SELECT r.filename, l.dataset, CAST(r.verdict AS VARCHAR), l.human_label, count(*)
                FROM {source} r
                LEFT JOIN (SELECT * FROM {labels} WHERE mode = '{mode}' AND subset = 'all') l
                  ON r.item_id = l.item_id
                GROUP BY ALL
            )"""
        cells += con.execute(query).fetchone()[0]  # type: ignore[index]
    return cells


def child(args: argparse.Namespace) -> None:
    root = Path(args.dir)
    started = time.perf_counter()
    cpu_started = time.process_time()
    if args.child == "project-jsonl":
        result = project(root, args.resamples, columnar=False, cache_dir=None)
    elif args.child == "project-parquet":
        result = project(root, args.resamples, columnar=True, cache_dir=None)
    elif args.child == "project-cache":
        result = space_store(root, args.resamples, Path(args.cache)).get().table.shape[0]
    elif args.child == "project-refresh":
        store = space_store(root, args.resamples, Path(args.cache))
        store.get()
        tag = f"{os.getpid()}-{time.time_ns()}"
        add_run(root, tag)
        try:
            started = time.perf_counter()  # only the refresh is timed: the Space had the data loaded
            cpu_started = time.process_time()
            result = store.refresh().table.shape[0]
        finally:
            shutil.rmtree(root / "runs" / f"new-{tag}")
    elif args.child == "cli":
        # The command line as a user runs it, in its own process: wall, CPU and peak RSS of that process.
        with open(os.devnull, "w") as sink:
            result = subprocess.run([sys.executable, *args.rest], stdout=sink, check=True).returncode
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        seconds, cpu = time.perf_counter() - started, usage.ru_utime + usage.ru_stime
        print(json.dumps({"s": seconds, "cpu": cpu, "peak_mb": usage.ru_maxrss / 1024, "result": result}))
        return
    elif args.child == "pandas":
        result = peer_pandas(root)
    elif args.child in ("polars-jsonl", "polars-parquet"):
        result = peer_polars(root, args.child.split("-")[1])
    elif args.child in ("duckdb-jsonl", "duckdb-parquet"):
        result = peer_duckdb(root, args.child.split("-")[1])
    else:
        raise SystemExit(f"unknown child {args.child}")
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"s": seconds, "cpu": cpu, "peak_mb": peak_mb, "result": result}))


# --------------------------------------------------------------------------- the parent


def measure(name: str, argv: list[str], repeats: int) -> dict:
    """Run ``argv`` ``repeats`` times: median wall and CPU seconds, largest peak RSS, median load."""
    times, cpus, peaks, loads = [], [], [], []
    for _ in range(repeats):
        loads.append(os.getloadavg()[0])
        started = time.perf_counter()
        out = subprocess.run(argv, capture_output=True, text=True, cwd=ROOT, check=False)
        wall = time.perf_counter() - started
        if out.returncode != 0:
            raise SystemExit(f"{name} failed:\n{out.stderr[-3000:]}")
        lines = [line for line in out.stdout.splitlines() if line.startswith("{")]
        report = json.loads(lines[-1]) if lines else {"s": wall, "cpu": float("nan"), "peak_mb": float("nan")}
        times.append(report["s"] if lines else wall)
        cpus.append(report["cpu"])
        peaks.append(report["peak_mb"])
    return {
        "name": name,
        "s": statistics.median(times),
        "cpu": statistics.median(cpus),
        "peak_mb": max(peaks),
        "load": statistics.median(loads),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--judgments", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--keep", help="write the data here and keep it (default: a temporary folder)")
    parser.add_argument("--copies", type=int, default=0, help="also measure K hard-linked copies of every run")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--dir", help=argparse.SUPPRESS)
    parser.add_argument("--cache", help=argparse.SUPPRESS)
    argv = sys.argv[1:]
    cut = argv.index("--") if "--" in argv else len(argv)  # --child cli -- <the command's arguments>
    args = parser.parse_args(argv[:cut])
    args.rest = argv[cut + 1 :]
    if args.child:
        child(args)
        return

    tmp = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench-leaderboard-"))
    root, cache = tmp / "source", tmp / "cache"
    try:
        started = time.perf_counter()
        if not (root / "runs").is_dir():
            write_source(root, args.judgments)
        print(f"data: {args.judgments:,} judgments in {len(list((root / 'runs').iterdir()))} runs, "
              f"written in {time.perf_counter() - started:.0f} s; {os.cpu_count()} CPUs", file=sys.stderr)  # fmt: skip
        me = [sys.executable, __file__, "--dir", str(root), "--resamples", str(args.resamples), "--cache", str(cache)]
        rows = []

        def run(name: str, child_name: str) -> None:
            print(f"  measuring {name} ...", file=sys.stderr)
            rows.append(measure(name, [*me, "--child", child_name], args.repeats))

        run("project, JSONL (`leaderboard table` work)", "project-jsonl")
        run("project, Parquet", "project-parquet")
        measure("fill the cache", [*me, "--child", "project-cache"], 1)
        run("project, Parquet + warm cache (restart)", "project-cache")
        run(
            f"project, Refresh after one new run ({args.judgments // (N_JUDGES * len(MODES)):,} judgments), "
            "the rest loaded",
            "project-refresh",
        )
        cli = [sys.executable, "-m", "leaderboard", "table", "--no-embedded", "--runs", str(root), "--no-reference"]
        cli += ["--resamples", str(args.resamples)]
        print("  measuring the CLI ...", file=sys.stderr)
        rows.append(measure("project CLI, start-up included", [*me, "--child", "cli", "--", *cli[1:]], args.repeats))
        for name, child_name in (
            ("pandas, JSONL", "pandas"),
            ("polars, JSONL", "polars-jsonl"),
            ("polars, Parquet", "polars-parquet"),
            ("DuckDB, JSONL", "duckdb-jsonl"),
            ("DuckDB, Parquet", "duckdb-parquet"),
        ):
            run(name, child_name)
        if args.copies:
            scaled = tmp / f"x{args.copies}"
            if not (scaled / "runs").is_dir():
                link_copies(root, scaled, args.copies)
            total = args.judgments * args.copies
            print(f"  measuring {total:,} judgments ({args.copies} copies) ...", file=sys.stderr)
            streamed = [*cli[1:5], "--runs", str(scaled), *cli[7:], "--stream"]
            rows.append(
                measure(
                    f"project CLI --stream, {total:,} judgments, start-up included",
                    [*me, "--child", "cli", "--", *streamed],
                    args.repeats,
                )
            )
            scaled_me = [sys.executable, __file__, "--dir", str(scaled), "--resamples", str(args.resamples)]
            rows.append(
                measure(
                    f"polars, Parquet, {total:,} judgments", [*scaled_me, "--child", "polars-parquet"], args.repeats
                )
            )
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)

    best = next(r for r in rows if r["name"] == "polars, Parquet")["s"]
    print(
        f"\n{args.judgments:,} judgments, {args.resamples} resamples, median of {args.repeats}, {os.cpu_count()} CPUs\n"
    )
    print("| work | wall, median (s) | x polars on Parquet | CPU, median (s) | peak RSS (MB) | load average |")
    print("|---|---:|---:|---:|---:|---:|")
    for r in rows:
        peak = "-" if r["peak_mb"] != r["peak_mb"] else f"{r['peak_mb']:,.0f}"
        cpu = "-" if r["cpu"] != r["cpu"] else f"{r['cpu']:.2f}"
        print(f"| {r['name']} | {r['s']:.2f} | {r['s'] / best:.2f}x | {cpu} | {peak} | {r['load']:.1f} |")


if __name__ == "__main__":
    main()
