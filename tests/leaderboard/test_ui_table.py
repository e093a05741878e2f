"""leaderboard.board, leaderboard.ui.table, leaderboard.ui.samples and leaderboard.ui.plots: filtering, pivoting, sorting, CSV, samples and figures."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from leaderboard.board import (
    LazyLeaderboard,
    LeaderboardData,
    load_leaderboard,
    problems_summary,
    refresh_leaderboard,
    refresh_summary,
)
from leaderboard.metrics.registry import BIAS_METRICS, HEADLINE_METRIC
from leaderboard.schema import COLUMN_NAMES, PROVENANCE_IMPORTED, PROVENANCE_PAPER, PROVENANCE_RUN
from leaderboard.ui import plots
from leaderboard.ui.samples import HOW_TO_GET_TEXTS, sample_state, sample_view
from leaderboard.ui.table import (
    PAPER_MARK,
    family_choices,
    filter_rows,
    judge_family,
    metric_choices,
    metric_label,
    resolve_metric,
    style_table,
    table_caption,
    wide_table,
    write_csv,
)


def row(judge, mode, metric, dataset, value, *, lo=math.nan, hi=math.nan, n=10, cov=1.0, prov=PROVENANCE_RUN,
        subset="all", run=None):  # fmt: skip
    return {
        "judge": judge,
        "mode": mode,
        "metric": metric,
        "dataset": dataset,
        "value": value,
        "ci_low": lo,
        "ci_high": hi,
        "n": n,
        "coverage": cov,
        "provenance": prov,
        "subset": subset,
        "setting": "no-cot",
        "run_id": run or f"{judge}-{mode}-{subset}",
        "reason": "",
    }


@pytest.fixture
def table() -> pd.DataFrame:
    rows = [
        # pair: higher is better
        row("GPT-4o", "pair", "accuracy_without_tie", "COCO", 0.70, lo=0.6, hi=0.8),
        row("GPT-4o", "pair", "accuracy_without_tie", "Math", 0.50),
        row("GPT-4o", "pair", "accuracy_without_tie", "Average", 0.60, lo=0.55, hi=0.65, n=20, cov=0.9),
        row(
            "Gemini-1.0-Pro-Vision",
            "pair",
            "accuracy_without_tie",
            "COCO",
            0.8,
            prov=PROVENANCE_PAPER,
            n=None,
            cov=math.nan,
            run="paper",
        ),  # fmt: skip
        row(
            "Gemini-1.0-Pro-Vision",
            "pair",
            "accuracy_without_tie",
            "Average",
            0.8,
            prov=PROVENANCE_PAPER,
            n=None,
            cov=math.nan,
            run="paper",
        ),  # fmt: skip
        row("GPT-4V", "pair", "accuracy_without_tie", "Average", math.nan, prov=PROVENANCE_IMPORTED, subset="hq"),
        row("GPT-4V", "pair", "position_bias", "Average", 0.1, lo=0.0, hi=0.2, prov=PROVENANCE_IMPORTED, subset="hq"),
        row("GPT-4V", "pair", "tie_rate", "Average", 0.05, prov=PROVENANCE_IMPORTED, subset="hq"),
        # batch: lower is better
        row("GPT-4o", "batch", "normalized_levenshtein", "Average", 0.40),
        row("LLaVA-1.6-34B", "batch", "normalized_levenshtein", "Average", 0.20),
        # score: a metric with only a Pooled row
        row("GPT-4o", "score", "pearson_pooled", "Pooled", 0.3),
        row("GPT-4o", "score", "pearson", "COCO", 0.5),
    ]
    frame = pd.DataFrame(rows, columns=list(COLUMN_NAMES))
    frame["n"] = frame["n"].astype("Int64")
    return frame


# ---------------------------------------------------------------------- choices


def test_metric_choices_put_the_headline_first(table):
    names = [n for _, n in metric_choices(table, "pair")]
    assert names[0] == "accuracy_without_tie" and "position_bias" in names and "pearson" not in names
    assert metric_label("normalized_levenshtein").endswith(" ↓")
    assert metric_label("pearson").startswith("Pearson") and metric_label("pearson").endswith(" ↑")
    assert "_" not in metric_label("tie_rate") and not metric_label("tie_rate").endswith(("↑", "↓"))


def test_resolve_metric_falls_back_to_the_headline(table):
    assert resolve_metric(table, "pair", "pearson") == HEADLINE_METRIC["pair"]
    assert resolve_metric(table, "pair", None) == HEADLINE_METRIC["pair"]
    assert resolve_metric(table, "pair", "tie_rate") == "tie_rate"


def test_families(table):
    assert judge_family("GPT-4o") == "GPT"  # from the catalog
    assert judge_family("LLaVA-1.6-34B") == "LLaVA"  # from the name
    assert family_choices(table) == ["GPT", "Gemini", "LLaVA"]


# ---------------------------------------------------------------------- the wide table


def test_wide_table_pivots_and_sorts_best_first(table):
    wide = wide_table(table, "pair")
    assert list(wide.columns[:4]) == ["Judge", "Rank", "Average", "95% CI"]
    assert list(wide["Judge"]) == [
        f"Gemini-1.0-Pro-Vision (all){PAPER_MARK}",
        "GPT-4o (all)",
        "GPT-4V (hq)",
    ]  # NaN last
    assert list(wide["Rank"]) == [1, 2, pd.NA]
    gpt = wide.iloc[1]
    assert (gpt["COCO"], gpt["Math"], gpt["95% CI"], gpt["Coverage"], gpt["n"]) == (
        0.7,
        0.5,
        "[0.550, 0.650]",
        0.9,
        20,
    )
    assert list(wide.columns).index("COCO") < list(wide.columns).index("Math")  # the paper's dataset order
    assert wide.iloc[0]["Provenance"] == PROVENANCE_PAPER


def test_lower_is_better_sorts_ascending(table):
    wide = wide_table(table, "batch")
    assert list(wide["Judge"]) == ["LLaVA-1.6-34B (all)", "GPT-4o (all)"]


def test_pooled_only_metric_is_ranked_by_pooled(table):
    wide = wide_table(table, "score", "pearson_pooled")
    assert list(wide.columns[:3]) == ["Judge", "Rank", "Pooled"] and wide.iloc[0]["Pooled"] == 0.3


def test_filters(table):
    gemini = f"Gemini-1.0-Pro-Vision (all){PAPER_MARK}"
    assert list(wide_table(table, "pair", families=["Gemini"])["Judge"]) == [gemini]
    assert list(wide_table(table, "pair", provenances=[PROVENANCE_RUN])["Judge"]) == ["GPT-4o (all)"]
    assert list(wide_table(table, "pair", subsets=["hq"])["Judge"]) == ["GPT-4V (hq)"]
    assert wide_table(table, "pair", subsets=["hard"]).empty
    assert set(filter_rows(table, "pair", metrics=["tie_rate"])["metric"]) == {"tie_rate"}


def test_column_selection(table):
    narrow = wide_table(table, "pair", columns=[])
    assert list(narrow.columns) == ["Judge", "Average"]
    runs = wide_table(table, "pair", columns=["Run", "Family", "Reason"])  # no Rank asked for
    assert list(runs.columns) == ["Judge", "Average", "Family", "Run", "Reason"]
    with_cis = wide_table(table, "pair", columns=["Datasets", "Dataset CIs"])
    assert with_cis.set_index("Judge").loc["GPT-4o (all)", "COCO"] == "0.700 [0.600, 0.800]"
    assert with_cis.set_index("Judge").loc["GPT-4o (all)", "Math"] == "0.500"


def test_descriptive_metrics_sort_by_judge(table):
    assert list(wide_table(table, "pair", "tie_rate")["Judge"]) == ["GPT-4V (hq)"]


def test_styling_marks_paper_rows_and_formats(table):
    wide = wide_table(table, "pair")
    styler = style_table(wide)
    html = styler.to_html()
    assert "0.600" in html and "–" in html
    styled = {cell for cell, props in styler._compute().ctx.items() if props}
    assert styled == {(0, c) for c in range(len(wide.columns))}  # the paper row, every cell
    assert pd.api.types.is_float_dtype(styler.data["Average"])  # numbers stay numbers underneath


def test_caption_and_csv(table, tmp_path):
    wide = wide_table(table, "batch")
    caption = table_caption(table, "batch", None, wide)
    assert "normalized_levenshtein** (lower is better)" in caption and "2 row(s), best first" in caption
    assert "Rank = 1 + rows whose 95% interval lies entirely better" in caption
    path = write_csv(wide, "batch", "normalized_levenshtein", tmp_path)
    back = pd.read_csv(path)
    assert list(back.columns) == list(wide.columns) and len(back) == 2
    assert path.name == "leaderboard-batch-normalized_levenshtein.csv"


# ---------------------------------------------------------------------- plots


def test_dataset_bars_have_whiskers(table):
    fig = plots.dataset_bars(filter_rows(table, "pair"), "accuracy_without_tie")
    gpt = next(t for t in fig.data if t.name.startswith("GPT-4o"))
    assert list(gpt.x) == ["Average", "COCO", "Math"]
    assert gpt.error_y.array[1] == pytest.approx(0.1)
    assert "higher is better" in fig.layout.title.text


def test_heatmap_and_bias(table):
    heat = plots.heatmap(filter_rows(table, "pair"), "accuracy_without_tie")
    assert heat.data[0].x[-1] == "Average" and len(heat.data[0].y) == 3
    assert plots.heatmap(filter_rows(table, "batch"), "normalized_levenshtein").data[0].reversescale
    bias = plots.bias_bars(filter_rows(table, "pair"), BIAS_METRICS["pair"])
    assert list(bias.data[0].x) == ["position_bias", "tie_rate"]


def test_empty_selection_gives_a_message_not_a_crash(table):
    fig = plots.dataset_bars(filter_rows(table, "pair", subsets=["hard"]), "accuracy_without_tie")
    assert "No accuracy_without_tie values" in fig.layout.annotations[0].text
    assert plots.bias_bars(filter_rows(table, "batch"), BIAS_METRICS["batch"]).layout.annotations


# ---------------------------------------------------------------------- samples


@pytest.fixture
def data() -> LeaderboardData:
    labels = pd.DataFrame(
        {
            "mode": ["pair", "pair", "pair"],
            "subset": ["hq", "hq", "hq"],
            "item_id": ["14", "2", "7"],
            "dataset": ["coco", "coco", "mathvista"],
            "human_label": ["A", "C", "B"],
        }
    )
    records = pd.DataFrame({"item_id": ["14", "2"], "verdict": ["A", None], "unscored_reason": [None, "no verdict"]})
    run = SimpleNamespace(
        manifest=SimpleNamespace(mode="pair", split="hq", judge="GPT-4V", run_id="r1"), records=records
    )
    return LeaderboardData(table=pd.DataFrame(columns=list(COLUMN_NAMES)), labels=labels, runs=(run,))


def test_sample_state_defaults_and_keeps_valid_choices(data):
    state = sample_state(data, "pair")
    assert (state.subsets, state.subset) == (["hq"], "hq")
    assert state.datasets == [("COCO", "coco"), ("Math", "mathvista")] and state.dataset == "coco"
    assert [v for _, v in state.items] == ["2", "14"] and state.item == "2"  # numeric id order
    kept = sample_state(data, "pair", "hq", "coco", "14")
    assert kept.item == "14"
    moved = sample_state(data, "pair", "hq", "mathvista", "14")
    assert moved.item == "7"
    assert sample_state(data, "batch").subset is None


def test_sample_view_without_texts_says_how_to_get_them(data):
    view = sample_view(data, "pair", "hq", "14")
    assert "human label: **A**" in view.header_md and "COCO" in view.header_md
    assert view.verdicts.to_dict("records") == [
        {"Judge": "GPT-4V", "Run": "r1", "Verdict": "A", "Agrees with human": "yes"}
    ]
    assert view.texts_md == HOW_TO_GET_TEXTS and "snapshot_download" in HOW_TO_GET_TEXTS
    unscored = sample_view(data, "pair", "hq", "2")
    assert unscored.verdicts.iloc[0]["Verdict"] == "unscored: no verdict"
    assert sample_view(data, "pair", "hq", None).verdicts.empty


def test_sample_view_with_a_local_benchmark_copy(data, tmp_path):
    folder = tmp_path / "Hard & HQ" / "HQ"
    folder.mkdir(parents=True)
    (folder / "Pair.jsonl").write_text(
        '{"id": 5, "pair_id": 14, "image_path": "image/5.jpg", "original_dataset": "coco", '
        '"instruction": "What is shown?", "answer1": {"name": "m1", "answer": "A bus."}, '
        '"answer2": {"name": "m2", "answer": "A car."}, "human": "A"}\n'
    )
    (tmp_path / "image").mkdir()
    (tmp_path / "image" / "5.jpg").write_bytes(b"not really a jpeg")
    view = sample_view(data, "pair", "hq", "14", tmp_path)
    assert "What is shown?" in view.texts_md and "**Response B** (m2)" in view.texts_md
    assert view.image_path and view.image_path.endswith("5.jpg")
    missing = sample_view(data, "pair", "hq", "7", tmp_path)
    assert "is not in the copy" in missing.texts_md


# ---------------------------------------------------------------------- the embedded data


def test_embedded_runs_fill_every_mode():
    data = load_leaderboard(n_resamples=50)
    for mode in ("score", "pair", "batch"):
        wide = wide_table(data.table, mode)
        assert len(wide) >= 2 and wide["Judge"].str.endswith(PAPER_MARK).any()
        assert np.isfinite(pd.to_numeric(wide["Average"], errors="coerce")).any()


def test_lazy_store_loads_once(monkeypatch):
    calls = []
    monkeypatch.setattr(
        "leaderboard.board.load_leaderboard", lambda *a, **k: calls.append(1) or LeaderboardData(pd.DataFrame(), None)
    )
    store = LazyLeaderboard()
    store.prefetch().join()
    store.get()
    assert calls == [1]


def test_runs_dir_adds_to_the_embedded_runs_and_refresh_picks_up_new_runs(tmp_path):
    from judges.settings import Settings
    from leaderboard.store.sources import default_assets_dir
    from tests.support.submissions import submission

    runs_dir = tmp_path / "runs"
    submission(runs_dir, "local-score-run", "Local-Judge", source="mllmj-hq-score-gpt-4v")
    store = LazyLeaderboard(Settings(runs_dir=runs_dir), n_resamples=20)
    first = store.get()
    assert first.sources == (default_assets_dir(), runs_dir)
    judges = set(wide_table(first.table, "score")["Judge"])
    assert {"Local-Judge (hq)", "GPT-4V (hq)"} <= judges  # RUNS_DIR no longer hides the embedded runs

    submission(runs_dir, "late-pair-run", "Late-Judge")  # written after the first load
    assert store.get() is first and "Late-Judge (hq)" not in set(wide_table(store.get().table, "pair")["Judge"])
    fresh = store.refresh()
    assert store.get() is fresh and "Late-Judge (hq)" in set(wide_table(fresh.table, "pair")["Judge"])
    assert refresh_summary(fresh).startswith(f"Reloaded {len(first.runs) + 1} runs from 2 folder(s).")

    # A broken line in a stored run: the rest loads, and the status names the file and line.
    broken = runs_dir / "late-pair-run" / "judgments.jsonl"
    broken.write_text(broken.read_text() + "{not json\n")
    summary = refresh_summary(store.refresh())
    assert "1 input problem was skipped" in summary
    assert "`late-pair-run/judgments.jsonl:" in summary and str(tmp_path) not in summary
    assert "Late-Judge (hq)" in set(wide_table(store.get().table, "pair")["Judge"])
    assert problems_summary(first) == "" and "late-pair-run" in problems_summary(store.get())


def test_lazy_store_takes_its_sources_from_a_callable(monkeypatch):
    seen = []
    monkeypatch.setattr(
        "leaderboard.board.load_leaderboard",
        lambda settings, sources, **k: seen.append(sources) or LeaderboardData(pd.DataFrame(), None),
    )
    calls = iter([["a"], ["a", "b"]])
    store = LazyLeaderboard(sources=lambda: next(calls))
    store.get()
    store.refresh()
    assert [[p.name for p in s] for s in seen] == [["a"], ["a", "b"]]


def test_a_failed_refresh_keeps_the_previous_data(monkeypatch, caplog):
    data = LeaderboardData(pd.DataFrame(), None)
    monkeypatch.setattr("leaderboard.board.load_leaderboard", lambda *a, **k: data)
    store = LazyLeaderboard()
    store.get()

    def broken(*args, **kwargs):
        raise OSError("hub exploded")

    monkeypatch.setattr("leaderboard.board.load_leaderboard", broken)
    with caplog.at_level("ERROR", logger="leaderboard.board"):
        text = refresh_leaderboard(store)
    assert "could not be reloaded" in text and "hub exploded" not in text and "hub exploded" in caplog.text
    assert store.get() is data
