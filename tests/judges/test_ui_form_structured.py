"""The Judge tab's form with structured tasks: task inputs reach the task, the tab's wording follows it."""

from __future__ import annotations

import json

from judges.settings import Settings
from judges.tasks import get_task
from judges.ui.display import present_judgment
from judges.ui.form import CUSTOM_JUDGE, INPUT_FIELDS, JudgeForm, input_boxes, judge_form
from tests.support.openai_server import reply, serve_openai


def values(**named) -> list:
    """/judge inputs in API order from names (the rest left out)."""
    return [named.get(name) for name in INPUT_FIELDS]


def test_a_text_only_process_problem_is_judged_from_the_form_without_an_image():
    grades = {
        "solution": "x = 3",
        "steps": [
            {"step": 1, "correct": True, "error_type": "none", "explanation": "right"},
            {"step": 2, "correct": False, "error_type": "numerical calculation", "explanation": "2 * 3 is 6"},
        ],
    }
    with serve_openai(default=reply(json.dumps(grades))) as server:
        form = JudgeForm.from_inputs(
            values(
                mode="process",
                instruction="Solve 2x = 6.",
                response_1="Step 1: divide by 2.\nStep 2: x = 4.",
                judge=CUSTOM_JUDGE,
                base_url=server.base_url,
                model="judge-model",
            )
        )
        judgment = judge_form(form, Settings())
    assert judgment.result.verdict == 2 and judgment.result.details["first_wrong_step"] == 2
    shown = present_judgment(judgment).verdict_html
    assert "numerical calculation" in shown and "2 * 3 is 6" in shown


def test_the_instruction_box_is_named_by_the_task():
    assert (
        input_boxes("verify").instruction == get_task("verify").instruction_label == "Text-to-image prompt (optional)"
    )
    assert input_boxes("process").instruction == "Problem"
    assert input_boxes("score").instruction == "Instruction"
