"""The Judge end to end: real openai backend, real HTTP server on 127.0.0.1, scripted verdicts."""

from __future__ import annotations

import io
import json

import pytest
from PIL import Image

from judges import BadInput, ConfigError, Judge, JudgeOptions, create_backend, get_task
from judges.errors import BackendUnavailable, ImageError
from judges.types import Capabilities, Sampling
from tests.support.openai_server import reply, serve_openai, server_error

JSON_VERDICT = '{{"Analysis": "{analysis}", "Judgement": "[[{label}]]"}}'


def verdict(label: str, analysis: str = "checked the image") -> str:
    return JSON_VERDICT.format(label=label, analysis=analysis)


@pytest.fixture
def server():
    with serve_openai() as srv:
        yield srv


@pytest.fixture
def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), "navy").save(buffer, format="PNG")
    return buffer.getvalue()


def make_judge(server, mode: str, logprobs: bool = False, **options) -> Judge:
    backend = create_backend(
        "openai",
        "judge-model",
        base_url=server.base_url,
        capabilities=Capabilities(vision=True, logprobs=logprobs),
        max_retries=1,
        backoff_base_s=0.01,
        timeout_s=5,
    )
    return Judge(backend, mode, JudgeOptions(**options))


def pair_task(png, a="A red bus.", b="A blue car."):
    return get_task("pair").make_task("What vehicle is shown?", [a, b], [png])


# ---------------------------------------------------------------------- the three modes


def test_score_verdict_with_probabilities(server, png):
    server.script(reply(verdict("4"), alternatives={"4": [("4", -0.2), ("5", -1.9), ("3", -3.0)]}))
    judge = make_judge(server, "score", logprobs=True)
    result = judge.judge(get_task("score").make_task("Describe the chart.", ["It rises."], [png]))
    assert result.parsed and result.verdict == 4
    assert result.analysis == "checked the image"
    probs = result.probabilities
    assert probs is not None and set(probs.probabilities) == {"1", "2", "3", "4", "5"}
    assert probs.probabilities["4"] > probs.probabilities["5"] > probs.probabilities["3"] > 0
    assert probs.probabilities["1"] == 0
    assert abs(sum(probs.probabilities.values()) - 1) < 1e-9
    assert 3 < probs.expected_score < 5
    assert probs.confidence == probs.probabilities["4"]
    body = server.chat_requests[0].body
    assert body["logprobs"] is True and body["temperature"] == 0.4
    assert server.chat_requests[0].image_urls[0].startswith("data:image/png;base64,")


def test_pair_tie_probability_is_labelled_tie(server, png):
    server.script(reply(verdict("C"), alternatives={"C": [("C", -0.1), ("A", -2.5)]}))
    result = make_judge(server, "pair", logprobs=True).judge(pair_task(png))
    assert result.verdict == "tie"
    assert set(result.probabilities.probabilities) == {"A", "B", "tie"}
    assert result.probabilities.confidence == pytest.approx(result.probabilities.probabilities["tie"])


def test_batch_ranking(server, png):
    server.script(reply('{"Analysis": "C is exact", "Judgement": "[[C]], [[A]], [[B]]"}'))
    task = get_task("batch").make_task("Count the cats.", ["two", "three", "one"], [png])
    result = make_judge(server, "batch").judge(task)
    assert result.verdict == ("C", "A", "B")
    assert result.to_dict()["verdict"] == ["C", "A", "B"]


def test_no_logprobs_means_no_probabilities(server, png):
    server.script(reply(verdict("A"), logprobs=False))
    result = make_judge(server, "pair").judge(pair_task(png))
    assert result.verdict == "A" and result.probabilities is None
    assert "logprobs" not in server.chat_requests[0].body


# ---------------------------------------------------------------------- bias checks


def prefers(answer: str, fallback: str | None = None):
    """A judge that picks ``answer`` wherever it is shown (requests run concurrently, so by content)."""

    def decide(request):
        text = request.text
        first = text.index("[The Start of Answer A]") < text.index(answer) < text.index("[The End of Answer A]")
        if fallback is not None and not first:
            return reply(fallback)
        return reply(verdict("A" if first else "B"))

    return decide


