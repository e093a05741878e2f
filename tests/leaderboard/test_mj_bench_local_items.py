"""MJ-Bench items from a local folder, judged by the runner in the image-pair task against the
loopback server, and scored against the imported human labels."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path

import pytest
from PIL import Image

from leaderboard.benchmarks import get_benchmark
from leaderboard.benchmarks.base import BenchmarkError
from leaderboard.benchmarks.mj_bench import import_mj_bench
from leaderboard.metrics.compute import build_leaderboard
from leaderboard.runner.cli import add_run_arguments, run_command
from leaderboard.runner.config import EXIT_INCOMPLETE
from leaderboard.store.labels import read_labels
from leaderboard.store.read import load_runs
from tests.support.openai_server import reply, serve_openai


def png(colour: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (24, 16), colour).save(buffer, format="PNG")
    return buffer.getvalue()


RED, BLUE = png("red"), png("blue")

#: folder -> items: (id, image0 colour, image1 colour, human label = index of the preferred image).
ITEMS = {
    "actions": [("pap_0", "red", "blue", 0), ("pap_1", "blue", "red", 1), ("pap_2", "blue", "red", 0)],
    "existence": [("hpdv2_3", "red", "blue", 0)],
    "other": [("pap_0", "blue", "red", 1), ("pap_9", "red", "blue", 0)],  # only pap_0 is a count item
}
RESULT_CATEGORY = {"actions": "action", "existence": "object", "other": "count"}


def item(folder: str, raw_id: str, first: str, second: str, label: int) -> dict:
    return {
        "id": raw_id,
        "source": "fixture",
        "caption": f"a {first} square beside a {second} one ({folder} {raw_id})",
        "image0": f"{folder}-{raw_id}-0.png",
        "image1": f"{folder}-{raw_id}-1.png",
        "label": label,
    }


def write_copy(root: Path, *, missing: str | None = None) -> Path:
    """An MJ-Bench copy: item files, one judge's result files (for the labels) and the images in images/."""
    (root / "images").mkdir(parents=True)
    for folder, rows in ITEMS.items():
        items = [item(folder, *row) for row in rows]
        path = root / "alignment" / "benchmark" / folder / f"{folder}_test.json"
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps(items))
        for made, (_id, first, second, _label) in zip(items, rows, strict=True):
            for name, colour in ((made["image0"], first), (made["image1"], second)):
                if name != missing:
                    (root / "images" / name).write_bytes(RED if colour == "red" else BLUE)
        listed = items[:1] if folder == "other" else items
        results = [
            {"id": i["id"], "caption": i["caption"], "image_0_uid": i["image0"], "image_1_uid": i["image1"],
             "label": str(i["label"]), "score_0": 5, "score_1": 5, "vlm_pred": "0", "pred": "0", "output": "x"}
            for i in listed
        ]  # fmt: skip
        result = root / "closesource_result" / "alignment" / RESULT_CATEGORY[folder] / "gpt-4o_alignment_number10.json"
        result.parent.mkdir(parents=True)
        result.write_text(json.dumps(results))
    return root


def prefers_red(request):
    """A content-faithful judge: the red image wins wherever it is shown."""
    red_first = request.image_urls[0] == "data:image/png;base64," + base64.b64encode(RED).decode()
    return reply(json.dumps({"Analysis": "compared", "Judgement": "[[A]]" if red_first else "[[B]]"}))


def cli_args(*argv: str):
    import argparse

    parser = argparse.ArgumentParser()
    add_run_arguments(parser)
    return parser.parse_args(list(argv))


def run_args(root: Path, server, out: Path, *extra: str) -> tuple[str, ...]:
    return (
        "--model", "judge-model", "--base-url", server.base_url, "--benchmark-name", "mj-bench",
        "--mode", "image-pair", "--benchmark", str(root), "--out", str(out), "--no-progress", *extra,
    )  # fmt: skip


