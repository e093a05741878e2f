"""Bad inputs and faults on the leaderboard side, one row each: what goes in, what is done, what it says.

The table :data:`ROWS` covers four surfaces:

* ``option``: a ``python -m leaderboard run`` option out of bounds; refused before any request;
* ``stored run``: a run folder the loader meets; skipped (or kept) and listed as a problem, the
  other runs loaded;
* ``submission``: an upload to the "Submit a run" panel; refused with what to fix (or accepted);
* ``run folder``: the runner's output folder cannot be written or read; the run stops with exit
  status 4, says how many judgments are stored and what to do, and loses nothing.

Faults that need a process of their own or a running judge (a file-size limit, a full disk, a
malformed reply in the middle of a run, a torn line) have focused tests below the table. Every
judge is the real loopback server of :mod:`tests.support.openai_server`.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import leaderboard.store.write as store_write
from leaderboard.board import LazyLeaderboard, load_leaderboard, refresh_leaderboard
from leaderboard.runner.cli import add_run_arguments, run_command
from leaderboard.runner.config import EXIT_INCOMPLETE, EXIT_STORAGE, RunConfig, RunnerError
from leaderboard.schema import PROVENANCE_RUN
from leaderboard.store.format import Judgment, Manifest
from leaderboard.store.read import load_run, load_runs
from leaderboard.store.sources import default_assets_dir
from leaderboard.store.write import write_run
from leaderboard.submissions.check import validate_submission
from tests.support.benchmark_fixture import PAIR_TABLE, import_labels, item_of, write_fixture
from tests.support.openai_server import raw_json, reply, serve_openai, server_error
from tests.support.submissions import lying_zip, nested_json

ROOT = Path(__file__).resolve().parents[2]
EMBEDDED = default_assets_dir() / "runs" / "mllmj-hq-pair-gpt-4v"


# ---------------------------------------------------------------------- shared fixtures


@pytest.fixture(scope="module")
def bench(tmp_path_factory):
    return write_fixture(tmp_path_factory.mktemp("bench") / "MLLM-Judge")


@pytest.fixture(scope="module")
def labels(bench, tmp_path_factory):
    return import_labels(bench, tmp_path_factory.mktemp("assets"))


@pytest.fixture(autouse=True)
def _one_retry(monkeypatch):
    monkeypatch.setenv("JUDGE_MAX_RETRIES", "1")


class Judge:
    """The scripted judge of the fixture, with per-item faults (a behaviour, or a list of them)."""

    def __init__(self, bench, faults: dict[str, Any] | None = None) -> None:
        self.bench = bench
        self.faults = {k: list(v) if isinstance(v, list) else v for k, v in (faults or {}).items()}
        self.asked: list[str] = []
        self._lock = threading.Lock()

    def __call__(self, request):
        mode, item = item_of(request.text)
        with self._lock:
            self.asked.append(item)
            fault = self.faults.get(item)
            if isinstance(fault, list):
                if fault:
                    return fault.pop(0)
            elif fault is not None:
                return fault(mode, item) if callable(fault) else fault
        return reply(self.bench.reply_for(mode, item))


def cli(bench, server, out: Path, *extra: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_run_arguments(parser)
    argv = ["--model", "judge-model", "--base-url", server.base_url, "--mode", "pair"]
    argv += ["--benchmark", str(bench.root), "--out", str(out), "--no-progress", *extra]
    return parser.parse_args(argv)


def stored_lines(run_dir: Path) -> list[dict]:
    data = (run_dir / "judgments.jsonl").read_bytes()
    assert data == b"" or data.endswith(b"\n"), "torn last line"
    return [json.loads(line) for line in data.decode().splitlines()]


def copy_run(folder: Path, run_id: str, *, manifest: Callable[[dict], Any] | None = None, lines=None) -> Path:
    """A copy of an embedded run under ``folder/run_id``, its manifest and lines edited."""
    target = folder / run_id
    shutil.copytree(EMBEDDED, target)
    data = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
    data["run_id"] = run_id
    if manifest is not None:
        edited = manifest(data)
        text = edited if isinstance(edited, str) else json.dumps(data)
        (target / "manifest.json").write_text(text, encoding="utf-8")
    else:
        (target / "manifest.json").write_text(json.dumps(data), encoding="utf-8")
    if lines is not None:
        old = (target / "judgments.jsonl").read_text(encoding="utf-8").splitlines()
        (target / "judgments.jsonl").write_text("".join(f"{line}\n" for line in lines(old)), encoding="utf-8")
    return target


def setting(key: str, value: Any) -> Callable[[dict], None]:
    return lambda data: data.__setitem__(key, value)


def first_line(edit: Callable[[dict], Any]) -> Callable[[list[str]], list[str]]:
    def lines(old: list[str]) -> list[str]:
        record = json.loads(old[0])
        edit(record)
        return [json.dumps(record), *old[1:]]

    return lines


def pair_judgments() -> list[Judgment]:
    """All 12 fixture pair items with the fixture judge's verdicts (207 unscored)."""
    out, n = [], 0
    for dataset, rows in PAIR_TABLE.items():
        for _human, verdict in rows:
            shown = None if verdict is None else ("tie" if verdict == "C" else verdict)
            out.append(Judgment(str(200 + n), dataset, shown, None if shown else "no verdict found"))
            n += 1
    return out


