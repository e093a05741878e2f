"""Shared pytest fixtures, loaded by ``tests/conftest.py`` through ``pytest_plugins``."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def tiny_vlm_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random LLaVA saved to disk once per session (see :mod:`tests.support.tiny_vlm`)."""
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from tests.support.tiny_vlm import build_tiny_vlm

    return build_tiny_vlm(tmp_path_factory.mktemp("tiny_vlm"))


@pytest.fixture(scope="session")
def tiny_idefics3_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random Idefics3 saved to disk once per session (see :mod:`tests.support.tiny_vlm`)."""
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from tests.support.tiny_vlm import build_tiny_idefics3

    return build_tiny_idefics3(tmp_path_factory.mktemp("tiny_idefics3"))


@pytest.fixture(scope="session")
def tiny_gemma3_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random Gemma 3 saved to disk once per session (see :mod:`tests.support.tiny_vlm`)."""
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from tests.support.tiny_vlm import build_tiny_gemma3

    return build_tiny_gemma3(tmp_path_factory.mktemp("tiny_gemma3"))
