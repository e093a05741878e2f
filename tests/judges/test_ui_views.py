"""judges.ui.views and judges.ui.compare against the real loopback server: what a judgment's views
were, the distribution of the reconciled verdict, the prompt, and judges side by side."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from judges.settings import Settings
from judges.ui.compare import COMPARE_FIELDS, compare, compare_forms, comparison_html
from judges.ui.display import present_judgment
from judges.ui.form import CUSTOM_JUDGE, MAX_RESPONSES, JudgeForm, judge_form
from tests.support.app_launch import free_port
from tests.support.openai_server import reply, serve_openai

A_60 = {"A": [("A", -0.51), ("B", -1.2), ("C", -3.0)]}  # about A 60 %, B 30 %, tie 5 %


def verdict(label: str) -> str:
    return json.dumps({"Analysis": f"I pick {label}.", "Judgement": f"[[{label}]]"})


@pytest.fixture
def png(tmp_path) -> Path:
    path = tmp_path / "image.png"
    Image.new("RGB", (48, 32), "teal").save(path)
    return path


def form(png, base_url: str, **changes) -> JudgeForm:
    responses = changes.pop("responses", ("A red bus.", "A blue car."))
    return JudgeForm(
        image=str(png),
        mode=changes.pop("mode", "pair"),
        instruction="What vehicle is shown?",
        responses=(*responses, *[""] * (MAX_RESPONSES - len(responses))),
        judge=CUSTOM_JUDGE,
        base_url=base_url,
        model="judge-model",
        logprobs=changes.pop("logprobs", True),
        **changes,
    )


def test_after_a_swap_the_plot_is_the_tie_verdicts_distribution_not_the_first_orders(png):
    # A position-biased judge: always "A" at about 60 %. The verdict is a tie, so the combined
    # distribution must not show A winning.
    with serve_openai(default=reply(verdict("A"), alternatives=A_60)) as server:
        judgment = judge_form(form(png, server.base_url, swap=True), Settings())
    assert judgment.result.verdict == "tie"
    assert [v.order for v in judgment.views] == [(0, 1), (1, 0)]
    assert [v.verdict for v in judgment.views] == ["A", "B"]  # the swapped "A" is the original B
    probs = judgment.reconciled.probabilities
    assert probs["A"] == pytest.approx(probs["B"]) and judgment.result.probabilities.probabilities["A"] > 0.55
    view = present_judgment(judgment)
    assert view.probabilities == probs and "mean of 2 requests, in the original letters" in view.plot_title
    assert f"Confidence** in the verdict's label (mean of 2 requests): {probs['tie']:.0%}" in view.details_md
    assert "--- 2/2: responses shown in the order B, A, sample 1 ---" in view.raw_output
    assert view.analysis_md.startswith("_From the original order, sample 1 (of 2 requests")


def test_after_batch_shuffles_ranked_first_is_mapped_back_to_the_original_letters(png):
    # The judge always ranks the response shown first as best, so every order puts a different
    # original response first: the combined "ranked first" spreads over them by order.
    alternatives = {"A": [("A", -0.1), ("B", -2.5)]}
    with serve_openai(
        default=reply(verdict("A").replace('"[[A]]"', '"[[A]], [[B]], [[C]]"'), alternatives=alternatives)
    ) as server:
        judgment = judge_form(
            form(png, server.base_url, mode="batch", responses=("x", "y", "z"), shuffles=3), Settings()
        )
    firsts = [v.order[0] for v in judgment.views]
    probs = judgment.reconciled.probabilities
    for index, letter in enumerate("ABC"):
        share = firsts.count(index) / len(firsts)
        assert probs[letter] == pytest.approx(share, abs=0.1)
    assert judgment.reconciled.confidence == probs[judgment.result.verdict[0]]


def test_a_reask_is_folded_into_its_view_and_explained(png):
    with serve_openai() as server:
        server.script(reply("I cannot decide."), reply(verdict("B")))
        judgment = judge_form(form(png, server.base_url, logprobs=False), Settings())
    assert [v.attempts for v in judgment.views] == [2] and judgment.views[0].verdict == "B"
    assert "**Re-asked**: 1 output held no valid verdict" in present_judgment(judgment).details_md


def test_the_prompt_shown_is_the_one_sent_with_image_placeholders(png):
    with serve_openai(default=reply(verdict("A"))) as server:
        judgment = judge_form(form(png, server.base_url, criteria="Be strict."), Settings())
        sent = server.chat_requests[0]
    assert "<image 1: 48x32 image/png>" in judgment.prompt
    system, user = (m["content"] for m in sent.messages)
    assert system in judgment.prompt
    assert all(part["text"] in judgment.prompt for part in user if part["type"] == "text")
    assert "Be strict." in judgment.prompt


def compare_values(png, judges, **fields) -> list:
    values = dict.fromkeys(COMPARE_FIELDS)
    values.update({"image": str(png), "mode": "pair", "instruction": "Which?", "response_1": "a", "response_2": "b"})
    values.update(fields, judges=judges)
    return [values[name] for name in COMPARE_FIELDS]


def test_judges_side_by_side_with_their_agreement_and_a_panel_verdict(png):
    by_model = {"gpt-4o": "A", "gpt-4o-mini": "A", "gpt-4.1": "B"}

    def answer(request):
        return reply(verdict(by_model[request.body["model"]]))

    with serve_openai(default=answer) as server:
        settings = Settings(openai_api_key="sk-space", openai_base_url=server.base_url)
        forms = compare_forms(compare_values(png, ["GPT-4o", "GPT-4o-mini", "GPT-4.1"]))
        result = compare(forms, settings)
    assert [e.verdict for e in result.entries] == ["A", "A", "B"]
    assert result.panel == "A" and result.agreement == pytest.approx(1 / 3)
    assert result.with_panel == pytest.approx(2 / 3)
    page = comparison_html(result)
    assert "Panel verdict (majority)" in page and page.count('class="compare-col"') == 3
    assert "I pick B." in page


def test_a_failing_judge_keeps_its_column_and_a_typed_key_goes_to_its_own_judge_only(png):
    with serve_openai(default=reply(verdict("A"))) as server:
        values = compare_values(
            png, ["GPT-4o", CUSTOM_JUDGE], judge=CUSTOM_JUDGE, api_key="sk-typed", base_url=server.base_url, model="m"
        )
        # GPT-4o's server is not listening: it fails, and the comparison goes on without it.
        nowhere = f"http://127.0.0.1:{free_port()}/v1"
        result = compare(compare_forms(values), Settings(openai_base_url=nowhere, max_retries=0))
        keys = [r.headers.get("authorization") for r in server.chat_requests]
    assert keys == ["Bearer sk-typed"]  # the typed key went to the judge it was typed for
    assert "127.0.0.1" in result.entries[0].error and result.entries[1].verdict == "A"
    assert "sk-typed" not in comparison_html(result)


@pytest.mark.parametrize(("judges", "message"), [(["GPT-4o"], "Pick 2 to 4 judges"), (["GPT-4o"] * 2, "twice")])
def test_a_comparison_needs_two_different_judges(png, judges, message):
    from judges.errors import BadInput

    with pytest.raises(BadInput, match=message):
        compare_forms(compare_values(png, judges))
