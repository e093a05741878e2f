"""The yes/no probe: a judge's probability of "Yes" at its first answer token.

Some judge tasks (constitution safety, candidate relevance) never read a generated verdict; they ask
a yes/no question and read ``P(yes) = p(Yes) / (p(Yes) + p(No))`` at the first answer token, where
``p(Yes)`` sums the spellings a tokenizer may use (``Yes``, `` Yes``, ``yes``, ``YES`` ...).

Two routes, chosen from the backend:

* ``forward`` (local judges, :class:`~judges.backends.base.LabelScorer` with ``label_scoring``):
  one forward pass per batch, reading the next-token distribution right after the generation prompt.
  Spellings that are not one token of the model's vocabulary are left out; when no spelling of
  "Yes" is one token (tiny test vocabularies), the longest prefix that is (``Ye``, ``Y``) stands for
  it: the first sub-token, as the methods describe.
* ``logprobs`` (API judges): a short generation (:data:`PROBE_MAX_TOKENS` tokens, temperature 0)
  with :data:`PROBE_TOP_LOGPROBS` top log-probabilities; the first generated token whose
  alternatives hold a spelling of Yes or No is the answer token (a leading space or newline token
  is skipped).

A judge that offers neither cannot run these tasks. :func:`prober_for` refuses it before any request
is sent, with a one-line message naming the missing capability. The capability is what the catalog
declares (``Capabilities.logprobs`` / ``label_scoring``); a custom OpenAI-compatible endpoint not
declared to give log-probabilities is asked once (one one-token request), and the answer is cached
per endpoint and model for the life of the process.

All probes handed to :meth:`Prober.ask` go to the backend together (``complete_many``, or one
``label_logprobs`` call that batches them), and identical probes are sent once.
"""

from __future__ import annotations

import copy
import logging
import math
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from judges.backends.base import Backend, LabelScorer
from judges.errors import BackendError, ConfigError, JudgeError
from judges.types import ChatRequest, Completion, Message, Sampling, TextPart, TokenLogprob, Usage

log = logging.getLogger(__name__)

#: Spellings whose probabilities are summed (a leading space is matched too, see :func:`answer_word`).
YES_SPELLINGS = ("Yes", "yes", "YES")
NO_SPELLINGS = ("No", "no", "NO")
#: Top alternatives asked for per generated token (OpenAI allows up to 20; the methods need >= 2).
PROBE_TOP_LOGPROBS = 10
#: Tokens generated per API probe: the answer token, plus room for a leading space or newline.
PROBE_MAX_TOKENS = 3

ProbeRoute = Literal["logprobs", "forward"]

#: Custom endpoints already asked whether they give log-probabilities: (base URL, model) -> answer.
_ENDPOINT_LOGPROBS: dict[tuple[str, str], bool] = {}
_ENDPOINT_LOCK = threading.Lock()


@dataclass(frozen=True)
class ProbeAnswer:
    """What one yes/no probe read.

    Attributes:
        p_yes: ``p(Yes) / (p(Yes) + p(No))``, or None when neither word was among the alternatives.
        mass: ``p(Yes) + p(No)`` before renormalising (low: the judge meant to write something else).
        reason: Why ``p_yes`` is None ('' otherwise).
        latency_s: Model time of the probe (a share of its batch for local judges).
        usage: Tokens, when the backend reports them.
    """

    p_yes: float | None
    mass: float | None = None
    reason: str = ""
    latency_s: float = 0.0
    usage: Usage = field(default_factory=Usage)


def answer_word(token: str) -> str:
    """``yes`` / ``no`` when ``token`` spells the answer (any case, with space, quotes or markup), else ''."""
    core = token.strip().strip("▁Ġ*\"'`.,:;!()[] ").lower()
    return core if core in ("yes", "no") else ""


def yes_probability(alternatives: Sequence[tuple[str, float]]) -> tuple[float | None, float]:
    """``(P(yes), p(Yes) + p(No))`` from ``(token, logprob)`` alternatives at one position.

    Every spelling of each word is summed once (a token listed twice counts once). P(yes) is None
    when neither word is among the alternatives.
    """
    seen: set[str] = set()
    mass = {"yes": 0.0, "no": 0.0}
    for token, logprob in alternatives:
        word = answer_word(token)
        if word and token not in seen and math.isfinite(logprob):
            seen.add(token)
            mass[word] += math.exp(logprob)
    total = mass["yes"] + mass["no"]
    if total <= 0:
        return None, 0.0
    return mass["yes"] / total, min(total, 1.0)


def answer_from_tokens(tokens: Sequence[TokenLogprob] | None) -> tuple[float | None, float | None, str]:
    """``(P(yes), mass, reason)`` at the first generated token whose alternatives spell Yes or No."""
    if not tokens:
        return None, None, "the judge returned no token log-probabilities"
    for token in tokens[:PROBE_MAX_TOKENS]:
        alternatives = [*token.top, (token.token, token.logprob)]
        p_yes, mass = yes_probability(alternatives)
        if p_yes is not None:
            return p_yes, mass, ""
    first = tokens[0].token
    return None, None, f"neither Yes nor No was among the top alternatives of the answer (it began {first!r})"


