"""Benchmark: aggregate synthetic stored judgments into the full leaderboard with bootstrap CIs.

Synthetic data: 20 judges x 3 modes x 14 datasets; 10k, 100k and 1M judgments in all (each run judges
every item of its mode). For each size it prints the time of ``compute_rows`` (every metric, every
dataset, Average and Pooled rows, 1,000 bootstrap resamples), the time to load the same runs from
disk (``load_runs``: reading + validating JSONL), and the ratio against a plain per-item Python loop
that computes the same point estimates and percentile intervals.

The loop is far too slow to run with 1,000 resamples on 1M judgments, so it is timed on the 10k set
with a few resamples and extrapolated linearly in (judgments x (resamples + 1)); its cost is linear by
construction (it accumulates per-item counts, then applies the same closed-form statistics). The
table says which loop numbers are extrapolated.

Run: ``python bench/bench_leaderboard.py [--sizes 10000 100000 1000000] [--loop-resamples 5] [--probabilities]``
(``--probabilities``: score and pair judgments also carry verdict distributions, which adds the
item-weight bootstrap of ``pearson_expected``, ``ece`` and ``brier``).
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from leaderboard.metrics import compute_rows  # noqa: E402
from leaderboard.store import LABEL_COLUMNS, Judgment, Manifest, Run, load_runs, write_run  # noqa: E402

DATASETS = (
    "coco", "Concept Caption", "diffusiondb", "infographicsVQA", "mathvista", "textVQA", "WIT", "ChartQA",
    "VisitBench", "CC-3M", "Mind2Web", "ScienceQA", "AesBench", "MM-Vet",
)  # fmt: skip
N_JUDGES = 20
MODES = ("score", "pair", "batch")
PAIR = np.array(["A", "B", "tie"], dtype=object)


def _perms(n: int, rng: np.random.Generator, size: int) -> np.ndarray:
    letters = np.array(list("ABCD"[:n]))
    order = np.argsort(rng.random((size, n)), axis=1)
    return np.array(["".join(row) for row in letters[order]], dtype=object)


def _distributions(verdict: np.ndarray, mode: str, rng: np.random.Generator) -> list[dict | None]:
    """A verdict distribution per judgment (score and pair), peaked on the verdict, as a runner stores it."""
    labels = ("1", "2", "3", "4", "5") if mode == "score" else ("A", "B", "tie")
    if mode == "batch":
        return [None] * len(verdict)
    raw = rng.dirichlet(np.ones(len(labels)), len(verdict))
    out: list[dict | None] = []
    for v, p in zip(verdict, raw, strict=True):
        if v is None:
            out.append(None)
            continue
        p = 0.5 * p
        p[labels.index(str(v))] += 0.5
        probs = {label: float(x) for label, x in zip(labels, p, strict=True)}
        out.append({"probabilities": probs, "confidence": probs[str(v)]})
    return out


def synthetic(total: int, seed: int = 0, probabilities: bool = False) -> tuple[list[Run], pd.DataFrame]:
    """Runs and labels with ``total`` judgments in all (with verdict distributions when ``probabilities``)."""
    rng = np.random.default_rng(seed)
    per_run = max(total // (N_JUDGES * len(MODES)), 14)
    runs: list[Run] = []
    label_frames = []
    for mode in MODES:
        items = np.array([str(i) for i in range(per_run)], dtype=object)
        ds = np.array(DATASETS, dtype=object)[rng.integers(0, len(DATASETS), per_run)]
        if mode == "score":
            human = rng.integers(1, 6, per_run)
            human_text = human.astype(str)
            n_resp = np.ones(per_run, dtype=int)
        elif mode == "pair":
            human = PAIR[rng.choice(3, per_run, p=[0.45, 0.45, 0.1])]
            human_text = human
            n_resp = np.full(per_run, 2)
        else:
            human = _perms(4, rng, per_run)
            human_text = human
            n_resp = np.full(per_run, 4)
        lengths = rng.integers(20, 2000, (per_run, int(n_resp.max())))
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
                    "response_lengths": ["|".join(map(str, row[:k])) for row, k in zip(lengths, n_resp, strict=True)],
                    "image_id": items,
                    "label_issue": "",
                }  # fmt: skip
            )
        )
        for j in range(N_JUDGES):
            quality = 0.2 + 0.6 * j / (N_JUDGES - 1)
            agree = rng.random(per_run) < quality
            if mode == "score":
                verdict = np.where(agree, human, rng.integers(1, 6, per_run)).astype(object)
            elif mode == "pair":
                verdict = np.where(agree, human, PAIR[rng.integers(0, 3, per_run)])
            else:
                verdict = np.where(agree, human, _perms(4, rng, per_run))
            unparsed = rng.random(per_run) < 0.03
            verdict = np.where(unparsed, None, verdict)
            verdict = np.array([int(v) if isinstance(v, np.integer) else v for v in verdict], dtype=object)
            extra = {}
            if probabilities:
                dists = _distributions(verdict, mode, rng)
                extra = {
                    "probabilities": pd.Series([d and d["probabilities"] for d in dists], dtype=object),
                    "expected_score": np.nan,
                    "confidence": [d["confidence"] if d else np.nan for d in dists],
                }
            records = pd.DataFrame(
                {
                    "item_id": pd.Series(items, dtype=object),
                    "dataset": pd.Series(ds, dtype=object),
                    "verdict": pd.Series(verdict, dtype=object),
                    "unscored_reason": pd.Series(np.where(unparsed, "no verdict found", None), dtype=object),
                    "line": np.arange(1, per_run + 1),
                    "self_consistency": np.nan,
                    "swap_consistent": np.nan,
                    "latency_s": np.nan,
                    **extra,
                }  # fmt: skip
            )
            manifest = Manifest(
                run_id=f"synthetic-{mode}-judge{j:02d}", judge=f"judge{j:02d}", mode=mode,
                provenance="run with this project", backend="synthetic",
            )  # fmt: skip
            runs.append(Run(manifest, records, Path("synthetic")))
    labels = pd.concat(label_frames, ignore_index=True)[list(LABEL_COLUMNS)]
    return runs, labels


# --------------------------------------------------------------------------- the plain loop


def _pearson(sx, sy, sxx, syy, sxy, n):
    if n < 2:
        return math.nan
    vx, vy = sxx - sx * sx / n, syy - sy * sy / n
    return (sxy - sx * sy / n) / math.sqrt(vx * vy) if vx > 1e-12 and vy > 1e-12 else math.nan


def _score_from_table(t):
    n = sum(map(sum, t))
    if n == 0:
        return [math.nan] * 6
    px = [sum(t[i]) for i in range(5)]
    py = [sum(t[i][j] for i in range(5)) for j in range(5)]
    rx, ry, acc = [], [], 0
    for p in (px, py):
        ranks, before = [], 0
        for c in p:
            ranks.append(before + (c + 1) / 2)
            before += c
        (rx if p is px else ry).extend(ranks)
    stats = []
    for xs, ys in (((1, 2, 3, 4, 5), (1, 2, 3, 4, 5)), (rx, ry)):
        sx = sum(px[i] * xs[i] for i in range(5))
        sy = sum(py[j] * ys[j] for j in range(5))
        sxx = sum(px[i] * xs[i] ** 2 for i in range(5))
        syy = sum(py[j] * ys[j] ** 2 for j in range(5))
        sxy = sum(t[i][j] * xs[i] * ys[j] for i in range(5) for j in range(5))
        stats.append(_pearson(sx, sy, sxx, syy, sxy, n))
    conc = disc = 0
    for i in range(5):
        for j in range(5):
            if t[i][j]:
                conc += t[i][j] * sum(t[a][b] for a in range(i + 1, 5) for b in range(j + 1, 5))
                disc += t[i][j] * sum(t[a][b] for a in range(i + 1, 5) for b in range(j))
    n0 = n * (n - 1) / 2
    n1 = sum(c * (c - 1) / 2 for c in px)
    n2 = sum(c * (c - 1) / 2 for c in py)
    den = math.sqrt((n0 - n1) * (n0 - n2))
    stats.append((conc - disc) / den if den > 0 else math.nan)
    for acc in (0, 1):
        stats.append(sum(t[i][j] for i in range(5) for j in range(5) if abs(i - j) <= acc) / n)
    stats.append(sum(t[i][j] * (i - j) for i in range(5) for j in range(5)) / n)
    return stats


def _lev(a: str, b: str) -> float:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1] / max(len(a), len(b), 1)


def plain_loop(runs: list[Run], labels: pd.DataFrame, resamples: int, seed: int = 0) -> dict:
    """Per-item Python: join, tabulate and bootstrap every (run, dataset) cell of the headline metrics."""
    rnd = random.Random(seed)
    label_map = {
        (m, s, i): (d, h)
        for m, s, i, d, h in labels[["mode", "subset", "item_id", "dataset", "human_label"]].itertuples(index=False)
    }
    out = {}
    for run in runs:
        mode = run.manifest.mode
        cells: dict[str, list] = {}
        for item, verdict in zip(run.records["item_id"], run.records["verdict"], strict=True):
            found = label_map.get((mode, run.manifest.split, item))
            if found is None or verdict is None:
                continue
            cells.setdefault(found[0], []).append((verdict, found[1]))
        for ds, pairs in cells.items():
            for b in range(resamples + 1):
                sample = pairs if b == 0 else [pairs[rnd.randrange(len(pairs))] for _ in pairs]
                if mode == "score":
                    t = [[0] * 5 for _ in range(5)]
                    for v, h in sample:
                        t[v - 1][int(h) - 1] += 1
                    value = _score_from_table(t)
                elif mode == "pair":
                    hits = sum(v == h for v, h in sample)
                    decided = [(v, h) for v, h in sample if v != "tie" and h != "tie"]
                    value = [
                        hits / len(sample),
                        sum(v == h for v, h in decided) / len(decided) if decided else math.nan,
                    ]
                else:
                    value = [sum(_lev(v, h) for v, h in sample) / len(sample)]
                if b == 0:
                    out[(run.run_id, ds)] = value
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--loop-resamples", type=int, default=5)
    parser.add_argument("--io", action="store_true", help="also time loading the runs from disk (writes a temp dir)")
    parser.add_argument(
        "--probabilities",
        action="store_true",
        help="give score and pair judgments verdict distributions (adds pearson_expected, ece, brier)",
    )
    args = parser.parse_args()

    loop_runs, loop_labels = synthetic(args.sizes[0], seed=1)
    t0 = time.perf_counter()
    plain_loop(loop_runs, loop_labels, args.loop_resamples)
    loop_s = time.perf_counter() - t0
    per_unit = loop_s / (args.sizes[0] * (args.loop_resamples + 1))

    print("| judgments | leaderboard rows | compute_rows (s) | load from disk (s) | plain loop (s) | speed-up |")
    print("|---:|---:|---:|---:|---:|---:|")
    for size in args.sizes:
        runs, labels = synthetic(size, probabilities=args.probabilities)
        compute_rows(runs[:3], labels, n_resamples=10)  # warm imports and caches
        t0 = time.perf_counter()
        table = compute_rows(runs, labels, n_resamples=args.resamples)
        agg_s = time.perf_counter() - t0
        io_s = math.nan
        if args.io:
            with tempfile.TemporaryDirectory() as tmp:
                for run in runs:
                    judgments = [
                        Judgment(i, d, v, r)
                        for i, d, v, r in run.records[["item_id", "dataset", "verdict", "unscored_reason"]].itertuples(
                            index=False
                        )
                    ]
                    write_run(Path(tmp) / "runs" / run.run_id, run.manifest, judgments)
                t0 = time.perf_counter()
                loaded = load_runs([tmp], labels)
                io_s = time.perf_counter() - t0
                assert len(loaded.runs) == len(runs) and not loaded.problems, loaded.problems[:3]
        loop_est = per_unit * size * (args.resamples + 1)
        print(
            f"| {size:,} | {len(table):,} | {agg_s:.2f} | {io_s:.2f} | {loop_est:,.0f} (extrapolated) | {loop_est / agg_s:,.0f}x |"
        )
    print(
        f"\nPlain loop measured: {loop_s:.2f} s for {args.sizes[0]:,} judgments x {args.loop_resamples + 1} evaluations "
        f"(1 point + {args.loop_resamples} resamples), extrapolated linearly to {args.resamples} resamples and each size."
    )


if __name__ == "__main__":
    main()
