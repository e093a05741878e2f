"""leaderboard.submissions.panel: what the "Submit a run" panel does, without Gradio, on the embedded data."""

from __future__ import annotations

import json
import logging

import pytest

from judges.settings import Settings
from leaderboard.board import LazyLeaderboard
from leaderboard.schema import PROVENANCE_UNVERIFIED
from leaderboard.store.sources import default_assets_dir, leaderboard_sources
from leaderboard.submissions.panel import submit_run
from leaderboard.ui.table import UNVERIFIED_MARK, wide_table
from tests.support.hub_server import serve_hub
from tests.support.submissions import submission, zipped

TOKEN = "hf_submittoken123456"


def store_for(settings: Settings, **kw) -> LazyLeaderboard:
    return LazyLeaderboard(settings, n_resamples=20, **kw)


def unverified_rows(store: LazyLeaderboard, mode: str = "pair"):
    wide = wide_table(store.get().table, mode, columns=["Provenance", "Run"])
    return wide[wide["Provenance"] == PROVENANCE_UNVERIFIED]


def test_an_accepted_run_is_stored_in_runs_dir_and_listed_at_once(tmp_path):
    settings = Settings(runs_dir=tmp_path / "runs")
    store = store_for(settings)
    assert unverified_rows(store).empty
    outcome = submit_run(submission(tmp_path / "up", "my-pair-run", "My-Judge"), store)
    assert outcome.ok and outcome.shown, outcome.message
    assert outcome.run_id == "my-pair-run" and outcome.mode == "pair" and outcome.judge == "My-Judge"
    assert outcome.message.startswith("**Accepted** run `my-pair-run`") and PROVENANCE_UNVERIFIED in outcome.message
    assert (tmp_path / "runs" / "my-pair-run" / "judgments.jsonl").is_file()
    stored = json.loads((tmp_path / "runs" / "my-pair-run" / "manifest.json").read_text())
    assert stored["provenance"] == PROVENANCE_UNVERIFIED
    rows = unverified_rows(store)
    assert list(rows["Judge"]) == [f"My-Judge (hq){UNVERIFIED_MARK}"] and list(rows["Run"]) == ["my-pair-run"]
    # The embedded runs are still there beside RUNS_DIR.
    assert default_assets_dir() in store.get().sources
    assert not (default_assets_dir() / "runs" / "my-pair-run").exists()

    again = submit_run(submission(tmp_path / "again", "my-pair-run", "My-Judge"), store)
    assert not again.ok and "already on the leaderboard" in again.message


def test_without_runs_dir_submissions_go_to_the_default_folder_which_the_leaderboard_reads(tmp_path, monkeypatch):
    monkeypatch.setattr("leaderboard.store.sources.DEFAULT_SUBMISSIONS_DIR", tmp_path / "runs")
    store = store_for(Settings())
    store.get()
    assert tmp_path / "runs" not in store.get().sources
    outcome = submit_run(submission(tmp_path / "up", "default-dir-run", "Other-Judge"), store)
    assert outcome.ok and outcome.shown, outcome.message
    assert (tmp_path / "runs" / "default-dir-run" / "manifest.json").is_file()
    assert tmp_path / "runs" in store.get().sources


@pytest.mark.parametrize(
    ("make", "fragment"),
    [
        (
            lambda tmp: submission(tmp, "bad-json", "J", edit_lines=lambda ls: [*ls[:2], "{broken", *ls[2:]]),
            "judgments.jsonl line 3: not valid JSON",
        ),
        (
            lambda tmp: submission(
                tmp, "bad-id", "J", edit_lines=lambda ls: [json.dumps({**json.loads(ls[0]), "item_id": "99999"})]
            ),
            "item 99999 is not in the benchmark",
        ),
        (
            lambda tmp: zipped(tmp / "evil.zip", {"../manifest.json": b"{}", "judgments.jsonl": b""}),
            "points outside the archive",
        ),
        (lambda tmp: [], "nothing uploaded"),
    ],
)
def test_rejections_say_what_to_fix_and_store_nothing(tmp_path, make, fragment):
    store = store_for(Settings(runs_dir=tmp_path / "runs"))
    refreshed = []
    store.refresh = lambda: refreshed.append(1)  # a rejection never reloads
    outcome = submit_run(make(tmp_path), store)
    assert not outcome.ok and outcome.message.startswith("**Submission rejected.**")
    assert fragment in outcome.message and "Traceback" not in outcome.message
    assert not (tmp_path / "runs").exists() and refreshed == []


def test_unexpected_failures_are_logged_and_answered_briefly(tmp_path, monkeypatch, caplog):
    store = store_for(Settings(runs_dir=tmp_path / "runs"))

    def explode(*args, **kwargs):
        raise RuntimeError("internal detail")

    monkeypatch.setattr("leaderboard.submissions.check.validate_submission", explode)
    with caplog.at_level(logging.ERROR, logger="leaderboard.submissions.panel"):
        outcome = submit_run(submission(tmp_path / "up", "r1", "J"), store)
    assert not outcome.ok and "could not be read" in outcome.message
    assert "internal detail" not in outcome.message and "internal detail" in caplog.text


def test_a_failed_reload_keeps_the_run_and_says_to_refresh(tmp_path, monkeypatch):
    store = store_for(Settings(runs_dir=tmp_path / "runs"))
    store.get()

    def broken():
        raise OSError("disk hiccup")

    monkeypatch.setattr(store, "refresh", broken)
    outcome = submit_run(submission(tmp_path / "up", "r2", "J"), store)
    assert outcome.ok and not outcome.shown and "press Refresh" in outcome.message
    assert (tmp_path / "runs" / "r2" / "manifest.json").is_file()


def test_with_a_runs_repo_the_run_is_pushed_and_another_space_pulls_it_on_refresh(tmp_path):
    def hub_store(settings, cache):
        return store_for(settings, sources=lambda: leaderboard_sources(settings, cache_dir=cache, endpoint=hub.url))

    with serve_hub(token=TOKEN) as hub:
        settings = Settings(runs_dir=tmp_path / "runs", runs_repo="org/runs", hf_token=TOKEN)
        store = hub_store(settings, tmp_path / "hf")
        # A second Space reading the same repo, without the local copy.
        other = Settings(runs_dir=tmp_path / "elsewhere", runs_repo="org/runs")
        viewer = hub_store(other, tmp_path / "hf2")
        assert unverified_rows(viewer).empty  # the repo does not exist yet: embedded runs only

        outcome = submit_run(submission(tmp_path / "up", "pushed-run", "Hub-Judge"), store, endpoint=hub.url)
        assert outcome.ok and outcome.shown, outcome.message
        assert "Pushed to the runs repo `org/runs`" in outcome.message and TOKEN not in outcome.message
        assert "runs/pushed-run/judgments.jsonl" in hub.repo("org/runs").files

        assert unverified_rows(viewer).empty  # loaded once, until refreshed
        viewer.refresh()
        assert list(unverified_rows(viewer)["Run"]) == ["pushed-run"]