# --------------------------------------------------------------------------- the prober


@dataclass
class Prober:
    """Sends yes/no probes to one backend by the route it supports.

    Build it with :func:`prober_for` (which checks the capability). ``requests`` counts the probes
    sent so far (identical probes in one call count once).
    """

    backend: Backend
    route: ProbeRoute
    labels: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())
    seed: int | None = None
    requests: int = 0

    @property
    def sampling(self) -> Sampling:
        """What an API probe asks for: a few greedy tokens with their top alternatives."""
        return Sampling(
            temperature=0.0,
            top_p=None,
            max_tokens=PROBE_MAX_TOKENS,
            seed=self.seed,
            logprobs=True,
            top_logprobs=PROBE_TOP_LOGPROBS,
        )

    def ask(self, prompts: Sequence[Sequence[Message]]) -> list[ProbeAnswer | JudgeError]:
        """Ask every probe at once; one slot per prompt, a ProbeAnswer or the error that ended it."""
        if not prompts:
            return []
        unique: dict[tuple[Message, ...], int] = {}
        for prompt in prompts:
            unique.setdefault(tuple(prompt), len(unique))
        requests = [ChatRequest(messages, self.sampling) for messages in unique]
        self.requests += len(requests)
        answers = self._forward(requests) if self.route == "forward" else self._generate(requests)
        return [answers[unique[tuple(prompt)]] for prompt in prompts]

    def _generate(self, requests: list[ChatRequest]) -> list[ProbeAnswer | JudgeError]:
        out: list[ProbeAnswer | JudgeError] = []
        for reply in self.backend.complete_many(requests):
            if isinstance(reply, JudgeError):
                out.append(reply)
                continue
            p_yes, mass, reason = answer_from_tokens(reply.tokens)
            out.append(ProbeAnswer(p_yes, mass, reason, reply.latency_s, reply.usage or Usage()))
        return out

    def _forward(self, requests: list[ChatRequest]) -> list[ProbeAnswer | JudgeError]:
        scorer: LabelScorer = self.backend  # type: ignore[assignment]  # checked by prober_for
        yes, no = self.labels
        started = time.perf_counter()
        try:
            rows = scorer.label_logprobs(requests, "", [*yes, *no])
        except JudgeError as exc:
            return [exc] * len(requests)
        share = (time.perf_counter() - started) / len(requests)
        out: list[ProbeAnswer | JudgeError] = []
        for row in rows:
            p_yes_mass = sum(math.exp(row[label]) for label in yes)
            p_no_mass = sum(math.exp(row[label]) for label in no)
            total = p_yes_mass + p_no_mass
            if total <= 0 or not math.isfinite(total):
                out.append(ProbeAnswer(None, 0.0, "Yes and No have no probability at the answer token", share))
            else:
                out.append(ProbeAnswer(p_yes_mass / total, min(total, 1.0), "", share))
        return out


def prober_for(backend: Backend, task_title: str, *, seed: int | None = None) -> Prober:
    """The prober for ``backend``, or a refusal before any probe is sent.

    Args:
        backend: The judge's backend.
        task_title: The task, named in the refusal ("Safety mode reads ...").
        seed: Sampling seed of API probes.

    Raises:
        ConfigError: One line naming the missing capability and what to choose instead.
        BackendError: A custom endpoint could not be asked whether it gives log-probabilities.
    """
    caps = backend.capabilities
    scorer = _scorer_of(backend)
    if caps.label_scoring and scorer is not None:
        return Prober(scorer, "forward", _local_labels(scorer), seed)
    if caps.logprobs:
        return Prober(backend, "logprobs", seed=seed)
    endpoint = _endpoint_of(backend)
    if endpoint is not None and not _declared_in_catalog(backend):
        enabled = _with_logprobs(backend)
        if _endpoint_gives_logprobs(enabled, endpoint):
            return Prober(enabled, "logprobs", seed=seed)
        where = f"the endpoint {endpoint[0]} returned none for model {endpoint[1]} when asked"
    elif endpoint is not None:
        where = "the catalog declares it without them (Capabilities.logprobs=False)"
    else:
        where = "its backend offers neither logprobs nor label_scoring"
    raise ConfigError(
        f"{task_title} mode reads Yes/No token probabilities, but {backend.name} gives no token "
        f"log-probabilities (missing capability: logprobs; {where}). Choose a judge with logprobs "
        "(e.g. GPT-4o) or a local judge (label_scoring)."
    )


