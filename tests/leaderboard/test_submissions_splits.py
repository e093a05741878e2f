"""Which submitted runs the Space can score: every runner split is accepted or refused in one sentence.

Issue 10, item 10. The labels decide (the embedded table: full-benchmark MLLM-as-a-Judge score
items ``row:<n>``, Polaris, MJ-Bench, and the curated hq/hard subsets), and every problem of an upload
is listed at once.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

from judges.settings import Settings
from judges.tasks import get_task
from leaderboard.benchmarks import BENCHMARKS
from leaderboard.board import LazyLeaderboard
from leaderboard.schema import PROVENANCE_RUN, PROVENANCE_UNVERIFIED
from leaderboard.store.format import Judgment, Manifest
from leaderboard.store.labels import load_label_tables
from leaderboard.store.sources import default_assets_dir, label_files
from leaderboard.store.write import write_run
from leaderboard.submissions import scorable_splits, split_refusal, submit_run, validate_submission
from tests.support.submissions import submission

#: Items per (benchmark, mode, split) run: enough to be a run, few enough to stay quick.
ITEMS = 40


@pytest.fixture(scope="module")
def labels() -> pd.DataFrame:
    return load_label_tables(label_files([default_assets_dir()]))


def verdict_for(mode: str, n_responses: int):
    shape = get_task(mode).verdicts.kind
    return {"scale": 3, "choice": "A"}.get(shape, "ABCDEFGH"[: max(int(n_responses), 2)])


def runner_run(folder, labels, bench, mode, split, *, rows=None):
    """The run the runner writes for ``--benchmark-name bench --mode mode --split split``.

    The manifest's split is the label subset the runner stores (lite -> all); the items are the
    labels' own for that subset, or, where there are none, other items of the benchmark.
    """
    subset = bench.subset_of_split(split)
    own = labels[labels["benchmark"] == bench.name]
    if rows is None:
        rows = own[(own["mode"] == mode) & (own["subset"] == subset)]
        if rows.empty:
            rows = own[own["mode"] == mode] if (own["mode"] == mode).any() else own
    rows = rows.head(ITEMS)
    judgments = [
        Judgment(str(r.item_id), str(r.dataset), verdict_for(mode, r.n_responses))
        for r in rows.drop_duplicates("item_id").itertuples()
    ]
    run_id = f"sub-{bench.name}-{mode}-{split}"
    manifest = Manifest(
        run_id=run_id, judge="My-Judge", mode=mode, provenance=PROVENANCE_RUN, split=subset, benchmark=bench.name
    )
    run_dir = write_run(folder / run_id, manifest, judgments)
    return [run_dir / "manifest.json", run_dir / "judgments.jsonl"]


CELLS = [
    pytest.param(bench, mode, split, id=f"{bench.name}-{mode}-{split}")
    for bench in BENCHMARKS.values()
    for mode in bench.modes
    for split in bench.splits
]


@pytest.mark.parametrize(("bench", "mode", "split"), CELLS)
def test_every_split_the_runner_offers_is_accepted_or_refused_in_one_sentence(bench, mode, split, labels, tmp_path):
    result = validate_submission(runner_run(tmp_path, labels, bench, mode, split), labels, None)
    own = labels[(labels["benchmark"] == bench.name) & (labels["mode"] == mode)]
    subsets = set(own["subset"])
    if bench.subset_of_split(split) in subsets:
        assert result.ok, result.message
        assert result.manifest.benchmark == bench.name and result.manifest.provenance == PROVENANCE_UNVERIFIED
        return
    assert not result.ok and len(result.errors) == 1, result.errors
    sentence = result.errors[0]
    assert sentence.count(";") == 1 and "\n" not in sentence
    assert f"{bench.name} {mode} runs" in sentence
    offered = [s for s in bench.splits if bench.subset_of_split(s) in subsets]
    for name in offered:  # the splits it can score, read from the labels
        assert f"'{name}'" in sentence
    for name in set(bench.splits) - set(offered):
        assert f"'{name}'" not in sentence.split("only")[0]
    if not offered:
        assert "cannot score any split" in sentence


def test_the_scorable_splits_come_from_the_loaded_labels(labels):
    mllm = BENCHMARKS["mllm-as-a-judge"]
    assert scorable_splits(labels, mllm, "score") == ("all", "hq", "lite")
    assert scorable_splits(labels, mllm, "pair") == ("hq", "hard")
    assert scorable_splits(labels, mllm, "batch") == ("hq",)
    assert scorable_splits(labels, BENCHMARKS["polaris"], "score") == ("all",)
    assert scorable_splits(labels, BENCHMARKS["mj-bench"], "pair") == ("all",)
    # Labels of another subset make its runs submittable, with no change to the code.
    extra = labels[(labels["benchmark"] == mllm.name) & (labels["mode"] == "pair")].assign(subset="all")
    wider = pd.concat([labels, extra], ignore_index=True)
    assert scorable_splits(wider, mllm, "pair") == ("all", "hq", "hard", "lite")
    assert split_refusal(wider, mllm, "pair", "all") == ""
    # And without Polaris labels nothing of Polaris can be scored.
    narrower = labels[labels["benchmark"] != "polaris"]
    assert "no human labels for polaris score runs" in split_refusal(narrower, BENCHMARKS["polaris"], "score", "all")


@pytest.mark.parametrize(
    "source",
    ["vju-all-score-llava-critic-7b", "polaris-all-score-phi-4-reasoning-vision", "mjbench-all-pair-gpt-4o"],
)
def test_a_full_benchmark_run_like_the_embedded_ones_is_accepted(source, labels, tmp_path):
    files = submission(tmp_path, f"my-{source}", "My-Judge", source=source)
    result = validate_submission(files, labels, None)
    assert result.ok, result.message
    embedded = (default_assets_dir() / "runs" / source / "judgments.jsonl").read_text().count("\n")
    assert len(result.judgments) == embedded
    assert result.manifest.split == "all"


def test_item_ids_are_checked_against_the_runs_own_benchmark(labels, tmp_path):
    """row:8000 is a Polaris item; the full MLLM-as-a-Judge score table ends at row:5716."""
    polaris = labels[labels["benchmark"] == "polaris"]
    assert "row:8000" in set(polaris["item_id"])
    mllm = BENCHMARKS["mllm-as-a-judge"]
    rows = polaris[polaris["item_id"] == "row:8000"]
    result = validate_submission(runner_run(tmp_path, labels, mllm, "score", "all", rows=rows), labels, None)
    assert not result.ok and "item row:8000 is not in the benchmark (mllm-as-a-judge, score, all)" in result.message
    # The same item in a Polaris run is fine, and its dataset is Polaris's.
    ok = validate_submission(
        runner_run(tmp_path, labels, BENCHMARKS["polaris"], "score", "all", rows=rows), labels, None
    )
    assert ok.ok, ok.message
    assert ok.judgments[0].dataset == rows["dataset"].iloc[0]


def test_a_lite_split_in_a_manifest_is_told_to_say_all(labels, tmp_path):
    files = runner_run(tmp_path, labels, BENCHMARKS["mllm-as-a-judge"], "score", "lite")
    data = json.loads(files[0].read_text())
    files[0].write_text(json.dumps({**data, "split": "lite"}))
    result = validate_submission(files, labels, None)
    assert not result.ok and len(result.errors) == 1
    assert "split 'lite' is how the runner selects items" in result.errors[0]
    assert "set 'split' to 'all'" in result.errors[0]


def test_every_problem_of_an_upload_is_reported_at_once(labels, tmp_path):
    mllm = BENCHMARKS["mllm-as-a-judge"]
    files = runner_run(tmp_path, labels, mllm, "pair", "hq")
    lines = files[1].read_text().splitlines()
    first, second = json.loads(lines[0]), json.loads(lines[1])
    first["verdict"] = "Z"
    second["item_id"] = "no-such-item"
    files[1].write_text("\n".join([json.dumps(first), json.dumps(second), "{not json", *lines[2:]]) + "\n")
    text = "\n".join(validate_submission(files, labels, None).errors)
    assert "line 3" in text  # the broken line
    assert "no-such-item is not in the benchmark" in text
    assert "'Z'" in text
    # A manifest with several bad fields: each is named, beside the broken line.
    data = json.loads(files[0].read_text())
    files[0].write_text(json.dumps({**data, "run_id": "..", "judge": 7, "sampling": 3}))
    result = validate_submission(files, labels, None)
    text = "\n".join(result.errors)
    assert "run_id '..'" in text and "judge must be a string" in text and "sampling must be a JSON object" in text
    assert "line 3" in text
    assert len(result.errors) >= 4
    # A split the labels cannot score, beside the broken line.
    files[0].write_text(json.dumps({**data, "split": "all"}))
    result = validate_submission(files, labels, None)
    assert len(result.errors) == 2, result.errors
    assert "the Space can score mllm-as-a-judge pair runs of splits 'hq' and 'hard' only" in result.errors[1]


def test_the_panel_lists_every_problem_and_accepts_a_full_benchmark_score_run(tmp_path):
    settings = Settings(runs_dir=tmp_path / "runs")
    store = LazyLeaderboard(settings, n_resamples=20)

    def broken(lines):
        records = [json.loads(line) for line in lines]
        records[0]["verdict"] = 9
        records[1]["item_id"] = "row:99999"
        return [json.dumps(r) for r in records]

    bad = submit_run(
        submission(tmp_path / "bad", "bad-run", "Me", source="vju-all-score-gemini-2.5-flash", edit_lines=broken), store
    )
    assert not bad.ok and bad.message.startswith("**Submission rejected.**")
    bullets = [line for line in bad.message.splitlines() if line.startswith("- ")]
    assert len(bullets) == 2 and "row:99999" in bad.message and "9" in bullets[0] + bullets[1]
    good = submit_run(
        submission(tmp_path / "good", "my-all-score", "Me", source="vju-all-score-gemini-2.5-flash"), store
    )
    assert good.ok and good.shown, good.message
    assert "listed in **score** mode (all)" in good.message
