"""Checking a run uploaded in the Space's "Submit a run" panel: read it safely, validate it. No gradio.

An upload is a run as :mod:`leaderboard.store.format` defines it: ``manifest.json`` and ``judgments.jsonl``,
as two files or zipped together (at the top of the zip or in one folder). :func:`validate_submission`
accepts it only when

* it is within the size limit (the zip, and what it unpacks to: no zip bombs);
* the zip holds nothing else and no member could escape a folder (absolute paths, ``..``, drive
  letters, backslashes, symbolic links, encrypted members), and every member reads back whole (a
  member whose size or CRC lies is refused as damaged);
* both files are standard JSON (:func:`leaderboard.store.format.strict_json`: no NaN or Infinity,
  no number beyond a float's range, no deep nesting);
* the manifest follows the schema (version, required keys, mode, split, a safe run id) and names a
  benchmark of the registry (:mod:`leaderboard.benchmarks`; none named: the default one) that has
  the run's mode;
* the loaded labels can score the run's benchmark, mode and split
  (:func:`leaderboard.submissions.scorable.split_refusal`: else one sentence naming the splits
  they can score);
* every line is a JSON object with an item id that exists in the labels of the run's benchmark,
  mode and split, once, with a verdict valid for the mode (a full ranking of the item's answers in
  batch mode), or null with a reason.

Every problem found is reported at once (manifest fields, broken lines, unknown items, bad verdicts),
so that one round of fixes is enough; only an upload that cannot be read at all stops there.

An accepted run is re-written in canonical form with provenance "unverified" (whatever the manifest
claimed, kept under ``source.submission``), under a run id no other run uses: a clash with a
different run gets a fresh suffix; the very same run submitted twice is refused.
:func:`leaderboard.submissions.save.store_submission` writes it. Every rejection says what to fix.
"""

from __future__ import annotations

import json
import logging
import math
import re
import secrets
import stat
import zipfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from leaderboard.benchmarks import Benchmark, BenchmarkError, get_benchmark
from leaderboard.schema import MODES, PROVENANCE_UNVERIFIED, SUBSETS
from leaderboard.store.format import (
    JUDGMENTS_NAME,
    MANIFEST_NAME,
    MAX_RUN_ID_LENGTH,
    SCHEMA_VERSION,
    Judgment,
    Manifest,
    RunFormatError,
    strict_json,
    utc_now,
)
from leaderboard.store.read import Run, check_against_labels, find_run_dirs, records_frame
from leaderboard.submissions.scorable import labels_of, split_refusal

logger = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 20 * 2**20
RUN_FILES: tuple[str, ...] = (MANIFEST_NAME, JUDGMENTS_NAME)
_IGNORED_MEMBERS = re.compile(r"(^|/)(__MACOSX/|\.DS_Store$)")
_MAX_LISTED = 8
_RECORD_KEYS = frozenset(
    ("item_id", "dataset", "verdict", "unscored_reason", "probabilities", "swap", "consistency", "latency_s")
)
#: What reading a damaged archive raises: zipfile's own error, and those of the decompressors and
#: the file under it (a member whose stored size or CRC lies, truncated data, an unknown method).
_DAMAGED_ZIP = (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, NotImplementedError, RuntimeError)


@dataclass(frozen=True)
class SubmissionResult:
    """The verdict on an upload.

    Attributes:
        ok: Whether the run can be stored.
        errors: Why not (each says what to fix); empty when ok.
        warnings: Accepted, but worth saying (renamed run id, ignored fields, ...).
        manifest: The manifest to store (provenance unverified, final run id), when ok.
        judgments: The judgments to store, canonical form, when ok.
        original_run_id: The run id the upload asked for.
    """

    ok: bool
    errors: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    manifest: Manifest | None = None
    judgments: tuple[Judgment, ...] = ()
    original_run_id: str | None = None

    @property
    def run_id(self) -> str | None:
        """The run id it will be stored under."""
        return self.manifest.run_id if self.manifest else None

    @property
    def message(self) -> str:
        """Text for the UI: what happened and what to do."""
        if not self.ok:
            return "Submission rejected:\n" + "\n".join(f"- {e}" for e in self.errors)
        lines = [f"Accepted run {self.run_id}: {len(self.judgments)} judgments, shown as {PROVENANCE_UNVERIFIED!r}."]
        lines.extend(f"- {w}" for w in self.warnings)
        return "\n".join(lines)


