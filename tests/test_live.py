"""Opt-in checks against real judges: never in CI, run by hand where a key or a GPU is available.

    OPENAI_API_KEY=... python -m pytest -m api tests/test_live.py
    LOCAL_JUDGE=llava-hf/llava-1.5-7b-hf python -m pytest -m gpu tests/test_live.py   # id or local path

Both judge the Space's pair example, where answer A describes the picture and answer B does not, so
a working judge must say A.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from judges import Judge, JudgeOptions, Settings, build_backend, get_spec, get_task
from judges.backends.catalog import local_spec

EXAMPLE = Path(__file__).resolve().parents[1] / "assets" / "examples" / "street.png"
RIGHT = "A red bus drives along a road past a yellow house, with green hills and a low evening sun."
WRONG = "A yellow taxi is parked in front of a tall apartment block at night, under bright street lights."


def pair_task():
    return get_task("pair").make_task("Describe this picture in one sentence.", [RIGHT, WRONG], [EXAMPLE])


@pytest.mark.api
def test_a_real_api_judge_picks_the_right_answer():
    if not os.environ.get("OPENAI_API_KEY"):
        pytest.fail("set OPENAI_API_KEY to run the api tests")
    spec = get_spec(os.environ.get("LIVE_API_JUDGE", "GPT-4o-mini"))
    backend = build_backend(spec, Settings.from_env())
    result = Judge(backend, "pair", JudgeOptions(swap=True), name=spec.name).judge(pair_task())
    assert result.parsed and result.verdict == "A", result.raw_output
    assert result.swap.consistent is True
    if spec.capabilities.logprobs:
        assert result.probabilities is not None and result.probabilities.probabilities["A"] > 0.5


@pytest.mark.gpu
def test_a_real_local_judge_on_the_gpu():
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.fail("no CUDA device: run the gpu tests on a GPU machine")
    model = os.environ.get("LOCAL_JUDGE", "llava-hf/llava-1.5-7b-hf")
    backend = build_backend(local_spec(model), Settings.from_env(), device="cuda")
    judge = Judge(backend, "pair", JudgeOptions(verdict_source="forward"))
    forward = judge.judge(pair_task())
    assert forward.parsed and forward.probabilities.source == "forward"
    assert forward.verdict == "A", forward.probabilities
    generated = Judge(backend, "score").judge(get_task("score").make_task("Describe this picture.", [RIGHT], [EXAMPLE]))
    assert generated.raw_output  # a 7B judge's analysis; parsing may fail, which is then said
