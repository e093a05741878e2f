"""Speed of the benchmark runner (``leaderboard.runner``) against a loopback judge with set latency.

Run from the repository root::

    python bench/bench_runner.py                 # 200 pair items, 200 ms per request, concurrency 64

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

The project is measured as a user runs it, three ways: the CLI in a fresh process (``python -m
leaderboard.runner run ...``: interpreter start and imports included, CPU of that process);
``run_benchmark`` in this process (what the CLI calls, imports already done); and the backend alone
(``OpenAICompatBackend.complete_many`` on the same payloads as the peers, the HTTP client's own cost).

Beside it, on the same server and the same payloads (each item's instruction and two
answers, its image as a data URL, encoded once per image), three peers send the same 200 requests:
a thread pool of ``--concurrency`` threads over the openai SDK's sync client, the SDK's async client
with ``--concurrency`` in flight on one loop, and raw HTTP (``http.client`` keep-alive connections,
no SDK). The peers only send and read the verdict; the runner also renders the prompt, parses,
validates and writes each judgment. Each is timed ``--repeats`` times (median) at the set latency
and at 0 ms, where the process CPU time per judgment (every thread, the server excluded: it is
another process) is what the client costs.

Prints one markdown table.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import io
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

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


def cli_run(bench: Path, out: Path, base_url: str, concurrency: int) -> float:
    """The runner's CLI in a fresh process; returns that process's CPU seconds (user + system)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    command = [sys.executable, "-m", "leaderboard.runner", "--mode", "pair", "--model", "judge-model"]
    command += ["--base-url", base_url, "--benchmark", str(bench), "--concurrency", str(concurrency)]
    command += ["--out", str(out)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env={**os.environ, "OPENAI_API_KEY": "x"})
    assert done.returncode == 0, done.stderr[-2000:]
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def backend_requests(bench: Path) -> list[Any]:
    """The peers' payloads as the backend's requests: the same text, the same image (read once)."""
    from judges.images import load_image
    from judges.types import ChatRequest, Message, TextPart

    parts: dict[str, Any] = {}
    requests = []
    for text, path in peer_payloads(bench):
        image = parts.get(path) or parts.setdefault(path, load_image(Path(path)))
        requests.append(ChatRequest((Message("user", (TextPart(text), image)),)))
    return requests


def backend_alone(base_url: str, requests: list[Any], concurrency: int) -> None:
    """The project's backend with nothing around it: ``complete_many`` at ``concurrency`` in flight."""
    from judges.backends.openai_compat import create

    backend = create("judge-model", base_url=base_url, api_key="bench")
    try:
        answers = backend.complete_many(requests, concurrency=concurrency)
    finally:
        backend.close()
    assert all(_verdict(a.text) == "[[A]]" for a in answers), answers[:2]


def writer_cost(folder: Path, lines: int = 5000) -> float:
    """Milliseconds per appended judgment line (build, serialise, write)."""
    manifest = Manifest(run_id="bench-writer", judge="bench", mode="pair", provenance=PROVENANCE_RUN)
    with RunWriter(folder / "writer", manifest) as writer:
        started = time.perf_counter()
        for i in range(lines):
            writer.append(Judgment(str(i), "coco", "A", latency_s=0.2))
        return 1000 * (time.perf_counter() - started) / lines


# --------------------------------------------------------------------------- peers on the same server and payload


def peer_payloads(bench: Path) -> list[tuple[str, str]]:
    """(prompt text, image path) per item: the instruction and both answers, as a client would send them."""
    rows = [json.loads(line) for line in (bench / "Benchmark" / "pair.jsonl").read_text().splitlines()]
    out = []
    for row in rows:
        text = (
            "You are an impartial judge. Compare the two answers to the instruction about the image and "
            f"reply with a JSON object.\n\nInstruction: {row['instruction']}\n\n[A]\n{row['answer1']['answer']}"
            f"\n\n[B]\n{row['answer2']['answer']}"
        )
        out.append((text, str(bench / row["image_path"])))
    return out