def _reject(*errors: str, original: str | None = None) -> SubmissionResult:
    return SubmissionResult(False, tuple(errors), original_run_id=original)


def _listed(problems: Sequence[str], what: str) -> list[str]:
    shown = list(problems[:_MAX_LISTED])
    if len(problems) > _MAX_LISTED:
        shown.append(f"... and {len(problems) - _MAX_LISTED} more {what}")
    return shown


# --------------------------------------------------------------------------- reading the upload


def _member_problem(info: zipfile.ZipInfo) -> str:
    name = info.filename
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        return f"{name!r} is a symbolic link; zip the files themselves"
    if "\\" in name or name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        return f"{name!r} has an absolute or Windows path; zip the files with relative paths"
    if ".." in name.split("/"):
        return f"{name!r} points outside the archive ('..'); zip the files with plain relative paths"
    if info.flag_bits & 0x1:
        return f"{name!r} is encrypted; upload an archive without a password"
    return ""


def _read_zip(path: Path, max_bytes: int) -> tuple[dict[str, bytes], list[str]]:
    try:
        archive = zipfile.ZipFile(path)
    except _DAMAGED_ZIP as exc:
        return {}, [f"{path.name} is not a readable zip archive ({exc}); zip manifest.json and judgments.jsonl"]
    files: dict[str, bytes] = {}
    with archive:
        infos = [i for i in archive.infolist() if not _IGNORED_MEMBERS.search(i.filename)]
        problems = [p for p in (_member_problem(i) for i in infos) if p]
        if problems:
            return {}, problems
        members = [i for i in infos if not i.is_dir()]
        total = sum(i.file_size for i in members)
        if total > max_bytes:
            return {}, [f"the archive unpacks to {total:,} bytes, more than the {max_bytes:,} allowed"]
        names = [i.filename for i in members]
        folders = {n.rsplit("/", 1)[0] if "/" in n else "" for n in names}
        basenames = sorted(n.rsplit("/", 1)[-1] for n in names)
        if basenames != sorted(RUN_FILES) or len(folders) != 1:
            return {}, [
                f"the archive must hold exactly {MANIFEST_NAME} and {JUDGMENTS_NAME}, side by side "
                f"(at the top or in one folder); it holds: {', '.join(names) or 'nothing'}"
            ]
        for info in members:
            try:
                with archive.open(info) as handle:
                    data = handle.read(max_bytes + 1)  # a member lying about its size cannot get past this
            except _DAMAGED_ZIP as exc:  # a size or CRC that lies, truncated or corrupt data
                return {}, [
                    f"{info.filename} in {path.name} is damaged ({exc or type(exc).__name__}); "
                    "zip manifest.json and judgments.jsonl again and upload the new archive"
                ]
            if len(data) > max_bytes:
                return {}, [f"{info.filename} unpacks to more than the {max_bytes:,} bytes allowed"]
            files[info.filename.rsplit("/", 1)[-1]] = data
    return files, []


