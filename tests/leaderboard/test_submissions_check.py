"""Submitted runs: every rejection says what to fix; an accepted run shows up at once, as unverified."""

from __future__ import annotations

import json
import stat
import zipfile

import pytest

import leaderboard.store.format as runs
from leaderboard.metrics.compute import build_leaderboard
from leaderboard.schema import PROVENANCE_RUN, PROVENANCE_UNVERIFIED
from leaderboard.store.format import Judgment, Manifest
from leaderboard.store.read import load_runs
from leaderboard.store.write import write_run
from leaderboard.submissions.check import validate_submission
from leaderboard.submissions.save import SubmissionError, store_submission
from tests.support.benchmark_fixture import PAIR_TABLE, import_labels, write_fixture
from tests.support.hub_server import serve_hub


@pytest.fixture(scope="module")
def labels(tmp_path_factory):
    fixture = write_fixture(tmp_path_factory.mktemp("bench") / "MLLM-Judge")
    return import_labels(fixture, tmp_path_factory.mktemp("assets"))


def test_unverified_is_a_known_provenance():
    assert PROVENANCE_UNVERIFIED in runs.PROVENANCES


def pair_judgments():
    """Judgments of all 12 fixture pair items: the fixture judge's verdicts, 207 unscored."""
    out, n = [], 0
    for dataset, rows in PAIR_TABLE.items():
        for _human, judge in rows:
            verdict = None if judge is None else ("tie" if judge == "C" else judge)
            out.append(Judgment(str(200 + n), dataset, verdict, None if verdict else "no verdict found"))
            n += 1
    return out


def make_run(folder, run_id="my-judge-pair-1", judgments=None, **manifest):
    fields = {"run_id": run_id, "judge": "My-Judge", "mode": "pair", "provenance": PROVENANCE_RUN, **manifest}
    return write_run(folder / run_id, Manifest(**fields), judgments or pair_judgments())


def files_of(run_dir):
    return [run_dir / "manifest.json", run_dir / "judgments.jsonl"]