def upload(folder: Path, *, manifest: Callable[[dict], Any] | None = None, lines=None, raw_manifest=None) -> list[Path]:
    """A valid fixture pair run as two uploaded files, then edited."""
    run_dir = write_run(
        folder / "upload",
        Manifest(run_id="my-run", judge="My-Judge", mode="pair", provenance=PROVENANCE_RUN),
        pair_judgments(),
    )
    paths = [run_dir / "manifest.json", run_dir / "judgments.jsonl"]
    data = json.loads(paths[0].read_text(encoding="utf-8"))
    if manifest is not None:
        manifest(data)
    paths[0].write_text(raw_manifest if raw_manifest is not None else json.dumps(data), encoding="utf-8")
    if lines is not None:
        old = paths[1].read_text(encoding="utf-8").splitlines()
        paths[1].write_text("".join(f"{line}\n" for line in lines(old)), encoding="utf-8")
    return paths


def zip_upload(folder: Path, lie: str) -> Path:
    manifest, judgments = upload(folder)
    members = {"manifest.json": manifest.read_bytes(), "judgments.jsonl": judgments.read_bytes()}
    return lying_zip(folder / f"{lie}.zip", members, "judgments.jsonl", lie)


# ---------------------------------------------------------------------- run folders that cannot be used


@dataclass
class Ctx:
    """What a ``run folder`` row's builder gets: a tmp folder, the fixture, the running judge."""

    tmp: Path
    bench: Any
    server: Any


def first_run(ctx: Ctx, out: Path) -> int:
    """A run of the fixture into ``out`` whose item 211 fails: 11 judgments stored, incomplete."""
    ctx.server.set_default(Judge(ctx.bench, {"211": server_error()}))
    assert run_command(cli(ctx.bench, ctx.server, out)) == EXIT_INCOMPLETE
    ctx.server.set_default(Judge(ctx.bench))
    return len(stored_lines(out))


def out_is_a_file(ctx: Ctx) -> tuple[Path, int]:
    out = ctx.tmp / "out"
    out.write_text("not a folder\n")
    return out, 0


def parent_is_a_file(ctx: Ctx) -> tuple[Path, int]:
    (ctx.tmp / "parent").write_text("not a folder\n")
    return ctx.tmp / "parent" / "out", 0


def judgments_is_a_folder(ctx: Ctx) -> tuple[Path, int]:
    out = ctx.tmp / "out"
    (out / "judgments.jsonl").mkdir(parents=True)
    return out, 0


def damaged_manifest(edit: Callable[[dict], Any]) -> Callable[[Ctx], tuple[Path, int]]:
    def build(ctx: Ctx) -> tuple[Path, int]:
        out = ctx.tmp / "out"
        stored = first_run(ctx, out)
        data = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
        edited = edit(data)
        (out / "manifest.json").write_text(edited if isinstance(edited, str) else json.dumps(data), encoding="utf-8")
        return out, stored

    return build


def manifest_is_a_folder(ctx: Ctx) -> tuple[Path, int]:
    out = ctx.tmp / "out"
    stored = first_run(ctx, out)
    (out / "manifest.json").unlink()
    (out / "manifest.json").mkdir()
    return out, stored


# ---------------------------------------------------------------------- the table


@dataclass(frozen=True)
class Row:
    """One bad input or fault.

    Attributes:
        name: The case, as a test id.
        surface: option, config, stored run, submission or run folder.
        build: Makes the bad input (see each surface's check below).
        outcome: refused, skipped, kept, accepted or stopped.
        says: Fragments the message must hold.
    """

    name: str
    surface: str
    build: Any
    outcome: str
    says: tuple[str, ...]


