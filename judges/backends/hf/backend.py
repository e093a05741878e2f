"""The ``hf`` backend: a vision-language model run locally with transformers.

The model and its processor are loaded and cached by :mod:`judges.backends.hf.loading`, once per
(model, device, dtype), and shared by every backend object and every user of the Space. Messages
become the transformers chat format in :mod:`judges.backends.hf.chat`; only
:mod:`judges.backends.hf.device` touches the model (on ZeroGPU, in a GPU worker process).

torch and transformers are imported inside functions, so importing this module is cheap and works
without them; :func:`create` says clearly what is missing.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

from judges.backends.hf.chat import defuse, to_chat
from judges.backends.hf.device import Generated, forward_on_device, generate_on_device
from judges.backends.hf.loading import CacheKey, LoadedModel, clear_cache, load_model, register
from judges.errors import BackendError, ConfigError, JudgeError
from judges.images import to_pil
from judges.types import Capabilities, ChatRequest, Completion, Message, Sampling, TokenLogprob, Usage

logger = logging.getLogger(__name__)

#: What a local model supports: everything, including reading label probabilities directly.
DEFAULT_CAPABILITIES = Capabilities(
    vision=True,
    logprobs=True,
    temperature=True,
    system_prompt=True,
    max_images=None,
    label_scoring=True,
)

#: Tokens of left context used to decode one generated token, so that leading spaces come out right.
_DECODE_CONTEXT = 4


def create(
    model: str,
    *,
    device: str = "auto",
    dtype: Any = "auto",
    batch_size: int = 8,
    token: str | None = None,
    capabilities: Capabilities | None = None,
    name: str | None = None,
    max_new_tokens: int | None = None,
    local_files_only: bool = False,
    **unknown: Any,
) -> HFLocalBackend:
    """Build the ``hf`` backend, loading the model unless it is already cached.

    Args:
        model: A Hub id (``llava-hf/llava-1.5-7b-hf``) or a local directory saved with
            ``save_pretrained``.
        device: ``auto`` (cuda when available, else cpu), ``cpu``, ``cuda``, ``cuda:1`` ...
        dtype: ``auto`` (bfloat16 on GPU, float32 on CPU) or a torch dtype or its name.
        batch_size: Requests per forward pass or ``generate`` call.
        token: Hugging Face token for gated or private models. Used for this load only: never
            logged, never part of the cache key.
        capabilities: What the model accepts; defaults to :data:`DEFAULT_CAPABILITIES`.
        name: Display name; defaults to ``hf:<model>``.
        max_new_tokens: Upper bound on generated tokens, applied on top of
            ``Sampling.max_tokens`` (keeps ZeroGPU calls short). None: ``Sampling.max_tokens`` alone.
        local_files_only: Never contact the Hub; use a local directory or the local Hub cache.

    Returns:
        A backend sharing the cached model.

    Raises:
        BackendUnavailable: torch/transformers/torchvision is missing, or the model cannot be found.
        ConfigError: An option is unknown or invalid.
    """
    if unknown:
        raise ConfigError(
            f"Unknown option(s) for the hf backend: {', '.join(sorted(unknown))}. Accepted: device, dtype, "
            "batch_size, token, capabilities, name, max_new_tokens, local_files_only."
        )
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ConfigError(f"batch_size must be a positive integer, got {batch_size!r}.")
    if max_new_tokens is not None and max_new_tokens < 1:
        raise ConfigError(f"max_new_tokens must be positive, got {max_new_tokens!r}.")
    key, loaded = load_model(model, device=device, dtype=dtype, token=token, local_files_only=local_files_only)
    return HFLocalBackend(
        key=key,
        loaded=loaded,
        model_id=model,
        name=name or f"hf:{model}",
        capabilities=capabilities or DEFAULT_CAPABILITIES,
        batch_size=batch_size,
        max_new_tokens=max_new_tokens,
    )


# --------------------------------------------------------------------------- the backend


class HFLocalBackend:
    """A local transformers vision-language model behind the :class:`~judges.backends.base.Backend`
    protocol, also a :class:`~judges.backends.base.LabelScorer`.

    Backends built for the same (model, device, dtype) share one model and one lock, so concurrent
    users take turns on it; each call batches its own requests.

    Latency: in :meth:`complete_many` each completion reports its equal share of the wall time of the
    batch it ran in (batch time / batch size), so that latencies sum to the time spent.
    """

    def __init__(
        self,
        *,
        key: CacheKey,
        loaded: LoadedModel,
        model_id: str,
        name: str,
        capabilities: Capabilities,
        batch_size: int,
        max_new_tokens: int | None,
    ) -> None:
        self.name = name
        self.model_id = model_id
        self.capabilities = capabilities
        self.batch_size = batch_size
        self.max_new_tokens = max_new_tokens
        self._key = key
        self._loaded = loaded
        self._label_cache: dict[tuple[str, ...], list[list[int]]] = {}

    @property
    def model(self) -> Any:
        """The shared transformers model (one object per cache key)."""
        return self._loaded.model

    @property
    def processor(self) -> Any:
        """The shared processor."""
        return self._loaded.processor

    @property
    def _tokenizer(self) -> Any:
        return getattr(self._loaded.processor, "tokenizer", self._loaded.processor)

    def close(self) -> None:
        """Nothing to release per backend: the model is shared; see :func:`clear_cache`."""

    # ----------------------------------------------------------------- generation

    def complete(self, request: ChatRequest) -> Completion:
        """Answer one request.

        Raises:
            BackendError: The request could not be rendered or the model failed.
        """
        result = self.complete_many([request])[0]
        if isinstance(result, JudgeError):
            raise result
        return result

    def complete_many(self, requests: Sequence[ChatRequest]) -> list[Completion | JudgeError]:
        """Answer requests in batches of ``batch_size``, in order.

        Requests are batched only with others that share their :class:`Sampling` (``generate`` takes
        one configuration per call). When a batch fails, its requests are retried one by one so that
        one bad request does not sink the others.
        """
        results: list[Completion | JudgeError | None] = [None] * len(requests)
        groups: dict[Sampling, list[int]] = {}
        for index, request in enumerate(requests):
            groups.setdefault(request.sampling, []).append(index)
        for indices in groups.values():
            for start in range(0, len(indices), self.batch_size):
                chunk = indices[start : start + self.batch_size]
                outputs: list[Completion | JudgeError]
                try:
                    outputs = list(self._generate([requests[i] for i in chunk]))
                except JudgeError as exc:
                    # Retry one by one so that only the request at fault gets the error.
                    outputs = [exc] if len(chunk) == 1 else [self._generate_or_error(requests[i]) for i in chunk]
                for index, output in zip(chunk, outputs, strict=True):
                    results[index] = output
        return results  # type: ignore[return-value]  # every slot is filled above

    def _generate_or_error(self, request: ChatRequest) -> Completion | JudgeError:
        try:
            return self._generate([request])[0]
        except JudgeError as exc:
            return exc

    def _generate(self, requests: Sequence[ChatRequest]) -> list[Completion]:
        """Generate for requests sharing one Sampling, in one ``generate`` call."""
        sampling = requests[0].sampling
        overrides = self._generation_overrides(sampling)
        top_k = max(0, sampling.top_logprobs) if sampling.logprobs else None
        loaded = self._loaded
        with loaded.lock:
            started = time.perf_counter()
            inputs = self._encode(requests)
            register(self._key, loaded)
            try:
                raw = generate_on_device(self._key, inputs, overrides, sampling.seed, top_k)
            except (RuntimeError, ValueError, IndexError) as exc:
                raise self._model_error("generation", exc) from None
            completions = self._completions(raw, inputs)
            share = (time.perf_counter() - started) / len(requests)
        return [
            Completion(
                text=text,
                model=self.model_id,
                latency_s=share,
                usage=usage,
                tokens=tokens,
                finish_reason=finish,
                # Decoding is not constrained to a JSON schema here; the task reads the answer leniently.
                structured=False if request.response_format is not None else None,
            )
            for request, (text, usage, tokens, finish) in zip(requests, completions, strict=True)
        ]

    def _generation_overrides(self, sampling: Sampling) -> dict[str, Any]:
        max_new = sampling.max_tokens
        if self.max_new_tokens is not None:
            max_new = min(max_new, self.max_new_tokens)
        temperature = sampling.temperature if self.capabilities.temperature else None
        if temperature and temperature > 0:
            # top_k=0 turns off transformers' top-k filter: sampling follows temperature/top_p only,
            # like the API judges the benchmark compares against.
            return {
                "max_new_tokens": max_new,
                "do_sample": True,
                "temperature": temperature,
                "top_p": sampling.top_p if sampling.top_p is not None else 1.0,
                "top_k": 0,
            }
        # Greedy; clear sampling fields a checkpoint's generation_config may set, which would only warn.
        return {"max_new_tokens": max_new, "do_sample": False, "temperature": None, "top_p": None, "top_k": None}

    def _completions(
        self, raw: Generated, inputs: dict[str, Any]
    ) -> list[tuple[str, Usage, tuple[TokenLogprob, ...] | None, str]]:
        """Cut each row at its first end-of-sequence token and decode it."""
        tokenizer = self._tokenizer
        stop_ids = self._stop_ids()
        prompt_lengths = inputs["attention_mask"].sum(dim=1).tolist()
        out = []
        for row, ids in enumerate(raw.new_ids):
            end = next((i for i, token in enumerate(ids) if token in stop_ids), None)
            kept = ids if end is None else ids[:end]
            usage = Usage(prompt_tokens=int(prompt_lengths[row]), completion_tokens=len(kept) + (end is not None))
            tokens = None
            if raw.logprobs is not None and raw.top is not None:
                tokens = tuple(
                    _token_logprob(tokenizer, kept, step, raw.logprobs[row][step], raw.top[row][step])
                    for step in range(len(kept))
                )
            text = tokenizer.decode(kept, skip_special_tokens=True)
            out.append((text, usage, tokens, "stop" if end is not None else "length"))
        return out

    def _stop_ids(self) -> set[int]:
        eos = self._loaded.model.generation_config.eos_token_id
        ids = set(eos if isinstance(eos, list) else [eos] if eos is not None else [])
        if self._tokenizer.eos_token_id is not None:
            ids.add(self._tokenizer.eos_token_id)
        return ids

    # ----------------------------------------------------------------- label scoring

    def label_logprobs(
        self, requests: Sequence[ChatRequest], prefix: str, labels: Sequence[str]
    ) -> list[dict[str, float]]:
        """Log-probabilities of each label as the next token after the assistant ``prefix``.

        One forward pass per batch of ``batch_size`` requests: the chat prompt with its generation
        prompt, then ``prefix`` (for example ``{"Analysis": "", "Judgement": "[[``), then the
        distribution of the next token. A label may be spelt by several tokens (``3`` and `` 3``);
        their probabilities are added.

        Args:
            requests: The judge prompts; their sampling settings are ignored.
            prefix: Assistant text that ends exactly where the verdict label goes.
            labels: Candidate labels, each one token in this model's vocabulary.

        Returns:
            One dict per request, label -> log-probability (not renormalised over the labels).

        Raises:
            BackendError: A label is not a single token, or the model failed.
        """
        if not labels:
            raise BackendError("label_logprobs needs at least one label.")
        label_ids = self._label_ids(tuple(labels))
        results: list[dict[str, float]] = []
        loaded = self._loaded
        for start in range(0, len(requests), self.batch_size):
            chunk = requests[start : start + self.batch_size]
            with loaded.lock:
                inputs = self._encode(chunk, prefix)
                register(self._key, loaded)
                try:
                    rows = forward_on_device(self._key, inputs, label_ids)
                except (RuntimeError, ValueError, IndexError) as exc:
                    raise self._model_error("the forward pass", exc) from None
            results.extend(dict(zip(labels, row, strict=True)) for row in rows)
        return results

    def _label_ids(self, labels: tuple[str, ...]) -> list[list[int]]:
        """Token ids spelling each label, with and without a leading space."""
        if labels in self._label_cache:
            return self._label_cache[labels]
        tokenizer = self._tokenizer
        table = []
        for label in labels:
            ids = set()
            for variant in (label, " " + label):
                encoded = tokenizer.encode(variant, add_special_tokens=False)
                # SentencePiece vocabularies may put a lone "▁" before the label; it carries no text.
                meaningful = [i for i in encoded if tokenizer.decode([i]).strip()]
                if len(meaningful) == 1:
                    ids.add(meaningful[0])
            if not ids:
                raise BackendError(
                    f"Label {label!r} is not a single token for {self.name} "
                    f"(it encodes to {tokenizer.encode(label, add_special_tokens=False)}), so its "
                    "probability cannot be read in one forward pass. Use generation for this judge "
                    "(label_scoring=False) or labels that are single tokens."
                )
            table.append(sorted(ids))
        self._label_cache[labels] = table
        return table

    # ----------------------------------------------------------------- prompts

    def _encode(self, requests: Sequence[ChatRequest], prefix: str = "") -> dict[str, Any]:
        """Render, append ``prefix`` and tokenise a batch, left-padded, as CPU tensors."""
        prompts, images = [], []
        for request in requests:
            pil_images = [to_pil(part) for message in request.messages for part in message.images]
            prompts.append(self._render(request.messages, pil_images) + prefix)
            images.append(pil_images)
        tokenizer = self._tokenizer
        # Templates usually write the BOS token themselves; adding another shifts every position.
        add_special = not (tokenizer.bos_token and prompts[0].startswith(tokenizer.bos_token))
        try:
            encoded = self._loaded.processor(
                text=prompts,
                # Nested, one list per prompt: the form every transformers processor accepts.
                images=images if any(images) else None,
                padding=True,
                padding_side="left",
                add_special_tokens=add_special,
                return_tensors="pt",
            )
        except (ValueError, TypeError, RuntimeError) as exc:
            raise BackendError(f"{self.name} could not encode the request: {exc}") from None
        return dict(encoded)

    def _render(self, messages: Sequence[Message], images: Sequence[Any]) -> str:
        """Apply the chat template, folding the system message into the first user turn when the
        template has no system role (refuses it or silently drops it) or the capabilities say so."""

        loaded = self._loaded
        system = defuse(next((m.text.strip() for m in messages if m.role == "system"), ""), loaded.control_tokens)
        if not system or not self.capabilities.system_prompt or loaded.system_role is False:
            return self._apply_template(messages, images, merge_system=bool(system))
        try:
            text = self._apply_template(messages, images, merge_system=False)
            if system[:64] in text:
                loaded.system_role = True
                return text
            problem = "drops system messages"
        except BackendError as exc:
            problem = f"refuses system messages ({exc})"
        # Learn "no system role" only once merging is seen to work: the template may have refused
        # something else in these messages (roles out of order), and then merging fails too.
        text = self._apply_template(messages, images, merge_system=True)
        if loaded.system_role is None:
            logger.info("%s: the chat template %s; merging it into the first user turn", self.name, problem)
        loaded.system_role = False
        return text

    def _apply_template(self, messages: Sequence[Message], images: Sequence[Any], *, merge_system: bool) -> str:
        from jinja2.exceptions import TemplateError

        chat = to_chat(messages, images, merge_system=merge_system, neutralize=self._loaded.control_tokens)
        try:
            return self._loaded.processor.apply_chat_template(chat, add_generation_prompt=True, tokenize=False)
        except (TemplateError, ValueError) as exc:
            raise BackendError(f"The chat template of {self.name} rejected the messages: {exc}") from None

    def _model_error(self, what: str, exc: Exception) -> BackendError:
        if "out of memory" in str(exc).lower():
            return BackendError(
                f"{self.name} ran out of memory during {what}. Lower batch_size or max_new_tokens, "
                "or use a smaller model."
            )
        return BackendError(f"{self.name} failed during {what}: {exc}")


def _token_logprob(
    tokenizer: Any, ids: list[int], index: int, logprob: float, top: list[tuple[int, float]]
) -> TokenLogprob:
    """Describe generated token ``ids[index]`` and its alternatives as text.

    Each token is decoded after a few tokens of context: decoded alone, a SentencePiece token loses
    its leading space; decoding the whole prefix at every step would be quadratic.
    """
    context = ids[max(0, index - _DECODE_CONTEXT) : index]
    before = tokenizer.decode(context, skip_special_tokens=False)

    def piece(token_id: int) -> str:
        after = tokenizer.decode([*context, token_id], skip_special_tokens=False)
        return after[len(before) :] if after.startswith(before) else tokenizer.decode([token_id])

    return TokenLogprob(
        token=piece(ids[index]),
        logprob=logprob,
        top=tuple((piece(token_id), value) for token_id, value in top),
    )


__all__ = ["DEFAULT_CAPABILITIES", "HFLocalBackend", "clear_cache", "create", "to_chat"]
