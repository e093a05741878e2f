"""Speed of the benchmark runner (``leaderboard.runner``) against a loopback judge with set latency.

Run from the repository root::

    python bench/bench_runner.py                 # 200 pair items, 200 ms per request, concurrency 16

It writes a benchmark of ``--n`` pair items in the Hub layout (two paragraph-long responses each;
one photo-like 1024x768 JPEG of about 90 KB per ``--items-per-image`` adjacent items, as the real
benchmark asks several questions and compares several answer pairs about each image), starts the test server (``tests/support/openai_server.py``) in a
*separate process* (a real API server does not share our interpreter's GIL), and measures:

1. the runner end to end at ``--latency`` seconds per request with ``--concurrency`` in flight,
   against the ideal ``n * latency / concurrency``;
2. the same with a zero-latency server: wall time per judgment, and what the runner itself adds,
   which it times itself: reading the benchmark file, building tasks (reading and validating each
   image once), and writing lines with the progress bar;
3. writing alone: appending judgments through :class:`leaderboard.store.RunWriter`, per line;
4. a resume of the finished run (nothing left to judge): the time to read back what is done.

Prints one markdown table.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PIL import Image, ImageFilter  # noqa: E402

from leaderboard.runner import RunConfig, run_benchmark  # noqa: E402
from leaderboard.schema import PROVENANCE_RUN  # noqa: E402
from leaderboard.store import Judgment, Manifest, RunWriter  # noqa: E402

VERDICT = '{"Analysis": "Response A names the chart type and the trend; B guesses.", "Judgement": "[[A]]"}'
PARAGRAPH = (
    "The chart shows quarterly revenue for three product lines. Line one grows steadily, line two "
    "is flat until the third quarter and then doubles, and line three declines slightly. "
)


def serve(latency: float) -> None:
    """Child process: serve pair verdicts until stdin closes, after printing the base URL."""
    from tests.support.openai_server import reply, serve_openai

    with serve_openai(latency_s=latency, default=reply(VERDICT)) as server:
        print(server.base_url, flush=True)
        sys.stdin.read()


class Server:
    """The test server in a child process."""

    def __init__(self, latency: float) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--serve", "--latency", str(latency)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.base_url = self.proc.stdout.readline().strip()

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=10)


def write_benchmark(root: Path, n: int, per_image: int) -> None:
    """``n`` pair items over 4 datasets, ``per_image`` adjacent items per photo-like JPEG, Hub layout."""
    (root / "image").mkdir(parents=True)
    for k in range(math.ceil(n / per_image)):
        noise = Image.effect_noise((1024, 768), 60 + k).convert("RGB").filter(ImageFilter.GaussianBlur(2))
        buffer = io.BytesIO()
        noise.save(buffer, format="JPEG", quality=85)
        (root / "image" / f"{k}.jpg").write_bytes(buffer.getvalue())
    datasets = ("coco", "mathvista", "ChartQA", "WIT")
    rows = [
        {
            "id": i // per_image,
            "pair_id": i,
            "image_path": f"image/{i // per_image}.jpg",
            "original_dataset": datasets[i % len(datasets)],
            "instruction": f"Question {i}: describe the trend shown in the figure.",
            "answer1": {"name": "gpt4", "answer": PARAGRAPH * 3},
            "answer2": {"name": "gemini", "answer": PARAGRAPH * 2 + f"(variant {i})"},
            "human": "AB"[i % 2],
        }
        for i in range(n)
    ]
    (root / "Benchmark").mkdir()
    (root / "Benchmark" / "pair.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))


def timed_run(bench: Path, out: Path, base_url: str, concurrency: int):
    config = RunConfig(
        mode="pair",
        out=out,
        model="judge-model",
        base_url=base_url,
        benchmark=bench,
        concurrency=concurrency,
        progress=False,
    )
    started = time.perf_counter()
    summary = run_benchmark(config)
    return summary, time.perf_counter() - started


def writer_cost(folder: Path, lines: int = 5000) -> float:
    """Milliseconds per appended judgment line (build, serialise, write)."""
    manifest = Manifest(run_id="bench-writer", judge="bench", mode="pair", provenance=PROVENANCE_RUN)
    with RunWriter(folder / "writer", manifest) as writer:
        started = time.perf_counter()
        for i in range(lines):
            writer.append(Judgment(str(i), "coco", "A", latency_s=0.2))
        return 1000 * (time.perf_counter() - started) / lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--items-per-image", type=int, default=4)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.latency)
        return 0

    rows: list[tuple[str, str, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        write_benchmark(tmp_path / "bench", args.n, args.items_per_image)
        ideal = math.ceil(args.n / args.concurrency) * args.latency
        ideal_flat = args.n * args.latency / args.concurrency
        with Server(args.latency) as server:
            # Warm-up (imports, first connection) on a separate run folder, not timed.
            timed_run(tmp_path / "bench", tmp_path / "warm", server.base_url, args.concurrency)
            summary, wall = timed_run(tmp_path / "bench", tmp_path / "run", server.base_url, args.concurrency)
            assert summary.judged == args.n and summary.errors == 0, summary.to_text()
            rows.append(
                (
                    f"end to end, {args.n} items, {args.latency * 1000:.0f} ms, concurrency {args.concurrency}",
                    f"{wall:.2f} s (judging {summary.elapsed_s:.2f} s)",
                    f"{wall / ideal_flat:.2f}x the ideal {ideal_flat:.2f} s (limit 1.25x); "
                    f"{wall / ideal:.2f}x {ideal:.2f} s in whole waves",
                )
            )
            _, resume_wall = timed_run(tmp_path / "bench", tmp_path / "run", server.base_url, args.concurrency)
            rows.append(
                ("resume of the finished run (nothing to judge)", f"{resume_wall * 1000:.0f} ms", "reads the run back")
            )
        with Server(0.0) as server:
            timed_run(tmp_path / "bench", tmp_path / "warm0", server.base_url, args.concurrency)
            summary, wall = timed_run(tmp_path / "bench", tmp_path / "zero", server.base_url, args.concurrency)
            rows.append(
                (
                    "zero-latency server: wall time per judgment",
                    f"{1000 * wall / args.n:.2f} ms",
                    "runner + judge (rendering, parsing) + HTTP",
                )
            )
            own = summary.read_ms + summary.write_ms
            rows.append(
                (
                    "runner's own work per judgment: parsing + writing",
                    f"{own:.3f} ms",
                    f"benchmark JSONL {summary.read_ms:.3f} ms + line and progress {summary.write_ms:.3f} ms (limit 2 ms)",
                )
            )
            rows.append(
                (
                    "building a task per judgment (image read + validated once per image)",
                    f"{summary.task_ms:.2f} ms",
                    f"CPU time; judges.load_image decodes each JPEG fully; {args.items_per_image} items per image; worker threads",
                )
            )
        rows.append(("RunWriter.append alone", f"{writer_cost(tmp_path) * 1000:.1f} us/line", "build + JSON + write"))
    print("| measurement | value | note |")
    print("|---|---:|---|")
    for name, value, note in rows:
        print(f"| {name} | {value} | {note} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
