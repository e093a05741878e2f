"""Benchmark of the yes/no probe (the relevance and safety tasks' primitive): probes per second.

Two questions, each with its baseline in the same run:

1. API judges: one relevance judgment of 50 candidates against the loopback OpenAI-compatible
   server at 200 ms latency per request, all probes sent together (``complete_many`` at
   concurrency 50), vs a sequential loop of one probe per call.
2. Local judges: the same 50 probes on the tiny random LLaVA (CPU), read in batched forward passes
   (``batch_size`` 16) vs one forward pass per probe.

Each figure is the median of 3 repetitions; the load average (``os.getloadavg()``) is printed
before and after, since the machine may be shared. Run from the repository root:

    python -m bench.bench_probes            # or: python bench/bench_probes.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

# Runnable as a plain script too: put the repository root on the path.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from judges.backends.registry import create_backend  # noqa: E402
from judges.judge import Judge  # noqa: E402
from judges.probe import prober_for  # noqa: E402
from judges.tasks import get_task  # noqa: E402
from judges.tasks.relevance import candidate_prompt  # noqa: E402
from judges.types import Capabilities  # noqa: E402
from tests.support.openai_server import serve_openai, yes_no  # noqa: E402

CANDIDATES = 50
LATENCY_S = 0.2
QUERY = "a red double-decker bus driving past a row of houses"


def candidates() -> list[str]:
    return [f"candidate {i}: a photo of a street with a bus, a car and {i} people" for i in range(CANDIDATES)]


def median_rate(run: Callable[[], int], repeats: int) -> tuple[float, list[float]]:
    """Median probes per second over ``repeats`` runs of ``run`` (which returns its probe count)."""
    rates = []
    for _ in range(repeats):
        started = time.perf_counter()
        probes = run()
        rates.append(probes / (time.perf_counter() - started))
    return statistics.median(rates), rates


def bench_api(repeats: int) -> dict[str, float]:
    kind = get_task("relevance")
    task = kind.make_task(QUERY, candidates())
    prompts = [candidate_prompt(task, n) for n in range(1, CANDIDATES + 1)]
    with serve_openai(latency_s=LATENCY_S, default=lambda r: yes_no(0.7)) as server:
        backend = create_backend(
            "openai",
            "judge-model",
            base_url=server.base_url,
            capabilities=Capabilities(logprobs=True),
            concurrency=CANDIDATES,
            max_retries=0,
        )
        judge = Judge(backend, kind)
        prober = prober_for(backend, "Relevance")

        def together() -> int:
            result = judge.judge(task)
            return len(result.details["scores"])

        def sequential() -> int:
            for prompt in prompts:
                prober.ask([prompt])
            return len(prompts)

        concurrent_rate, concurrent_runs = median_rate(together, repeats)
        in_flight = server.max_in_flight
        sequential_rate, sequential_runs = median_rate(sequential, repeats)
        backend.close()
    print(f"API, {CANDIDATES} candidates at {LATENCY_S * 1000:.0f} ms latency (loopback server):")
    print(f"  together (one judgment, concurrency {CANDIDATES}): {concurrent_rate:8.1f} probes/s  "
          f"runs {[round(r, 1) for r in concurrent_runs]}, max in flight {in_flight}")  # fmt: skip
    print(f"  sequential loop, one probe per call:      {sequential_rate:8.1f} probes/s  "
          f"runs {[round(r, 2) for r in sequential_runs]}")  # fmt: skip
    print(f"  speed-up: {concurrent_rate / sequential_rate:.1f}x")
    return {"api_together": concurrent_rate, "api_sequential": sequential_rate, "api_in_flight": in_flight}


def bench_local(repeats: int, batch_size: int) -> dict[str, float]:
    from tests.support.tiny_vlm import build_tiny_vlm

    with tempfile.TemporaryDirectory() as folder:
        model_dir = build_tiny_vlm(Path(folder))
        backend = create_backend("hf", str(model_dir), device="cpu", batch_size=batch_size)
        kind = get_task("relevance")
        task = kind.make_task(QUERY, candidates())
        prompts = [candidate_prompt(task, n) for n in range(1, CANDIDATES + 1)]
        prober = prober_for(backend, "Relevance")
        prober.ask(prompts[:2])  # warm-up: first forward pass, label tokens

        def batched() -> int:
            prober.ask(prompts)
            return len(prompts)

        def one_at_a_time() -> int:
            for prompt in prompts:
                prober.ask([prompt])
            return len(prompts)

        batched_rate, batched_runs = median_rate(batched, repeats)
        single_rate, single_runs = median_rate(one_at_a_time, repeats)
    print(f"Local, tiny random LLaVA on CPU, {CANDIDATES} probes, one forward pass each batch:")
    print(
        f"  batched (batch_size {batch_size}):  {batched_rate:8.1f} probes/s  runs {[round(r, 1) for r in batched_runs]}"
    )
    print(f"  one at a time:          {single_rate:8.1f} probes/s  runs {[round(r, 1) for r in single_runs]}")
    print(f"  speed-up: {batched_rate / single_rate:.1f}x")
    return {"local_batched": batched_rate, "local_single": single_rate}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--skip-local", action="store_true", help="no torch here: API part only")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    print(f"load average before: {tuple(round(x, 2) for x in os.getloadavg())} on {os.cpu_count()} CPUs")
    bench_api(args.repeats)
    if not args.skip_local:
        bench_local(args.repeats, args.batch_size)
    print(f"load average after:  {tuple(round(x, 2) for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
