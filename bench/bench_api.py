"""Throughput of the ``openai`` backend against a loopback server with injected latency.

Run from the repository root::

    python bench/bench_api.py            # 200 pair judgments, 200 ms per request, concurrency 16

It starts the test server (``tests/support/openai_server.py``) on 127.0.0.1 answering every request
with a valid pair verdict after ``--latency`` seconds, then judges ``--n`` pair tasks (an image and
two paragraph-long responses each) twice: one at a time, and ``--concurrency`` at a time. The whole
judging path runs through :class:`judges.judge.Judge` (rendering, transport, parsing). Both runs are
measured in full (the one-at-a-time run takes ``n * latency`` seconds and more), ``--repeats`` times
each; the medians are printed with the machine's load average. ``--sequential-n`` measures the
one-at-a-time run on a sample instead, and the output then says it was extrapolated.
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from collections.abc import Callable
from pathlib import Path

# Run as a script from anywhere: the repository root holds both `judges` and `tests.support`.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PIL import Image, ImageFilter  # noqa: E402

from judges.backends.openai_compat import OpenAICompatBackend  # noqa: E402
from judges.images import load_image  # noqa: E402
from judges.judge import Judge  # noqa: E402
from judges.types import ImagePart, PairTask  # noqa: E402
from tests.support.openai_server import reply, serve_openai  # noqa: E402

VERDICT = '{"Analysis": "Response A names the chart type and the trend; B guesses.", "Judgement": "[[A]]"}'
PARAGRAPH = (
    "The chart shows quarterly revenue for three product lines. Line one grows steadily, line two "
    "is flat until the third quarter and then doubles, and line three declines slightly. "
)


def pair_image() -> ImagePart:
    """A 1024x768 photo-like JPEG of about 90 KB, the size of a typical benchmark image.

    Blurred noise compresses like a photograph; raw noise would be five times larger than any
    real figure and would measure JSON encoding instead of concurrency.
    """
    noise = Image.effect_noise((1024, 768), 60).convert("RGB").filter(ImageFilter.GaussianBlur(2))
    buffer = io.BytesIO()
    noise.save(buffer, format="JPEG", quality=85)
    return load_image(buffer.getvalue())


def pair_tasks(n: int, image: ImagePart) -> list[PairTask]:
    """``n`` distinct pair tasks of realistic size (a few hundred words in all)."""
    return [
        PairTask(
            instruction=f"Question {i}: describe the trend shown in the figure.",
            response_a=PARAGRAPH * 3,
            response_b=PARAGRAPH * 2 + f"(variant {i})",
            images=(image,),
        )
        for i in range(n)
    ]


def make_runner(backend: OpenAICompatBackend) -> tuple[str, Callable[[list[PairTask]], int]]:
    """How to judge a list of tasks, and what is measured; the callable returns the parsed count."""
    judge = Judge(backend, "pair")

    def run(tasks: list[PairTask]) -> int:
        results = judge.judge_many(tasks)
        return sum(1 for r in results if getattr(r, "parsed", False) and r.verdict == "A")

    return "Judge(backend, 'pair').judge_many: render + HTTP + parse", run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=200, help="pair judgments (default 200)")
    parser.add_argument("--latency", type=float, default=0.2, help="server latency in seconds (default 0.2)")
    parser.add_argument("--concurrency", type=int, default=16, help="simultaneous requests (default 16)")
    parser.add_argument(
        "--sequential-n", type=int, default=None, help="one-at-a-time run on this many only (default: all)"
    )
    parser.add_argument("--repeats", type=int, default=3, help="runs of each, the median reported (default 3)")
    args = parser.parse_args()
    import os
    import statistics

    load_before = os.getloadavg()[0]

    image = pair_image()
    with serve_openai(latency_s=args.latency, default=reply(VERDICT)) as server:

        def backend(concurrency: int) -> OpenAICompatBackend:
            return OpenAICompatBackend("judge-model", base_url=server.base_url, concurrency=concurrency)

        # One warm-up request so neither run pays for imports and the first connection.
        make_runner(backend(1))[1](pair_tasks(1, image))

        sequential_backend = backend(1)
        what, run = make_runner(sequential_backend)
        seq_n = min(args.sequential_n or args.n, args.n)
        seq_times = []
        for _ in range(args.repeats):
            started = time.perf_counter()
            seq_parsed = run(pair_tasks(seq_n, image))
            seq_times.append(time.perf_counter() - started)
        sequential_backend.close()
        seq_measured = statistics.median(seq_times)
        seq_total = seq_measured * args.n / seq_n

        concurrent_backend = backend(args.concurrency)
        _, run = make_runner(concurrent_backend)
        times = []
        for _ in range(args.repeats):
            server.reset()
            started = time.perf_counter()
            parsed = run(pair_tasks(args.n, image))
            times.append(time.perf_counter() - started)
        measured = statistics.median(times)
        concurrent_backend.close()
        in_flight = server.max_in_flight
        sent = len(server.chat_requests)
    load = f"load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after"

    ideal = args.n * args.latency / args.concurrency
    rounds = -(-args.n // args.concurrency)  # no schedule beats ceil(n / concurrency) latencies
    ratio = measured / ideal
    speedup = seq_total / measured
    rows = [
        ("measured path", what),
        (
            "requests",
            f"{args.n} pair judgments: 1 JPEG {image.width}x{image.height} ({len(image.data) // 1024} KB)"
            f" + ~300 words each; server latency {args.latency * 1000:.0f} ms",
        ),
        (
            "one at a time",
            f"{seq_total:.2f} s, median of {args.repeats}"
            + (
                ""
                if seq_n == args.n
                else f" (measured {seq_measured:.2f} s on {seq_n}, extrapolated x{args.n / seq_n:g})"
            ),
        ),
        (
            f"concurrency {args.concurrency}",
            f"{measured:.2f} s, median of {args.repeats} ({sent} requests, max {in_flight} in flight)",
        ),
        (
            "ideal",
            f"{ideal:.2f} s = {args.n} x {args.latency:g} s / {args.concurrency}"
            f" (whole rounds: {rounds} x {args.latency:g} s = {rounds * args.latency:.2f} s)",
        ),
        ("ratio to ideal", f"{ratio:.2f}x (target <= 1.25x) {'OK' if ratio <= 1.25 else 'MISSED'}"),
        ("speed-up vs one at a time", f"{speedup:.1f}x (target >= 12x) {'OK' if speedup >= 12 else 'MISSED'}"),
        ("verdicts parsed", f"{parsed}/{args.n} concurrent, {seq_parsed}/{seq_n} sequential"),
        ("machine", load),
    ]
    width = max(len(name) for name, _ in rows)
    line = "-" * (width + 3 + max(len(value) for _, value in rows))
    print(line)
    for name, value in rows:
        print(f"{name:<{width}} | {value}")
    print(line)


if __name__ == "__main__":
    main()