def test_swap_consistent(server, png):
    server.set_default(prefers("A red bus."))
    result = make_judge(server, "pair", swap=True).judge(pair_task(png))
    assert result.swap.consistent is True
    assert result.swap.original_verdict == result.swap.swapped_verdict == "A"
    assert result.verdict == "A"
    orders = sorted(r.text.index("A red bus.") < r.text.index("A blue car.") for r in server.chat_requests)
    assert orders == [False, True]  # one request per order


def test_swap_inconsistent_becomes_tie(server, png):
    server.set_default(reply(verdict("A")))  # position bias: always the first answer
    result = make_judge(server, "pair", swap=True).judge(pair_task(png))
    assert result.swap.consistent is False
    assert (result.swap.original_verdict, result.swap.swapped_verdict) == ("A", "B")
    assert result.verdict == "tie"


def test_swap_with_one_side_unparsed_keeps_the_other(server, png):
    server.set_default(prefers("A blue car.", fallback="no idea"))
    result = make_judge(server, "pair", swap=True).judge(pair_task(png))
    assert result.swap.consistent is None and result.verdict == "B"


def test_self_consistency_majority(server, png):
    server.script(reply(verdict("4")), reply(verdict("2")), reply(verdict("4")))
    judge = make_judge(server, "score", samples=3)
    result = judge.judge(get_task("score").make_task("Q?", ["answer"], [png]))
    assert result.verdict == 4
    assert sorted(result.consistency.verdicts) == [2, 4, 4]  # requests run concurrently
    assert result.consistency.agreement == pytest.approx(2 / 3)


def test_batch_shuffles_map_back_to_original_letters(server, png):
    # The judge always ranks the response "best" first; whatever order it is shown in.
    def by_content(request):
        text = request.text
        order = sorted(["best", "middle", "worst"], key=lambda r: text.index(f"\n{r}\n"))
        letters = {r: "ABC"[i] for i, r in enumerate(order)}
        ranking = ", ".join(f"[[{letters[r]}]]" for r in ("best", "middle", "worst"))
        return reply(f'{{"Analysis": "x", "Judgement": "{ranking}"}}')

    server.set_default(by_content)
    task = get_task("batch").make_task("Rank.", ["middle", "worst", "best"], [png])
    result = make_judge(server, "batch", shuffles=3, seed=7).judge(task)
    assert result.verdict == ("C", "A", "B")
    assert result.consistency.kind == "shuffles"
    assert result.consistency.agreement == 1.0
    assert len(server.chat_requests) == 4


def test_reask_after_unparsable_output(server, png):
    server.script(reply("I think the first one is nicer."), reply(verdict("B")))
    result = make_judge(server, "pair").judge(pair_task(png))
    assert result.verdict == "B" and result.attempts == 2
    reask = server.chat_requests[1].messages
    assert reask[-2]["role"] == "assistant" and reask[-1]["role"] == "user"
    assert "could not be used" in json.dumps(reask[-1]["content"])


def test_unparsable_after_reasks_is_unscored_not_a_verdict(server, png):
    server.script(reply("Both are fine."), reply("Really, both are fine."))
    result = make_judge(server, "pair").judge(pair_task(png))
    assert not result.parsed and result.verdict is None
    assert "no verdict found" in result.reason
    assert result.raw_output == "Really, both are fine."


def test_many_tasks_keep_order_and_isolate_failures(server, png):
    server.set_default(lambda req: reply(verdict("A" if "first" in req.text else "B")))
    tasks = [pair_task(png, a=f"{w} answer") for w in ("first", "second", "first")]
    results = make_judge(server, "pair").judge_many(tasks)
    assert [r.verdict for r in results] == ["A", "B", "A"]


def test_backend_failure_is_an_error_not_a_verdict(server, png):
    server.set_default(server_error(500))
    results = make_judge(server, "pair").judge_many([pair_task(png)])
    assert isinstance(results[0], Exception)


# ---------------------------------------------------------------------- settings and criteria


