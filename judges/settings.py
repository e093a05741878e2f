"""One frozen Settings object built from the environment, read when asked, never at import time."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from judges.errors import ConfigError


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

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read settings from ``env`` (default: ``os.environ``).

        Raises:
            ConfigError: A numeric variable does not hold a number.
        """
        env = os.environ if env is None else env

        def text(name: str) -> str | None:
            value = env.get(name, "").strip()
            return value or None

        def number(name: str, default: float, kind: type = int):
            raw = text(name)
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
            raw = text(name)
            return Path(raw).expanduser() if raw else None

        return cls(
            openai_api_key=text("OPENAI_API_KEY"),
            openai_base_url=text("OPENAI_BASE_URL"),
            gemini_api_key=text("GEMINI_API_KEY"),
            hf_token=text("HF_TOKEN"),
            image_max_side=number("JUDGE_IMAGE_MAX_SIDE", 1024),
            request_timeout_s=number("JUDGE_TIMEOUT_S", 60.0, float),
            max_retries=int(number("JUDGE_MAX_RETRIES", 3)) if text("JUDGE_MAX_RETRIES") != "0" else 0,
            concurrency=number("JUDGE_CONCURRENCY", 8),
            runs_dir=path("RUNS_DIR"),
            runs_repo=text("RUNS_REPO"),
            benchmark_dir=path("BENCHMARK_DIR"),
        )

    def key_for(self, env_name: str | None) -> str | None:
        """The secret named by a catalog entry's ``api_key_env`` (e.g. ``GEMINI_API_KEY``)."""
        return {
            "OPENAI_API_KEY": self.openai_api_key,
            "GEMINI_API_KEY": self.gemini_api_key,
            "HF_TOKEN": self.hf_token,
        }.get(env_name or "")
