"""What a benchmark run is, as given on the command line: RunConfig, its identity, RunSummary, RunnerError.

:class:`RunConfig` checks its values against the benchmark it names in the registry
(:mod:`leaderboard.benchmarks`); :func:`run_identity` is the part of it that defines a run (resuming
requires the same identity; see :mod:`leaderboard.runner.folder`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from leaderboard.benchmarks import BenchmarkError, get_benchmark
from leaderboard.errors import LeaderboardError
from leaderboard.schema import DEFAULT_BENCHMARK

if TYPE_CHECKING:
    from judges.backends.catalog import JudgeSpec
    from judges.types import Sampling

#: Exit status when some items are still missing because of backend errors (run again to retry).
EXIT_INCOMPLETE = 3
#: Exit status when the run folder cannot be written or read: disk full, file too large, a
#: read-only folder, a file where the folder should be, a damaged manifest. Nothing stored is
#: lost; fix the cause and start the same command again.
EXIT_STORAGE = 4
EXIT_INTERRUPTED = 130

#: Bounds of the numeric options: name -> (least, most). A value outside is refused before anything
#: is read or sent (a billion samples would fill the memory with requests first).
OPTION_BOUNDS: dict[str, tuple[int, int]] = {
    "limit": (1, 10**9),
    "shuffles": (0, 100),
    "samples": (1, 100),
    "seed": (-(2**63), 2**63 - 1),
    "max_tokens": (1, 1_000_000),
    "concurrency": (1, 1024),
    "batch_size": (1, 1024),
}
#: Most requests one item may take: samples x (1 + shuffles) x (2 with swap).
MAX_VIEWS_PER_ITEM = 256


class RunnerError(LeaderboardError, RuntimeError):
    """The run cannot start or go on; the message says what to change."""


class RunStorageError(RunnerError):
    """The run folder cannot be written or read; what is stored is kept.

    Attributes:
        stored: Judgments the run's file holds (all of them, not only this start's).
    """

    def __init__(self, message: str, stored: int = 0) -> None:
        super().__init__(message)
        self.stored = stored


def _option(name: str) -> str:
    return "--" + name.replace("_", "-")


def option_problem(name: str, value: object) -> str:
    """Why ``value`` cannot be the numeric option ``name`` ('' when it can; None is "not given")."""
    least, most = OPTION_BOUNDS[name]
    if value is None and name in ("limit", "max_tokens"):
        return ""
    if type(value) is not int:
        return f"{_option(name)} must be a whole number from {least:,} to {most:,}, got {value!r}"
    if not least <= value <= most:
        shown = f"{value:,}" if abs(value) < 10**30 else "a number that long"
        return f"{_option(name)} must be from {least:,} to {most:,}, got {shown}"
    return ""


@dataclass(frozen=True)
class RunConfig:
    """Everything a benchmark run needs, as given on the command line.

    Attributes:
        mode: score, pair or batch.
        out: The run's folder (created; resumed when it already holds this run).
        judge: A catalog name (``--judge``), or None with ``model``.
        model: A model id for an OpenAI-compatible endpoint or a local model (``--model``).
        base_url: The endpoint of ``model`` (``--base-url``).
        backend: ``openai`` or ``hf`` (local transformers), with ``model``.
        benchmark: A local copy of the benchmark in its Hub layout; None downloads it.
        benchmark_name: Which benchmark of :mod:`leaderboard.benchmarks` (``--benchmark-name``).
        split: all, hq, hard or lite.
        datasets: Only these source datasets.
        limit: At most this many items.
        setting: The prompt setting.
        template: The prompt template.
        swap: Pair: judge both orders.
        shuffles: Batch: extra random orders.
        samples: Samples per order (majority verdict).
        seed: Seed of the batch shuffles.
        verdict_source: ``generate`` or ``forward`` (local judges).
        max_tokens: Most tokens a judgment may generate (None: the library's default).
        concurrency: Requests in flight for API judges.
        batch_size: Items per batch for local judges.
        push: A Hugging Face dataset repo to push the finished run to.
        progress: Show a progress bar (None: only on a terminal).
    """

    mode: str
    out: Path
    judge: str | None = None
    model: str | None = None
    base_url: str | None = None
    backend: str = "openai"
    benchmark: Path | None = None
    benchmark_name: str = DEFAULT_BENCHMARK
    split: str = "all"
    datasets: tuple[str, ...] = ()
    limit: int | None = None
    setting: str = "no-cot"
    template: str = "mllm-judge"
    swap: bool = False
    shuffles: int = 0
    samples: int = 1
    seed: int = 0
    verdict_source: str = "generate"
    max_tokens: int | None = None
    concurrency: int = 8
    batch_size: int = 8
    push: str | None = None
    progress: bool | None = None

    def __post_init__(self) -> None:
        try:
            bench = get_benchmark(self.benchmark_name)
        except BenchmarkError as exc:
            raise RunnerError(f"--benchmark-name: {exc}") from None
        if self.mode not in bench.modes:
            raise RunnerError(f"--mode must be one of {', '.join(bench.modes)}, got {self.mode!r}")
        if self.split not in bench.splits:
            raise RunnerError(f"--split must be one of {', '.join(bench.splits)}, got {self.split!r}")
        problems = [p for p in (option_problem(n, getattr(self, n)) for n in OPTION_BOUNDS) if p]
        if problems:
            raise RunnerError("; ".join(problems))
        views = self.samples * (1 + self.shuffles) * (2 if self.swap else 1)
        if views > MAX_VIEWS_PER_ITEM:
            raise RunnerError(
                f"--samples {self.samples} x (1 + --shuffles {self.shuffles})"
                + (" x 2 (--swap)" if self.swap else "")
                + f" = {views} requests per item, more than the {MAX_VIEWS_PER_ITEM} allowed; "
                "lower --samples or --shuffles"
            )
        if bool(self.judge) == bool(self.model):
            raise RunnerError(
                "give either --judge NAME (from the catalog) or --model ID (with --base-url or --backend hf)"
            )


@dataclass(frozen=True)
class RunSummary:
    """What a call of :func:`run_benchmark` did.

    Attributes:
        run_id: The run.
        run_dir: Its folder.
        planned: Items the run covers.
        already_done: Items stored before this call.
        judged: Judgments stored by this call (unscored ones included).
        unscored: Of those, how many hold no valid verdict.
        errors: Items whose judgment failed in the backend (not stored; retried next time).
        invalid: Items that cannot be judged (not stored).
        elapsed_s: Wall time of the judging.
        prompt_tokens: Prompt tokens reported by the backend.
        completion_tokens: Completion tokens reported by the backend.
        interrupted: Whether Ctrl-C stopped the run.
        error_kinds: Error type -> count.
        examples: A few error messages, to show.
        pushed: The commit URL when the run was pushed.
        push_error: Why the push failed (the run itself is complete and kept).
        read_ms: Reading the benchmark file, per planned item (wall time).
        task_ms: Building a task, per item: reading and validating its image (once per image); CPU
            time of the worker thread.
        write_ms: Turning a result into a line, writing it, updating the progress bar, per item;
            CPU time of the writing thread.
    """

    run_id: str
    run_dir: Path
    planned: int
    already_done: int
    judged: int
    unscored: int
    errors: int
    invalid: int
    elapsed_s: float
    prompt_tokens: int = 0
    completion_tokens: int = 0
    interrupted: bool = False
    error_kinds: dict[str, int] = field(default_factory=dict)
    examples: tuple[str, ...] = ()
    pushed: str | None = None
    push_error: str | None = None
    read_ms: float = 0.0
    task_ms: float = 0.0
    write_ms: float = 0.0

    @property
    def missing(self) -> int:
        """Items the run still lacks."""
        return self.planned - self.already_done - self.judged

    @property
    def complete(self) -> bool:
        """Whether every planned item is stored."""
        return self.missing == 0

    def to_text(self) -> str:
        """A few lines for the terminal."""
        rate = self.judged / self.elapsed_s if self.elapsed_s > 0 else 0.0
        lines = [
            f"run {self.run_id} in {self.run_dir}",
            f"  judged now {self.judged} ({self.unscored} unscored) in {self.elapsed_s:.1f} s ({rate:.1f}/s); "
            f"stored before {self.already_done}; planned {self.planned}",
            f"  errors {self.errors} (not stored, retried on the next start); invalid items {self.invalid}",
            f"  tokens: {self.prompt_tokens} prompt, {self.completion_tokens} completion",
        ]
        if self.error_kinds:
            lines.append("  by kind: " + ", ".join(f"{k} x{v}" for k, v in sorted(self.error_kinds.items())))
        lines.extend(f"  e.g. {message}" for message in self.examples)
        if self.interrupted:
            lines.append("  interrupted: start the same command again to judge the rest")
        elif not self.complete:
            lines.append(f"  {self.missing} item(s) missing: start the same command again to retry them")
        else:
            lines.append("  complete")
        if self.pushed:
            lines.append(f"  pushed: {self.pushed}")
        if self.push_error:
            lines.append(f"  not pushed: {self.push_error}")
        return "\n".join(lines)


def run_identity(config: RunConfig, spec: JudgeSpec, sampling: Sampling) -> dict[str, Any]:
    """The arguments that define a run; resuming requires the same ones.

    Speed settings (concurrency, batch size), where the judge is reached (its base URL: a local
    server may come back on another port), where the benchmark copy lives, and where to push are not
    part of it: they do not change what is judged.
    """
    identity = {
        "judge": spec.name,
        "backend": spec.backend,
        "model": spec.model,
        "mode": config.mode,
        "split": config.split,
        "datasets": sorted({get_benchmark(config.benchmark_name).display_dataset(d) for d in config.datasets}),
        "limit": config.limit,
        "setting": config.setting,
        "template": config.template,
        "swap": config.swap,
        "shuffles": config.shuffles,
        "samples": config.samples,
        "seed": config.seed,
        "verdict_source": config.verdict_source,
        "temperature": sampling.temperature,
        "top_p": sampling.top_p,
        "max_tokens": sampling.max_tokens,
    }
    # Runs of the default benchmark were stored before the field existed; naming it only otherwise
    # keeps them resumable.
    if config.benchmark_name != DEFAULT_BENCHMARK:
        identity["benchmark"] = config.benchmark_name
    return identity
