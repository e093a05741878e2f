"""Benchmark of the local ``hf`` backend on the tiny random LLaVA, on CPU.

Two questions, each answered as a ratio:

1. Batching: 32 judge requests answered one at a time vs in batches of 8 (64 new tokens each).
2. Verdict source: the verdict read from label probabilities in one forward pass vs generating an
   analysis of 64 tokens before it.

The tiny model has the shapes of a real one at a hundredth of the size, so absolute times say little
about a 7B judge on a GPU; the ratios show where the time goes. Run from the repository root:

    python -m bench.bench_local            # or: python bench/bench_local.py
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

# Runnable as a plain script too: put the repository root on the path.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PIL import Image, ImageDraw  # noqa: E402

from judges.backends.registry import create_backend  # noqa: E402
from judges.images import load_image  # noqa: E402
from judges.types import ChatRequest, ImagePart, Message, Sampling, TextPart  # noqa: E402
from tests.support.tiny_vlm import build_tiny_vlm  # noqa: E402

PREFIX = '{"Analysis": "", "Judgement": "[['
SCORES = ["1", "2", "3", "4", "5"]
NEW_TOKENS = 64

SYSTEM = (
    "You are a helpful assistant. Please act as an impartial judge and evaluate the response of an AI "
    "assistant to the user instruction below, which refers to the image shown. Consider whether the "
    "answer is correct, detailed and grounded in the image, and whether it follows the instruction. "
    "Do not let the length of the response or the order of the text influence you. Be as objective as "
    "possible. Rate the response on a scale of 1 to 5, where 1 is poor and 5 is excellent."
)
OUTPUT_FORMAT = (
    'Output JSON: {"Analysis": "...", "Judgement": "[[3]]"} where Analysis is your reasoning and '
    "Judgement is the score in double brackets."
)
RESPONSE = (
    "The image shows a chart with bars. The tallest bar is the third one, and the answer is correct "
    "because the values grow from left to right until the third bar and then fall. The other bars are "
    "shorter; the first one is the shortest. The legend names each series, and the axis is labelled in "
    "units of one thousand. Overall the chart shows that the third quarter was the best one. "
)


def chart(seed: int) -> ImagePart:
    """A small bar chart, a stand-in for the benchmark's figures."""
    img = Image.new("RGB", (320, 240), "white")
    draw = ImageDraw.Draw(img)
    for bar in range(5):
        height = 40 + (seed * 37 + bar * 53) % 160
        draw.rectangle([20 + bar * 60, 220 - height, 60 + bar * 60, 220], fill=(40 * bar, 90, 200))
    return load_image(img)


def judge_request(index: int, sampling: Sampling) -> ChatRequest:
    """One score-mode judge prompt: system, instruction, image, a long response, output format."""
    user = (
        f"[Instruction]\nWhich quarter had the highest revenue in chart {index}? Explain.\n\n"
        f"[The Start of Assistant's Answer]\n{RESPONSE}\n[The End of Assistant's Answer]\n\n{OUTPUT_FORMAT}"
    )
    return ChatRequest(
        messages=(
            Message("system", (TextPart(SYSTEM),)),
            Message("user", (chart(index), TextPart(user))),
        ),
        sampling=sampling,
    )


def timed(fn: Callable[[], object], repeats: int) -> float:
    """Median wall time of ``repeats`` runs."""
    import statistics

    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=32)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    logging.disable(logging.WARNING)  # transformers' notices would interleave with the table

    import torch

    with tempfile.TemporaryDirectory() as tmp:
        model_dir = build_tiny_vlm(Path(tmp) / "tiny")
        single = create_backend("hf", str(model_dir), device="cpu", batch_size=1)
        batched = create_backend("hf", str(model_dir), device="cpu", batch_size=args.batch_size)
        # Greedy, and min_new_tokens would be model-specific: a random model stops at EOS by chance,
        # so the generated token count is printed alongside.
        sampling = Sampling(temperature=0, max_tokens=NEW_TOKENS, logprobs=True, top_logprobs=5)
        requests = [judge_request(i, sampling) for i in range(args.tasks)]
        first = batched.complete(requests[0])
        batched.label_logprobs(requests[:2], PREFIX, SCORES)  # warm-up

        one_by_one = timed(lambda: [single.complete(r) for r in requests], args.repeats)
        in_batches = timed(lambda: batched.complete_many(requests), args.repeats)
        forward = timed(lambda: batched.label_logprobs(requests, PREFIX, SCORES), args.repeats)
        generated = batched.complete_many(requests)
        new_tokens = sum(c.usage.completion_tokens for c in generated) / len(generated)

    n = args.tasks
    rows = [
        ("generate, one at a time", one_by_one, ""),
        (f"generate, batch {args.batch_size}", in_batches, f"{one_by_one / in_batches:.1f}x faster than one at a time"),
        (
            f"verdict by forward pass, batch {args.batch_size}",
            forward,
            f"{in_batches / forward:.1f}x faster than generating {NEW_TOKENS} tokens",
        ),
    ]
    print(
        f"tiny LLaVA on CPU ({torch.get_num_threads()} threads), {n} tasks, prompt "
        f"{first.usage.prompt_tokens} tokens incl. 16 image tokens, {new_tokens:.0f} new tokens per generation, "
        f"medians of {args.repeats}, load average {os.getloadavg()[0]:.1f}\n"
    )
    print("| run | total s | ms / task | tasks / s | ratio |")
    print("|---|---:|---:|---:|---|")
    for label, seconds, ratio in rows:
        print(f"| {label} | {seconds:.3f} | {1000 * seconds / n:.1f} | {n / seconds:.0f} | {ratio} |")


if __name__ == "__main__":
    main()