class _DataUrls:
    """Each image read and base64-encoded once (what the runner's image cache does), thread-safe enough."""

    def __init__(self) -> None:
        self.urls: dict[str, str] = {}

    def __call__(self, path: str) -> str:
        url = self.urls.get(path)
        if url is None:
            url = "data:image/jpeg;base64," + base64.b64encode(Path(path).read_bytes()).decode("ascii")
            self.urls[path] = url
        return url


def _messages(text: str, url: str) -> list[dict]:
    return [
        {"role": "user", "content": [{"type": "text", "text": text}, {"type": "image_url", "image_url": {"url": url}}]}
    ]


def _verdict(content: str) -> str:
    return json.loads(content)["Judgement"]


def peer_thread_pool(base_url: str, payloads, concurrency: int) -> None:
    """The openai SDK's sync client from a thread pool of ``concurrency`` threads."""
    from openai import OpenAI

    client, urls = OpenAI(base_url=base_url, api_key="bench", max_retries=0), _DataUrls()

    def one(payload: tuple[str, str]) -> str:
        reply = client.chat.completions.create(
            model="judge-model", messages=_messages(payload[0], urls(payload[1])), temperature=0.4, top_p=0.2,
            max_tokens=1024,
        )  # fmt: skip
        return _verdict(reply.choices[0].message.content or "{}")

    with ThreadPoolExecutor(concurrency) as pool:
        verdicts = list(pool.map(one, payloads))
    client.close()
    assert all(v == "[[A]]" for v in verdicts)


def peer_asyncio_sdk(base_url: str, payloads, concurrency: int) -> None:
    """The openai SDK's async client, ``concurrency`` requests in flight on one event loop."""
    from openai import AsyncOpenAI

    async def main() -> list[str]:
        client, urls = AsyncOpenAI(base_url=base_url, api_key="bench", max_retries=0), _DataUrls()
        gate = asyncio.Semaphore(concurrency)

        async def one(payload: tuple[str, str]) -> str:
            async with gate:
                reply = await client.chat.completions.create(
                    model="judge-model", messages=_messages(payload[0], urls(payload[1])), temperature=0.4,
                    top_p=0.2, max_tokens=1024,
                )  # fmt: skip
            return _verdict(reply.choices[0].message.content or "{}")

        try:
            return list(await asyncio.gather(*(one(p) for p in payloads)))
        finally:
            await client.close()

    assert all(v == "[[A]]" for v in asyncio.run(main()))


def peer_raw_http(base_url: str, payloads, concurrency: int) -> None:
    """No SDK: ``http.client`` keep-alive connections, one per thread of a ``concurrency`` pool."""
    import http.client
    from urllib.parse import urlsplit

    where, urls, local = urlsplit(base_url), _DataUrls(), threading.local()

    def one(payload: tuple[str, str]) -> str:
        conn = getattr(local, "conn", None)
        if conn is None:
            conn = local.conn = http.client.HTTPConnection(where.hostname, where.port, timeout=30)
        body = json.dumps(
            {"model": "judge-model", "messages": _messages(payload[0], urls(payload[1])), "temperature": 0.4,
             "top_p": 0.2, "max_tokens": 1024}
        )  # fmt: skip
        conn.request("POST", where.path + "/chat/completions", body, {"Content-Type": "application/json"})
        reply = json.loads(conn.getresponse().read())
        return _verdict(reply["choices"][0]["message"]["content"])

    with ThreadPoolExecutor(concurrency) as pool:
        verdicts = list(pool.map(one, payloads))
    assert all(v == "[[A]]" for v in verdicts)


