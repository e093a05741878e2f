"""``python -m judges``: judge from the command line, without the UI.

Examples:
    python -m judges judge --mode pair --judge GPT-4o-mini --image chart.png \\
        --instruction "What does the chart show?" --response "..." --response "..."
    python -m judges judge --mode pair --model Qwen/Qwen2.5-VL-7B-Instruct --base-url http://localhost:8000/v1 ...
    python -m judges judge --mode score --backend hf --model llava-hf/llava-1.5-7b-hf ...
    python -m judges judge --mode image-pair --judge GPT-4o-mini --instruction "A red cube on a table" \\
        --image a.png --image b.png --swap --json
    python -m judges list

The judge is named as in ``python -m leaderboard run``: ``--judge NAME`` for a catalog judge, or
``--model ID`` with ``--base-url`` (any OpenAI-compatible endpoint) or ``--backend hf`` (a local
model); ``--model`` also still takes a catalog name or model id alone.

Run from the repository root (``python -m judges``), or from anywhere with the repository on
``PYTHONPATH``; the project is not an installed package.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence

from judges.backends.catalog import JudgeSpec, build_backend, custom_spec, get_spec, judge_names, local_spec
from judges.backends.registry import backend_names, get_backend
from judges.errors import ConfigError, JudgeError, redact
from judges.judge import Judge, JudgeOptions
from judges.prompts import SETTINGS, template_names
from judges.relevance_batch import add_parser as add_relevance_parser
from judges.settings import Settings
from judges.tasks import TASKS, TaskKind, get_task, task_inputs, task_names
from judges.types import JudgeResult, Sampling, text_problem


def _response_counts() -> str:
    """``score 1, pair 2, batch 2-8, image-pair none``: how many --response each task takes."""

    def count(low: int, high: int) -> str:
        return "none" if high == 0 else (str(low) if low == high else f"{low}-{high}")

    return ", ".join(f"{name} {count(kind.min_responses, kind.max_responses)}" for name, kind in TASKS.items())


def _supporting(reorder: str) -> str:
    return ", ".join(name for name, kind in TASKS.items() if kind.reorder == reorder)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for tests and ``--help``)."""
    parser = argparse.ArgumentParser(prog="python -m judges", description="Use multimodal LLMs as judges.")
    sub = parser.add_subparsers(dest="command", required=True)

    judge = sub.add_parser("judge", help="judge one task and print the verdict")
    judge.add_argument("--mode", required=True, choices=task_names())
    # Named as in ``python -m leaderboard run``: a catalog judge, or a model on an endpoint or locally.
    who = judge.add_argument_group("the judge (--judge NAME, or --model ID)")
    one_of = who.add_mutually_exclusive_group(required=True)
    one_of.add_argument("--judge", help="a judge from the catalog (python -m judges list)")
    one_of.add_argument(
        "--model", help="a model id: with --base-url or --backend hf; alone, a catalog name or model id"
    )
    who.add_argument("--base-url", help="OpenAI-compatible endpoint for --model; implies --backend openai")
    who.add_argument(
        "--backend", choices=backend_names(), help="for --model: openai with --base-url, hf for a local model"
    )
    judge.add_argument(
        "--image", action="append", default=[], help="image file (repeat for several; image-pair: A, then B)"
    )
    judge.add_argument(
        "--instruction",
        default="",
        help="what was asked: the question, the text-to-image prompt, the problem or the query (safety: optional)",
    )
    judge.add_argument("--response", action="append", default=[], help=f"a response (repeat: {_response_counts()})")
    judge.add_argument("--image-description", help="caption for the vision-expert setting")
    judge.add_argument("--setting", default="no-cot", choices=list(SETTINGS))
    judge.add_argument("--criteria", help="extra criteria or a rubric for the judge")
    judge.add_argument("--template", default="mllm-judge", choices=template_names())
    judge.add_argument("--temperature", type=float, default=Sampling.temperature)
    judge.add_argument("--top-p", type=float, default=Sampling.top_p)
    judge.add_argument("--max-tokens", type=int, default=Sampling.max_tokens)
    judge.add_argument("--seed", type=int)
    judge.add_argument("--swap", action="store_true", help=f"{_supporting('swap')}: judge both orders")
    judge.add_argument("--shuffles", type=int, default=0, help=f"{_supporting('shuffle')}: extra random orders")
    judge.add_argument("--samples", type=int, default=1, help="samples per order; majority verdict")
    judge.add_argument("--reasks", type=int, default=1, help="re-asks after an unparsable output")
    judge.add_argument("--forward", action="store_true", help="local judges: verdict from one forward pass")
    judge.add_argument("--logprobs", action="store_true", help="custom endpoint: request token log-probabilities")
    judge.add_argument("--device", default="auto", help="local judges: cuda, cpu or auto")
    judge.add_argument("--json", action="store_true", help="print one JSON object")
    judge.add_argument("-v", "--verbose", action="store_true")
    _add_task_inputs(judge)

    sub.add_parser("list", help="list judges, modes, settings and templates")
    add_relevance_parser(sub)
    return parser