def rows() -> list[Row]:
    return [
        # -- the runner's options: refused before anything is read or sent (issue 15, item 3)
        Row(
            "a billion samples", "option", ("--samples", "1000000000"), "refused", ("--samples must be from 1 to 100",)
        ),
        Row("zero samples", "option", ("--samples", "0"), "refused", ("--samples must be from 1 to 100, got 0",)),
        Row("no concurrency", "option", ("--concurrency", "0"), "refused", ("--concurrency must be from 1 to 1,024",)),
        Row("huge concurrency", "option", ("--concurrency", "100000"), "refused", ("--concurrency must be from 1",)),
        Row("zero batch size", "option", ("--batch-size", "0"), "refused", ("--batch-size must be from 1 to 1,024",)),
        Row("huge batch size", "option", ("--batch-size", "10000000"), "refused", ("--batch-size must be",)),
        Row("zero limit", "option", ("--limit", "0"), "refused", ("--limit must be from 1",)),
        Row(
            "huge limit",
            "option",
            ("--limit", "10000000000000"),
            "refused",
            ("--limit must be from 1 to 1,000,000,000",),
        ),
        Row("negative shuffles", "option", ("--shuffles", "-1"), "refused", ("--shuffles must be from 0 to 100",)),
        Row("a thousand shuffles", "option", ("--shuffles", "1000"), "refused", ("--shuffles must be from 0 to 100",)),
        Row("zero max tokens", "option", ("--max-tokens", "0"), "refused", ("--max-tokens must be from 1",)),
        Row("huge max tokens", "option", ("--max-tokens", "10" * 20), "refused", ("--max-tokens must be from 1",)),
        Row("seed past 64 bits", "option", ("--seed", str(2**64)), "refused", ("--seed must be from",)),
        Row(
            "too many requests per item",
            "option",
            ("--samples", "100", "--shuffles", "5", "--swap"),
            "refused",
            ("1200 requests per item", "lower --samples or --shuffles"),
        ),
        Row("samples as text", "config", {"samples": "3"}, "refused", ("--samples must be a whole number", "'3'")),
        Row("samples as true", "config", {"samples": True}, "refused", ("--samples must be a whole number",)),
        Row("limit as a float", "config", {"limit": 2.5}, "refused", ("--limit must be a whole number",)),
        # -- stored runs with fields of the wrong type (item 5) and other loading problems (item 12)
        Row(
            "schema_version a list",
            "stored run",
            {"manifest": setting("schema_version", [1])},
            "skipped",
            ("schema_version must be a whole number", "not a list", "run skipped"),
        ),
        Row(
            "run_id a number",
            "stored run",
            {"manifest": setting("run_id", 12)},
            "skipped",
            ("run_id must be a string, not a number (12)", "run skipped"),
        ),
        Row(
            "sampling a number",
            "stored run",
            {"manifest": setting("sampling", 3)},
            "skipped",
            ("sampling must be a JSON object, not a number",),
        ),
        Row(
            "source a list",
            "stored run",
            {"manifest": setting("source", ["a", "b"])},
            "skipped",
            ("source must be a JSON object, not a list",),
        ),
        Row(
            "judge an object",
            "stored run",
            {"manifest": setting("judge", {"x": 1})},
            "skipped",
            ("judge must be a string",),
        ),
        Row(
            "mode a list", "stored run", {"manifest": setting("mode", ["pair"])}, "skipped", ("mode must be a string",)
        ),
        Row("split a number", "stored run", {"manifest": setting("split", 2)}, "skipped", ("split must be a string",)),
        Row(
            "notes a list", "stored run", {"manifest": setting("notes", ["x"])}, "skipped", ("notes must be a string",)
        ),
        Row(
            "created_at a number",
            "stored run",
            {"manifest": setting("created_at", 2026)},
            "skipped",
            ("created_at must be a string",),
        ),
        Row(
            "schema_version true",
            "stored run",
            {"manifest": setting("schema_version", True)},
            "skipped",
            ("true/false",),
        ),
        Row(
            "sampling nested 20 deep",
            "stored run",
            {"manifest": setting("sampling", json.loads(nested_json(20)))},
            "skipped",
            ("sampling nests more than 16 levels",),
        ),
        Row(
            "manifest nested 100,000 deep",
            "stored run",
            {"manifest": lambda data: nested_json(100_000)},
            "skipped",
            ("nests too deeply", "run skipped"),
        ),
        Row(
            "manifest a list",
            "stored run",
            {"manifest": lambda data: "[1, 2]"},
            "skipped",
            ("must hold a JSON object",),
        ),
        Row("manifest not JSON", "stored run", {"manifest": lambda data: "{oops"}, "skipped", ("run skipped",)),
        Row(
            "run id '..'",
            "stored run",
            {"manifest": setting("run_id", "..")},
            "skipped",
            ("must not start with a dot",),
        ),
        Row(
            "judgments without a manifest",
            "stored run",
            {"orphan": True},
            "skipped",
            ("no manifest.json beside it", "add the run's manifest"),
        ),
        Row(
            "judgments file a folder",
            "stored run",
            {"judgments_dir": True},
            "skipped",
            ("cannot be read", "run skipped"),
        ),
        Row(
            "latency_s a 400-digit integer",
            "stored run",
            {"lines": first_line(lambda r: r.__setitem__("latency_s", 10**400))},
            "kept",
            (),
        ),
        Row(
            "latency_s Infinity",
            "stored run",
            {"lines": lambda old: [old[0].replace('"latency_s":null', '"latency_s":Infinity'), *old[1:]]},
            "kept",
            (),
        ),
        Row(
            "a line nested 100,000 deep",
            "stored run",
            {"lines": lambda old: [old[0], nested_json(100_000), *old[1:]]},
            "kept",
            (":2: JSON nested too deeply to read; line skipped",),
        ),
        Row(
            "a verdict that is a list",
            "stored run",
            {"lines": first_line(lambda r: r.__setitem__("verdict", ["A"]))},
            "kept",
            (":1:", "counted as unscored"),
        ),
        Row(
            "an item id that is an object",
            "stored run",
            {"lines": first_line(lambda r: r.__setitem__("item_id", {"a": 1}))},
            "kept",
            (":1: record has no item_id",),
        ),
        Row(
            "a torn line in the middle",
            "stored run",
            {"lines": lambda old: [old[0], old[1][:30], *old[2:]]},
            "kept",
            (":2: not valid JSON", "start the runner on it again"),
        ),
        # -- submissions (item 6, and item 12's deeply nested JSON)
        Row(
            "zip member whose CRC lies",
            "submission",
            lambda tmp: zip_upload(tmp, "crc"),
            "refused",
            ("is damaged", "zip"),
        ),
        Row(
            "zip member whose size lies",
            "submission",
            lambda tmp: zip_upload(tmp, "size"),
            "refused",
            ("judgments.jsonl in size.zip is damaged", "upload the new archive"),
        ),
        Row(
            "manifest nested 100,000 deep",
            "submission",
            lambda tmp: upload(tmp, raw_manifest=nested_json(100_000)),
            "refused",
            ("manifest.json: JSON nested far too deeply to read", "write flat objects"),
        ),
        Row(
            "manifest nested 40 deep",
            "submission",
            lambda tmp: upload(tmp, raw_manifest=nested_json(40)),
            "refused",
            ("manifest.json: JSON nested more than 32 levels deep",),
        ),
        Row(
            "a line nested 100,000 deep",
            "submission",
            lambda tmp: upload(tmp, lines=lambda old: [*old, nested_json(100_000)]),
            "refused",
            ("judgments.jsonl line 13: JSON nested far too deeply",),
        ),
        Row(
            "NaN as a latency",
            "submission",
            lambda tmp: upload(
                tmp, lines=lambda old: [old[0].replace('"latency_s":null', '"latency_s":NaN'), *old[1:]]
            ),
            "refused",
            ("judgments.jsonl line 1: NaN is not a JSON number", "write null"),
        ),
        Row(
            "Infinity in the manifest",
            "submission",
            lambda tmp: upload(tmp, raw_manifest='{"schema_version": 1, "run_id": "x", "sampling": {"t": -Infinity}}'),
            "refused",
            ("manifest.json: -Infinity is not a JSON number",),
        ),
        Row(
            "a number past a float's range",
            "submission",
            lambda tmp: upload(
                tmp, lines=lambda old: [old[0].replace('"latency_s":null', '"latency_s":1e400'), *old[1:]]
            ),
            "refused",
            ("line 1: 1e400 is too large for a number",),
        ),
        Row(
            "run id '..'",
            "submission",
            lambda tmp: upload(tmp, manifest=setting("run_id", "..")),
            "refused",
            ("run_id '..'", "must not start with a dot"),
        ),
        Row(
            "run id '.'",
            "submission",
            lambda tmp: upload(tmp, manifest=setting("run_id", ".")),
            "refused",
            ("must not start with a dot",),
        ),
        Row(
            "run id a list",
            "submission",
            lambda tmp: upload(tmp, manifest=setting("run_id", ["a"])),
            "refused",
            ("run_id must be a string, not a list",),
        ),
        Row(
            "schema_version a list",
            "submission",
            lambda tmp: upload(tmp, manifest=setting("schema_version", [1])),
            "refused",
            ("schema_version must be a whole number",),
        ),
        Row(
            "latency_s a 400-digit integer",
            "submission",
            lambda tmp: upload(tmp, lines=first_line(lambda r: r.__setitem__("latency_s", 10**400))),
            "accepted",
            (),
        ),
        # -- the runner's folder (item 4): stop, say what is stored and what to do, exit 4
        Row("--out is a file", "run folder", out_is_a_file, "stopped", ("a file stands where a folder should be",)),
        Row("--out under a file", "run folder", parent_is_a_file, "stopped", ("ENOTDIR", "move it away")),
        Row(
            "judgments.jsonl a folder",
            "run folder",
            judgments_is_a_folder,
            "stopped",
            ("EISDIR", "a folder stands where a file should be"),
        ),
        Row(
            "manifest schema_version a list",
            "run folder",
            damaged_manifest(setting("schema_version", [1])),
            "stopped",
            ("schema_version must be a whole number", "repair or remove manifest.json"),
        ),
        Row(
            "manifest run_id a number",
            "run folder",
            damaged_manifest(setting("run_id", 7)),
            "stopped",
            ("run_id must be a string",),
        ),
        Row(
            "manifest source a list",
            "run folder",
            damaged_manifest(setting("source", [1])),
            "stopped",
            ("source must be a JSON object",),
        ),
        Row(
            "manifest nested 100,000 deep",
            "run folder",
            damaged_manifest(lambda data: nested_json(100_000)),
            "stopped",
            ("nests too deeply",),
        ),
        Row("manifest.json a folder", "run folder", manifest_is_a_folder, "stopped", ("manifest.json",)),
    ]


