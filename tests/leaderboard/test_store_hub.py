"""Pushing and pulling runs through huggingface_hub's real client against a local fake Hub."""

from __future__ import annotations

import base64
import json
import logging
import socket

import pytest

from judges import Settings
from leaderboard.runner.config import RunConfig
from leaderboard.runner.run import run_benchmark
from leaderboard.schema import PROVENANCE_RUN
from leaderboard.store.format import Judgment, Manifest
from leaderboard.store.hub import HubError, fetch_runs, push_run
from leaderboard.store.read import load_runs
from leaderboard.store.sources import default_assets_dir, run_sources
from leaderboard.store.write import write_run
from tests.support.benchmark_fixture import item_of, write_fixture
from tests.support.hub_server import serve_hub
from tests.support.openai_server import reply, serve_openai

TOKEN = "hf_testtoken123456"


@pytest.fixture
def hub():
    with serve_hub(token=TOKEN) as server:
        yield server


def point_hub_at(monkeypatch, url: str) -> None:
    """Make ``url`` huggingface_hub's default endpoint (what HF_ENDPOINT sets at its import)."""
    import huggingface_hub.constants as constants

    monkeypatch.setattr(constants, "ENDPOINT", url)
    monkeypatch.setattr(constants, "HUGGINGFACE_CO_URL_TEMPLATE", url + "/{repo_id}/resolve/{revision}/{filename}")


@pytest.fixture(autouse=True)
def _private_hub_cache(tmp_path, monkeypatch):
    # Never the developer's cache or huggingface.co, whatever the environment says.
    import huggingface_hub.constants as constants

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hf-cache"))
    point_hub_at(monkeypatch, closed_port_url())


def make_run(folder, run_id="gpt-4o-pair-run-1", n=3):
    manifest = Manifest(run_id=run_id, judge="GPT-4o", mode="pair", provenance=PROVENANCE_RUN)
    judgments = [Judgment(str(200 + i), "coco", "AB"[i % 2]) for i in range(n)]
    return write_run(folder / run_id, manifest, judgments)


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


def test_push_commits_both_files_under_runs_in_one_inline_commit(hub, tmp_path):
    run_dir = make_run(tmp_path)
    url = push_run(run_dir, "org/judge-runs", token=TOKEN, endpoint=hub.url)
    repo = hub.repo("org/judge-runs")
    assert set(repo.files) == {"runs/gpt-4o-pair-run-1/manifest.json", "runs/gpt-4o-pair-run-1/judgments.jsonl"}
    assert repo.files["runs/gpt-4o-pair-run-1/judgments.jsonl"] == (run_dir / "judgments.jsonl").read_bytes()
    assert url.endswith(f"/datasets/org/judge-runs/commit/{repo.sha}")
    calls = [(r.method, r.path) for r in hub.requests]
    assert calls == [
        ("POST", "/api/repos/create"),
        ("POST", "/api/datasets/org/judge-runs/preupload/main"),
        ("POST", "/api/datasets/org/judge-runs/commit/main"),
    ]
    commit = [json.loads(line) for line in hub.requests[-1].body.decode().splitlines()]
    assert commit[0]["key"] == "header" and "gpt-4o-pair-run-1" in commit[0]["value"]["summary"]
    files = {c["value"]["path"]: c["value"] for c in commit[1:]}
    assert {v["encoding"] for v in files.values()} == {"base64"}
    manifest = json.loads(base64.b64decode(files["runs/gpt-4o-pair-run-1/manifest.json"]["content"]))
    assert manifest["run_id"] == "gpt-4o-pair-run-1"
    assert all(r.authorization == f"Bearer {TOKEN}" for r in hub.requests)


def test_push_without_token_or_with_a_wrong_one_says_what_to_set(hub, tmp_path):
    run_dir = make_run(tmp_path)
    with pytest.raises(HubError, match="HF_TOKEN"):
        push_run(run_dir, "org/runs", token=None, endpoint=hub.url)
    assert hub.requests == []
    with pytest.raises(HubError, match="HF_TOKEN") as caught:
        push_run(run_dir, "org/runs", token="hf_wrongtoken999", endpoint=hub.url)
    assert "hf_wrongtoken999" not in str(caught.value)
    with pytest.raises(HubError, match="no readable run"):
        push_run(tmp_path / "nothing", "org/runs", token=TOKEN, endpoint=hub.url)