_ARGPARSE_KIND: dict[str, dict] = {
    "text": {},
    "file": {"metavar": "FILE"},
    "texts": {"action": "append"},
    "files": {"action": "append", "metavar": "FILE"},
    "choice": {},
    "int": {"type": int},
    "float": {"type": float},
    "flag": {"action": "store_true", "default": None},
}


def _add_task_inputs(parser: argparse.ArgumentParser) -> None:
    """One flag per extra task input, named and described by the task that declares it."""
    group = parser.add_argument_group("task inputs (see each mode's help)")
    users: dict[str, list[str]] = {}
    for name, kind in TASKS.items():
        for spec in kind.inputs:
            users.setdefault(spec.name, []).append(name)
    for name, spec in task_inputs().items():
        options = dict(_ARGPARSE_KIND[spec.kind])
        if spec.kind == "choice":
            options["choices"] = spec.choices
        elif spec.kind != "flag":
            options.setdefault("metavar", name.upper())
        group.add_argument(spec.flag, dest=f"input_{name}", help=f"{', '.join(users[name])}: {spec.help}", **options)


def _extra_of(args: argparse.Namespace, kind: TaskKind) -> dict[str, object]:
    """The task inputs given on the command line, for ``kind``; a flag ``kind`` does not take is an error."""
    own = {spec.name for spec in kind.inputs}
    extra: dict[str, object] = {}
    for name, spec in task_inputs().items():
        value = getattr(args, f"input_{name}", None)
        if value is None:
            continue
        if name not in own:
            raise ConfigError(f"{spec.flag} does not apply to --mode {kind.name}; drop it.")
        extra[name] = value
    return extra


def _spec_for(args: argparse.Namespace) -> JudgeSpec:
    if args.judge is not None:
        given = [flag for flag, value in (("--base-url", args.base_url), ("--backend", args.backend)) if value]
        if given:
            raise ConfigError(
                f"--judge {args.judge} is a catalog judge that brings its own backend and endpoint; "
                f"drop {' and '.join(given)}, or give --model with them instead."
            )
        return get_spec(args.judge)
    if args.base_url:
        if args.backend is not None and get_backend(args.backend).local:
            raise JudgeError(f"--base-url goes with an API backend, not {args.backend}; drop --backend or --base-url.")
        return custom_spec(args.model, args.base_url, logprobs=args.logprobs, api_key_env="OPENAI_API_KEY")
    if args.backend is not None and get_backend(args.backend).local:
        return local_spec(args.model, args.backend)
    return get_spec(args.model)


_TEXT_ARGUMENTS = (
    ("--instruction", "instruction"),
    ("--criteria", "criteria"),
    ("--image-description", "image_description"),
)


def _argument_problem(args: argparse.Namespace) -> str:
    """Text arguments that are not valid UTF-8 (the shell passed raw bytes), named by their option."""
    named = [(flag, getattr(args, attr)) for flag, attr in _TEXT_ARGUMENTS]
    named += [(f"--response #{i + 1}", text) for i, text in enumerate(args.response)]
    for flag, value in named:
        problem = text_problem(flag, value) if isinstance(value, str) else ""
        if problem:
            return problem + "."
    return ""


