"""Uploads for the "Submit a run" tests, built from the embedded runs (so their item ids are real).

Usage::

    manifest, judgments = submission(tmp_path, "my-run", "My-Judge")
    submit_run([manifest, judgments], store, settings)
"""

from __future__ import annotations

import json
import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path

from leaderboard.store.format import JUDGMENTS_NAME, MANIFEST_NAME
from leaderboard.store.sources import default_assets_dir

EMBEDDED_RUN = "mllmj-hq-pair-gpt-4v"


def submission(
    folder: Path,
    run_id: str,
    judge: str,
    *,
    source: str = EMBEDDED_RUN,
    edit_lines: Callable[[list[str]], list[str]] | None = None,
) -> list[Path]:
    """Copy an embedded run to ``folder/run_id`` under a new run id and judge name.

    Args:
        folder: Where to write (a test's tmp folder; never assets/).
        run_id: The new run id.
        judge: The new judge name.
        source: The embedded run to copy.
        edit_lines: Changes the judgments' lines (to make a bad upload).

    Returns:
        The paths of manifest.json and judgments.jsonl, in that order.
    """
    origin = default_assets_dir() / "runs" / source
    target = folder / run_id
    target.mkdir(parents=True, exist_ok=False)
    manifest = json.loads((origin / MANIFEST_NAME).read_text(encoding="utf-8"))
    manifest.update(run_id=run_id, judge=judge, provenance="run with this project", backend="openai")
    (target / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    if edit_lines is None:
        shutil.copyfile(origin / JUDGMENTS_NAME, target / JUDGMENTS_NAME)
    else:
        lines = (origin / JUDGMENTS_NAME).read_text(encoding="utf-8").splitlines()
        (target / JUDGMENTS_NAME).write_text("".join(f"{line}\n" for line in edit_lines(lines)), encoding="utf-8")
    return [target / MANIFEST_NAME, target / JUDGMENTS_NAME]


def zipped(path: Path, members: dict[str, bytes]) -> Path:
    """A zip at ``path`` holding ``members`` (name -> bytes), names written as given."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def lying_zip(path: Path, members: dict[str, bytes], liar: str, lie: str) -> Path:
    """A zip of ``members`` whose central directory lies about member ``liar``.

    Args:
        path: Where to write the archive.
        members: Name -> bytes.
        liar: The member whose record is falsified.
        lie: ``"crc"`` (its CRC-32 is wrong) or ``"size"`` (its uncompressed size is 10 bytes short).

    Returns:
        ``path``. :mod:`zipfile` opens it without complaint; reading the member raises BadZipFile.
    """
    zipped(path, members)
    data = bytearray(path.read_bytes())
    name = liar.encode()
    at = data.find(b"PK\x01\x02")
    while at != -1:
        name_length = int.from_bytes(data[at + 28 : at + 30], "little")
        if bytes(data[at + 46 : at + 46 + name_length]) == name:
            break
        at = data.find(b"PK\x01\x02", at + 4)
    if at == -1:
        raise ValueError(f"{liar} is not in the archive")
    if lie == "crc":
        crc = int.from_bytes(data[at + 16 : at + 20], "little")
        data[at + 16 : at + 20] = (crc ^ 0xFFFF).to_bytes(4, "little")
    elif lie == "size":
        size = int.from_bytes(data[at + 24 : at + 28], "little")
        data[at + 24 : at + 28] = max(0, size - 10).to_bytes(4, "little")
    else:
        raise ValueError(f"lie must be 'crc' or 'size', not {lie!r}")
    path.write_bytes(bytes(data))
    return path


def nested_json(depth: int) -> str:
    """A JSON object nested ``depth`` levels deep: ``{"a":{"a":...}}`` (a parser's recursion bomb)."""
    return '{"a":' * depth + "1" + "}" * depth
