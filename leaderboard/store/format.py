"""The stored-run format: its types and its version rule, nothing that reads or writes files.

:mod:`~leaderboard.store.read` and :mod:`~leaderboard.store.write` both depend on this module and
never on each other. To change the format, change it here and bump :data:`SCHEMA_VERSION`.

A run lives in a folder ``<root>/runs/<run_id>/`` with two files:

``manifest.json``
    ``schema_version`` (int, currently 1), ``run_id``, ``judge`` (display name), ``backend``,
    ``model_id``, ``mode`` (score | pair | batch), ``template`` and ``template_version`` (the prompt),
    ``setting`` (no-cot, cot-figure, ...), ``benchmark`` (a name in :mod:`leaderboard.benchmarks`;
    "mllm-as-a-judge" when absent, as in every run stored before benchmarks had names), ``split`` (all | hq |
    hard: which label rows the run is joined with), ``sampling`` (temperature, top_p, ...),
    ``created_at`` (ISO 8601 UTC), ``code_version``, ``provenance`` ("imported from the released
    data" | "run with this project"), optional ``source`` and ``notes``.

``judgments.jsonl``
    One object per judged item: ``item_id`` (string), ``dataset`` (source dataset as the data
    spells it), ``verdict`` (score: int 1..5; pair: "A" | "B" | "tie"; batch: letters best-first,
    e.g. "CADB"; null when unscored), ``unscored_reason`` (why the verdict is null), and when known
    ``probabilities`` (a VerdictDistribution as a dict), ``swap`` (a SwapOutcome as a dict),
    ``consistency`` (a ConsistencyOutcome as a dict), ``latency_s``.

Every manifest field has its type (strings, ``sampling`` and ``source`` JSON objects nesting at most
:data:`MAX_MANIFEST_DEPTH` levels, ``schema_version`` a whole number), checked on every load; a run id
is a safe folder name (no leading dot, at most :data:`MAX_RUN_ID_LENGTH` characters). Lines are
standard JSON: NaN and Infinity are written as null. :func:`strict_json` is the parser for uploads.

Human labels are not stored in runs (see :mod:`leaderboard.store.labels`). Reading never stops at bad
input (:mod:`leaderboard.store.read`); writing refuses an invalid verdict
(:mod:`leaderboard.store.write`).
"""

from __future__ import annotations

import json
import logging
import math
import re
import reprlib
import secrets
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, is_dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from judges.tasks import TASKS
from leaderboard.errors import LeaderboardError
from leaderboard.schema import DEFAULT_BENCHMARK, MODES, RUN_PROVENANCES, SUBSETS

if TYPE_CHECKING:
    from judges.types import JudgeResult

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 1
SUPPORTED_SCHEMA_VERSIONS = frozenset({1})
PROVENANCES: tuple[str, ...] = RUN_PROVENANCES
MANIFEST_NAME = "manifest.json"
JUDGMENTS_NAME = "judgments.jsonl"
RECORD_COLUMNS: tuple[str, ...] = (
    "item_id",
    "dataset",
    "verdict",
    "unscored_reason",
    "line",
    "self_consistency",
    "swap_consistent",
    "latency_s",
)


class RunFormatError(LeaderboardError, ValueError):
    """A manifest or record does not follow the stored-run contract."""


def code_version() -> str:
    """A short description of the code that wrote a run: package version and git commit if any."""
    from leaderboard import __version__

    head = Path(__file__).resolve().parents[2] / ".git" / "HEAD"
    commit = ""
    try:
        ref = head.read_text().strip()
        if ref.startswith("ref: "):
            ref_file = head.parent / ref[5:]
            commit = ref_file.read_text().strip()[:12] if ref_file.exists() else ""
        else:
            commit = ref[:12]
    except OSError:
        commit = ""
    return f"leaderboard {__version__}" + (f" (git {commit})" if commit else "")


def utc_now() -> str:
    """The current time as ISO 8601 UTC with a trailing Z."""
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def slug(text: str) -> str:
    """A lowercase file-name-safe form of ``text`` ("GPT-4V" -> "gpt-4v")."""
    return re.sub(r"[^a-z0-9.]+", "-", text.lower()).strip("-") or "x"


