"""The row cache and the columnar path never change a number: the table equals the one from JSONL, no cache."""

from __future__ import annotations

import shutil
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from leaderboard.board import LazyLeaderboard, load_inputs, load_leaderboard
from leaderboard.metrics import compute_rows
from leaderboard.metrics.compute import compute_rows_cached
from leaderboard.schema import PROVENANCE_RUN
from leaderboard.store.columnar import COLUMNAR_NAME, write_columnar
from leaderboard.store.format import Judgment, Manifest
from leaderboard.store.labels import LABEL_COLUMNS, write_labels
from leaderboard.store.read import find_run_dirs
from leaderboard.store.rowcache import RowCache
from leaderboard.store.sources import default_assets_dir
from leaderboard.store.write import write_run

pytest.importorskip("pyarrow")

DATASETS = ("coco", "WIT", "textVQA", "mathvista", "ChartQA", "diffusiondb")
PAIR = np.array(["A", "B", "tie"], dtype=object)


def _ranking(rng: np.random.Generator, n: int) -> str:
    return "".join(np.array(list("ABCD"[:n]))[rng.permutation(n)])


def synthetic_source(root, total: int, judges: int = 10, seed: int = 0):
    """Stored score, pair and batch runs with ``total`` judgments in all, and their labels, under ``root``."""
    rng = np.random.default_rng(seed)
    per_run = total // (3 * judges)
    label_rows = []
    for mode in ("score", "pair", "batch"):
        ds = np.array(DATASETS, dtype=object)[rng.integers(0, len(DATASETS), per_run)]
        if mode == "score":
            human = [str(v) for v in rng.integers(1, 6, per_run)]
        elif mode == "pair":
            human = list(PAIR[rng.choice(3, per_run, p=[0.45, 0.45, 0.1])])
        else:
            human = [_ranking(rng, 4) for _ in range(per_run)]
        n_resp = {"score": 1, "pair": 2, "batch": 4}[mode]
        lengths = rng.integers(20, 2000, (per_run, n_resp))
        for k in range(per_run):
            label_rows.append(
                {"benchmark": "mllm-as-a-judge", "mode": mode, "subset": "all", "item_id": str(k), "dataset": ds[k],
                 "human_label": human[k], "n_responses": n_resp, "response_lengths": "|".join(map(str, lengths[k])),
                 "image_id": str(k), "label_issue": ""}
            )  # fmt: skip
        for j in range(judges):
            agree = rng.random(per_run) < 0.2 + 0.6 * j / max(judges - 1, 1)
            judgments = []
            for k in range(per_run):
                if rng.random() < 0.03:
                    judgments.append(Judgment(str(k), ds[k], None, "no verdict found"))
                    continue
                if mode == "score":
                    verdict: int | str = int(human[k]) if agree[k] else int(rng.integers(1, 6))
                    probs = {"probabilities": {str(v): 0.2 for v in range(1, 6)}, "confidence": 0.2} if j % 2 else None
                elif mode == "pair":
                    verdict = human[k] if agree[k] else str(PAIR[rng.integers(0, 3)])
                    probs = None
                else:
                    verdict = human[k] if agree[k] else _ranking(rng, 4)
                    probs = None
                swap = {"consistent": bool(rng.random() < 0.8)} if mode == "pair" else None
                judgments.append(Judgment(str(k), ds[k], verdict, probabilities=probs, swap=swap))
            manifest = Manifest(f"syn-{mode}-{j:02d}", f"judge{j:02d}", mode, PROVENANCE_RUN)
            write_run(root / "runs" / manifest.run_id, manifest, judgments)
    write_labels(pd.DataFrame(label_rows, columns=list(LABEL_COLUMNS)), root / "benchmark" / "labels.csv")
    return root


def jsonl_only(src, dst):
    """A copy of ``src`` without columnar companions."""
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns(COLUMNAR_NAME))
    return dst