ROWS = rows()


def by_surface(surface: str) -> list[Any]:
    return [pytest.param(row, id=row.name) for row in ROWS if row.surface == surface]


def test_the_table_covers_every_surface_and_outcome():
    assert {r.surface for r in ROWS} == {"option", "config", "stored run", "submission", "run folder"}
    assert len(ROWS) >= 50 and len({(r.surface, r.name) for r in ROWS}) == len(ROWS)


@pytest.mark.parametrize("row", by_surface("option"))
def test_an_option_out_of_bounds_is_refused_before_any_request(row, bench, tmp_path, capsys):
    with serve_openai(default=Judge(bench)) as server:
        assert run_command(cli(bench, server, tmp_path / "out", *row.build)) == 1
        assert server.chat_requests == []
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1, err
    for fragment in row.says:
        assert fragment in err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("row", by_surface("config"))
def test_a_config_value_of_the_wrong_type_is_refused(row, tmp_path):
    with pytest.raises(RunnerError) as caught:
        RunConfig(mode="pair", out=tmp_path / "out", model="m", **row.build)
    for fragment in row.says:
        assert fragment in str(caught.value)


@pytest.mark.parametrize("row", by_surface("stored run"))
def test_a_bad_stored_run_is_skipped_or_kept_and_listed(row, tmp_path):
    runs = tmp_path / "runs"
    copy_run(runs, "good-run")
    spec = row.build
    if spec.get("orphan"):
        (runs / "orphan").mkdir()
        shutil.copyfile(EMBEDDED / "judgments.jsonl", runs / "orphan" / "judgments.jsonl")
    elif spec.get("judgments_dir"):
        bad = copy_run(runs, "bad-run")
        (bad / "judgments.jsonl").unlink()
        (bad / "judgments.jsonl").mkdir()
    else:
        copy_run(runs, "bad-run", manifest=spec.get("manifest"), lines=spec.get("lines"))
    loaded = load_runs([runs])
    ids = sorted(r.run_id for r in loaded.runs)
    problems = [str(p) for p in loaded.problems if "good-run" not in str(p)]
    assert "good-run" in ids and len(next(r for r in loaded.runs if r.run_id == "good-run").records) == 116
    if row.outcome == "skipped":
        assert ids == ["good-run"]
        assert len(problems) == 1, problems
    else:
        assert ids == ["bad-run", "good-run"]
        assert len(loaded.runs[0].records) in (115, 116)
        assert np.isnan(loaded.runs[0].records["latency_s"]).all()
    for fragment in row.says:
        assert any(fragment in p for p in problems), (fragment, problems)