def _read_upload(paths_or_zip: Any, max_bytes: int) -> tuple[dict[str, bytes], list[str]]:
    """The two run files' bytes from a zip, a folder or a list of files."""
    if isinstance(paths_or_zip, (str, Path)):
        paths = [Path(paths_or_zip)]
    else:
        paths = [Path(p) for p in paths_or_zip or () if p]
    if not paths:
        return {}, [f"nothing uploaded; upload {MANIFEST_NAME} and {JUDGMENTS_NAME}, or a zip of both"]
    missing = [p.name for p in paths if not p.exists()]
    if missing:
        return {}, [f"uploaded file(s) not found: {', '.join(missing)}; upload again"]
    if len(paths) == 1 and paths[0].is_dir():
        paths = [paths[0] / name for name in RUN_FILES if (paths[0] / name).is_file()]
    links = [p.name for p in paths if p.is_symlink()]
    if links:
        return {}, [f"symbolic links are not accepted: {', '.join(links)}"]
    size = sum(p.stat().st_size for p in paths)
    if size > max_bytes:
        return {}, [f"the upload is {size:,} bytes, more than the {max_bytes:,} allowed"]
    if len(paths) == 1 and zipfile.is_zipfile(paths[0]):
        return _read_zip(paths[0], max_bytes)
    files: dict[str, bytes] = {}
    for path in paths:
        name = (
            path.name
            if path.name in RUN_FILES
            else {".json": MANIFEST_NAME, ".jsonl": JUDGMENTS_NAME}.get(path.suffix.lower())
        )
        if name is None or name in files:
            return {}, [
                f"cannot tell what {path.name} is; upload exactly {MANIFEST_NAME} and {JUDGMENTS_NAME} (or a zip of both)"
            ]
        try:
            files[name] = path.read_bytes()
        except OSError as exc:
            return {}, [f"{path.name} cannot be read ({exc.strerror or exc}); upload it again"]
    absent = [n for n in RUN_FILES if n not in files]
    if absent:
        return {}, [f"{', '.join(absent)} missing; upload both {MANIFEST_NAME} and {JUDGMENTS_NAME}"]
    return files, []


# --------------------------------------------------------------------------- checking the contents


def _manifest(data: bytes) -> tuple[Manifest | None, dict, dict, list[str]]:
    """The manifest of an upload (None when it is not valid), its raw JSON, what it claimed, and every problem."""
    try:
        raw = strict_json(data.decode("utf-8"), MANIFEST_NAME)
    except UnicodeDecodeError as exc:
        return None, {}, {}, [f"{MANIFEST_NAME} is not UTF-8 text ({exc.reason} at byte {exc.start}); save it as UTF-8"]
    except RunFormatError as exc:
        return None, {}, {}, [str(exc)]
    if not isinstance(raw, dict):
        return None, {}, {}, [f"{MANIFEST_NAME} must hold one JSON object"]
    claimed = {"claimed_provenance": raw.get("provenance")}
    # The upload cannot choose its provenance: checked with the unverified one it will be stored with.
    checked = {**raw, "provenance": PROVENANCE_UNVERIFIED}
    bench = _benchmark_of(raw)
    if bench is not None and raw.get("split") in bench.splits and raw.get("split") not in SUBSETS:
        # A runner selection (lite): the split sentence of validate_submission says what to write instead.
        checked["split"] = bench.subset_of_split(str(raw["split"]))
    try:
        manifest = Manifest.from_dict(checked)
    except (RunFormatError, TypeError, ValueError) as exc:
        return None, raw, claimed, [f"{MANIFEST_NAME}: {p}" for p in _field_problems(checked, str(exc))]
    problem = _benchmark_problem(manifest)
    if problem:
        return None, raw, claimed, [f"{MANIFEST_NAME}: {problem}"]
    return manifest, raw, claimed, []


def _benchmark_of(raw: dict) -> Benchmark | None:
    try:
        return get_benchmark(raw.get("benchmark") if isinstance(raw.get("benchmark"), str) else None)
    except BenchmarkError:
        return None