def new_run_id(judge: str, mode: str, setting: str) -> str:
    """A fresh, unique run id for a run made with this project.

    Args:
        judge: The judge's name.
        mode: score, pair or batch.
        setting: The prompt setting.

    Returns:
        e.g. ``gpt-4o-pair-no-cot-20260101T120000Z-3fa2``.
    """
    stamp = utc_now().replace("-", "").replace(":", "")
    # A run id must not start with a dot (see _manifest_problem); a judge named ".x" is rare but possible.
    return f"{slug(judge).lstrip('.') or 'x'}-{mode}-{slug(setting)}-{stamp}-{secrets.token_hex(2)}"


# --------------------------------------------------------------------------- strict JSON

#: Most levels of objects and lists one uploaded JSON value may nest (a runner's manifest nests 5,
#: a judgment 3).
MAX_JSON_DEPTH = 32


def _refuse_constant(name: str) -> float:
    raise RunFormatError(f"{name} is not a JSON number; write null for an unknown value")


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise RunFormatError(f"{text[:40]} is too large for a number; write a smaller value or null")
    return number


def strict_json(text: str | bytes, what: str) -> Any:
    """Parse ``text`` as standard JSON only: no NaN or Infinity, no number beyond a float's range,
    at most :data:`MAX_JSON_DEPTH` levels of nesting.

    Python's own parser takes ``NaN`` and ``Infinity`` as numbers, reads ``1e400`` as infinity and
    fails with a RecursionError on deep nesting; uploads are refused for all three, said plainly.

    Args:
        text: The JSON text.
        what: How to name it in a message ("manifest.json", "judgments.jsonl line 3").

    Raises:
        RunFormatError: Not valid JSON, or one of the cases above; the message says what to fix.
    """
    try:
        value = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    except RunFormatError as exc:
        raise RunFormatError(f"{what}: {exc}") from None
    except RecursionError:
        raise RunFormatError(
            f"{what}: JSON nested far too deeply to read (at most {MAX_JSON_DEPTH} levels are expected); "
            "write flat objects"
        ) from None
    except ValueError as exc:  # JSONDecodeError, bad UTF-8, a number too long to convert
        raise RunFormatError(
            f"{what}: not valid JSON ({getattr(exc, 'msg', exc)}); check it with a JSON validator"
        ) from None
    if nesting_depth(value, MAX_JSON_DEPTH) > MAX_JSON_DEPTH:
        raise RunFormatError(f"{what}: JSON nested more than {MAX_JSON_DEPTH} levels deep; write flat objects")
    return value


# --------------------------------------------------------------------------- manifest


