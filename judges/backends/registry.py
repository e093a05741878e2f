"""Backend registry: a backend name -> a small decorated function that builds it.

Each backend is one function decorated with :func:`backend`. The function imports the backend's
module inside its body, so heavy libraries (openai, torch, transformers) load only when a backend
of that kind is first built; importing :mod:`judges` or listing backends costs nothing. The
decorator also records what the backend takes from :class:`~judges.settings.Settings` (its key,
its transport settings), so :func:`judges.backends.catalog.build_backend` asks the entry instead of
branching on the backend's name.

Add a backend by writing its module and one decorated function here::

    @backend("mine", module="judges.backends.mine", key=KeyNeed("api_key", env_option="api_key_env"))
    def mine_backend(model: str, **options: Any) -> Backend:
        from judges.backends.mine import MineBackend

        return MineBackend(model, **options)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from judges.backends.base import Backend
from judges.errors import ConfigError
from judges.settings import HF_TOKEN, OPENAI_API_KEY, SECRET_VARIABLES, Settings


class BackendFactory(Protocol):
    """Builds a backend from a model id and the backend's own keyword options."""

    def __call__(self, model: str, /, **options: Any) -> Backend: ...


#: Options a backend takes from Settings; options given by the caller override them.
SettingsOptions = Callable[[Settings], Mapping[str, Any]]


#: The variables a key can come from.
SECRET_NAMES: tuple[str, ...] = tuple(variable.name for variable in SECRET_VARIABLES)


def _no_settings(settings: Settings) -> Mapping[str, Any]:
    return {}


@dataclass(frozen=True)
class KeyNeed:
    """How a backend takes its secret.

    Attributes:
        option: The keyword that receives the secret (``api_key``, ``token``).
        variable: The secret variable used when nothing more specific is known: the backend's own
            default for :func:`create_backend`, and the only source when ``per_judge`` is False.
        per_judge: True: the judge decides (an explicit key, else the judge's ``api_key_env``, else
            none). False: always ``variable``'s value (the Hugging Face token of gated models); an
            explicit key for the judge is not used.
        env_option: The keyword that receives the name of the variable the key comes from, so the
            backend can name it in messages and knows whether a secret was allowed at all.
    """

    option: str
    variable: str | None = None
    per_judge: bool = True
    env_option: str | None = None

    def add_key(
        self, options: dict[str, Any], settings: Settings, *, explicit: str | None, declared: str | None
    ) -> None:
        """Put the resolved key, and the name of its variable, into ``options`` (in place).

        Args:
            options: The backend's options; a key already there counts as given explicitly.
            settings: The one key resolver.
            explicit: A key given for this request (the key box), or None.
            declared: The variable the judge declares (``api_key_env``); None: no secret at all.

        Raises:
            ConfigError: No key was given and the variable is not one Settings reads, so naming it
                would send the user to set a variable nothing reads.
        """
        given = options.get(self.option) or None
        variable = declared if self.per_judge else self.variable
        key = settings.resolve_key((explicit or given) if self.per_judge else given, variable)
        if key is None and variable is not None and variable not in SECRET_NAMES:
            raise ConfigError(
                f"The key variable {variable} is not one this library reads ({', '.join(SECRET_NAMES)}). "
                "Pass the key itself (api_key=...), or use one of those variables."
            )
        if key is not None:
            options[self.option] = key
        if self.env_option is not None:
            options[self.env_option] = variable


@dataclass(frozen=True)
class BackendEntry:
    """A registered backend.

    Attributes:
        name: The name specs and ``--backend`` use (``openai``, ``hf``).
        factory: The decorated function; it imports ``module`` when called.
        module: The module or package the factory imports. It and its submodules are the only
            modules of :mod:`judges` that may import heavy libraries at module level (a test checks).
        key: How the backend takes its secret; None: it takes none.
        settings_options: Options it takes from Settings (timeouts, default base URL ...).
        local: Whether the model runs on this machine (it then takes ``device`` and ``batch_size``).
        stored_as: The transport name stored runs record in their manifest's ``backend``.
    """

    name: str
    factory: BackendFactory
    module: str
    key: KeyNeed | None = None
    settings_options: SettingsOptions = _no_settings
    local: bool = False
    stored_as: str = ""

    def owns(self, module: str) -> bool:
        """Whether ``module`` is this backend's module or one of its submodules."""
        return module == self.module or module.startswith(self.module + ".")