def timed(work, repeats: int) -> tuple[float, float, float]:
    """Median wall seconds, median CPU seconds and the load average.

    CPU is this process's (every thread), or what ``work`` returns (the CLI's own process).
    """
    walls, cpus, loads = [], [], []
    for _ in range(repeats):
        loads.append(os.getloadavg()[0])
        wall, cpu = time.perf_counter(), time.process_time()
        own = work()
        walls.append(time.perf_counter() - wall)
        cpus.append(own if isinstance(own, float) else time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus), statistics.median(loads)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--items-per-image", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.latency)
        return 0

    rows: list[tuple[str, str, str]] = []
    n, c = args.n, args.concurrency
    ideal_flat = n * args.latency / c
    waves = math.ceil(n / c) * args.latency
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        bench = tmp_path / "bench"
        write_benchmark(bench, n, args.items_per_image)
        payloads = peer_payloads(bench)
        runs = iter(range(10**6))

        requests = backend_requests(bench)

        def runner(base_url: str) -> Any:
            def work() -> None:
                summary, _ = timed_run(bench, tmp_path / f"run{next(runs)}", base_url, c)
                assert summary.judged == n and summary.errors == 0, summary.to_text()

            return work

        def cli(base_url: str) -> Any:
            return lambda: cli_run(bench, tmp_path / f"cli{next(runs)}", base_url, c)

        contenders = [
            ("this project's runner CLI (`python -m leaderboard.runner`, a fresh process: start and imports included)", cli),
            ("this project's runner (`run_benchmark`, what the CLI calls, in this process)", runner),
            ("this project's backend alone (`complete_many`, the peers' payloads)",
             lambda url: lambda: backend_alone(url, requests, c)),
            ("thread pool + openai SDK (sync)", lambda url: lambda: peer_thread_pool(url, payloads, c)),
            ("asyncio + openai SDK (async)", lambda url: lambda: peer_asyncio_sdk(url, payloads, c)),
            ("raw HTTP (http.client, thread pool, no SDK)", lambda url: lambda: peer_raw_http(url, payloads, c)),
        ]  # fmt: skip
        results = {}
        for latency in (args.latency, 0.0):
            with Server(latency) as server:
                for name, make in contenders:
                    work = make(server.base_url)
                    work()  # warm-up: imports, first connections
                    results[(name, latency)] = timed(work, args.repeats)
        for name, _ in contenders:
            wall, _, load = results[(name, args.latency)]
            _, cpu0, _ = results[(name, 0.0)]
            rows.append(
                (
                    name,
                    f"{wall:.2f} s = **{wall / ideal_flat:.2f}x** ideal ({wall / waves:.2f}x whole waves)",
                    f"{1000 * cpu0 / n:.2f} ms",
                    f"{load:.1f}",
                )
            )
        with Server(args.latency) as server:
            timed_run(bench, tmp_path / "resume", server.base_url, c)
            _, resume_wall = timed_run(bench, tmp_path / "resume", server.base_url, c)
        with Server(0.0) as server:
            summary, _ = timed_run(bench, tmp_path / "zero-own", server.base_url, c)
        writer_us = writer_cost(tmp_path) * 1000
    print(
        f"{n} pair items, {args.latency * 1000:.0f} ms per request, concurrency {c}: ideal {ideal_flat:.3f} s "
        f"({n} x {args.latency} s / {c}); whole waves {waves:.2f} s; medians of {args.repeats}; {os.cpu_count()} CPUs\n"
    )
    print("| client | wall time at the set latency | client CPU per judgment, 0 ms server | load average |")
    # The project's rows render, parse, validate and write each judgment; the backend's and the
    # peers' rows only send the request and read the verdict.
    print("|---|---:|---:|---:|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    own = summary.read_ms + summary.write_ms
    print(
        f"\nrunner's own work per judgment: {own:.3f} ms (benchmark JSONL {summary.read_ms:.3f} ms + line and "
        f"progress {summary.write_ms:.3f} ms); building a task {summary.task_ms:.2f} ms CPU (image read and "
        f"validated once per image, {args.items_per_image} items per image); RunWriter.append {writer_us:.1f} us/line; "
        f"resume of the finished run {resume_wall * 1000:.0f} ms"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