def probe_problem(backend: Backend) -> str:
    """Why ``backend`` cannot run probe tasks, without sending anything ('' when it can or might).

    For a form that wants to say so before the user presses Judge: a custom endpoint not declared
    either way counts as "might" (it is asked when the judgment starts), unless asked before.
    """
    caps = backend.capabilities
    if (caps.label_scoring and _scorer_of(backend) is not None) or caps.logprobs:
        return ""
    endpoint = _endpoint_of(backend)
    if endpoint is not None and not _declared_in_catalog(backend):
        with _ENDPOINT_LOCK:
            known = _ENDPOINT_LOGPROBS.get(endpoint)
        if known is not False:
            return ""
    return f"{backend.name} gives no token log-probabilities (missing capability: logprobs)."


# --------------------------------------------------------------------------- capability discovery


def _layers(backend: Any) -> list[Any]:
    """The backend and the ones it wraps (``inner``, as a recording wrapper has), outermost first."""
    layers = [backend]
    while len(layers) < 5 and getattr(layers[-1], "inner", None) is not None:
        layers.append(layers[-1].inner)
    return layers


def _scorer_of(backend: Backend) -> Any:
    """The layer that reads label probabilities in a forward pass, or None.

    A wrapper (the Judge tab records requests) does not pass ``label_logprobs`` on, so forward
    probes go to the wrapped backend itself.
    """
    return next((layer for layer in _layers(backend) if isinstance(layer, LabelScorer)), None)


def _endpoint_of(backend: Backend) -> tuple[str, str] | None:
    for layer in _layers(backend):
        base_url, model = getattr(layer, "base_url", None), getattr(layer, "model", None)
        if isinstance(base_url, str) and isinstance(model, str):
            return base_url, model
    return None


def _declared_in_catalog(backend: Backend) -> bool:
    """Whether the backend is a catalog judge (its capabilities are declared, not guessed)."""
    from judges.backends.catalog import CATALOG

    return backend.name in CATALOG


def _with_logprobs(backend: Backend) -> Backend:
    """A shallow copy of an OpenAI-compatible backend (or of a wrapper of one) that asks for
    log-probabilities.

    The copy shares the original's client and key; only its capabilities differ, so the original
    (used elsewhere, e.g. by the form) is left as declared.
    """
    clone: Any = copy.copy(backend)
    inner = getattr(backend, "inner", None)
    if inner is not None:
        # A wrapper: the copy shares its record of requests and wraps a copy of the backend.
        clone.inner = _with_logprobs(inner)
    else:
        clone.capabilities = replace(backend.capabilities, logprobs=True)
    return clone


_CAPABILITY_QUESTION = (Message("user", (TextPart("Is water wet? Answer with one word: Yes or No."),)),)


def _endpoint_gives_logprobs(backend: Backend, endpoint: tuple[str, str]) -> bool:
    """Ask the endpoint once (one one-token request) whether it returns top log-probabilities."""
    with _ENDPOINT_LOCK:
        known = _ENDPOINT_LOGPROBS.get(endpoint)
    if known is not None:
        return known
    sampling = Sampling(temperature=0.0, top_p=None, max_tokens=1, logprobs=True, top_logprobs=5)
    reply: Completion = backend.complete(ChatRequest(_CAPABILITY_QUESTION, sampling))
    gives = bool(reply.tokens) and any(token.top for token in reply.tokens or ())
    with _ENDPOINT_LOCK:
        _ENDPOINT_LOGPROBS[endpoint] = gives
    log.info("%s: the endpoint %s log-probabilities", backend.name, "returns" if gives else "returns no")
    return gives


def forget_endpoints() -> None:
    """Forget which custom endpoints give log-probabilities (tests; an endpoint that changed)."""
    with _ENDPOINT_LOCK:
        _ENDPOINT_LOGPROBS.clear()


def _single_token(scorer: LabelScorer, label: str) -> bool:
    # An empty batch makes the backend check the label's tokens without running the model.
    try:
        scorer.label_logprobs([], "", [label])
    except BackendError:
        return False
    return True


def _local_labels(backend: Any) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The spellings of Yes and of No that are single tokens for this model.

    Raises:
        ConfigError: Neither word (nor any prefix of it) is a single token.
    """

    def spellings(words: tuple[str, ...]) -> tuple[str, ...]:
        found = tuple(word for word in words if _single_token(backend, word))
        if found:
            return found
        # The first sub-token stands for the word: the longest prefix that is one token.
        for end in range(len(words[0]) - 1, 0, -1):
            if _single_token(backend, words[0][:end]):
                return (words[0][:end],)
        return ()

    yes, no = spellings(YES_SPELLINGS), spellings(NO_SPELLINGS)
    if not yes or not no or set(yes) & set(no):
        raise ConfigError(
            f"{backend.name} has no single token for Yes and for No, so their probabilities cannot be "
            "read in one forward pass (missing capability: label_scoring)."
        )
    return yes, no


__all__ = [
    "NO_SPELLINGS",
    "YES_SPELLINGS",
    "ProbeAnswer",
    "Prober",
    "answer_from_tokens",
    "answer_word",
    "forget_endpoints",
    "probe_problem",
    "prober_for",
    "yes_probability",
]