def test_fetch_returns_the_runs_and_a_refresh_sees_new_ones(hub, tmp_path):
    push_run(make_run(tmp_path, "run-a"), "org/runs", token=TOKEN, endpoint=hub.url)
    cache = tmp_path / "cache"
    first = fetch_runs("org/runs", cache_dir=cache, endpoint=hub.url)
    assert [r.run_id for r in load_runs([first]).runs] == ["run-a"]
    push_run(make_run(tmp_path, "run-b", n=4), "org/runs", token=TOKEN, endpoint=hub.url)
    second = fetch_runs("org/runs", cache_dir=cache, endpoint=hub.url)
    assert sorted(r.run_id for r in load_runs([second]).runs) == ["run-a", "run-b"]
    downloads = [r.path for r in hub.requests if "/resolve/" in r.path and r.method == "GET"]
    # Manifests and judgments only, and what was already pulled is not downloaded again.
    assert len(downloads) == 4 and all(p.endswith((".json", ".jsonl")) for p in downloads)
    assert sum("/run-a/" in p for p in downloads) == 2


def test_offline_falls_back_to_the_last_copy_then_to_embedded_runs_with_a_warning(hub, tmp_path, caplog):
    push_run(make_run(tmp_path, "run-a"), "org/runs", token=TOKEN, endpoint=hub.url)
    cache = tmp_path / "cache"
    online = fetch_runs("org/runs", cache_dir=cache, endpoint=hub.url)
    offline = fetch_runs("org/runs", cache_dir=cache, endpoint=closed_port_url())
    assert offline == online and [r.run_id for r in load_runs([offline]).runs] == ["run-a"]
    with caplog.at_level(logging.WARNING, logger="leaderboard.store.hub"):
        nothing = fetch_runs("org/runs", cache_dir=tmp_path / "empty", endpoint=closed_port_url())
    assert nothing is None
    assert "showing the embedded runs only" in caplog.text and "cannot be reached" in caplog.text
    settings = Settings(runs_repo="org/runs")
    assert run_sources(settings, cache_dir=tmp_path / "empty", endpoint=closed_port_url()) == [default_assets_dir()]
    sources = run_sources(settings, cache_dir=cache, endpoint=hub.url)
    assert sources[0] == default_assets_dir() and sources[1] == online


def test_a_missing_runs_repo_is_a_warning_not_an_error(hub, tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="leaderboard.store.hub"):
        assert fetch_runs("org/none", cache_dir=tmp_path / "c", endpoint=hub.url) is None
    assert "does not exist" in caplog.text


def test_runner_downloads_only_what_it_needs_and_pushes_the_finished_run(hub, tmp_path, monkeypatch):
    fixture = write_fixture(tmp_path / "release")
    hub.seed_folder("shuaishuaicdp/MLLM-Judge", fixture.root)
    point_hub_at(monkeypatch, hub.url)
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    monkeypatch.delenv("BENCHMARK_DIR", raising=False)

    def judge(request):
        return reply(fixture.reply_for(*item_of(request.text)))

    with serve_openai(default=judge) as server:
        config = RunConfig(
            mode="pair",
            out=tmp_path / "run",
            model="judge-model",
            base_url=server.base_url,
            datasets=("coco",),
            limit=2,
            push="org/judge-runs",
            progress=False,
        )
        summary = run_benchmark(config)
    assert summary.complete and summary.judged == 2 and summary.pushed
    downloaded = sorted(
        r.path.split("/resolve/")[1].split("/", 1)[1]
        for r in hub.requests
        if r.method == "GET" and "/resolve/" in r.path
    )
    assert [p for p in downloaded if p.startswith("image/")] == ["image/100.jpg", "image/101.jpg"]
    pushed = hub.repo("org/judge-runs").files
    assert f"runs/{summary.run_id}/judgments.jsonl" in pushed
    assert pushed[f"runs/{summary.run_id}/judgments.jsonl"] == (tmp_path / "run" / "judgments.jsonl").read_bytes()
