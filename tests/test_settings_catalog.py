"""Settings from the environment and the judge catalog."""

from __future__ import annotations

import pytest

from judges import CATALOG, ConfigError, Settings, custom_spec, get_spec
from judges.backends.catalog import build_backend, judge_names
from judges.errors import MissingApiKey, redact


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
