"""Custom endpoints a public Space refuses to call (server-side request forgery)."""

from __future__ import annotations

import pytest

from judges import ConfigError
from judges.endpoints import check_custom_endpoint, on_public_space
from judges.ui.form import CUSTOM_JUDGE, resolve_judge


@pytest.mark.parametrize("url", ["http://169.254.169.254/latest/meta-data", "http://[fe80::1]:8000/v1"])
def test_link_local_is_refused_everywhere(url):
    for public in (False, True):
        with pytest.raises(ConfigError, match="link-local"):
            check_custom_endpoint(url, public=public)


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8000/v1", "http://localhost:8000/v1", "http://10.0.0.5/v1", "http://192.168.1.2/v1"]
)
def test_own_and_private_networks_only_refused_on_a_public_space(url):
    check_custom_endpoint(url, public=False)  # a local `python app.py` may use a local vLLM
    with pytest.raises(ConfigError, match="public Space"):
        check_custom_endpoint(url, public=True)


def test_public_addresses_and_unresolvable_names_pass():
    check_custom_endpoint("https://93.184.215.14/v1", public=True)
    check_custom_endpoint("https://no-such-host.invalid/v1", public=True)  # fails later, readably


def test_the_space_applies_it(monkeypatch):
    assert not on_public_space({}) and on_public_space({"SPACE_ID": "me/judge"})
    assert resolve_judge(CUSTOM_JUDGE, "http://127.0.0.1:8000/v1", "m").base_url == "http://127.0.0.1:8000/v1"
    monkeypatch.setenv("SPACE_ID", "me/judge")
    with pytest.raises(ConfigError, match="public Space"):
        resolve_judge(CUSTOM_JUDGE, "http://127.0.0.1:8000/v1", "m")
