"""The human rankings' length Spearman is computed once per label row, with the per-judgment values."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd

from judges.tasks import get_task
from leaderboard.metrics import compute as K
from leaderboard.metrics import join as J
from leaderboard.metrics.agreement import agreement_for
from leaderboard.schema import PROVENANCE_RUN
from leaderboard.store.format import Judgment, Manifest
from leaderboard.store.read import load_runs
from leaderboard.store.write import write_run


def batch_source(root: Path, n: int = 300) -> tuple[list, pd.DataFrame]:
    rng = np.random.default_rng(3)
    letters = np.array(list("ABCD"))
    rows = []
    for k in range(n):
        width = 4 if k % 5 else 3
        ranking = "".join(letters[:width][rng.permutation(width)])
        lengths = rng.integers(10, 60, width)
        if k % 7 == 0:
            lengths[:] = 25  # all equal: no correlation
        text = "" if k % 11 == 0 else "|".join(map(str, lengths))
        rows.append(("mllm-as-a-judge", "batch", "all", str(k), "coco", ranking, width, text, str(k), ""))
    labels = pd.DataFrame(rows, columns=[
        "benchmark", "mode", "subset", "item_id", "dataset", "human_label", "n_responses", "response_lengths",
        "image_id", "label_issue",
    ])  # fmt: skip
    for j in range(2):
        judgments = [
            Judgment(str(k), "coco", "".join(rng.permutation(list("ABCD"[: int(labels.n_responses[k])]))))
            for k in range(n)
        ]
        write_run(root / f"b{j}", Manifest(f"b{j}", f"Judge {j}", "batch", PROVENANCE_RUN), judgments)
    return list(load_runs([root], labels).runs), labels


def test_per_row_values_equal_the_per_judgment_ones(tmp_path):
    runs, labels = batch_source(tmp_path)
    agreement = agreement_for(get_task("batch").verdicts)
    labels = K.with_benchmark(labels)
    prep = J.label_rows(labels, "batch", agreement, "mllm-as-a-judge")
    for run in runs:
        j = J.join_runs([run], labels, "batch", agreement, "mllm-as-a-judge", prep=prep)
        assert j.human_length is not None and np.isfinite(j.human_length).sum() > 100
        fast = dict((m, f) for m, f, _ in K._length_figures(j, agreement))
        slow = dict((m, f) for m, f, _ in K._length_figures(dataclasses.replace(j, human_length=None), agreement))
        assert set(fast) == set(slow) == {"length_bias", "human_length_correlation"}
        for metric in fast:
            np.testing.assert_array_equal(fast[metric].value, slow[metric].value)
            np.testing.assert_array_equal(fast[metric].n, slow[metric].n)
    # The rows of the whole table too, against a join that never saw the per-row values.
    rows = K.compute_rows(runs, labels, n_resamples=20)
    human = rows[(rows["metric"] == "human_length_correlation") & (rows["dataset"] == "COCO")]
    assert len(human) == 2 and human["value"].notna().all() and (human["value"].nunique() == 1)
