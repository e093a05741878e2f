"""The rubric task end to end on a tiny random local VLM (CPU, loaded through from_pretrained).

A random model writes gibberish: the test checks the pipeline runs (prompt with images, one batch,
re-asks), that every criterion comes back unscored with a reason rather than a guessed score, and
that nothing crashes.
"""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

from PIL import Image  # noqa: E402

from judges.backends.registry import create_backend  # noqa: E402
from judges.judge import Judge, JudgeOptions  # noqa: E402
from judges.tasks import get_task  # noqa: E402
from judges.types import JudgeResult, Sampling  # noqa: E402

KIND = get_task("rubric")


def test_a_tiny_local_model_judges_a_pair_and_a_single_response_without_crashing(tiny_vlm_dir: Path, tmp_path: Path):
    image = tmp_path / "chart.png"
    Image.new("RGB", (48, 32), (30, 120, 200)).save(image)
    tasks = [
        KIND.make_task(
            "What colour is it?", ["Blue."], [str(image)], extra={"checklist": ["relevance: names a colour"]}
        ),
        KIND.make_task("What colour is it?", ["Blue.", "Red."], [str(image)]),
    ]
    backend = create_backend("hf", str(tiny_vlm_dir), device="cpu", batch_size=4)
    options = JudgeOptions(sampling=Sampling(temperature=0, max_tokens=12), max_reasks=1)
    results = Judge(backend, KIND, options).judge_many(tasks)
    for result, n in zip(results, (1, 2), strict=True):
        assert isinstance(result, JudgeResult), result
        assert result.mode == "rubric" and result.details["responses"] == n
        assert result.attempts == 2  # gibberish is asked again once
        criteria = result.details["criteria"]
        assert len(criteria) == 6
        for part in criteria.values():
            # Either a real verdict on the scale (unlikely but allowed) or unscored with a reason.
            assert part["parsed"] == (part["verdict"] is not None)
            assert part["parsed"] or part["reason"]
        if not result.parsed:
            assert result.verdict is None and result.reason
        assert result.details["structured_output"] is False  # a local model gets the JSON in words only
