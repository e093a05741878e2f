"""Value types shared by every part of the library.

All of them are frozen dataclasses: a task, a request or a result can be cached, pickled across a
ZeroGPU boundary, compared in tests and written to a run file without defensive copies.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, TypeAlias, runtime_checkable

from judges.verdicts import Verdict

#: A task kind's name (``score``, ``pair``, ``batch`` ...): the registry in :mod:`judges.tasks` says which.
ModeName: TypeAlias = str


# --------------------------------------------------------------------------- message parts


@dataclass(frozen=True)
class ImagePart:
    """An encoded image, validated on creation by :mod:`judges.images`.

    Attributes:
        data: The encoded bytes (PNG or JPEG).
        media_type: ``image/png`` or ``image/jpeg``.
        width: Width in pixels of the encoded image.
        height: Height in pixels of the encoded image.
    """

    data: bytes = field(repr=False)
    media_type: str
    width: int
    height: int


@dataclass(frozen=True)
class TextPart:
    """A piece of text in a message."""

    text: str


Part: TypeAlias = TextPart | ImagePart


@dataclass(frozen=True)
class Message:
    """One chat message; ``content`` keeps text and images in the order the model sees them."""

    role: Literal["system", "user", "assistant"]
    content: tuple[Part, ...]

    @property
    def text(self) -> str:
        """All text parts joined, images left out."""
        return "".join(p.text for p in self.content if isinstance(p, TextPart))

    @property
    def images(self) -> tuple[ImagePart, ...]:
        """The image parts in order."""
        return tuple(p for p in self.content if isinstance(p, ImagePart))


# --------------------------------------------------------------------------- tasks (one per mode)


@dataclass(frozen=True)
class ScoreTask:
    """Rate one response from 1 (poor) to 5 (excellent).

    Attributes:
        instruction: What the answering model was asked.
        response: The answer to judge.
        images: The images the instruction refers to.
        image_description: A caption for text-only judges (the paper's "vision expert" setting).
    """

    instruction: str
    response: str
    images: tuple[ImagePart, ...] = ()
    image_description: str | None = None

    @property
    def responses(self) -> tuple[str, ...]:
        """The responses in the order the judge sees them."""
        return (self.response,)


@dataclass(frozen=True)
class PairTask:
    """Choose the better of two responses, or call a tie."""

    instruction: str
    response_a: str
    response_b: str
    images: tuple[ImagePart, ...] = ()
    image_description: str | None = None

    @property
    def responses(self) -> tuple[str, ...]:
        """The responses in the order the judge sees them."""
        return (self.response_a, self.response_b)


@dataclass(frozen=True)
class BatchTask:
    """Rank 2..8 responses, lettered A, B, C, ... in the order given, from best to worst."""

    instruction: str
    responses: tuple[str, ...]
    images: tuple[ImagePart, ...] = ()
    image_description: str | None = None


@dataclass(frozen=True)
class ImagePairTask:
    """Choose which of two generated images matches a text-to-image prompt better, or call a tie.

    Attributes:
        instruction: The text-to-image prompt both images were generated from.
        images: Exactly two images, shown to the judge as Image A and Image B in this order.
        image_description: Unused by this task; kept so every task has the same fields.
    """

    instruction: str
    images: tuple[ImagePart, ...]
    image_description: str | None = None

    @property
    def responses(self) -> tuple[str, ...]:
        """What is judged, by name: the two images (there are no text answers)."""
        return ("Image A", "Image B")


@runtime_checkable
class Task(Protocol):
    """What every task type has, whatever its kind adds (criteria, steps, checks, candidates ...).

    Each task kind defines its own frozen dataclass; the Judge, the UI and the runner rely only on
    these fields.

    Attributes:
        instruction: What was asked (the question, the text-to-image prompt, the query).
        responses: What is judged, in the order the judge sees it (labels for image tasks).
        images: The images the judge sees.
        image_description: A caption for text-only judges, or None.
    """

    @property
    def instruction(self) -> str: ...
    @property
    def responses(self) -> tuple[str, ...]: ...
    @property
    def images(self) -> tuple[ImagePart, ...]: ...
    @property
    def image_description(self) -> str | None: ...


# --------------------------------------------------------------------------- requests and completions


@dataclass(frozen=True)
class Sampling:
    """Decoding parameters. Defaults follow the benchmark's authors (temperature 0.4, top_p 0.2).

    A backend drops what its model does not support (see :class:`Capabilities`) instead of failing.
    """

    temperature: float | None = 0.4
    top_p: float | None = 0.2
    max_tokens: int = 1024
    seed: int | None = None
    logprobs: bool = True
    top_logprobs: int = 5


#: Bounds of the decoding parameters (OpenAI's own: temperature 0..2, at most 20 top log-probabilities).
MAX_TEMPERATURE = 2.0
MAX_TOKENS_LIMIT = 131_072
MAX_TOP_LOGPROBS = 20


def sampling_problems(sampling: Sampling) -> list[str]:
    """What is out of bounds in ``sampling``, each as a sentence naming the field ([] when all is well)."""
    problems = []

    def real(value: object) -> bool:
        return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)

    t, p = sampling.temperature, sampling.top_p
    if t is not None and not (real(t) and 0 <= t <= MAX_TEMPERATURE):
        problems.append(f"temperature must be a number from 0 to {MAX_TEMPERATURE:g}, got {t!r}")
    if p is not None and not (real(p) and 0 < p <= 1):
        problems.append(f"top_p must be a number above 0 and at most 1, got {p!r}")
    if not (isinstance(sampling.max_tokens, int) and 1 <= sampling.max_tokens <= MAX_TOKENS_LIMIT):
        problems.append(
            f"max_tokens must be a whole number from 1 to {MAX_TOKENS_LIMIT:,}, got {sampling.max_tokens!r}"
        )
    if not (isinstance(sampling.top_logprobs, int) and 0 <= sampling.top_logprobs <= MAX_TOP_LOGPROBS):
        problems.append(
            f"top_logprobs must be a whole number from 0 to {MAX_TOP_LOGPROBS}, got {sampling.top_logprobs!r}"
        )
    if sampling.seed is not None and not (isinstance(sampling.seed, int) and abs(sampling.seed) < 2**63):
        problems.append(f"seed must be a whole number below 2**63, got {sampling.seed!r}")
    return problems


def text_problem(field_name: str, text: str) -> str:
    """Why ``text`` cannot be sent (it cannot be encoded as UTF-8), naming ``field_name``; "" when it can."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return (
            f"{field_name} holds a character that is not valid text ({text[exc.start]!r} at position "
            f"{exc.start}, often a broken emoji or bytes that are not UTF-8); remove it or re-save the text as UTF-8"
        )
    return ""