@pytest.mark.parametrize("row", by_surface("submission"))
def test_a_bad_submission_is_refused_with_what_to_fix(row, labels, tmp_path):
    result = validate_submission(row.build(tmp_path), labels, None)
    if row.outcome == "accepted":
        assert result.ok, result.message
        assert [j.latency_s for j in result.judgments][0] is None
        return
    assert not result.ok and result.message.startswith("Submission rejected:")
    for fragment in row.says:
        assert fragment in result.message, result.message


@pytest.mark.parametrize("row", by_surface("run folder"))
def test_a_run_folder_that_cannot_be_used_stops_the_run_with_exit_4(row, bench, tmp_path, capsys):
    with serve_openai(default=Judge(bench)) as server:
        out, stored = row.build(Ctx(tmp_path, bench, server))
        before = (out / "judgments.jsonl").read_bytes() if (out / "judgments.jsonl").is_file() else None
        capsys.readouterr()
        asked = len(server.chat_requests)
        assert run_command(cli(bench, server, out)) == EXIT_STORAGE
        assert len(server.chat_requests) == asked  # nothing was judged into a folder that cannot take it
    err = capsys.readouterr().err
    assert err.startswith("error: the run folder cannot be used") and err.count("\n") == 1, err
    assert (
        f"{stored} judgment(s) are stored in {out} and kept" if stored else f"nothing is stored in {out} yet"
    ) in err
    assert "then start the same command again (exit status 4)" in err
    for fragment in row.says:
        assert fragment in err, err
    if before is not None:
        assert (out / "judgments.jsonl").read_bytes() == before  # nothing lost, nothing added
    assert "Traceback" not in err


# ---------------------------------------------------------------------- faults while judging