def test_the_reader_gives_image_pair_items_with_the_imported_ids(tmp_path):
    root = write_copy(tmp_path / "mj")
    selection = get_benchmark("mj-bench").select_items(root, "image-pair", "all", (), None)
    ids = [i.item_id for i in selection.items]
    # Display order (Object, Attribute, Action, Spatial, Count); count holds only the listed item of other/.
    assert ids == ["object:hpdv2_3", "action:pap_0", "action:pap_1", "action:pap_2", "count:pap_0"]
    first = selection.items[1]
    assert first.image_paths == (root / "images" / "actions-pap_0-0.png", root / "images" / "actions-pap_0-1.png")
    assert (first.mode, first.responses, first.human_label, first.subset) == ("image-pair", (), "A", "all")
    only = get_benchmark("mj-bench").select_items(root, "image-pair", "all", ("Count",), 1)
    assert [i.item_id for i in only.items] == ["count:pap_0"]
    with pytest.raises(BenchmarkError, match="choose among"):
        get_benchmark("mj-bench").select_items(root, "image-pair", "all", ("Spatial",), None)
    with pytest.raises(BenchmarkError, match="no MJ-Bench item files"):
        get_benchmark("mj-bench").select_items(tmp_path, "image-pair", "all", (), None)


def test_without_result_files_count_items_are_skipped_with_a_note(tmp_path):
    root = write_copy(tmp_path / "mj")
    for path in (root / "closesource_result").rglob("*.json"):
        path.unlink()
    selection = get_benchmark("mj-bench").select_items(root, "image-pair", "all", (), None)
    assert not [i for i in selection.items if i.dataset == "count"]
    assert any("closesource_result/alignment/count/" in p for p in selection.problems)


def test_the_runner_judges_mj_bench_in_image_pair_and_the_run_is_scored_against_the_labels(tmp_path):
    root = write_copy(tmp_path / "mj")
    assets = tmp_path / "assets"
    import_mj_bench(root, assets)
    labels = read_labels(assets / "benchmark" / "labels.csv")
    out = tmp_path / "run"
    with serve_openai(default=prefers_red) as server:
        assert run_command(cli_args(*run_args(root, server, out, "--swap"))) == 0
        sent = server.chat_requests
    assert len(sent) == 10 and all(len(r.image_urls) == 2 for r in sent)
    manifest = json.loads((out / "manifest.json").read_text())
    assert (manifest["benchmark"], manifest["mode"], manifest["split"]) == ("mj-bench", "image-pair", "all")
    lines = {j["item_id"]: j for j in map(json.loads, (out / "judgments.jsonl").read_text().splitlines())}
    assert {k: v["verdict"] for k, v in lines.items()} == {
        "object:hpdv2_3": "A", "action:pap_0": "A", "action:pap_1": "B", "action:pap_2": "B", "count:pap_0": "B",
    }  # fmt: skip
    assert all(v["swap"]["consistent"] for v in lines.values())
    loaded = load_runs([out], labels)
    assert loaded.problems == ()
    table = build_leaderboard(loaded.runs, labels, None, n_resamples=0, min_n=1)
    accuracy = table[(table["metric"] == "accuracy_with_tie") & (table["mode"] == "image-pair")]
    by_dataset = dict(zip(accuracy["dataset"], accuracy["value"], strict=True))
    # action:pap_2's people preferred the blue image 0: the red-loving judge is wrong there only.
    assert by_dataset["Action"] == pytest.approx(2 / 3)
    assert by_dataset["Object"] == by_dataset["Count"] == 1.0


def test_a_missing_image_is_that_items_error_and_the_pair_task_is_refused(tmp_path, capsys):
    root = write_copy(tmp_path / "mj", missing="actions-pap_1-1.png")
    out = tmp_path / "run"
    with serve_openai(default=prefers_red) as server:
        assert run_command(cli_args(*run_args(root, server, out))) == EXIT_INCOMPLETE
        stored = [json.loads(line)["item_id"] for line in (out / "judgments.jsonl").read_text().splitlines()]
        assert "action:pap_1" not in stored and len(stored) == 4
        pair = list(run_args(root, server, tmp_path / "pair"))
        pair[pair.index("image-pair")] = "pair"
        capsys.readouterr()
        assert run_command(cli_args(*pair)) == 1
    assert "judge them with --mode image-pair" in capsys.readouterr().err