_BACKENDS: dict[str, BackendEntry] = {}


def register_backend(
    name: str,
    factory: BackendFactory,
    *,
    module: str | None = None,
    key: KeyNeed | None = None,
    settings_options: SettingsOptions = _no_settings,
    local: bool = False,
    stored_as: str = "",
) -> BackendEntry:
    """Register ``factory`` under ``name`` (replacing any earlier one) and return its entry.

    Args:
        name: The backend name.
        factory: ``factory(model, **options) -> Backend``; it should import its heavy module inside.
        module: The module the factory imports; defaults to the factory's own module.
        key: How the backend takes its secret; None: it takes none.
        settings_options: Options it takes from Settings.
        local: Whether the model runs on this machine.
        stored_as: The transport name recorded in stored runs (default: ``name``).
    """
    entry = BackendEntry(name, factory, module or factory.__module__, key, settings_options, local, stored_as or name)
    _BACKENDS[name] = entry
    return entry


def backend(
    name: str,
    *,
    module: str,
    key: KeyNeed | None = None,
    settings_options: SettingsOptions = _no_settings,
    local: bool = False,
    stored_as: str = "",
) -> Callable[[BackendFactory], BackendFactory]:
    """Decorator form of :func:`register_backend`; the function is returned unchanged."""

    def register(factory: BackendFactory) -> BackendFactory:
        register_backend(
            name, factory, module=module, key=key, settings_options=settings_options, local=local, stored_as=stored_as
        )
        return factory

    return register


def backend_names() -> list[str]:
    """Names accepted by :func:`create_backend`."""
    return sorted(_BACKENDS)


def backend_entries() -> tuple[BackendEntry, ...]:
    """Every registered backend, by name."""
    return tuple(_BACKENDS[name] for name in backend_names())


def get_backend(name: str) -> BackendEntry:
    """The entry registered under ``name``.

    Raises:
        ConfigError: The name is not registered; the message lists those that are.
    """
    try:
        return _BACKENDS[name]
    except KeyError:
        raise ConfigError(f"Unknown backend {name!r}. Choose one of: {', '.join(backend_names())}.") from None


def create_backend(backend: str, model: str, **options: Any) -> Backend:
    """Build a backend by name.

    A backend that takes a key and is given none gets the one :class:`~judges.settings.Settings`
    resolves from the environment for its variable (``api_key_env``, default ``OPENAI_API_KEY``
    for ``openai``); the backend itself never reads the environment. ``api_key_env=None`` means no
    secret at all.

    Args:
        backend: A registered backend name (``openai``, ``hf``).
        model: Model id for that backend (``gpt-4o``, ``HuggingFaceTB/SmolVLM``, a local path).
        **options: Backend-specific options (``base_url``, ``api_key``, ``device`` ...).

    Raises:
        ConfigError: The name is not registered.
    """
    entry = get_backend(backend)
    need = entry.key
    if need is not None:
        declared = options.get(need.env_option, need.variable) if need.env_option else need.variable
        need.add_key(options, Settings.keys_from_env(), explicit=None, declared=declared)
    return entry.factory(model, **options)


# --------------------------------------------------------------------------- the backends


def _openai_settings(settings: Settings) -> Mapping[str, Any]:
    return {
        "base_url": settings.openai_base_url,
        "timeout_s": settings.request_timeout_s,
        "max_retries": settings.max_retries,
        "concurrency": settings.concurrency,
        "image_max_side": settings.image_max_side,
        "public_only": settings.public_space,
    }


@backend(
    "openai",
    module="judges.backends.openai_compat",
    key=KeyNeed("api_key", variable=OPENAI_API_KEY.name, env_option="api_key_env"),
    settings_options=_openai_settings,
    stored_as="openai_compat",
)
def openai_backend(model: str, /, **options: Any) -> Backend:
    """Any OpenAI-compatible chat-completions server; see :class:`~judges.backends.openai_compat.OpenAICompatBackend`."""
    from judges.backends.openai_compat import OpenAICompatBackend

    return OpenAICompatBackend(model, **options)


@backend(
    "hf",
    module="judges.backends.hf",
    key=KeyNeed("token", variable=HF_TOKEN.name, per_judge=False),
    local=True,
    stored_as="hf_local",
)
def hf_backend(model: str, /, **options: Any) -> Backend:
    """A local transformers model; see :func:`judges.backends.hf.backend.create` (loads the model)."""
    from judges.backends.hf.backend import create

    return create(model, **options)