def test_one_malformed_reply_in_the_middle_of_a_run_stops_nothing(bench, tmp_path, capsys):
    """A reply whose log-probabilities are not numbers (issue 15, item 1): every other item is stored;
    the bad one is stored too (probabilities unknown) or counted as its own error and judged again."""

    def unreadable(mode: str, item: str):
        alternatives = {t: [(t, "not-a-number")] for t in "ABC"}
        return reply(bench.reply_for(mode, item), logprobs=True, alternatives=alternatives)

    out = tmp_path / "run"
    judge = Judge(bench, {"205": unreadable})
    with serve_openai(default=judge) as server:
        rc = run_command(cli(bench, server, out, "--concurrency", "2"))
        first = capsys.readouterr().out
        ids = {r["item_id"] for r in stored_lines(out)}
        assert ids - {"205"} == {str(i) for i in range(200, 212)} - {"205"}
        if "205" in ids:
            assert rc == 0
        else:
            assert rc == EXIT_INCOMPLETE and "errors 1" in first and "unexpected" in first
        judge.faults.clear()
        assert run_command(cli(bench, server, out, "--concurrency", "2")) == 0
    assert sorted(r["item_id"] for r in stored_lines(out)) == [str(i) for i in range(200, 212)]


def completion(text: str, *, usage: Any = None, logprobs: Any = None, content: Any = None) -> dict:
    """A chat completion body as a server sends it, with any field replaced by something malformed."""
    return {
        "id": "chatcmpl-malformed",
        "object": "chat.completion",
        "created": 0,
        "model": "judge-model",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text if content is None else content},
                "finish_reason": "stop",
                "logprobs": logprobs,
            }
        ],
        "usage": usage if usage is not None else {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
    }


def test_replies_with_unreadable_usage_logprobs_or_content_in_the_middle_of_a_run_stop_nothing(bench, tmp_path, capsys):
    """Issue 15, item 1, over the wire: usage fields that are strings, top_logprobs entries that are
    null, content parts that are not strings. The run completes and every other item is stored;
    what cannot be read is dropped (usage, probabilities), and an answer that is not text is stored
    unscored, with the reason."""

    def strings_for_usage(mode: str, item: str):
        usage = {"prompt_tokens": "ten", "completion_tokens": "5", "total_tokens": []}
        return raw_json(completion(bench.reply_for(mode, item), usage=usage))

    def null_top_logprobs(mode: str, item: str):
        text = bench.reply_for(mode, item)
        tokens = [{"token": text, "logprob": -0.1, "bytes": None, "top_logprobs": [None, None]}]
        return raw_json(completion(text, logprobs={"content": tokens}))

    def parts_not_strings(mode: str, item: str):
        return raw_json(completion("", content=[{"type": "text", "text": 7}, None, 3.5]))

    faults = {"203": strings_for_usage, "205": null_top_logprobs, "208": parts_not_strings}
    out = tmp_path / "run"
    with serve_openai(default=Judge(bench, faults)) as server:
        rc = run_command(cli(bench, server, out, "--concurrency", "2"))
    summary = capsys.readouterr()
    assert "Traceback" not in summary.err
    records = {r["item_id"]: r for r in stored_lines(out)}
    assert sorted(records) == [str(i) for i in range(200, 212)], summary
    assert rc == 0, summary
    expected = {j.item_id: j.verdict for j in pair_judgments()}
    # Unreadable usage and null alternatives cost nothing but what they would have told: the verdict
    # is the one the judge wrote, like every other item's.
    assert {item: r["verdict"] for item, r in records.items() if item != "208"} == {
        item: v for item, v in expected.items() if item != "208"
    }
    assert records["203"]["unscored_reason"] is None and records["205"]["unscored_reason"] is None
    # Content parts that are not text leave no answer: stored unscored, and it says why.
    assert records["208"]["verdict"] is None
    assert records["208"]["unscored_reason"] == "the judge returned an empty output"
    assert "errors 0" in summary.out and "judged now 12 (2 unscored)" in summary.out  # 207 and 208


class Tripping:
    """A backend (an external plugin, say) that fails with a plain TypeError, not a JudgeError, on one
    item's requests, and hands every other request to the real OpenAI-compatible backend.

    With ``sync_only`` it offers no async path, so the runner drives it like a local model: items
    go to it in batches of ``--batch-size``.
    """

    def __init__(self, server, item: str, *, sync_only: bool = False) -> None:
        from judges import Settings, build_backend, custom_spec

        self.real = build_backend(custom_spec("judge-model", server.base_url), Settings.from_env())
        self.item = item
        self.name, self.capabilities = self.real.name, self.real.capabilities
        if not sync_only:
            self.acomplete = self._acomplete

    def _trips(self, request) -> bool:
        return item_of("\n".join(m.text for m in request.messages))[1] == self.item

    async def _acomplete(self, request):
        if self._trips(request):
            raise TypeError("'<' not supported between instances of 'str' and 'float'")
        return await self.real.acomplete(request)

    def complete(self, request):
        return self.complete_many([request])[0]

    def complete_many(self, requests):
        if any(self._trips(r) for r in requests):
            raise TypeError("'<' not supported between instances of 'str' and 'float'")
        return self.real.complete_many(requests)

    def close(self) -> None:
        self.real.close()


