"""Backend registry: a backend name -> a factory, imported only when first used.

Heavy libraries (openai, torch, transformers) are imported inside the factory's module, so
importing :mod:`judges` or listing backends costs nothing. Add a backend by writing a module with a
``create(model, **options)`` function and one line in ``_FACTORIES``.
"""

from __future__ import annotations

import importlib
from typing import Any

from judges.backends.base import Backend
from judges.errors import ConfigError

#: backend name -> "module:function". Strings keep registration free of imports.
_FACTORIES: dict[str, str] = {
    "openai": "judges.backends.openai_compat:create",
    "hf": "judges.backends.hf_local:create",
}


def backend_names() -> list[str]:
    """Names accepted by :func:`create_backend`."""
    return sorted(_FACTORIES)


def register_backend(name: str, target: str) -> None:
    """Register a backend factory given as ``"package.module:function"``."""
    _FACTORIES[name] = target


def create_backend(backend: str, model: str, **options: Any) -> Backend:
    """Build a backend by name.

    Args:
        backend: A registered backend name (``openai``, ``hf``).
        model: Model id for that backend (``gpt-4o``, ``HuggingFaceTB/SmolVLM``, a local path).
        **options: Backend-specific options (``base_url``, ``api_key``, ``device`` ...).

    Raises:
        ConfigError: The name is not registered.
    """
    try:
        target = _FACTORIES[backend]
    except KeyError:
        raise ConfigError(f"Unknown backend {backend!r}. Choose one of: {', '.join(backend_names())}.") from None
    module_name, _, func = target.partition(":")
    factory = getattr(importlib.import_module(module_name), func)
    return factory(model, **options)