@dataclass(frozen=True)
class ResponseFormat:
    """A JSON schema the answer must follow (OpenAI's ``response_format`` of type ``json_schema``).

    A backend that can constrain its output sends it; one whose server refuses it asks again without
    it (see :attr:`Completion.structured`), and the task's prompt, which always describes the JSON,
    and its lenient reader (:mod:`judges.jsonread`) do the rest.

    Attributes:
        name: The schema's name (letters, digits, ``_`` and ``-``), as the protocol asks for one.
        schema: The JSON schema of the answer object.
    """

    name: str
    schema: Mapping[str, Any] = field(hash=False, compare=False)


@dataclass(frozen=True)
class ChatRequest:
    """What a backend receives: the rendered messages, how to sample and, optionally, a JSON schema."""

    messages: tuple[Message, ...]
    sampling: Sampling = Sampling()
    response_format: ResponseFormat | None = None


@dataclass(frozen=True)
class Capabilities:
    """What a judge model accepts. The catalog declares these per judge; backends obey them.

    Attributes:
        vision: Accepts image parts. A text-only judge gets the no-figure or vision-expert prompt.
        logprobs: Returns token log-probabilities (``logprobs``/``top_logprobs``).
        temperature: Accepts a temperature/top_p other than the default (reasoning models do not).
        system_prompt: Accepts a system message (otherwise it is merged into the first user turn).
        max_images: Most images per request, ``None`` for no stated limit.
        label_scoring: Can score verdict labels in one forward pass (local models).
        structured_output: Accepts a JSON schema in ``response_format`` (assumed of OpenAI-compatible
            servers until one refuses; see :class:`ResponseFormat`).
    """

    vision: bool = True
    logprobs: bool = False
    temperature: bool = True
    system_prompt: bool = True
    max_images: int | None = None
    label_scoring: bool = False
    structured_output: bool = True


@dataclass(frozen=True)
class Usage:
    """Token counts reported by the backend."""

    prompt_tokens: int = 0
    completion_tokens: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.prompt_tokens + other.prompt_tokens,
            self.completion_tokens + other.completion_tokens,
        )


@dataclass(frozen=True)
class TokenLogprob:
    """One generated token, its log-probability and the most likely alternatives at that step."""

    token: str
    logprob: float
    top: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True)
class Completion:
    """A backend's answer to one :class:`ChatRequest`.

    Attributes:
        text: The generated text.
        model: The model that answered, as the backend names it.
        latency_s: Wall time of the call, retries included.
        usage: Token counts, when the backend reports them.
        tokens: Per-token log-probabilities, when requested and supported.
        finish_reason: ``stop``, ``length``, ... as reported.
        structured: None when the request carried no JSON schema; True when the backend sent it
            with the request; False when it could not (the server refused it, or the backend cannot
            constrain its output), so the answer is free text to be read leniently.
    """

    text: str
    model: str
    latency_s: float
    usage: Usage | None = None
    tokens: tuple[TokenLogprob, ...] | None = None
    finish_reason: str | None = None
    structured: bool | None = None