def run_judge(args: argparse.Namespace, settings: Settings) -> JudgeResult:
    """Build the judge and the task from parsed arguments and judge once."""
    spec = _spec_for(args)
    mode = get_task(args.mode)
    task = mode.make_task(args.instruction, args.response, args.image, args.image_description, _extra_of(args, mode))
    options = JudgeOptions(
        setting=args.setting,
        criteria=args.criteria,
        template=args.template,
        sampling=Sampling(temperature=args.temperature, top_p=args.top_p, max_tokens=args.max_tokens, seed=args.seed),
        swap=args.swap,
        shuffles=args.shuffles,
        samples=args.samples,
        max_reasks=args.reasks,
        verdict_source="forward" if args.forward else "generate",
    )
    extra = {"device": args.device} if get_backend(spec.backend).local else {}
    backend = build_backend(spec, settings, **extra)
    try:
        return Judge(backend, mode, options, name=spec.name).judge(task)
    finally:
        backend.close()


def result_json(result: JudgeResult) -> dict:
    """The ``--json`` object: the result's fields with the verdict as a JSON value."""
    out = result.to_dict()
    # A structured task's parts (criteria, checks, steps ...) are top-level fields of their own.
    details = out.pop("details", None) or {}
    out.update({key: value for key, value in details.items() if key not in out})
    dist = result.probabilities
    out["probabilities"] = None if dist is None else dict(dist.probabilities)
    if dist is not None:
        out["expected_score"] = dist.expected_score
        out["confidence"] = dist.confidence
        out["probability_source"] = dist.source
    return out


def _count(n: int, noun: str) -> str:
    """``1 request``, ``3 requests``: a count with its noun in the right number."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _print_human(result: JudgeResult) -> None:
    verdict = result.verdict
    shown = " > ".join(verdict) if isinstance(verdict, tuple) else verdict
    print(f"judge:    {result.judge} ({result.mode}, {result.setting}, {result.template})")
    print(f"verdict:  {shown}" if result.parsed else f"verdict:  unscored: {result.reason}")
    if result.probabilities:
        probs = ", ".join(f"{k}: {v:.2f}" for k, v in result.probabilities.probabilities.items())
        print(f"probs:    {probs}")
    if result.swap:
        print(
            f"swap:     consistent={result.swap.consistent} (original {result.swap.original_verdict}, swapped {result.swap.swapped_verdict})"
        )
    if result.consistency:
        c = result.consistency
        agreement = "n/a" if c.agreement is None else f"{c.agreement:.0%}"
        print(f"{c.kind + ':':<9} {agreement} of {_count(len(c.verdicts), 'verdict')} agree with the majority")
    if result.details:
        # Each task lays out its own parts (a rubric's criteria table); the default is key: value lines.
        print("\n".join(get_task(result.mode).details_lines(result.details)))
    print(f"latency:  {result.latency_s:.2f} s, {_count(result.attempts, 'request')}")
    print(f"analysis: {result.analysis}")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit code (0 also when the output was unscored)."""
    args = build_parser().parse_args(argv)
    # Without -v only the one ``error:`` line speaks; retries and re-asks are logged with -v.
    logging.basicConfig(level=logging.INFO if getattr(args, "verbose", False) else logging.ERROR)
    handler = getattr(args, "handler", None)
    if handler is not None:  # a sub-command living in its own module (python -m judges relevance)
        return int(handler(args))
    if args.command == "list":
        print("judges:   " + ", ".join(judge_names()))
        print("modes:    " + ", ".join(task_names()))
        print("settings: " + ", ".join(SETTINGS))
        print("templates:" + " " + ", ".join(template_names()))
        return 0
    try:
        settings = Settings.from_env()
    except JudgeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    problem = _argument_problem(args)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    try:
        result = run_judge(args, settings)
    except JudgeError as exc:
        message = redact(str(exc) or type(exc).__name__, settings.secrets()).splitlines()[0]
        print(f"error: {message}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(result_json(result), ensure_ascii=False))
    else:
        _print_human(result)
    return 0
