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
