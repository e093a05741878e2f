"""Which runs the Space can score: the (benchmark, mode, split) cells the loaded labels cover.

A submitted run is scored against the human labels of its benchmark, mode and split
(:mod:`leaderboard.store.labels`, keyed by ``benchmark``). What can be scored is read from the labels
the Space has loaded, never from a list written here: importing a new label subset makes its runs
submittable, with no change to this module.

The runner offers more splits than there are label subsets (``lite`` is a selection of ``all``); a
runner split is scorable when the subset it is stored under (``Benchmark.subset_of_split``) has
labels. :func:`split_refusal` is the one sentence an upload of any other split gets.
"""

from __future__ import annotations

from typing import Any

from leaderboard.benchmarks import Benchmark
from leaderboard.store.labels import with_benchmark


def labels_of(labels: Any, benchmark: str) -> Any:
    """The rows of ``labels`` that belong to ``benchmark`` (rows without a benchmark are the default one's).

    Args:
        labels: A label table (DataFrame with the columns of :mod:`leaderboard.store.labels`).
        benchmark: A benchmark name.

    Returns:
        The matching rows, a DataFrame with a ``benchmark`` column.
    """
    table = with_benchmark(labels)
    return table[table["benchmark"] == benchmark]


def scorable_subsets(labels: Any, bench: Benchmark, mode: str) -> tuple[str, ...]:
    """The label subsets of ``bench`` the loaded labels can score ``mode`` runs on, in the benchmark's order.

    Args:
        labels: The loaded label table.
        bench: The run's benchmark.
        mode: The run's mode.

    Returns:
        Subsets (all, hq, hard ...) with at least one label row for ``mode``.
    """
    rows = labels_of(labels, bench.name)
    present = set(rows.loc[rows["mode"] == mode, "subset"].astype(str))
    return tuple(s for s in bench.subsets if s in present)


def scorable_splits(labels: Any, bench: Benchmark, mode: str) -> tuple[str, ...]:
    """The runner splits (``--split``) whose runs of ``mode`` the Space can score, in the benchmark's order."""
    subsets = set(scorable_subsets(labels, bench, mode))
    return tuple(s for s in bench.splits if bench.subset_of_split(s) in subsets)


def _listing(names: tuple[str, ...]) -> str:
    quoted = [f"'{n}'" for n in names]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]


def split_refusal(labels: Any, bench: Benchmark, mode: str, split: str) -> str:
    """The one sentence refusing a ``mode`` run of ``split`` ('' when the Space can score it).

    Args:
        labels: The loaded label table.
        bench: The run's benchmark.
        mode: The run's mode.
        split: The manifest's ``split`` (a label subset, or a runner split such as ``lite``).

    Returns:
        '' when the labels cover the split; else which splits the Space can score for this benchmark
        and mode (or that it can score none), and what to do.
    """
    splits = scorable_splits(labels, bench, mode)
    if split in splits and split in bench.subsets:
        return ""
    if split in splits:  # a runner selection such as lite: the runner stores it under its subset
        subset = bench.subset_of_split(split)
        return (
            f"split '{split}' is how the runner selects items, and such runs are stored with split '{subset}'; "
            f"set 'split' to '{subset}' in manifest.json"
        )
    if not splits:
        return (
            f"the Space has no human labels for {bench.name} {mode} runs, so it cannot score any split of them; "
            "submit a run of another benchmark or mode"
        )
    which = "split" if len(splits) == 1 else "splits"
    stored_as = tuple(s for s in bench.splits if s != split and bench.subset_of_split(s) == split)
    refused = f"'{split}'" + (f" (nor {_listing(stored_as)}, stored as '{split}')" if stored_as else "")
    return (
        f"the Space can score {bench.name} {mode} runs of {which} {_listing(splits)} only, not {refused}; "
        f"judge one of those (python -m leaderboard run --split {splits[0]} ...) and upload that run"
    )