def _field_problems(checked: dict, first: str) -> list[str]:
    """Every manifest field the format refuses, not only the first (``first``: the format's own message).

    Each field is tried on its own in an otherwise valid manifest, so the format's checks (and its
    words) decide; nothing about the fields is repeated here.
    """
    probe = {
        "schema_version": SCHEMA_VERSION,
        "run_id": "probe",
        "judge": "probe",
        "mode": MODES[0],
        "provenance": PROVENANCE_UNVERIFIED,
    }
    problems = [first]
    for field in fields(Manifest):
        value = checked.get(field.name)
        if value is None:
            continue
        try:
            Manifest.from_dict({**probe, field.name: value})
        except (RunFormatError, TypeError, ValueError) as exc:
            if str(exc) not in problems:
                problems.append(str(exc))
    return problems


def _benchmark_problem(manifest: Manifest) -> str:
    """Why the registry cannot take a run of this manifest's benchmark and mode ('' when it can)."""
    try:
        bench = get_benchmark(manifest.benchmark)
    except BenchmarkError as exc:
        return f"{exc}; set 'benchmark' to one of them (or leave it out)"
    if manifest.mode not in bench.modes:
        return (
            f"benchmark {bench.name!r} has no {manifest.mode!r} items; 'mode' must be one of {', '.join(bench.modes)}"
        )
    # The split is checked against the loaded labels (scorable.split_refusal), not the registry.
    return ""


def _records(data: bytes) -> tuple[list[tuple[int, dict]], list[str], set[str]]:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return [], [f"{JUDGMENTS_NAME} is not UTF-8 text ({exc})"], set()
    records: list[tuple[int, dict]] = []
    problems: list[str] = []
    extra: set[str] = set()
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            rec = strict_json(line, f"{JUDGMENTS_NAME} line {number}")
        except RunFormatError as exc:
            problems.append(str(exc))
            continue
        if not isinstance(rec, dict):
            problems.append(f"{JUDGMENTS_NAME} line {number}: not a JSON object")
            continue
        extra.update(set(rec) - _RECORD_KEYS)
        records.append((number, rec))
    return records, problems, extra


def _judgments(records: list[tuple[int, dict]], kept: Any, datasets: dict[str, str]) -> tuple[Judgment, ...]:
    by_line = dict(records)
    out = []
    for line, verdict, reason in zip(kept["line"], kept["verdict"], kept["unscored_reason"], strict=True):
        rec = by_line[int(line)]
        item = str(rec["item_id"])
        out.append(
            Judgment(
                item_id=item,
                dataset=rec["dataset"] if isinstance(rec.get("dataset"), str) else datasets.get(item, ""),
                verdict=verdict,
                unscored_reason=reason,
                probabilities=rec.get("probabilities") if isinstance(rec.get("probabilities"), dict) else None,
                swap=rec.get("swap") if isinstance(rec.get("swap"), dict) else None,
                consistency=rec.get("consistency") if isinstance(rec.get("consistency"), dict) else None,
                latency_s=_seconds(rec.get("latency_s")),
            )
        )
    return tuple(out)


