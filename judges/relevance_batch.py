"""``python -m judges relevance``: candidate relevance scores for many queries, streamed to a JSONL file.

For data pipelines (UniME-V2's hard-negative mining): each line of ``--queries`` is one query::

    {"id": "q1", "query": "a red bus", "image": "q1.jpg",
     "candidates": ["a bus on a street", {"text": "a cat", "image": "c2.jpg"}, {"image": "c3.jpg"}],
     "positive": 1}

``image`` (optional) is the query image; a candidate is a text, or an object with ``text`` and/or
``image``; image paths are relative to the queries file; ``positive`` is 1-based (optional); ``id``
defaults to ``line-N``. Each output line holds the query's ``id``, ``scores``, ``ranking``
and, with a positive, ``false_negatives``, ``hard_negatives``, ``positive_rank``,
``reciprocal_rank``, ``hit_at_1`` (see :mod:`judges.tasks.relevance`).

Resumable like the benchmark runner: ids already in ``--out`` are skipped, a line cut off by a kill
is dropped before appending, and every line is written with one ``write`` call, unbuffered, so a
kill loses at most the queries being judged. A query that is bad input is written with an
``error`` (it would fail again); a backend failure is not written, so a re-run retries it.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from judges.errors import BadInput, ConfigError, JudgeError, redact

log = logging.getLogger(__name__)

#: Queries judged per call: their probes go to the backend together.
DEFAULT_CHUNK = 4
#: Longest accepted line of the queries file.
MAX_LINE_BYTES = 1 << 20


@dataclass
class BatchSummary:
    """What one batch run did."""

    written: int = 0
    skipped: int = 0
    bad: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


def done_ids(out: Path) -> set[str]:
    """Ids already in ``out``; a last line cut off mid-write is removed from the file first."""
    if not out.exists():
        return set()
    data = out.read_bytes()
    end = data.rfind(b"\n") + 1
    if end < len(data):
        log.info("dropping a cut-off last line of %s (%d bytes)", out, len(data) - end)
        with out.open("r+b") as handle:
            handle.truncate(end)
        data = data[:end]
    ids = set()
    for line in data.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and isinstance(record.get("id"), str):
            ids.add(record["id"])
    return ids


def read_queries(path: Path) -> Iterator[tuple[str, dict[str, Any] | None, str]]:
    """``(id, query, problem)`` per line; ``query`` is None (and ``problem`` says why) for a bad line."""
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, 1):
            if not raw.strip():
                continue
            default_id = f"line-{number}"
            if len(raw) > MAX_LINE_BYTES:
                yield default_id, None, f"line {number} is over {MAX_LINE_BYTES} bytes"
                continue
            try:
                record = json.loads(raw)
            except ValueError as exc:
                yield default_id, None, f"line {number} is not JSON ({exc})"
                continue
            if not isinstance(record, dict):
                yield default_id, None, f"line {number} is not a JSON object"
                continue
            query_id = record.get("id", default_id)
            yield str(query_id), record, ""


def make_query_task(record: dict[str, Any], base: Path, extra: dict[str, Any]) -> Any:
    """The relevance task of one query line.

    Raises:
        BadInput: The line does not describe a query with candidates.
    """
    from judges.tasks import get_task

    candidates = record.get("candidates")
    if not isinstance(candidates, list):
        raise BadInput('"candidates" must be a list of texts or {"text", "image"} objects')
    texts: list[str] = []
    images: list[Path] = []
    for i, candidate in enumerate(candidates, 1):
        if isinstance(candidate, str):
            candidate = {"text": candidate}
        if not isinstance(candidate, dict):
            raise BadInput(f"candidate {i} must be a text or an object with text and/or image")
        if "text" in candidate:
            texts.append(str(candidate["text"]))
        if "image" in candidate:
            images.append(base / str(candidate["image"]))
    query_image = record.get("image")
    positive = record.get("positive")
    return get_task("relevance").make_task(
        str(record.get("query") or ""),
        texts,
        [base / str(query_image)] if query_image else [],
        None,
        {**extra, "candidate_image": images or None, "positive": positive},
    )


def output_line(query_id: str, result: Any) -> dict[str, Any]:
    """The JSON object written for one judged query."""
    details = dict(result.details or {})
    keep = (
        "scores",
        "ranking",
        "positive",
        "false_negatives",
        "hard_negatives",
        "positive_rank",
        "reciprocal_rank",
        "hit_at_1",
        "reasons",
        "probe_source",
    )
    return {
        "id": query_id,
        **{key: details[key] for key in keep if key in details},
        "judge": result.judge,
        "latency_s": result.latency_s,
    }


def run_batch(
    queries: Path, out: Path, judge: Any, *, chunk: int = DEFAULT_CHUNK, extra: dict | None = None
) -> BatchSummary:
    """Score every query of ``queries`` not yet in ``out``, appending one line per query.

    Raises:
        ConfigError: The judge gives no token probabilities (before any probe is sent).
    """
    from judges.probe import prober_for

    # Refuse a judge without log-probabilities before the out file is touched (the answer is cached).
    prober_for(judge.backend, judge.task.title)
    summary = BatchSummary()
    done = done_ids(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(out, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:

        def write(record: dict[str, Any]) -> None:
            # One write call per line on an O_APPEND descriptor: a kill leaves whole lines, or a
            # cut-off last line that the next run drops.
            os.write(fd, (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8"))

        pending: list[tuple[str, Any]] = []

        def flush() -> None:
            if not pending:
                return
            results = judge.judge_many([task for _, task in pending])
            for (query_id, _), result in zip(pending, results, strict=True):
                if isinstance(result, BadInput):
                    write({"id": query_id, "error": str(result)})
                    summary.bad += 1
                elif isinstance(result, JudgeError):
                    summary.failed += 1
                    summary.errors.append(f"{query_id}: {result}")
                else:
                    write(output_line(query_id, result))
                    summary.written += 1
                done.add(query_id)
            pending.clear()

        for query_id, record, problem in read_queries(queries):
            if query_id in done or any(query_id == p for p, _ in pending):
                summary.skipped += 1
                continue
            if record is None:
                write({"id": query_id, "error": problem})
                summary.bad += 1
                done.add(query_id)
                continue
            try:
                task = make_query_task(record, queries.parent, dict(extra or {}))
            except BadInput as exc:
                write({"id": query_id, "error": str(exc)})
                summary.bad += 1
                done.add(query_id)
                continue
            pending.append((query_id, task))
            if len(pending) >= chunk:
                flush()
        flush()
    finally:
        os.close(fd)
    return summary


# --------------------------------------------------------------------------- command line


def add_parser(sub: Any) -> None:
    """Register ``relevance`` on the ``python -m judges`` sub-parsers."""
    from judges.backends.registry import backend_names

    parser = sub.add_parser("relevance", help="score query candidates for many queries (JSONL in, JSONL out)")
    parser.add_argument("--queries", required=True, type=Path, help="JSONL file, one query per line")
    parser.add_argument("--out", required=True, type=Path, help="JSONL file to append scores to (resumable)")
    who = parser.add_mutually_exclusive_group(required=True)
    who.add_argument("--judge", help="a judge from the catalog")
    who.add_argument("--model", help="a model id, with --base-url or --backend hf")
    parser.add_argument("--base-url", help="OpenAI-compatible endpoint for --model")
    parser.add_argument("--backend", choices=backend_names(), help="hf for a local model")
    parser.add_argument("--logprobs", action="store_true", help="custom endpoint: it returns log-probabilities")
    parser.add_argument("--device", default="auto", help="local judges: cuda, cpu or auto")
    parser.add_argument("--chunk", type=int, default=DEFAULT_CHUNK, help="queries whose probes are sent together")
    parser.add_argument("--beta", type=float, help="false-negative margin (default 0.01)")
    parser.add_argument("--hard-negatives", type=int, help="hard negatives per query (default 10)")
    parser.add_argument("-v", "--verbose", action="store_true")
    parser.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    """Run the batch; returns 0 when every query was written, 1 otherwise (re-run to retry)."""
    from judges.backends.catalog import build_backend, custom_spec, get_spec, local_spec
    from judges.backends.registry import get_backend
    from judges.judge import Judge, JudgeOptions
    from judges.settings import Settings

    settings = None
    try:
        settings = Settings.from_env()
        if args.chunk < 1:
            raise ConfigError(f"--chunk must be at least 1, got {args.chunk}.")
        if not args.queries.is_file():
            raise ConfigError(f"Queries file not found: {args.queries}.")
        if args.judge is not None:
            spec = get_spec(args.judge)
        elif args.base_url:
            spec = custom_spec(args.model, args.base_url, logprobs=args.logprobs, api_key_env="OPENAI_API_KEY")
        elif args.backend is not None and get_backend(args.backend).local:
            spec = local_spec(args.model, args.backend)
        else:
            spec = get_spec(args.model)
        options = {"device": args.device} if get_backend(spec.backend).local else {}
        backend = build_backend(spec, settings, **options)
        extra = {k: v for k, v in (("beta", args.beta), ("hard_negatives", args.hard_negatives)) if v is not None}
        try:
            judge = Judge(backend, "relevance", JudgeOptions(), name=spec.name)
            summary = run_batch(args.queries, args.out, judge, chunk=args.chunk, extra=extra)
        finally:
            backend.close()
    except JudgeError as exc:
        secrets = settings.secrets() if settings is not None else ()
        message = redact(str(exc) or type(exc).__name__, secrets).splitlines()[0]
        sys.stderr.write(f"error: {message}\n")
        return 1
    sys.stderr.write(
        f"relevance: {summary.written} written, {summary.skipped} already done, {summary.bad} bad input, "
        f"{summary.failed} failed (re-run to retry)\n"
    )
    for line in summary.errors[:5]:
        sys.stderr.write(f"  {line.splitlines()[0]}\n")
    return 0 if summary.failed == 0 else 1
