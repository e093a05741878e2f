"""Named judges shown in the UI and accepted by ``--judge`` / ``--model``: the one place to add one.

Each entry says which backend serves it, the model id, where the key comes from and what the model
accepts. Adding a judge is adding one :class:`JudgeSpec` to ``_ENTRIES``; nothing else changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Literal

from judges.backends.base import Backend
from judges.backends.registry import get_backend
from judges.errors import ConfigError
from judges.settings import Settings
from judges.types import Capabilities

HF_ROUTER = "https://router.huggingface.co/v1"
GEMINI_OPENAI = "https://generativelanguage.googleapis.com/v1beta/openai/"

_API = Capabilities(vision=True, logprobs=True)
_API_NO_LOGPROBS = Capabilities(vision=True, logprobs=False)
_REASONING = Capabilities(vision=True, logprobs=False, temperature=False)
_LOCAL = Capabilities(vision=True, logprobs=True, label_scoring=True)


@dataclass(frozen=True)
class JudgeSpec:
    """A named judge.

    Attributes:
        name: Display name, unique in the catalog.
        backend: Registered backend name (``openai`` or ``hf``).
        model: The backend's model id.
        family: Grouping for leaderboard filters (``GPT``, ``Gemini``, ``Qwen`` ...).
        kind: ``api`` (needs a key, no GPU) or ``local`` (needs a GPU to be practical).
        base_url: OpenAI-compatible endpoint; None for OpenAI itself.
        api_key_env: The environment variable (Space secret) holding the key.
        capabilities: What the model accepts.
        notes: One line for the UI (first-load time, torchvision need ...).
        options: Extra backend options (e.g. ``max_tokens_param`` for reasoning models).
    """

    name: str
    backend: str
    model: str
    family: str
    kind: Literal["api", "local"]
    base_url: str | None = None
    api_key_env: str | None = None
    capabilities: Capabilities = _API_NO_LOGPROBS
    notes: str = ""
    options: dict[str, Any] = field(default_factory=dict)


_ENTRIES: tuple[JudgeSpec, ...] = (
    JudgeSpec("GPT-4o", "openai", "gpt-4o", "GPT", "api", api_key_env="OPENAI_API_KEY", capabilities=_API),
    JudgeSpec("GPT-4o-mini", "openai", "gpt-4o-mini", "GPT", "api", api_key_env="OPENAI_API_KEY", capabilities=_API),
    JudgeSpec("GPT-4.1", "openai", "gpt-4.1", "GPT", "api", api_key_env="OPENAI_API_KEY", capabilities=_API),
    JudgeSpec(
        "o4-mini",
        "openai",
        "o4-mini",
        "GPT",
        "api",
        api_key_env="OPENAI_API_KEY",
        capabilities=_REASONING,
        notes="Reasoning model: fixed temperature, no token probabilities.",
        options={"max_tokens_param": "max_completion_tokens"},
    ),
    JudgeSpec(
        "Gemini-2.5-Flash",
        "openai",
        "gemini-2.5-flash",
        "Gemini",
        "api",
        base_url=GEMINI_OPENAI,
        api_key_env="GEMINI_API_KEY",
        notes="Through Gemini's OpenAI-compatible endpoint.",
    ),
    JudgeSpec(
        "Qwen2.5-VL-72B (HF Inference Providers)",
        "openai",
        "Qwen/Qwen2.5-VL-72B-Instruct",
        "Qwen",
        "api",
        base_url=HF_ROUTER,
        api_key_env="HF_TOKEN",
    ),
    JudgeSpec(
        "Llama-4-Scout (HF Inference Providers)",
        "openai",
        "meta-llama/Llama-4-Scout-17B-16E-Instruct",
        "Llama",
        "api",
        base_url=HF_ROUTER,
        api_key_env="HF_TOKEN",
    ),
    JudgeSpec(
        "Gemma-3-27B (HF Inference Providers)",
        "openai",
        "google/gemma-3-27b-it",
        "Gemma",
        "api",
        base_url=HF_ROUTER,
        api_key_env="HF_TOKEN",
    ),
    JudgeSpec(
        "Gemma-3-4B (local)",
        "hf",
        "google/gemma-3-4b-it",
        "Gemma",
        "local",
        api_key_env="HF_TOKEN",
        capabilities=_LOCAL,
        notes="Local GPU judge; gated on the Hub (accept the licence, set HF_TOKEN). First load ~1 min.",
    ),
    JudgeSpec(
        "Idefics3-8B (local)",
        "hf",
        "HuggingFaceM4/Idefics3-8B-Llama3",
        "Idefics",
        "local",
        capabilities=_LOCAL,
        notes="Local GPU judge, 8B parameters. First load ~2 min.",
    ),
    JudgeSpec(
        "LLaVA-1.5-7B (local)",
        "hf",
        "llava-hf/llava-1.5-7b-hf",
        "LLaVA",
        "local",
        capabilities=_LOCAL,
        notes="Local GPU judge, 7B parameters. First load ~2 min.",
    ),
    JudgeSpec(
        "Qwen2.5-VL-7B (local)",
        "hf",
        "Qwen/Qwen2.5-VL-7B-Instruct",
        "Qwen",
        "local",
        capabilities=_LOCAL,
        notes="Local GPU judge; its processor needs torchvision. First load ~2 min.",
    ),
)

CATALOG: dict[str, JudgeSpec] = {spec.name: spec for spec in _ENTRIES}


def judge_names(kind: str | None = None) -> list[str]:
    """Catalog names in display order, optionally only ``api`` or ``local`` ones."""
    return [s.name for s in _ENTRIES if kind is None or s.kind == kind]


def get_spec(name: str) -> JudgeSpec:
    """Look up a judge by catalog name (case-insensitive) or by its model id.

    Raises:
        ConfigError: Unknown name; the message lists the catalog.
    """
    wanted = name.strip().lower()
    for spec in _ENTRIES:
        if wanted in (spec.name.lower(), spec.model.lower()):
            return spec
    raise ConfigError(f"Unknown judge {name!r}. Known judges: {', '.join(judge_names())}.")


def custom_spec(
    model: str,
    base_url: str,
    *,
    logprobs: bool = False,
    vision: bool = True,
    api_key_env: str | None = None,
) -> JudgeSpec:
    """A judge on any OpenAI-compatible endpoint (vLLM, Ollama, a provider router ...).

    Args:
        model: The model name the endpoint serves.
        base_url: The endpoint, ``http(s)://host[:port]/v1``.
        logprobs: Whether the endpoint returns token log-probabilities.
        vision: Whether the model takes images.
        api_key_env: The environment variable holding the key. None (the Space) means only a key
            given explicitly is sent: a URL typed by a visitor never receives the Space's secrets.
            The command line passes ``OPENAI_API_KEY``, the user's own environment.
    """
    if not model.strip():
        raise ConfigError("Give the model name the endpoint serves (e.g. Qwen/Qwen2.5-VL-7B-Instruct).")
    if not base_url.strip().startswith(("http://", "https://")):
        raise ConfigError(f"Base URL {base_url!r} must start with http:// or https:// (e.g. http://localhost:8000/v1).")
    caps = replace(_API_NO_LOGPROBS, logprobs=logprobs, vision=vision)
    return JudgeSpec(model.strip(), "openai", model.strip(), "Custom", "api", base_url.strip(), api_key_env, caps)


def local_spec(model: str, backend: str = "hf") -> JudgeSpec:
    """A judge run on this machine by a local backend, by model id or path; catalog entries keep their notes."""
    known = next((s for s in _ENTRIES if s.backend == backend and s.model == model), None)
    return known or JudgeSpec(model, backend, model, "Custom", "local", capabilities=_LOCAL)


def build_backend(spec: JudgeSpec, settings: Settings, *, api_key: str | None = None, **options: Any) -> Backend:
    """Create the backend that serves ``spec``.

    What the backend takes from ``settings`` (its key, timeouts, a default base URL) is declared by
    its registry entry, so nothing here depends on which backend it is. Options win over the spec,
    and the spec over settings.

    Args:
        spec: The judge.
        settings: Resolves the key named by ``spec.api_key_env`` and supplies the timeouts.
        api_key: An explicit key (the UI's password box); wins over the environment.
        **options: Extra backend options, e.g. ``device`` for local judges.

    Raises:
        ConfigError: The spec names an unknown backend, or an option is invalid.
        MissingApiKey: The judge needs a key and neither ``api_key`` nor its variable holds one.
    """
    entry = get_backend(spec.backend)
    endpoint = {"base_url": spec.base_url} if spec.base_url else {}
    opts: dict[str, Any] = {
        **entry.settings_options(settings),
        **endpoint,
        "capabilities": spec.capabilities,
        "name": spec.name,
        **spec.options,
        **options,
    }
    if entry.key is not None:
        entry.key.add_key(opts, settings, explicit=api_key, declared=spec.api_key_env)
    return entry.factory(spec.model, **opts)