@pytest.mark.parametrize("sync_only", [False, True], ids=["api window", "local batches"])
def test_a_plain_exception_for_one_item_is_that_items_error_and_the_run_goes_on(bench, tmp_path, sync_only):
    from judges import Settings
    from leaderboard.runner.run import run_benchmark

    out = tmp_path / "run"
    with serve_openai(default=Judge(bench)) as server:
        config = RunConfig(
            mode="pair",
            out=out,
            model="judge-model",
            base_url=server.base_url,
            benchmark=bench.root,
            batch_size=4,
            concurrency=3,
            progress=False,
        )
        summary = run_benchmark(
            config, settings=Settings.from_env(), backend=Tripping(server, "205", sync_only=sync_only)
        )
        assert (summary.judged, summary.errors, summary.error_kinds) == (11, 1, {"TypeError": 1})
        assert "unexpected TypeError" in summary.examples[0] and "judged again on the next start" in summary.examples[0]
        assert sorted(r["item_id"] for r in stored_lines(out)) == [str(i) for i in range(200, 212) if i != 205]
        again = run_benchmark(config, settings=Settings.from_env())  # the real backend: 205 is judged now
    assert (again.already_done, again.judged, again.complete) == (11, 1, True)


#: Runs the runner in a child process whose files may not grow past argv[1] bytes (0: no limit). The
#: limit is set inside the child (not with preexec_fn, which is unsafe while the test's server
#: threads run).
_LIMITED_RUNNER = (
    "import resource, runpy, sys\n"
    "size = int(sys.argv.pop(1))\n"
    "if size: resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))\n"
    "sys.argv[0] = 'leaderboard.runner'\n"
    "runpy.run_module('leaderboard.runner', run_name='__main__')\n"
)


def _spawn(bench, server, out: Path, fsize: int = 0) -> subprocess.CompletedProcess:
    argv = ["--model", "judge-model", "--base-url", server.base_url, "--mode", "pair", "--benchmark"]
    argv += [str(bench.root), "--out", str(out), "--no-progress", "--concurrency", "2"]
    return subprocess.run(
        [sys.executable, "-c", _LIMITED_RUNNER, str(fsize), *argv],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), "JUDGE_MAX_RETRIES": "1", "PYTHONDONTWRITEBYTECODE": "1"},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_file_size_limit_stops_the_run_cleanly_and_a_resume_loses_nothing(bench, tmp_path):
    """EFBIG for real: RLIMIT_FSIZE in the runner's own process (issue 15, item 4)."""
    out = tmp_path / "run"
    with serve_openai(default=Judge(bench)) as server:
        # The manifest (~1.3 kB) fits; the judgments file fills up after a few lines.
        limited = _spawn(bench, server, out, fsize=1800)
        assert limited.returncode == EXIT_STORAGE, limited.stderr
        assert "File too large (EFBIG)" in limited.stderr and "ulimit -f" in limited.stderr
        assert "Traceback" not in limited.stderr
        kept = stored_lines(out)  # no torn line: a write cut short by the limit was undone
        assert 0 < len(kept) < 12 and f"{len(kept)} judgment(s) are stored" in limited.stderr
        assert (out / "judgments.jsonl").stat().st_size <= 1800
        resumed = _spawn(bench, server, out)
        assert resumed.returncode == 0, resumed.stderr
    records = stored_lines(out)
    ids = [r["item_id"] for r in records]
    assert sorted(ids) == [str(i) for i in range(200, 212)] and len(set(ids)) == len(ids)
    assert records[: len(kept)] == kept


def test_a_full_disk_stops_the_run_cleanly_and_a_resume_loses_nothing(bench, tmp_path, monkeypatch, capsys):
    """ENOSPC, played at the OS call the writer makes (a small file system cannot be made here)."""
    real_write = os.write
    calls = {"n": 0}

    def full_after_five(fd: int, data) -> int:
        calls["n"] += 1
        if calls["n"] == 6:  # half a line gets through, then the disk is full
            real_write(fd, bytes(data[:20]))
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_write(fd, data)

    out = tmp_path / "run"
    with serve_openai(default=Judge(bench)) as server:
        monkeypatch.setattr(store_write, "_write_fd", full_after_five)
        assert run_command(cli(bench, server, out, "--concurrency", "1")) == EXIT_STORAGE
        # Only our line: the test server may log a request the stopping runner hung up on.
        errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error: ")]
        assert len(errors) == 1, errors
        err = errors[0]
        assert "No space left on device (ENOSPC)" in err and "free some disk space" in err
        assert "5 judgment(s) are stored" in err
        assert len(stored_lines(out)) == 5  # the half line was cut off
        monkeypatch.setattr(store_write, "_write_fd", real_write)
        assert run_command(cli(bench, server, out)) == 0
    ids = [r["item_id"] for r in stored_lines(out)]
    assert sorted(ids) == [str(i) for i in range(200, 212)]


