"""One frozen Settings object built from the environment, read when asked, never at import time.

Settings is also the one place that decides which key a judge gets (:meth:`Settings.resolve_key`):
an explicit key beats the variable the judge declares, and without either there is none. Backends
receive the result and never read the environment themselves, so a secret reaches a backend only
through here. The secret variables are declared once, in :data:`SECRET_VARIABLES`; redaction uses
:meth:`Settings.secrets`, so a new secret is scrubbed everywhere as soon as it is declared.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from judges.errors import ConfigError


@dataclass(frozen=True)
class SecretVariable:
    """An environment variable (a Space secret) that holds a key.

    Attributes:
        name: The environment variable, e.g. ``OPENAI_API_KEY``; catalog entries name it in ``api_key_env``.
        attribute: The :class:`Settings` field that holds its value.
    """

    name: str
    attribute: str


OPENAI_API_KEY = SecretVariable("OPENAI_API_KEY", "openai_api_key")
GEMINI_API_KEY = SecretVariable("GEMINI_API_KEY", "gemini_api_key")
HF_TOKEN = SecretVariable("HF_TOKEN", "hf_token")

#: Every secret Settings reads. Adding one here (and its field) is all it takes to resolve and redact it.
SECRET_VARIABLES: tuple[SecretVariable, ...] = (OPENAI_API_KEY, GEMINI_API_KEY, HF_TOKEN)


def _text(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name, "").strip()
    return value or None


@dataclass(frozen=True)
class Settings:
    """Everything the library and the Space read from the environment.

    Secrets are kept out of ``repr`` so that printing settings never leaks them.

    Attributes:
        openai_api_key: ``OPENAI_API_KEY``: key for OpenAI and for custom endpoints without their own key.
        openai_base_url: ``OPENAI_BASE_URL``: default base URL of the ``openai`` backend.
        gemini_api_key: ``GEMINI_API_KEY``: key for Gemini's OpenAI-compatible endpoint.
        hf_token: ``HF_TOKEN``: Hugging Face token (Inference Providers, gated models, pushing runs).
        image_max_side: ``JUDGE_IMAGE_MAX_SIDE``: images are downscaled to this long side before upload.
        request_timeout_s: ``JUDGE_TIMEOUT_S``: per-request timeout of API judges.
        max_retries: ``JUDGE_MAX_RETRIES``: retries on 429/5xx/connection errors, with backoff.
        concurrency: ``JUDGE_CONCURRENCY``: simultaneous API requests in batch work.
        runs_dir: ``RUNS_DIR``: directory of stored runs (default: the embedded ``assets/runs``).
        runs_repo: ``RUNS_REPO``: Hugging Face dataset repo to load runs from and push runs to.
        benchmark_dir: ``BENCHMARK_DIR``: local copy of the benchmark in its Hub layout (texts, images).
        public_space: ``SPACE_ID`` is set: the app runs on a public Hugging Face Space, so API judges
            never connect to this machine's own or private networks (:mod:`judges.endpoints`).
    """

    openai_api_key: str | None = field(default=None, repr=False)
    openai_base_url: str | None = None
    gemini_api_key: str | None = field(default=None, repr=False)
    hf_token: str | None = field(default=None, repr=False)
    image_max_side: int = 1024
    request_timeout_s: float = 60.0
    max_retries: int = 3
    concurrency: int = 8
    runs_dir: Path | None = None
    runs_repo: str | None = None
    benchmark_dir: Path | None = None
    public_space: bool = False

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read settings from ``env`` (default: ``os.environ``).

        Raises:
            ConfigError: A numeric variable does not hold a number.
        """
        env = os.environ if env is None else env

        def number(name: str, default: float, kind: type[int] | type[float] = int) -> float:
            raw = _text(env, name)
            if raw is None:
                return default
            try:
                value = kind(raw)
            except ValueError:
                raise ConfigError(f"{name}={raw!r} is not a number; unset it or give a number.") from None
            if value <= 0:
                raise ConfigError(f"{name} must be positive, got {raw}.")
            return value

        def path(name: str) -> Path | None:
            raw = _text(env, name)
            return Path(raw).expanduser() if raw else None

        return cls(
            **_secrets_of(env),
            openai_base_url=_text(env, "OPENAI_BASE_URL"),
            image_max_side=int(number("JUDGE_IMAGE_MAX_SIDE", 1024)),
            request_timeout_s=float(number("JUDGE_TIMEOUT_S", 60.0, float)),
            max_retries=int(number("JUDGE_MAX_RETRIES", 3)) if _text(env, "JUDGE_MAX_RETRIES") != "0" else 0,
            concurrency=int(number("JUDGE_CONCURRENCY", 8)),
            runs_dir=path("RUNS_DIR"),
            runs_repo=_text(env, "RUNS_REPO"),
            benchmark_dir=path("BENCHMARK_DIR"),
            public_space=bool(_text(env, "SPACE_ID")),
        )

    @classmethod
    def keys_from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Settings holding only the secrets of ``env`` (default: ``os.environ``), the rest at defaults.

        For callers that need a key and nothing else (:func:`judges.backends.registry.create_backend`):
        unlike :meth:`from_env` it cannot fail on an unrelated malformed number.
        """
        env = os.environ if env is None else env
        return cls.from_env(
            {variable.name: env[variable.name] for variable in SECRET_VARIABLES if variable.name in env}
        )

    def key_for(self, env_name: str | None) -> str | None:
        """The secret held for a declared variable (a catalog entry's ``api_key_env``, e.g. ``GEMINI_API_KEY``).

        Only the variables in :data:`SECRET_VARIABLES` are known; any other name, and None, give None.
        """
        for variable in SECRET_VARIABLES:
            if variable.name == env_name:
                return self._value(variable)
        return None

    def resolve_key(self, explicit: str | None, env_name: str | None) -> str | None:
        """The key a judge gets: an explicit key, else the variable it declares, else none.

        Args:
            explicit: A key given for this request (the UI's key box, ``api_key=``); blank counts as none.
            env_name: The variable the judge declares (``api_key_env``). None means the judge may
                receive no secret of this Space at all (a URL typed by a visitor).
        """
        explicit = (explicit or "").strip()
        return explicit or self.key_for(env_name)

    def secrets(self) -> tuple[str, ...]:
        """Every secret value these settings hold, for :func:`judges.errors.redact`."""
        return tuple(value for variable in SECRET_VARIABLES if (value := self._value(variable)))

    def _value(self, variable: SecretVariable) -> str | None:
        value = getattr(self, variable.attribute)
        return value if isinstance(value, str) else None


def _secrets_of(env: Mapping[str, str]) -> dict[str, str | None]:
    """The secret fields of Settings, read from ``env`` by :data:`SECRET_VARIABLES`."""
    return {variable.attribute: _text(env, variable.name) for variable in SECRET_VARIABLES}
