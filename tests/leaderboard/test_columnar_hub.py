"""A run's columnar companion travels to and from a runs repo on the Hub, and is read there while current."""

from __future__ import annotations

import pytest

from leaderboard.schema import PROVENANCE_RUN
from leaderboard.store.columnar import COLUMNAR_NAME, read_columnar
from leaderboard.store.format import Judgment, Manifest
from leaderboard.store.hub import fetch_runs, push_run
from leaderboard.store.read import load_runs
from leaderboard.store.write import write_run
from tests.support.hub_server import serve_hub

pytest.importorskip("pyarrow")
TOKEN = "hf_testtoken123456"


@pytest.fixture(autouse=True)
def _private_hub_cache(tmp_path, monkeypatch):
    import huggingface_hub.constants as constants

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hf-cache"))


def test_the_companion_is_pushed_pulled_and_read_from_the_pulled_copy(tmp_path):
    manifest = Manifest(run_id="big-pair-run", judge="GPT-4o", mode="pair", provenance=PROVENANCE_RUN)
    judgments = [Judgment(str(k), "coco", "AB"[k % 2]) for k in range(1500)]
    run_dir = write_run(tmp_path / "local" / "big-pair-run", manifest, judgments)
    assert (run_dir / COLUMNAR_NAME).is_file()
    with serve_hub(token=TOKEN) as hub:
        push_run(run_dir, "org/judge-runs", token=TOKEN, endpoint=hub.url)
        assert f"runs/big-pair-run/{COLUMNAR_NAME}" in hub.repo("org/judge-runs").files
        pulled = fetch_runs("org/judge-runs", token=TOKEN, cache_dir=tmp_path / "pull", endpoint=hub.url)
    assert pulled is not None
    copy = pulled / "big-pair-run"
    assert read_columnar(copy, "pair") is not None  # another mtime, the same SHA-1: current
    (local,), (remote,) = load_runs([run_dir]).runs, load_runs([pulled]).runs
    assert remote.digest == local.digest
    assert remote.records.equals(local.records)