@contextlib.contextmanager
def read_only(path: Path) -> Iterator[None]:
    """Make ``path`` read-only for real. Tests run as root, who ignores permission bits; the
    immutable attribute binds root too, where the file system and capabilities allow it."""
    if os.geteuid() != 0:
        mode = path.stat().st_mode
        path.chmod(0o555 if path.is_dir() else 0o444)
        try:
            yield
        finally:
            path.chmod(mode)
        return
    if shutil.which("chattr") is None or subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode:
        pytest.skip("no way to make a folder read-only for root here (chattr +i unavailable)")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=False)


def test_a_read_only_run_file_stops_the_resume_and_keeps_every_judgment(bench, tmp_path, capsys):
    out = tmp_path / "run"
    with serve_openai(default=Judge(bench, {"211": server_error()})) as server:
        assert run_command(cli(bench, server, out)) == EXIT_INCOMPLETE
        before = (out / "judgments.jsonl").read_bytes()
        server.set_default(Judge(bench))
        capsys.readouterr()
        with read_only(out / "judgments.jsonl"):
            assert run_command(cli(bench, server, out)) == EXIT_STORAGE
        err = capsys.readouterr().err
        assert "11 judgment(s) are stored" in err and "make the folder writable" in err
        assert (out / "judgments.jsonl").read_bytes() == before
        assert run_command(cli(bench, server, out)) == 0
    assert len(stored_lines(out)) == 12


def test_a_read_only_empty_folder_refuses_a_new_run(bench, tmp_path, capsys):
    out = tmp_path / "run"
    out.mkdir()
    with serve_openai(default=Judge(bench)) as server, read_only(out):
        assert run_command(cli(bench, server, out)) == EXIT_STORAGE
        assert server.chat_requests == []
    err = capsys.readouterr().err
    assert "nothing is stored in" in err and "make the folder writable" in err


def test_a_torn_line_in_the_middle_is_repaired_on_resume_and_not_reported_again(bench, tmp_path, caplog):
    """Issue 15, item 12: a line torn in the middle (its item judged again later) was left in the file
    and reported on every load; the runner's next start removes it, once, and says so."""
    out = tmp_path / "run"
    with serve_openai(default=Judge(bench, {"211": server_error()})) as server:
        assert run_command(cli(bench, server, out)) == EXIT_INCOMPLETE
        lines = (out / "judgments.jsonl").read_text().splitlines()
        torn = lines[4][: len(lines[4]) // 2]
        torn_item = json.loads(lines[4])["item_id"]
        (out / "judgments.jsonl").write_text("\n".join([*lines[:4], torn, *lines[5:]]) + "\n")
        _, problems, _ = load_run(out)
        assert [p.line for p in problems if "not valid JSON" in p.reason] == [5]
        server.set_default(Judge(bench))
        with caplog.at_level("WARNING", logger="leaderboard.store.write"):
            assert run_command(cli(bench, server, out)) == 0
        assert "removing 1 line(s) that are not JSON (line 5" in caplog.text
    records = stored_lines(out)
    assert sorted(r["item_id"] for r in records) == [str(i) for i in range(200, 212)]
    assert torn_item in {r["item_id"] for r in records[-2:]}  # judged again at the end
    _, problems, _ = load_run(out)
    assert not [p for p in problems if "JSON" in p.reason]


# ---------------------------------------------------------------------- the leaderboard with bad runs beside good ones


def test_the_leaderboard_and_refresh_work_with_type_confused_runs_beside_the_embedded_ones(tmp_path):
    """Issue 15, item 5: such a run took the whole Leaderboard down ("unhashable type: 'list'")."""
    extra = tmp_path / "runs"
    for name, key, value in [
        ("bad-version", "schema_version", [1]),
        ("bad-sampling", "sampling", 3),
        ("bad-source", "source", ["a"]),
    ]:
        copy_run(extra, name, manifest=setting(key, value))
    copy_run(extra, "bad-id", manifest=setting("run_id", 5))
    copy_run(extra, "big-latency", lines=first_line(lambda r: r.__setitem__("latency_s", 10**400)))
    assets = default_assets_dir() / "runs"
    plain = load_leaderboard(sources=[assets], n_resamples=0)
    mixed = load_leaderboard(sources=[assets, extra], n_resamples=0)
    embedded = mixed.table[mixed.table["run_id"].isin(set(plain.table["run_id"]))].reset_index(drop=True)
    assert embedded.equals(plain.table.reset_index(drop=True))
    assert "big-latency" in set(mixed.table["run_id"])
    assert len([p for p in mixed.problems if "run skipped" in p]) == 4
    store = LazyLeaderboard(n_resamples=0, sources=lambda: [assets, extra])
    assert store.get().problems == mixed.problems
    copy_run(extra, "bad-mode", manifest=setting("mode", ["pair"]))
    said = refresh_leaderboard(store)
    assert (
        said.startswith("Reloaded")
        and "5 input problems" in said
        and "mode must be a string" in "".join(store.get().problems)
    )