def _seconds(value: object) -> float | None:
    """A latency as stored: a finite, non-negative number of seconds, else unknown (None)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        seconds = float(value)
    except OverflowError:  # a 400-digit integer
        return None
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


def existing_runs(sources: str | Path | Sequence[str | Path] | None) -> dict[str, Path]:
    """Run id -> folder for every run under ``sources`` (manifests that cannot be read are skipped)."""
    if sources is None:
        return {}
    paths = [sources] if isinstance(sources, (str, Path)) else list(sources)
    found: dict[str, Path] = {}
    for source in paths:
        if not Path(source).exists():
            continue
        for run_dir in find_run_dirs(source):
            found.setdefault(run_dir.name, run_dir)
            try:
                run_id = json.loads((run_dir / MANIFEST_NAME).read_text(encoding="utf-8")).get("run_id")
            except (OSError, ValueError, AttributeError, RecursionError):
                continue
            if isinstance(run_id, str):
                found.setdefault(run_id, run_dir)
    return found


def _same_judgments(run_dir: Path, judgments: tuple[Judgment, ...]) -> bool:
    try:
        stored = (run_dir / JUDGMENTS_NAME).read_text(encoding="utf-8")
    except OSError:
        return False
    return stored == "".join(j.to_json_line() + "\n" for j in judgments)


def validate_submission(
    paths_or_zip: str | Path | Sequence[str | Path] | None,
    benchmark_labels: Any,
    existing_runs_dir: str | Path | Sequence[str | Path] | None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> SubmissionResult:
    """Check an uploaded run.

    Args:
        paths_or_zip: The uploaded files (manifest.json and judgments.jsonl), or one zip of both,
            or a run folder.
        benchmark_labels: The label table (:mod:`leaderboard.store.labels`) the ids are checked against.
        existing_runs_dir: Folder(s) of the runs already shown, for run id collisions.
        max_bytes: Largest accepted upload (and unpacked size).

    Returns:
        The result; ``errors`` lists every reason for a rejection.
    """
    files, problems = _read_upload(paths_or_zip, max_bytes)
    if problems:
        return _reject(*problems)
    # Every problem of the upload is collected, so that one round of fixes is enough.
    manifest, raw, claimed, errors = _manifest(files[MANIFEST_NAME])
    original = manifest.run_id if manifest else (raw.get("run_id") if isinstance(raw.get("run_id"), str) else None)
    records, problems, extra = _records(files[JUDGMENTS_NAME])
    errors += _listed(problems, "bad lines")
    if not records and not problems:
        errors.append(f"{JUDGMENTS_NAME} holds no judgments")
    labels = benchmark_labels
    if labels is None or not len(labels):
        errors.append("the benchmark labels are not loaded, so item ids cannot be checked; try again later")
        return _reject(*errors, original=original)
    if manifest is None:
        return _reject(*errors, original=original)
    bench = get_benchmark(manifest.benchmark)
    split = raw.get("split", manifest.split) if isinstance(raw.get("split", manifest.split), str) else manifest.split
    refusal = split_refusal(labels, bench, manifest.mode, split)
    if refusal:
        errors.append(f"{MANIFEST_NAME}: {refusal}")
        return _reject(*errors, original=original)
    own = labels_of(labels, bench.name)
    frame, load_problems = records_frame(manifest.mode, records, JUDGMENTS_NAME)
    # A missing dataset name is filled in from the labels; every other problem rejects the upload.
    found = [str(p) for p in load_problems if not p.reason.startswith("record has no dataset")]
    run = Run(manifest, frame, Path("upload"))
    found += [str(p) for p in check_against_labels(run, own)]
    errors += _listed(found, "problems")
    if errors:
        return _reject(*errors, original=original)
    rows = own[(own["mode"] == manifest.mode) & (own["subset"] == manifest.split)]
    judgments = _judgments(records, run.records, dict(zip(rows["item_id"], rows["dataset"], strict=True)))
    warnings = []
    if extra:
        warnings.append(f"fields not in the run format were dropped: {', '.join(sorted(extra))}")
    taken = existing_runs(existing_runs_dir)
    run_id = manifest.run_id
    if run_id in taken:
        if _same_judgments(taken[run_id], judgments):
            return _reject(f"this run is already on the leaderboard as {run_id!r}; nothing to do", original=original)
        base = manifest.run_id[: MAX_RUN_ID_LENGTH - len("-sub-000000")]
        while run_id in taken:
            run_id = f"{base}-sub-{secrets.token_hex(3)}"
        warnings.append(f"run id {manifest.run_id!r} is taken by another run; stored as {run_id!r}")
    source = dict(manifest.source)
    source["submission"] = {"submitted_at": utc_now(), "original_run_id": original, **claimed}
    final = Manifest.from_dict({**manifest.to_dict(), "run_id": run_id, "source": source})
    return SubmissionResult(True, (), tuple(warnings), final, judgments, original)