# --------------------------------------------------------------------------- verdicts


@dataclass(frozen=True)
class ParseResult:
    """The outcome of reading a verdict out of a judge's text.

    A failure is data: ``ok`` is False, ``verdict`` is None and ``reason`` says why. Callers show it
    as "unscored" and never turn it into a label.

    Attributes:
        ok: Whether a valid verdict was found.
        verdict: The verdict in the mode's canonical form, or None.
        analysis: The judge's reasoning, when it could be separated from the verdict.
        reason: Why parsing failed (empty when ok).
        span: Character offsets of the verdict in the text, used to find its token log-probabilities.
    """

    ok: bool
    verdict: Verdict | None = None
    analysis: str = ""
    reason: str = ""
    span: tuple[int, int] | None = None

    @classmethod
    def failure(cls, reason: str, analysis: str = "") -> ParseResult:
        """Build an unparsed result."""
        return cls(ok=False, verdict=None, analysis=analysis, reason=reason)


@dataclass(frozen=True)
class VerdictDistribution:
    """Probabilities of the verdict labels at the position where the judge wrote its verdict.

    Attributes:
        probabilities: Label -> probability, renormalised over the mode's labels
            ("1".."5"; "A", "B", "tie"; for batch the letter ranked first).
        expected_score: Probability-weighted score (score mode only).
        confidence: Probability of the label the judge actually chose, when it chose one.
        mass: Probability mass the labels had before renormalising (low = the model meant something else).
        source: ``generation`` (read from sampled tokens) or ``forward`` (one forward pass on a prefix).
    """

    probabilities: Mapping[str, float]
    expected_score: float | None = None
    confidence: float | None = None
    mass: float | None = None
    source: Literal["generation", "forward"] = "generation"


@dataclass(frozen=True)
class SwapOutcome:
    """Pair mode judged in both orders. ``swapped_verdict`` is mapped back to the original letters."""

    original_verdict: str | None
    swapped_verdict: str | None
    consistent: bool | None
    reconciled: str | None


@dataclass(frozen=True)
class ConsistencyOutcome:
    """Several samples (or several orders, in batch mode) of the same judgment.

    Attributes:
        verdicts: Every parsed verdict, None for unparsed ones.
        majority: The majority verdict (a Borda ranking for batch mode), None when nothing parsed.
        agreement: Share of parsed verdicts equal to ``majority``.
        kind: ``samples`` for self-consistency, ``shuffles`` for batch order shuffles.
    """

    verdicts: tuple[Verdict | None, ...]
    majority: Verdict | None
    agreement: float | None
    kind: Literal["samples", "shuffles"] = "samples"


@dataclass(frozen=True)
class JudgeResult:
    """Everything one judgment produced; what the UI shows, the CLI prints and runs store.

    ``verdict`` is the final verdict after swap reconciliation or majority vote; ``parsed`` is False
    when no valid verdict could be read, and then ``reason`` says why. ``analysis``, ``raw_output``
    and ``probabilities`` come from the first request in the original order; ``latency_s`` and
    ``usage`` add up every request of the judgment (orders x samples, re-asks included), so with
    concurrent requests ``latency_s`` is model time, not wall time.

    ``details`` holds what a task with a structured verdict adds, JSON-ready (per-criterion verdicts
    and comments of a rubric, the checks of a verification, the steps of a process judgment, the
    rules of a safety judgment, the candidate scores of a relevance judgment); the CLI prints its
    keys beside the usual fields and stored runs keep it in the judgment line.
    """

    mode: ModeName  # the task kind's name
    judge: str
    verdict: Verdict | None
    parsed: bool
    analysis: str
    raw_output: str
    latency_s: float
    reason: str = ""
    probabilities: VerdictDistribution | None = None
    swap: SwapOutcome | None = None
    consistency: ConsistencyOutcome | None = None
    usage: Usage | None = None
    attempts: int = 1
    template: str = ""
    setting: str = ""
    details: Mapping[str, Any] | None = None

    def to_dict(self) -> dict:
        """A JSON-ready dict (tuples become lists, nested dataclasses dicts)."""
        from dataclasses import asdict

        out = asdict(self)
        out["details"] = None if self.details is None else dict(self.details)
        if isinstance(self.verdict, tuple):
            out["verdict"] = list(self.verdict)
        if self.probabilities is not None:
            out["probabilities"]["probabilities"] = dict(self.probabilities.probabilities)
        return out