def zip_of(path, members):
    """A zip holding ``members``: name -> bytes, or ZipInfo -> bytes for odd headers."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def rejected(result, *fragments):
    assert not result.ok, result.message
    text = "\n".join(result.errors)
    for fragment in fragments:
        assert fragment in text, f"{fragment!r} not in: {text}"
    assert result.message.startswith("Submission rejected")
    return text


# ---------------------------------------------------------------------- accepted


def test_a_valid_run_is_stored_as_unverified_and_appears_in_the_leaderboard(labels, tmp_path):
    upload = make_run(tmp_path / "upload")
    shown = tmp_path / "runs"
    result = validate_submission(files_of(upload), labels, shown)
    assert result.ok, result.message
    assert result.run_id == "my-judge-pair-1" and len(result.judgments) == 12
    assert result.manifest.provenance == PROVENANCE_UNVERIFIED
    assert result.manifest.source["submission"]["claimed_provenance"] == PROVENANCE_RUN
    stored = store_submission(result, shown)
    assert stored.run_dir == shown / "my-judge-pair-1" and stored.pushed is None
    loaded = load_runs([shown], labels)
    assert not [p for p in loaded.problems if "item" in p.reason]
    table = build_leaderboard(loaded.runs, labels, None, n_resamples=0, min_n=1)
    rows = table[(table["run_id"] == "my-judge-pair-1") & (table["metric"] == "accuracy_with_tie")]
    assert set(rows["provenance"]) == {PROVENANCE_UNVERIFIED} and set(rows["judge"]) == {"My-Judge"}
    assert float(rows[rows["dataset"] == "COCO"]["value"].iloc[0]) == pytest.approx(3 / 4)
    with pytest.raises(SubmissionError, match="just taken"):
        store_submission(result, shown)


def test_a_zip_with_the_files_in_one_folder_is_accepted_and_unknown_fields_dropped(labels, tmp_path):
    run_dir = make_run(tmp_path)
    lines = (run_dir / "judgments.jsonl").read_text().splitlines()
    lines[0] = json.dumps({**json.loads(lines[0]), "my_note": "x"})
    archive = zip_of(
        tmp_path / "run.zip",
        {
            "my-run/manifest.json": (run_dir / "manifest.json").read_bytes(),
            "my-run/judgments.jsonl": ("\n".join(lines) + "\n").encode(),
            "__MACOSX/my-run/._manifest.json": b"junk",
        },
    )
    result = validate_submission(archive, labels, None)
    assert result.ok, result.message
    assert any("my_note" in w for w in result.warnings)


def test_a_missing_dataset_name_is_taken_from_the_labels(labels, tmp_path):
    run_dir = make_run(tmp_path)
    records = [json.loads(line) for line in (run_dir / "judgments.jsonl").read_text().splitlines()]
    (run_dir / "judgments.jsonl").write_text(
        "".join(json.dumps({k: v for k, v in r.items() if k != "dataset"}) + "\n" for r in records)
    )
    result = validate_submission(files_of(run_dir), labels, None)
    assert result.ok, result.message
    assert result.judgments[0].dataset == "coco"


def test_run_id_collisions_rename_a_different_run_and_refuse_the_same_one(labels, tmp_path):
    shown = tmp_path / "runs"
    first = validate_submission(files_of(make_run(tmp_path / "a")), labels, shown)
    store_submission(first, shown)
    again = validate_submission(files_of(make_run(tmp_path / "b")), labels, shown)
    rejected(again, "already on the leaderboard")
    other = pair_judgments()
    other[0] = Judgment("200", "coco", "B")
    renamed = validate_submission(files_of(make_run(tmp_path / "c", judgments=other)), labels, [shown])
    assert renamed.ok and renamed.run_id.startswith("my-judge-pair-1-sub-")
    assert any("is taken" in w for w in renamed.warnings)
    assert store_submission(renamed, shown).run_dir.name == renamed.run_id
    assert len(load_runs([shown]).runs) == 2


def test_stored_submissions_are_pushed_and_a_failed_push_keeps_the_local_copy(labels, tmp_path):
    result = validate_submission(files_of(make_run(tmp_path / "u")), labels, None)
    with serve_hub(token="hf_token123456") as hub:
        stored = store_submission(
            result, tmp_path / "runs", repo_id="org/runs", token="hf_token123456", endpoint=hub.url
        )
        assert stored.pushed and "runs/my-judge-pair-1/manifest.json" in hub.repo("org/runs").files
        pushed = json.loads(hub.repo("org/runs").files["runs/my-judge-pair-1/manifest.json"])
        assert pushed["provenance"] == PROVENANCE_UNVERIFIED
        second = validate_submission(files_of(make_run(tmp_path / "v", run_id="other-run")), labels, None)
        stored = store_submission(
            second, tmp_path / "runs", repo_id="org/runs", token="hf_wrong123456", endpoint=hub.url
        )
    assert stored.pushed is None and "not pushed" in stored.warnings[0]
    assert (tmp_path / "runs" / "other-run" / "judgments.jsonl").is_file()


# ---------------------------------------------------------------------- rejected: the upload itself


def test_size_limit_applies_to_the_upload_and_to_what_a_zip_unpacks_to(labels, tmp_path):
    run_dir = make_run(tmp_path)
    rejected(validate_submission(files_of(run_dir), labels, None, max_bytes=500), "more than the 500 allowed")
    bomb = zip_of(
        tmp_path / "bomb.zip",
        {"manifest.json": (run_dir / "manifest.json").read_bytes(), "judgments.jsonl": b"\n" * 2_000_000},
    )
    assert bomb.stat().st_size < 50_000
    rejected(validate_submission(bomb, labels, None, max_bytes=100_000), "unpacks to", "100,000")


@pytest.mark.parametrize(
    ("member", "fragment"),
    [
        ("/etc/manifest.json", "absolute"),
        ("../manifest.json", "outside the archive"),
        ("run/../../manifest.json", "outside the archive"),
        ("C:/runs/manifest.json", "absolute"),
        ("run\\manifest.json", "Windows"),
    ],
)
def test_zip_members_cannot_escape_the_folder(labels, tmp_path, member, fragment):
    archive = zip_of(tmp_path / "evil.zip", {member: b"{}", "judgments.jsonl": b""})
    rejected(validate_submission(archive, labels, None), fragment)


def test_zip_symlinks_extra_files_and_non_zips_are_refused(labels, tmp_path):
    run_dir = make_run(tmp_path)
    link = zipfile.ZipInfo("manifest.json")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    path = tmp_path / "link.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(link, "/etc/passwd")
        archive.writestr("judgments.jsonl", (run_dir / "judgments.jsonl").read_bytes())
    rejected(validate_submission(path, labels, None), "symbolic link")

    extra = zip_of(
        tmp_path / "extra.zip",
        {
            "manifest.json": (run_dir / "manifest.json").read_bytes(),
            "judgments.jsonl": (run_dir / "judgments.jsonl").read_bytes(),
            "notes.txt": b"hello",
        },
    )
    rejected(validate_submission(extra, labels, None), "exactly manifest.json and judgments.jsonl", "notes.txt")
    split = zip_of(
        tmp_path / "split.zip",
        {"a/manifest.json": b"{}", "b/judgments.jsonl": b""},
    )
    rejected(validate_submission(split, labels, None), "side by side")
    odd = tmp_path / "notes.txt"
    odd.write_text("hi")
    rejected(validate_submission([run_dir / "manifest.json", odd], labels, None), "cannot tell what notes.txt is")
    rejected(validate_submission([run_dir / "manifest.json"], labels, None), "judgments.jsonl missing")
    rejected(validate_submission([], labels, None), "nothing uploaded")
    rejected(validate_submission(tmp_path / "gone.zip", labels, None), "not found")


# ---------------------------------------------------------------------- rejected: the contents


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        (lambda m: "{not json", "not valid JSON"),
        (lambda m: json.dumps([m]), "one JSON object"),
        (lambda m: json.dumps({**m, "schema_version": 99}), "schema_version 99 is not supported"),
        (lambda m: json.dumps({k: v for k, v in m.items() if k != "judge"}), "lacks judge"),
        (lambda m: json.dumps({**m, "mode": "rank"}), "mode 'rank'"),
        (lambda m: json.dumps({**m, "split": "test"}), "split 'test'"),
        (lambda m: json.dumps({**m, "run_id": "../../etc"}), "run_id"),
    ],
)
def test_manifest_problems_are_named(labels, tmp_path, change, fragment):
    run_dir = make_run(tmp_path)
    manifest = json.loads((run_dir / "manifest.json").read_text())
    (run_dir / "manifest.json").write_text(change(manifest))
    rejected(validate_submission(files_of(run_dir), labels, None), fragment)


def _with_lines(run_dir, edit):
    lines = (run_dir / "judgments.jsonl").read_text().splitlines()
    (run_dir / "judgments.jsonl").write_text("".join(line + "\n" for line in edit(lines)))
    return files_of(run_dir)


@pytest.mark.parametrize(
    ("edit", "fragments"),
    [
        (lambda ls: [*ls[:3], "{broken", *ls[3:]], ("line 4", "not valid JSON")),
        (lambda ls: [*ls, "[1, 2]"], ("line 13", "not a JSON object")),
        (lambda ls: [*ls, ls[0]], ("item 200 already judged",)),
        (lambda ls: [json.dumps({**json.loads(ls[0]), "verdict": "D"}), *ls[1:]], ("'D' is not 'A', 'B' or 'tie'",)),
        (
            lambda ls: [json.dumps({**json.loads(ls[0]), "item_id": "999"}), *ls[1:]],
            ("item 999 is not in the benchmark",),
        ),
        (lambda ls: [json.dumps({**json.loads(ls[0]), "item_id": ""}), *ls[1:]], ("no item_id",)),
        (lambda ls: [], ("holds no judgments",)),
    ],
)
def test_judgment_problems_are_named_with_their_line(labels, tmp_path, edit, fragments):
    rejected(validate_submission(_with_lines(make_run(tmp_path), edit), labels, None), *fragments)


def test_verdicts_must_fit_the_mode_and_the_item(labels, tmp_path):
    score = make_run(tmp_path, "s", [Judgment("0", "coco", 4)], mode="score")
    files = _with_lines(score, lambda ls: [ls[0].replace('"verdict":4', '"verdict":7')])
    rejected(validate_submission(files, labels, None), "score verdict 7 is not an integer 1..5")
    # Batch item 305 has 3 answers: a ranking of 4 does not fit it.
    batch = make_run(tmp_path, "b", [Judgment("305", "Concept Caption", "ABCD")], mode="batch")
    text = rejected(validate_submission(files_of(batch), labels, None), "ranks D but the item has 3 responses")
    assert "judgments.jsonl:1" in text
    wrong_split = make_run(tmp_path, "h", [Judgment("200", "coco", "A")], split="hard")
    rejected(
        validate_submission(files_of(wrong_split), labels, None),
        "the Space can score mllm-as-a-judge pair runs of splits 'all' and 'lite' only, not 'hard'",
    )
    rejected(validate_submission(files_of(make_run(tmp_path / "x")), None, None), "labels are not loaded")


def test_many_problems_are_listed_briefly(labels, tmp_path):
    files = _with_lines(make_run(tmp_path), lambda ls: [json.dumps({**json.loads(x), "verdict": "Z"}) for x in ls])
    text = rejected(validate_submission(files, labels, None))
    assert "and 4 more problems" in text and len(text.splitlines()) == 9