@dataclass(frozen=True)
class Manifest:
    """What a run is: who judged, how, on what. Written once as ``manifest.json``.

    Attributes:
        run_id: Unique id; also the run's folder name.
        judge: Display name of the judge ("GPT-4V").
        mode: score, pair or batch.
        provenance: "imported from the released data", "run with this project", or "unverified submission"
            (uploaded through the Space).
        split: Benchmark subset whose labels the run is joined with: all, hq or hard.
        benchmark: The benchmark judged, a name in :mod:`leaderboard.benchmarks` (default when absent).
        backend: Transport ("openai_compat", "hf_local", "released-data").
        model_id: The model as the backend names it.
        template: Prompt template name.
        template_version: Prompt template version.
        setting: Prompt setting (no-cot, cot-figure, answer-first, no-figure, vision-expert, ...).
        sampling: Decoding parameters (temperature, top_p, samples, ...).
        created_at: ISO 8601 UTC.
        code_version: The code that wrote the run.
        source: Where the judgments came from (files, fields) for imported runs.
        notes: Free-text caveats.
        schema_version: Version of this contract.
    """

    run_id: str
    judge: str
    mode: str
    provenance: str
    split: str = "all"
    benchmark: str = DEFAULT_BENCHMARK
    backend: str = ""
    model_id: str = ""
    template: str = ""
    template_version: str = ""
    setting: str = "no-cot"
    sampling: Mapping[str, Any] = field(default_factory=dict)
    created_at: str = ""
    code_version: str = ""
    source: Mapping[str, Any] = field(default_factory=dict)
    notes: str = ""
    schema_version: int = SCHEMA_VERSION

    def __post_init__(self) -> None:
        problem = _manifest_problem(self)
        if problem:
            raise RunFormatError(problem)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict with ``schema_version`` first."""
        out: dict[str, Any] = {"schema_version": self.schema_version}
        out.update({f.name: getattr(self, f.name) for f in fields(self) if f.name != "schema_version"})
        out["sampling"] = dict(self.sampling)
        out["source"] = dict(self.source)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Manifest:
        """Build a manifest from its JSON form, checking the schema version first.

        Raises:
            RunFormatError: Unknown schema version, missing required key or invalid value; the
                message says what to change.
        """
        if not isinstance(data, Mapping):
            raise RunFormatError(f"manifest.json must hold a JSON object, not {_kind(data)}")
        version = data.get("schema_version")
        if type(version) is not int:
            raise RunFormatError(
                f"schema_version must be a whole number (this code reads {sorted(SUPPORTED_SCHEMA_VERSIONS)}), "
                f"not {_kind(version)} ({_shown(version)}); fix it in manifest.json"
            )
        if version not in SUPPORTED_SCHEMA_VERSIONS:
            raise RunFormatError(
                f"schema_version {_shown(version)} is not supported (this code reads "
                f"{sorted(SUPPORTED_SCHEMA_VERSIONS)}); upgrade the leaderboard package or re-create "
                "the run with this version"
            )
        known = {f.name for f in fields(cls)}
        missing = [k for k in _REQUIRED if data.get(k) is None or data.get(k) == ""]
        if missing:
            raise RunFormatError(f"manifest lacks {', '.join(missing)}; add them (see leaderboard/store/format.py)")
        unknown = sorted(str(k) for k in set(data) - known)
        if unknown:
            logger.debug("manifest keys ignored: %s", unknown)
        kwargs = {k: data[k] for k in known if k in data and data[k] is not None}
        return cls(**kwargs)


_REQUIRED = ("run_id", "judge", "mode", "provenance")
#: Most levels of objects and lists a manifest's ``sampling`` or ``source`` may nest (the richest
#: stored today nests 2); a deeper one is refused on load before anything recurses into it.
MAX_MANIFEST_DEPTH = 16
#: Longest run id: it is a folder name (255 bytes on common file systems) and may get a suffix.
MAX_RUN_ID_LENGTH = 200
_RUN_ID = re.compile(r"[A-Za-z0-9_~-][A-Za-z0-9._~-]*")


def _kind(value: object) -> str:
    """How a JSON value reads to a person: 'a list', 'a number', ..."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, Mapping):
        return "an object"
    return f"a {type(value).__name__}"


_SHORT = reprlib.Repr()
_SHORT.maxlevel, _SHORT.maxlist, _SHORT.maxdict, _SHORT.maxstring, _SHORT.maxother = 2, 4, 4, 40, 40


