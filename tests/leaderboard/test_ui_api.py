"""The Leaderboard tab's public API through gradio_client: /leaderboard with its view inputs."""

from __future__ import annotations

from pathlib import Path

import pytest

from judges.settings import Settings
from leaderboard.schema import DEFAULT_BENCHMARK
from tests.support.app_launch import launched_app

gradio_client = pytest.importorskip("gradio_client")
from gradio_client import Client  # noqa: E402


@pytest.fixture(scope="module")
def client():
    with launched_app(Settings.from_env({})) as app_:
        yield Client(app_.url, verbose=False)


def view(client, mode="score", metric="", families=(), provenances=(), subsets=("all",), columns=None, **kw):
    from leaderboard.ui.table import DEFAULT_COLUMNS

    return client.predict(
        mode,
        metric,
        list(families),
        list(provenances),
        list(subsets),
        list(DEFAULT_COLUMNS if columns is None else columns),
        kw.get("benchmark", DEFAULT_BENCHMARK),
        kw.get("search", ""),
        kw.get("min_n", 10),
        kw.get("same_items", False),
        api_name="/leaderboard",
    )


@pytest.mark.parametrize(
    ("mode", "metric"),
    [("score", "pearson"), ("pair", "accuracy_without_tie"), ("batch", "normalized_levenshtein")],
)
def test_each_task_opens_on_a_ranked_table_of_one_subset(client, mode, metric):
    table, caption, csv_path = client.predict(mode, api_name="/leaderboard")
    headers, data = table["headers"], table["data"]
    assert headers[:3] == ["Judge", "Rank", "Average"] and "95% CI" in headers
    assert len(data) >= 2 and all("(all)" in str(r[0]) for r in data)
    assert any(str(r[0]).endswith("[paper]") for r in data)
    ranks = [r[1] for r in data if r[1] is not None]
    assert ranks[0] == 1 and ranks == sorted(ranks)
    assert f"**{metric}**" in caption
    lines = Path(csv_path).read_text().splitlines()
    assert lines[0].split(",")[:3] == ["Judge", "Rank", "Average"] and len(lines) == len(data) + 1


def test_filters_columns_and_every_subset_through_the_api(client):
    table, _caption, _csv = client.predict(
        "pair", "accuracy_with_tie", [], ["reported in paper"], [], ["Run"], api_name="/leaderboard"
    )
    assert table["headers"] == ["Judge", "Average", "Run"]
    assert {r[2] for r in table["data"]} == {"paper"}


def test_search_min_n_and_subset_narrow_the_rows_and_the_csv(client):
    table, caption, csv_path = view(client, subsets=["hq"], search="gpt; gemini", min_n=10)
    judges = [r[0] for r in table["data"]]
    assert judges and all("(hq)" in j and ("GPT" in j or "Gemini" in j) for j in judges)
    assert "Cells on fewer than 10 items" in caption
    text = Path(csv_path).read_text()
    assert "COCO n" in text.splitlines()[0]  # per-cell n travels with the CSV
    assert len(text.splitlines()) == len(judges) + 1


def test_same_items_only_recomputes_the_shown_runs_on_their_common_items(tmp_path):
    from tests.support.submissions import submission

    runs_dir = tmp_path / "runs"
    source = "mllmj-hq-score-gpt-4v"
    submission(runs_dir, "judge-a-run", "Judge-A", source=source)
    submission(runs_dir, "judge-b-run", "Judge-B", source=source, edit_lines=lambda lines: lines[: len(lines) // 2])
    with launched_app(Settings(runs_dir=runs_dir)) as app_:
        own = Client(app_.url, verbose=False)
        columns = ["Rank", "n", "Provenance"]
        both, _caption, _csv = view(own, subsets=["hq"], search="judge-a; judge-b", columns=columns)
        same, caption, _csv = view(own, subsets=["hq"], search="judge-a; judge-b", columns=columns, same_items=True)
    n_before = {r[0]: r[both["headers"].index("n")] for r in both["data"]}
    n_same = {r[0]: r[same["headers"].index("n")] for r in same["data"]}
    assert set(n_before) == set(n_same) == {"Judge-A (hq)", "Judge-B (hq)"}
    assert n_before["Judge-A (hq)"] > n_before["Judge-B (hq)"]
    # Restricted to Judge-B's items, both runs rest on the same n.
    assert n_same["Judge-A (hq)"] == n_same["Judge-B (hq)"] == n_before["Judge-B (hq)"]
    assert "Same items only: 2 runs restricted to the" in caption


def compare(client, mode="score", metric="pearson", subsets=("all",), run_a=None, run_b=None, **kw):
    return client.predict(
        mode, metric, [], [], list(subsets), [], kw.get("benchmark", DEFAULT_BENCHMARK), kw.get("search", ""),
        kw.get("min_n", 10), False, run_a, run_b, api_name="/leaderboard_compare",
    )  # fmt: skip


def test_the_compare_api_gives_a_paired_comparison_a_reliability_caption_and_wins(client):
    pick_a, pick_b, table, note, _reliability, caption, _wins, wins_note = compare(client)
    a, b = pick_a["value"], pick_b["value"]  # dropdown updates: the chosen run and the view's runs
    assert [value for _, value in pick_a["choices"]] == [value for _, value in pick_b["choices"]]
    assert len(pick_a["choices"]) == 3
    assert (a, b) == ("vju-all-score-gemini-2.5-flash", "vju-all-score-llava-critic-7b")  # the view's first two
    rows = table["data"]
    assert table["headers"] == ["", "Value", "95% CI", "n", "Significant"]
    assert [r[0] for r in rows] == ["Gemini-2.5-Flash (all)", "LLaVA-Critic-7B (all)", "A − B"]
    assert rows[2][2].startswith("[") and rows[2][4] in ("yes", "no") and int(rows[2][3]) > 5000
    assert "items both judged" in note and "paired bootstrap" in note
    assert "ECE" in caption and "Brier" in caption and "Phi-4-reasoning-vision (all)" in caption
    assert "Row beats column" in wins_note
    chosen = compare(client, run_a="vju-all-score-phi-4-reasoning-vision", run_b=a)
    assert (chosen[0]["value"], chosen[1]["value"]) == ("vju-all-score-phi-4-reasoning-vision", a)
    assert chosen[2]["data"][0][0] == "Phi-4-reasoning-vision (all)"


def test_the_compare_api_of_a_view_without_probabilities_names_the_runs_that_have_them(client):
    *_, caption, _wins, _note = compare(client, mode="pair", metric="accuracy_without_tie", subsets=("hq",))
    assert caption.startswith("No run in this view stores verdict probabilities") and "LLaVA-Critic-7B" in caption