def test_text_only_settings_send_no_image(server, png):
    server.set_default(reply(verdict("5")))
    task = get_task("score").make_task("What is shown?", ["A bus."], [png], image_description="A red bus on a street.")
    judge = make_judge(server, "score", setting="vision-expert", criteria="Penalise invented details.")
    assert judge.judge(task).verdict == 5
    sent = server.chat_requests[0]
    assert sent.image_urls == []
    assert "A red bus on a street." in sent.text and "Penalise invented details." in sent.text
    assert "may contain mistakes" in sent.text


def test_text_only_judge_refuses_vision_setting(server):
    backend = create_backend("openai", "m", base_url=server.base_url, capabilities=Capabilities(vision=False))
    with pytest.raises(ConfigError, match="text-only"):
        Judge(backend, "score")


def test_sampling_follows_capabilities(server, png):
    server.set_default(reply(verdict("3")))
    backend = create_backend(
        "openai", "o-model", base_url=server.base_url, capabilities=Capabilities(temperature=False, logprobs=False)
    )
    Judge(backend, "score", JudgeOptions(sampling=Sampling(temperature=0.9))).judge(
        get_task("score").make_task("Q", ["a"], [png])
    )
    body = server.chat_requests[0].body
    assert "temperature" not in body and "top_p" not in body and "logprobs" not in body


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"setting": "telepathy"}, "Unknown setting"),
        ({"swap": True}, "Position swap applies to pair mode"),
        ({"samples": 0}, "samples must be"),
        ({"verdict_source": "forward"}, "one forward pass"),
    ],
)
def test_bad_options(server, options, message):
    with pytest.raises(ConfigError, match=message):
        make_judge(server, "score", **options)


# ---------------------------------------------------------------------- bad input


def test_no_image_for_a_vision_setting(server):
    task = get_task("pair").make_task("Q", ["a", "b"], [])
    with pytest.raises(BadInput, match="No image"):
        make_judge(server, "pair").judge(task)
    assert server.chat_requests == []


@pytest.mark.parametrize(
    ("mode", "responses", "message"),
    [
        ("score", ["a", "b"], "takes 1 response, got 2"),
        ("pair", ["a"], "takes 2 responses, got 1"),
        ("batch", ["a"], "takes 2 to 8 responses"),
        ("batch", [str(i) for i in range(9)], "takes 2 to 8 responses, got 9"),
        ("pair", ["a", "  "], "Response B is empty"),
    ],
)
def test_wrong_response_count(mode, responses, message):
    with pytest.raises(BadInput, match=message):
        get_task(mode).make_task("Q", responses, [])


def test_empty_instruction():
    with pytest.raises(BadInput, match="instruction is empty"):
        get_task("score").make_task("   ", ["a"], [])


def test_unknown_mode():
    with pytest.raises(ConfigError, match="Unknown mode 'rank'"):
        get_task("rank")


def test_broken_images(tmp_path, png):
    not_image = tmp_path / "notes.png"
    not_image.write_text("hello")
    truncated = tmp_path / "cut.png"
    truncated.write_bytes(png[: len(png) // 2])
    for path, message in (
        (not_image, "not an image"),
        (truncated, "damaged or truncated"),
        (tmp_path / "nope.png", "not found"),
    ):
        with pytest.raises(ImageError, match=message):
            get_task("score").make_task("Q", ["a"], [path])


def test_decompression_bomb_is_rejected_before_decoding(tmp_path):
    # A 30000x30000 PNG header; the pixel data is never decoded (it would take 2.7 GB).
    bomb = tmp_path / "bomb.png"
    Image.new("1", (30000, 30000)).save(bomb, format="PNG")
    with pytest.raises(ImageError, match="decompression bomb"):
        get_task("score").make_task("Q", ["a"], [bomb])


def test_unreachable_server(png):
    with serve_openai() as srv:
        url = srv.base_url
    judge = Judge(create_backend("openai", "m", base_url=url, max_retries=0, timeout_s=2), "pair")
    with pytest.raises(BackendUnavailable):
        judge.judge(pair_task(png))


def test_result_is_json_serialisable(server, png):
    server.script(reply(verdict("A"), alternatives={"A": [("A", -0.1)]}))
    result = make_judge(server, "pair", logprobs=True).judge(pair_task(png))
    data = json.loads(json.dumps(result.to_dict()))
    assert data["verdict"] == "A" and data["probabilities"]["probabilities"]["A"] == 1.0
