"""Verdict-label distributions from token log-probabilities.

Two sources: the alternatives a model reported at the token where it wrote its verdict (API
``top_logprobs``, or a local model's scores during generation), and a single forward pass on a
prefix that ends where the verdict goes (local models only; see
:class:`~judges.backends.base.LabelScorer`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from judges.types import TokenLogprob, VerdictDistribution


def token_at(tokens: Sequence[TokenLogprob], text: str, offset: int) -> int | None:
    """Index of the token that covers character ``offset`` of ``text``.

    Tokens are walked in order, so this holds whenever their concatenation is the text (true for
    OpenAI-compatible servers and for decoded local tokens). When it is not, ``None``.
    """
    if "".join(t.token for t in tokens) != text:
        return None
    position = 0
    for index, token in enumerate(tokens):
        position += len(token.token)
        if position > offset:
            return index
    return None


def _label_of(token: str, labels: Sequence[str]) -> str | None:
    # Tokenisers glue brackets, quotes and spaces to labels ("[[4", " A", "4]]"): strip them.
    core = token.strip().strip("[]\"'*:() ")
    return core if core in labels else None


def distribution_from_alternatives(
    alternatives: Sequence[tuple[str, float]],
    labels: Sequence[str],
    *,
    chosen: str | None,
    display: Mapping[str, str] | None = None,
    source: str = "generation",
) -> VerdictDistribution | None:
    """Turn ``(token, logprob)`` alternatives at the verdict position into a label distribution.

    Args:
        alternatives: Candidate tokens and their log-probabilities (the chosen token included).
        labels: The verdict tokens of the mode ("1".."5", "A"/"B"/"C", letters).
        chosen: The label the judge wrote, for ``confidence``.
        display: Renames labels for the result (e.g. "C" -> "tie").
        source: ``generation`` or ``forward``.

    Returns:
        A distribution renormalised over the labels, or None when no alternative is a label.
    """
    mass: dict[str, float] = {}
    for token, logprob in alternatives:
        label = _label_of(token, labels)
        if label is not None and math.isfinite(logprob):
            mass[label] = mass.get(label, 0.0) + math.exp(logprob)
    total = sum(mass.values())
    if total <= 0:
        return None
    display = display or {}
    probs = {display.get(label, label): mass.get(label, 0.0) / total for label in labels}
    expected = None
    if all(label.isdigit() for label in labels):
        expected = sum(int(label) * mass.get(label, 0.0) / total for label in labels)
    confidence = probs.get(display.get(chosen, chosen)) if chosen is not None else None
    return VerdictDistribution(
        probabilities=probs,
        expected_score=expected,
        confidence=confidence,
        mass=min(total, 1.0),
        source=source,  # type: ignore[arg-type]
    )


def distribution_from_tokens(
    tokens: Sequence[TokenLogprob] | None,
    text: str,
    offset: int | None,
    labels: Sequence[str],
    *,
    chosen: str | None,
    display: Mapping[str, str] | None = None,
) -> VerdictDistribution | None:
    """The label distribution where the judge wrote its verdict, or None when it cannot be known."""
    if not tokens or offset is None:
        return None
    index = token_at(tokens, text, offset)
    if index is None:
        # Fall back to the last token that is itself a label: verdicts come last in the output.
        index = next((i for i in range(len(tokens) - 1, -1, -1) if _label_of(tokens[i].token, labels)), None)
        if index is None:
            return None
    token = tokens[index]
    alternatives = list(token.top) or [(token.token, token.logprob)]
    if all(alt != token.token for alt, _ in alternatives):
        alternatives.append((token.token, token.logprob))
    return distribution_from_alternatives(alternatives, labels, chosen=chosen, display=display)