def _shown(value: object) -> str:
    """``value`` for a message, cut short: a hostile file can hold megabytes, or a 4000-digit
    number, in one field."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 128:
        return "a number with more than 38 digits"
    return _SHORT.repr(value)


def nesting_depth(value: object, limit: int) -> int:
    """How many levels of objects and lists ``value`` nests, counted up to ``limit + 1`` at most.

    Iterative, so a hostile value cannot exhaust the stack; it stops as soon as ``limit`` is passed.
    """
    deepest = 0
    stack: list[tuple[object, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, Mapping):
            children: Any = item.values()
        elif isinstance(item, (list, tuple)):
            children = item
        else:
            continue
        depth += 1
        deepest = max(deepest, depth)
        if deepest > limit:
            return deepest
        stack.extend((child, depth) for child in children)
    return deepest


def _field_problem(m: Manifest) -> str:
    """The first field whose type is wrong, said plainly ('' when every field has its type)."""
    for f in fields(m):
        value = getattr(m, f.name)
        if f.name == "schema_version":
            ok = type(value) is int
            want = "a whole number"
        elif f.name in ("sampling", "source"):
            ok = isinstance(value, Mapping) and all(isinstance(k, str) for k in value)
            want = "a JSON object"
        else:
            ok = isinstance(value, str)
            want = "a string"
        if not ok:
            return f"{f.name} must be {want}, not {_kind(value)} ({_shown(value)}); fix it in manifest.json"
        if f.name in ("sampling", "source") and nesting_depth(value, MAX_MANIFEST_DEPTH) > MAX_MANIFEST_DEPTH:
            return (
                f"{f.name} nests more than {MAX_MANIFEST_DEPTH} levels of objects and lists; "
                "keep it to a few flat entries"
            )
    return ""


def _manifest_problem(m: Manifest) -> str:
    typed = _field_problem(m)
    if typed:
        return typed
    if m.schema_version not in SUPPORTED_SCHEMA_VERSIONS:
        return f"schema_version {m.schema_version!r} is not supported"
    if m.mode not in MODES:
        return f"mode {m.mode!r} is not one of {', '.join(MODES)}"
    if m.provenance not in PROVENANCES:
        return f"provenance {m.provenance!r} must be one of: {'; '.join(PROVENANCES)}"
    if m.split not in SUBSETS:
        return f"split {m.split!r} is not one of {', '.join(SUBSETS)}"
    if not _RUN_ID.fullmatch(m.run_id) or len(m.run_id) > MAX_RUN_ID_LENGTH:
        # A leading dot would make "." and ".." (this folder, the parent) or a hidden folder.
        return (
            f"run_id {_shown(m.run_id)} may use only letters, digits and . _ ~ -, must not start "
            f"with a dot and may be at most {MAX_RUN_ID_LENGTH} characters long"
        )
    return ""


# --------------------------------------------------------------------------- judgments


def verdict_problem(mode: str, verdict: object, n_responses: int | None = None) -> str:
    """Why a stored verdict is not valid for ``mode`` ('' when it is valid, or null).

    Args:
        mode: A registered task (its verdict shape decides, see :mod:`judges.verdicts`).
        verdict: The stored verdict.
        n_responses: The number of responses the item has (a ranking must rank them all).

    Returns:
        An empty string or a reason.
    """
    kind = TASKS.get(mode)
    if kind is None:
        return f"unknown mode {mode!r}"
    return kind.verdicts.stored_problem(verdict, n_responses)


def _plain(value: Any) -> Any:
    if value is None:
        return None
    if is_dataclass(value) and not isinstance(value, type):
        value = asdict(value)
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None  # NaN and Infinity are not JSON; "unknown" is what they mean here
    return value


@dataclass(frozen=True)
class Judgment:
    """One line of ``judgments.jsonl``.

    Attributes:
        item_id: The benchmark item (score_id / pair_id / batch id) as a string.
        dataset: Source dataset as the data spells it.
        verdict: int 1..5, "A"/"B"/"tie", ranking string best-first, or None when unscored.
        unscored_reason: Why the verdict is None.
        probabilities: Verdict probabilities when known.
        swap: Pair judged in both orders, when done.
        consistency: Several samples of the same judgment, when done.
        latency_s: Wall time of the judgment.
        details: A structured task's parts (per-criterion verdicts, checks, steps ...), as the
            judge result's ``details``; the key is left out of the line when there are none.
    """

    item_id: str
    dataset: str
    verdict: int | str | None
    unscored_reason: str | None = None
    probabilities: Mapping[str, Any] | None = None
    swap: Mapping[str, Any] | None = None
    consistency: Mapping[str, Any] | None = None
    latency_s: float | None = None
    details: Mapping[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of this line."""
        return {
            "item_id": str(self.item_id),
            "dataset": self.dataset,
            "verdict": self.verdict,
            "unscored_reason": self.unscored_reason,
            "probabilities": _plain(self.probabilities),
            "swap": _plain(self.swap),
            "consistency": _plain(self.consistency),
            "latency_s": _plain(self.latency_s),
            # Only structured tasks have details; other lines stay as they always were.
            **({"details": _plain(self.details)} if self.details is not None else {}),
        }

    def to_json_line(self) -> str:
        """One line of JSON, no trailing newline (standard JSON: never NaN or Infinity).

        Raises:
            ValueError: A value JSON cannot hold (nested too deeply, a number out of range).
        """
        return json.dumps(self.to_dict(), ensure_ascii=True, separators=(",", ":"), allow_nan=False)

    @classmethod
    def from_judge_result(cls, item_id: str, dataset: str, result: JudgeResult) -> Judgment:
        """Build a line from a ``judges.types.JudgeResult`` (the runner's path).

        Args:
            item_id: The benchmark item.
            dataset: Its source dataset.
            result: A JudgeResult.

        Returns:
            The judgment, with a batch ranking tuple turned into a string.
        """
        verdict = result.verdict
        if isinstance(verdict, tuple):
            verdict = "".join(verdict)
        return cls(
            item_id=str(item_id),
            dataset=dataset,
            verdict=verdict if result.parsed else None,
            unscored_reason=None if result.parsed else (result.reason or "unparsed output"),
            probabilities=_plain(result.probabilities),
            swap=_plain(result.swap),
            consistency=_plain(result.consistency),
            latency_s=result.latency_s,
            details=_plain(result.details),
        )
