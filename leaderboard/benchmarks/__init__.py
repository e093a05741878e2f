"""The benchmark registry: every benchmark the leaderboard can show, judge and import.

Rooms:

* :mod:`~leaderboard.benchmarks.base`: :class:`Benchmark` (what a benchmark is to the house),
  :class:`BenchmarkItem`, :class:`Selection`, :class:`BenchmarkError`;
* :mod:`~leaderboard.benchmarks.mllm_judge`: MLLM-as-a-Judge (score, pair, batch; the default);
* :mod:`~leaderboard.benchmarks.polaris`: Polaris, human ratings of image captions (score);
* :mod:`~leaderboard.benchmarks.mj_bench`: MJ-Bench, text-to-image alignment of two generated images
  (a ``pair`` task until an image-pair task exists);
* :mod:`~leaderboard.benchmarks.imports`: what every importer writes beside its runs (label rows,
  its part of the import summary);
* :mod:`~leaderboard.benchmarks.reported`: published numbers as reference rows, for every benchmark;
* :mod:`~leaderboard.benchmarks.vlm_judge_uncertainty`: the reader of VLM-Judge-Uncertainty's
  per-item result files (full MLLM-as-a-Judge score task and Polaris).

The board, the runner and the submission check ask this registry (:func:`get_benchmark`) instead of
importing a benchmark's modules. A manifest's ``benchmark`` field names its entry; manifests without
one are :data:`~leaderboard.schema.DEFAULT_BENCHMARK`'s. To add a benchmark: a folder beside
``mllm_judge/`` building one :class:`Benchmark`, and one line in :data:`BENCHMARKS`.
"""

from __future__ import annotations

from leaderboard.benchmarks.base import Benchmark, BenchmarkError, BenchmarkItem, Selection
from leaderboard.benchmarks.mj_bench import MJ_BENCH
from leaderboard.benchmarks.mllm_judge import MLLM_JUDGE
from leaderboard.benchmarks.polaris import POLARIS
from leaderboard.schema import AVERAGE, DEFAULT_BENCHMARK, POOLED

#: Every benchmark, by name.
BENCHMARKS: dict[str, Benchmark] = {b.name: b for b in (MLLM_JUDGE, POLARIS, MJ_BENCH)}


def benchmark_names() -> tuple[str, ...]:
    """The registered benchmarks' names, the default first."""
    return (DEFAULT_BENCHMARK, *sorted(n for n in BENCHMARKS if n != DEFAULT_BENCHMARK))


def get_benchmark(name: str | None = None) -> Benchmark:
    """A benchmark by name (None: the default one).

    Raises:
        BenchmarkError: The name is not registered; the message lists the known names.
    """
    try:
        return BENCHMARKS[name or DEFAULT_BENCHMARK]
    except KeyError:
        raise BenchmarkError(f"unknown benchmark {name!r}; known benchmarks: {', '.join(benchmark_names())}") from None


def display_dataset(name: str, benchmark: str | None = None) -> str:
    """The display name of a source dataset ("Concept Caption" -> "C.C.").

    Args:
        name: The name as the data or a run spells it; a display name maps to itself.
        benchmark: The benchmark it belongs to (None: the first benchmark that knows the name).

    Returns:
        The display name, or ``name`` unchanged when no benchmark knows it.
    """
    if benchmark is not None:
        return get_benchmark(benchmark).display_dataset(name)
    for entry in BENCHMARKS.values():
        shown = entry.display_dataset(name)
        if shown != name:
            return shown
    return str(name)


def dataset_sort_key(display: str) -> tuple[int, int, str]:
    """Sort key putting datasets in their benchmark's order, unknown ones after, Average/Pooled last."""
    for rank, entry in enumerate(BENCHMARKS.values()):
        if display in entry.dataset_order:
            return (rank, entry.dataset_order.index(display), "")
    if display == AVERAGE:
        return (1000, 0, "")
    if display == POOLED:
        return (1001, 0, "")
    return (500, 0, display.lower())


__all__ = [
    "BENCHMARKS",
    "Benchmark",
    "BenchmarkError",
    "BenchmarkItem",
    "Selection",
    "benchmark_names",
    "dataset_sort_key",
    "display_dataset",
    "get_benchmark",
]
