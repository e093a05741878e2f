"""Settings from the environment and the judge catalog."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from judges import CATALOG, ConfigError, Settings, custom_spec, get_spec
from judges.backends import registry
from judges.backends.catalog import JudgeSpec, build_backend, judge_names, local_spec
from judges.errors import JudgeError, MissingApiKey, redact
from judges.settings import SECRET_VARIABLES
from judges.types import ChatRequest, Message, TextPart
from tests.support.openai_server import serve_openai

ROOT = Path(__file__).resolve().parents[2]
ASK = ChatRequest((Message("user", (TextPart("Which is better?"),)),))


@pytest.fixture
def server():
    with serve_openai() as running:
        yield running


def test_settings_from_env_and_secrets_hidden():
    env = {
        "OPENAI_API_KEY": "sk-abc123456789",
        "JUDGE_TIMEOUT_S": "12.5",
        "JUDGE_CONCURRENCY": "4",
        "RUNS_REPO": "me/runs",
    }
    settings = Settings.from_env(env)
    assert settings.request_timeout_s == 12.5 and settings.concurrency == 4 and settings.runs_repo == "me/runs"
    assert settings.key_for("OPENAI_API_KEY") == "sk-abc123456789"
    assert "sk-abc" not in repr(settings)


@pytest.mark.parametrize("env", [{"JUDGE_TIMEOUT_S": "soon"}, {"JUDGE_CONCURRENCY": "-2"}])
def test_bad_numbers_say_which_variable(env):
    with pytest.raises(ConfigError, match=next(iter(env))):
        Settings.from_env(env)


def test_catalog_has_api_and_local_judges():
    kinds = {spec.kind for spec in CATALOG.values()}
    assert kinds == {"api", "local"}
    assert get_spec("gpt-4o-mini").name == "GPT-4o-mini"  # by model id, case-insensitive
    assert judge_names("local") and all(CATALOG[n].capabilities.label_scoring for n in judge_names("local"))
    with pytest.raises(ConfigError, match="Known judges"):
        get_spec("GPT-9")


def test_reasoning_judge_declares_no_temperature():
    caps = get_spec("o4-mini").capabilities
    assert not caps.temperature and not caps.logprobs


def test_build_api_backend_uses_the_right_secret():
    settings = Settings.from_env({"GEMINI_API_KEY": "AIzaTESTKEY0000000000000000"})
    backend = build_backend(get_spec("Gemini-2.5-Flash"), settings)
    assert backend.name == "Gemini-2.5-Flash"
    with pytest.raises(MissingApiKey, match="OPENAI_API_KEY"):
        build_backend(get_spec("GPT-4o"), settings)


def test_custom_spec_validation():
    assert custom_spec("qwen", "http://127.0.0.1:8000/v1").kind == "api"
    with pytest.raises(ConfigError, match="http"):
        custom_spec("qwen", "127.0.0.1:8000")
    with pytest.raises(ConfigError, match="model name"):
        custom_spec(" ", "http://127.0.0.1:8000/v1")


def test_redact():
    text = "bad key sk-proj-ABCDEFGH12345 and hf_abcdefghijklmnop and mysecretvalue"
    out = redact(text, ["mysecretvalue"])
    assert "ABCDEFGH" not in out and "hf_abc" not in out and "mysecretvalue" not in out


# --------------------------------------------------------------------------- one key resolver, one secrets list


def test_settings_secrets_are_every_secret_it_holds_and_nothing_else():
    env = {"OPENAI_API_KEY": "sk-abc123456789", "HF_TOKEN": "hf_abcdefghijkl", "RUNS_REPO": "me/runs"}

    assert Settings.from_env(env).secrets() == ("sk-abc123456789", "hf_abcdefghijkl")
    assert Settings().secrets() == ()
    assert {v.name for v in SECRET_VARIABLES} == {"OPENAI_API_KEY", "GEMINI_API_KEY", "HF_TOKEN"}
    assert all(Settings.from_env({v.name: "secret-value"}).secrets() == ("secret-value",) for v in SECRET_VARIABLES)


def test_keys_from_env_reads_only_secrets_so_a_bad_number_cannot_stop_it():
    settings = Settings.keys_from_env({"GEMINI_API_KEY": "AIzaTEST", "JUDGE_TIMEOUT_S": "soon"})

    assert settings.gemini_api_key == "AIzaTEST" and settings.request_timeout_s == 60.0


def test_an_explicit_key_beats_the_declared_variable_which_beats_none():
    settings = Settings(openai_api_key="sk-space-secret-0000")

    assert settings.resolve_key("sk-typed-0000", "OPENAI_API_KEY") == "sk-typed-0000"
    assert settings.resolve_key("  ", "OPENAI_API_KEY") == "sk-space-secret-0000"  # blank is no key
    assert settings.resolve_key(None, "GEMINI_API_KEY") is None
    assert settings.resolve_key(None, None) is None  # no declared variable: no secret of the Space


def test_build_backend_sends_the_explicit_key_then_the_space_secret(server):
    settings = Settings(openai_api_key="sk-space-secret-0000")
    spec = replace(custom_spec("judge-model", server.base_url), api_key_env="OPENAI_API_KEY")

    for typed in ("sk-typed-key-0000", None):
        backend = build_backend(spec, settings, api_key=typed, timeout_s=5)
        backend.complete(ASK)
        backend.close()

    assert [r.headers["authorization"] for r in server.chat_requests] == [
        "Bearer sk-typed-key-0000",
        "Bearer sk-space-secret-0000",
    ]


def test_a_url_typed_by_a_visitor_never_receives_the_space_secrets(server, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-space-secret-0000")
    settings = Settings.from_env()

    backend = build_backend(custom_spec("judge-model", server.base_url), settings)
    backend.complete(ASK)

    assert server.chat_requests[0].headers["authorization"] == "Bearer not-needed"


def test_build_backend_asks_the_registry_entry_not_the_backend_name(monkeypatch):
    made: list[tuple[str, dict]] = []

    def toy(model: str, /, **options):
        made.append((model, options))
        return object()

    monkeypatch.setattr(registry, "_BACKENDS", dict(registry._BACKENDS))
    registry.register_backend("toy", toy, key=registry.KeyNeed("secret", env_option="secret_env"))
    spec = JudgeSpec("Toy", "toy", "toy-1", "Toy", "api", api_key_env="GEMINI_API_KEY")

    build_backend(spec, Settings(gemini_api_key="AIzaTESTKEY"), device="x")

    assert made == [
        (
            "toy-1",
            {
                "capabilities": spec.capabilities,
                "name": "Toy",
                "device": "x",
                "secret": "AIzaTESTKEY",
                "secret_env": "GEMINI_API_KEY",
            },
        )
    ]


def test_the_hf_entry_takes_the_hugging_face_token_not_the_typed_key(monkeypatch):
    made: list[dict] = []
    monkeypatch.setattr(registry, "_BACKENDS", dict(registry._BACKENDS))
    entry = registry.get_backend("hf")
    registry.register_backend(
        "hf", lambda model, /, **options: made.append(options), module=entry.module, key=entry.key
    )

    build_backend(local_spec("some/model"), Settings(hf_token="hf_spacetoken00"), api_key="sk-typed-0000")
    build_backend(local_spec("some/model"), Settings(hf_token="hf_spacetoken00"), token="hf_given000000")

    assert [options["token"] for options in made] == ["hf_spacetoken00", "hf_given000000"]


# --------------------------------------------------------------------------- the registry


def test_a_decorated_backend_imports_its_module_only_when_built(tmp_path, monkeypatch):
    (tmp_path / "toy_judge_backend.py").write_text(
        "class Toy:\n"
        "    def __init__(self, model, **options):\n"
        "        self.name, self.options = 'toy:' + model, options\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(registry, "_BACKENDS", dict(registry._BACKENDS))

    @registry.backend("toy", module="toy_judge_backend")
    def toy_backend(model: str, /, **options):
        from toy_judge_backend import Toy

        return Toy(model, **options)

    assert "toy" in registry.backend_names() and registry.get_backend("toy").factory is toy_backend
    assert "toy_judge_backend" not in sys.modules
    made = registry.create_backend("toy", "m1", flavour="x")
    assert "toy_judge_backend" in sys.modules and made.name == "toy:m1" and made.options == {"flavour": "x"}
    sys.modules.pop("toy_judge_backend")


def test_listing_backends_imports_no_backend_module():
    code = (
        "import sys\n"
        "from judges.backends.registry import backend_entries, create_backend\n"
        "entries = backend_entries()\n"
        "print([e.name for e in entries], [e.module for e in entries if e.module in sys.modules], 'openai' in sys.modules)\n"
        "create_backend('openai', 'm', base_url='http://127.0.0.1:9/v1')\n"
        "print('judges.backends.openai_compat' in sys.modules, 'openai' in sys.modules, 'httpx2' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    # Building the backend loads its module, and no SDK: requests go through our own HTTP client.
    assert out.stdout.split("\n")[:2] == ["['hf', 'openai'] [] False", "True False False"]


def test_unknown_backend_lists_the_registered_ones():
    with pytest.raises(ConfigError, match="Choose one of: hf, openai"):
        registry.create_backend("nope", "m")
    with pytest.raises(ConfigError, match="Choose one of"):
        build_backend(JudgeSpec("X", "nope", "m", "X", "api"), Settings())


def test_every_error_class_of_the_library_core_derives_from_judge_error():
    files = [*ROOT.glob("judges/backends/**/*.py"), ROOT / "judges/settings.py", ROOT / "judges/errors.py"]
    classes = {}
    for path in files:
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.ClassDef):
                classes[node.name] = getattr(importlib.import_module(module), node.name)
    errors = {name: cls for name, cls in classes.items() if isinstance(cls, type) and issubclass(cls, BaseException)}
    assert "MissingApiKey" in errors
    assert all(issubclass(cls, JudgeError) for cls in errors.values()), errors