def tables(source, cache_dir, n_resamples=1000):
    """The table from JSONL without a cache, then twice via companions + cache (cold, warm)."""
    plain_source = jsonl_only(source, cache_dir.parent / "plain")
    labels, loaded = load_inputs([plain_source])
    assert not any(p.reason.startswith("columnar") for p in loaded.problems)
    plain = compute_rows(loaded.runs, labels, n_resamples=n_resamples)
    for run_dir in find_run_dirs(source):
        write_columnar(run_dir, min_lines=0)
    out = []
    for _ in range(2):
        cache = RowCache(cache_dir)
        labels, loaded = load_inputs([source])
        out.append((compute_rows_cached(loaded.runs, labels, cache, n_resamples=n_resamples), cache))
    return plain, out


def test_embedded_runs_give_the_same_table_via_parquet_and_cache(tmp_path):
    source = tmp_path / "assets"
    shutil.copytree(default_assets_dir(), source, ignore=shutil.ignore_patterns("screenshots", "examples"))
    plain, [(cold, cold_cache), (warm, warm_cache)] = tables(source, tmp_path / "cache")
    assert len(plain) > 1000
    pd.testing.assert_frame_equal(cold, plain, check_exact=True)
    pd.testing.assert_frame_equal(warm, plain, check_exact=True)
    assert cold_cache.hits == 0 and cold_cache.misses > 0
    assert warm_cache.misses == 0 and warm_cache.hits == 2 * len(find_run_dirs(source))  # a shape and rows each


def test_a_synthetic_100k_set_gives_the_same_table_via_parquet_and_cache(tmp_path):
    source = synthetic_source(tmp_path / "syn", 100_000)
    assert len(list(source.rglob(COLUMNAR_NAME))) == 30  # write_run made them (runs of >= 1000 lines)
    plain, [(cold, _), (warm, warm_cache)] = tables(source, tmp_path / "cache")
    assert set(plain["mode"]) == {"score", "pair", "batch"} and plain["value"].notna().sum() > 1000
    pd.testing.assert_frame_equal(cold, plain, check_exact=True)
    pd.testing.assert_frame_equal(warm, plain, check_exact=True)
    assert warm_cache.misses == 0


def test_refresh_computes_only_the_new_run_and_a_restart_reads_the_cache(tmp_path):
    source = synthetic_source(tmp_path / "syn", 6_000, judges=2)
    cache_dir = tmp_path / "cache"
    store = LazyLeaderboard(sources=lambda: [source], n_resamples=50, cache_dir=cache_dir)
    first = store.get()
    assert first.cache is not None and first.cache.hits == 0
    # A new run arrives (a submission): only it is computed on refresh.
    runs = sorted(source.glob("runs/syn-score-*"))
    new = source / "runs" / "syn-score-new"
    shutil.copytree(runs[0], new)
    manifest = Manifest("syn-score-new", "judge new", "score", PROVENANCE_RUN)
    (new / "manifest.json").write_text(__import__("json").dumps(manifest.to_dict()))
    data = store.refresh()
    # The new run's shape and rows, nothing else (its rows are looked up: without probabilities, its
    # own shape is not its group's, where other score runs carry them).
    assert data.cache is not None and data.cache.misses == 2
    assert data.cache.hits == 2 * len(first.runs)
    expected = load_leaderboard(sources=[source], n_resamples=50).table  # no cache
    pd.testing.assert_frame_equal(data.table, expected, check_exact=True)
    # A restart (a new store on the same folder) computes nothing.
    again = LazyLeaderboard(sources=lambda: [source], n_resamples=50, cache_dir=cache_dir).get()
    assert again.cache is not None and again.cache.misses == 0
    pd.testing.assert_frame_equal(again.table, expected, check_exact=True)


def test_changed_runs_and_restricted_copies_are_never_served_stale_rows(tmp_path):
    source = synthetic_source(tmp_path / "syn", 3_000, judges=1)
    cache = RowCache(tmp_path / "cache")
    labels, loaded = load_inputs([source])
    compute_rows_cached(loaded.runs, labels, cache, n_resamples=20)
    # A restricted copy (the "same items only" view) has no digest, so it is computed.
    run = loaded.runs[0]
    half = replace(run, records=run.records.iloc[: len(run.records) // 2].reset_index(drop=True))
    assert half.digest == "" and run.digest != ""
    pd.testing.assert_frame_equal(
        compute_rows_cached([half], labels, cache, n_resamples=20), compute_rows([half], labels, n_resamples=20)
    )
    # A run whose file changed has another digest: its rows are computed again.
    path = run.path / "judgments.jsonl"
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[: len(lines) // 3]))
    labels, loaded = load_inputs([source])
    pd.testing.assert_frame_equal(
        compute_rows_cached(loaded.runs, labels, cache, n_resamples=20),
        compute_rows(loaded.runs, labels, n_resamples=20),
        check_exact=True,
    )
    # Other labels are another key too.
    changed = labels.copy()
    changed.loc[changed["mode"] == "pair", "human_label"] = "A"
    pd.testing.assert_frame_equal(
        compute_rows_cached(loaded.runs, changed, cache, n_resamples=20),
        compute_rows(loaded.runs, changed, n_resamples=20),
        check_exact=True,
    )


def test_a_cache_folder_that_cannot_be_written_only_costs_the_recomputation(tmp_path):
    source = synthetic_source(tmp_path / "syn", 3_000, judges=1)
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be")
    cache = RowCache(blocker / "cache")
    labels, loaded = load_inputs([source])
    pd.testing.assert_frame_equal(
        compute_rows_cached(loaded.runs, labels, cache, n_resamples=20),
        compute_rows(loaded.runs, labels, n_resamples=20),
    )
    assert cache.hits == 0


def test_a_refresh_reuses_unchanged_folders_and_rereads_changed_ones(tmp_path):
    source = synthetic_source(tmp_path / "syn", 3_000, judges=2)
    bad = source / "runs" / "syn-pair-00" / "judgments.jsonl"
    bad.write_text(bad.read_text() + '{"item_id": "0", "dataset": "coco", "verdict": "A"}\n')  # a repeated id
    store = LazyLeaderboard(sources=lambda: [source], n_resamples=20, cache_dir=tmp_path / "cache")
    first = store.get()
    assert any("already judged" in p for p in first.problems)
    changed = source / "runs" / "syn-score-01" / "judgments.jsonl"
    changed.write_text("".join(changed.read_text().splitlines(keepends=True)[:50]))
    data = store.refresh()
    by_id = {r.run_id: r for r in first.runs}
    for run in data.runs:
        assert (run is by_id[run.run_id]) == (run.run_id != "syn-score-01")
    assert len(next(r for r in data.runs if r.run_id == "syn-score-01").records) == 50
    fresh = load_leaderboard(sources=[source], n_resamples=20)
    assert data.problems == fresh.problems
    pd.testing.assert_frame_equal(data.table, fresh.table, check_exact=True)


def test_prune_deletes_only_old_entries_nobody_uses(tmp_path):
    import os
    import time

    cache = RowCache(tmp_path / "cache")
    for key in ("aa" + "1" * 62, "bb" + "2" * 62, "cc" + "3" * 62):
        cache.put(key, [{"value": float("nan")}])
    old = time.time() - 30 * 86400
    for path in (tmp_path / "cache").glob("*/*.json"):
        os.utime(path, (old, old))
    later = RowCache(tmp_path / "cache")
    assert later.get("aa" + "1" * 62) is not None  # used now: kept, and its time refreshed
    assert later.prune() == 2
    assert [p.stem[:2] for p in (tmp_path / "cache").glob("*/*.json")] == ["aa"]
    value = later.get("aa" + "1" * 62)
    assert value is not None and np.isnan(value[0]["value"])
