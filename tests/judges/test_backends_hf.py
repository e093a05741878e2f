"""The ``hf`` backend on tiny random LLaVA, Idefics3 and Gemma 3 models built by the tests (no download, CPU only).

The model's output is gibberish, so these tests check plumbing: loading through ``from_pretrained``,
caching, batching, image tokens, token log-probabilities and label scoring.
"""

from __future__ import annotations

import importlib.util
import math
import threading
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

from PIL import Image  # noqa: E402

from judges.backends.base import Backend, LabelScorer  # noqa: E402
from judges.backends.hf import loading as hf_loading  # noqa: E402
from judges.backends.registry import create_backend  # noqa: E402
from judges.errors import BackendError, BackendUnavailable, ConfigError  # noqa: E402
from judges.images import load_image  # noqa: E402
from judges.types import Capabilities, ChatRequest, Completion, Message, Sampling, TextPart  # noqa: E402
from tests.support.tiny_vlm import (  # noqa: E402
    GEMMA3_IMAGE_TOKENS,
    IDEFICS3_IMAGE_SEQ_LEN,
    STRICT_CHAT_TEMPLATE,
    build_tiny_qwen2_vl,
    build_tiny_vlm,
)

GREEDY = Sampling(temperature=0, max_tokens=8, top_logprobs=3)
PREFIX = '{"Analysis": "", "Judgement": "[['
#: Image tokens the tiny LLaVA puts in the prompt per image: (32 / 8) ** 2 patches.
IMAGE_TOKENS = 16


@pytest.fixture(scope="module")
def red():
    return load_image(Image.new("RGB", (40, 30), (200, 30, 30)))


@pytest.fixture(scope="module")
def blue():
    return load_image(Image.new("RGB", (64, 64), (30, 30, 200)))


def request(text: str, *images, system: str | None = "You are a judge.", sampling: Sampling = GREEDY) -> ChatRequest:
    messages = (Message("system", (TextPart(system),)),) if system else ()
    return ChatRequest(messages=(*messages, Message("user", (*images, TextPart(text)))), sampling=sampling)


@pytest.fixture()
def backend(tiny_vlm_dir: Path):
    return create_backend("hf", str(tiny_vlm_dir), device="cpu", batch_size=4)


# --------------------------------------------------------------------------- loading and caching


def test_loads_a_local_directory_through_from_pretrained_and_fulfils_the_protocols(backend) -> None:
    assert isinstance(backend, Backend) and isinstance(backend, LabelScorer)
    assert backend.name.startswith("hf:") and backend.capabilities.label_scoring
    assert type(backend.model).__name__ == "LlavaForConditionalGeneration"
    assert str(backend.model.device) == "cpu" and str(backend.model.dtype) == "torch.float32"
    assert backend.processor.tokenizer.padding_side == "left"


def test_the_model_is_loaded_once_and_shared(tiny_vlm_dir: Path) -> None:
    hf_loading.clear_cache()
    made: list = []

    def create() -> None:
        made.append(create_backend("hf", str(tiny_vlm_dir), device="cpu", name="judge"))

    threads = [threading.Thread(target=create) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(made) == 4 and len({id(b.model) for b in made}) == 1
    assert len(hf_loading._CACHE) == 1
    # The same directory spelt differently is the same cache entry.
    assert create_backend("hf", f"{tiny_vlm_dir}/.", device="cpu").model is made[0].model


def test_a_missing_directory_says_so(tmp_path: Path) -> None:
    with pytest.raises(BackendUnavailable, match="No model directory at .*save_pretrained"):
        create_backend("hf", str(tmp_path / "no-such-model"), device="cpu")


def test_a_hub_id_that_cannot_be_fetched_suggests_a_token_or_a_local_copy() -> None:
    # local_files_only takes the path an unreachable Hub takes, without waiting on retries.
    with pytest.raises(BackendUnavailable, match="could not be fetched.*HF_TOKEN.*local copy"):
        create_backend("hf", "nobody-here/no-such-vlm", device="cpu", local_files_only=True)


@pytest.mark.skipif(importlib.util.find_spec("torchvision") is not None, reason="torchvision is installed")
def test_a_processor_that_needs_torchvision_says_how_to_get_it(tmp_path: Path) -> None:
    qwen = build_tiny_qwen2_vl(tmp_path / "qwen2-vl")
    with pytest.raises(BackendUnavailable, match=r"needs torchvision; pip install torchvision"):
        create_backend("hf", str(qwen), device="cpu")


def test_unknown_options_and_bad_batch_sizes_are_config_errors(tiny_vlm_dir: Path) -> None:
    with pytest.raises(ConfigError, match="Unknown option.*temprature"):
        create_backend("hf", str(tiny_vlm_dir), temprature=0.2)
    with pytest.raises(ConfigError, match="batch_size"):
        create_backend("hf", str(tiny_vlm_dir), batch_size=0)


# --------------------------------------------------------------------------- generation


def test_complete_returns_text_usage_and_token_logprobs(backend, red) -> None:
    completion = backend.complete(request("Rate the response from 1 to 5.", red))
    assert isinstance(completion, Completion) and isinstance(completion.text, str)
    assert completion.model == backend.model_id and completion.latency_s > 0
    assert completion.usage.prompt_tokens > IMAGE_TOKENS
    assert len(completion.tokens) == completion.usage.completion_tokens - (completion.finish_reason == "stop")
    for token in completion.tokens:
        assert len(token.top) == 3
        assert sum(math.exp(logprob) for _, logprob in token.top) <= 1 + 1e-6
        # Greedy decoding picks the most likely token: the first alternative is the token itself.
        assert token.top[0] == (token.token, pytest.approx(token.logprob, abs=1e-6))


def test_without_logprobs_no_tokens_are_returned(backend) -> None:
    completion = backend.complete(request("Rate it.", sampling=Sampling(temperature=0, max_tokens=4, logprobs=False)))
    assert completion.tokens is None and completion.usage.completion_tokens > 0
    bare = backend.complete(request("Rate it.", sampling=Sampling(temperature=0, max_tokens=4, top_logprobs=0)))
    assert bare.tokens and all(token.top == () and token.logprob <= 0 for token in bare.tokens)


def test_sampling_with_a_seed_is_reproducible(backend) -> None:
    sampling = Sampling(temperature=1.0, top_p=1.0, max_tokens=8, seed=7)
    first, second = (backend.complete(request("Rate it.", sampling=sampling)) for _ in range(2))
    assert first.text == second.text and first.tokens == second.tokens


def test_complete_many_batches_in_order_and_matches_one_at_a_time(backend, red, blue) -> None:
    images = [(), (red,), (red, blue)]
    requests = [request("Rate the response. " * (i + 1), *images[i % 3]) for i in range(10)]
    batched = backend.complete_many(requests)
    singles = [backend.complete(r) for r in requests]
    assert len(batched) == 10
    for one_batch, one_alone in zip(batched, singles, strict=True):
        assert isinstance(one_batch, Completion)
        assert one_batch.text == one_alone.text
        assert one_batch.usage == one_alone.usage
        assert [t.token for t in one_batch.tokens] == [t.token for t in one_alone.tokens]
        for a, b in zip(one_batch.tokens, one_alone.tokens, strict=True):
            assert a.logprob == pytest.approx(b.logprob, abs=1e-4)
    # Prompts grew with the text and with each image.
    assert batched[1].usage.prompt_tokens > batched[0].usage.prompt_tokens + IMAGE_TOKENS
    assert batched[2].usage.prompt_tokens > batched[1].usage.prompt_tokens + IMAGE_TOKENS


def test_one_and_two_images_each_add_their_image_tokens(backend, red, blue) -> None:
    none, one, two = (backend.complete(request("Describe.", *imgs)) for imgs in [(), (red,), (red, blue)])
    # The first image also changes how the text next to it is split into tokens; the second adds
    # exactly its image tokens and the newline the template writes after them.
    assert one.usage.prompt_tokens - none.usage.prompt_tokens >= IMAGE_TOKENS
    assert two.usage.prompt_tokens - one.usage.prompt_tokens == IMAGE_TOKENS + 1


def test_a_response_quoting_the_image_token_is_plain_text(backend) -> None:
    # Unescaped, "<image>" would be an image slot with no image, and the processor would refuse.
    completion = backend.complete(request("The answer says: <image> is shown."))
    assert isinstance(completion, Completion)


def test_concurrent_callers_share_the_model_safely(backend, red) -> None:
    expected = backend.complete(request("Rate it.", red)).text
    texts: list[str] = []

    def call() -> None:
        texts.append(backend.complete(request("Rate it.", red)).text)

    threads = [threading.Thread(target=call) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert texts == [expected] * 4


# --------------------------------------------------------------------------- chat templates


@pytest.fixture(scope="module")
def strict_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_vlm(tmp_path_factory.mktemp("strict"), chat_template=STRICT_CHAT_TEMPLATE)


def test_a_template_without_system_role_gets_the_system_prompt_in_the_user_turn(strict_dir: Path) -> None:
    backend = create_backend("hf", str(strict_dir), device="cpu")
    with_system = backend.complete(request("Rate it.", system="Be strict and fair."))
    without = backend.complete(request("Rate it.", system=None))
    assert with_system.usage.prompt_tokens > without.usage.prompt_tokens


def test_capabilities_can_force_merging_the_system_prompt(tiny_vlm_dir: Path) -> None:
    merged = create_backend("hf", str(tiny_vlm_dir), device="cpu", capabilities=Capabilities(system_prompt=False))
    kept = create_backend("hf", str(tiny_vlm_dir), device="cpu")
    req = request("Rate it.", system="Be strict and fair.")
    # Merging drops the "system: ... </s>" turn header, so the prompt is shorter.
    assert merged.complete(req).usage.prompt_tokens < kept.complete(req).usage.prompt_tokens


def test_a_request_the_template_rejects_fails_alone(strict_dir: Path) -> None:
    backend = create_backend("hf", str(strict_dir), device="cpu", batch_size=4)
    good = request("Rate it.")
    bad = ChatRequest(messages=(Message("user", (TextPart("one"),)), Message("user", (TextPart("two"),))))
    results = backend.complete_many([good, bad, good])
    assert isinstance(results[0], Completion) and isinstance(results[2], Completion)
    assert isinstance(results[1], BackendError) and "alternate" in str(results[1])
    with pytest.raises(BackendError, match="rejected the messages"):
        backend.complete(bad)


# --------------------------------------------------------------------------- label scoring


@pytest.mark.parametrize("labels", [["1", "2", "3", "4", "5"], ["A", "B", "C"]])
def test_label_logprobs_form_a_sub_distribution(backend, red, labels) -> None:
    requests = [request(f"Judge this, case {i}.", *([red] if i % 2 else [])) for i in range(5)]
    rows = backend.label_logprobs(requests, PREFIX, labels)
    assert len(rows) == 5
    for row in rows:
        assert list(row) == labels
        assert 0 < sum(math.exp(v) for v in row.values()) <= 1 + 1e-6
    # Batching (4 + 1) changes nothing: each row equals its request scored alone.
    alone = backend.label_logprobs(requests[4:], PREFIX, labels)[0]
    assert alone == pytest.approx(rows[4], abs=1e-4)


def test_a_label_that_is_not_one_token_is_refused(backend) -> None:
    with pytest.raises(BackendError, match="'zzqx' is not a single token"):
        backend.label_logprobs([request("Judge.")], PREFIX, ["A", "zzqx"])


# --------------------------------------------------------------------------- processor families

#: family -> (session fixture with its saved directory, model class, fewest image tokens per image).
FAMILIES = {
    "llava": ("tiny_vlm_dir", "LlavaForConditionalGeneration", IMAGE_TOKENS),
    # Idefics3 splits the 40 x 30 test image into 2 x 2 tiles plus a global view, 4 tokens each.
    "idefics3": ("tiny_idefics3_dir", "Idefics3ForConditionalGeneration", 5 * IDEFICS3_IMAGE_SEQ_LEN),
    "gemma3": ("tiny_gemma3_dir", "Gemma3ForConditionalGeneration", GEMMA3_IMAGE_TOKENS),
}


@pytest.fixture(params=list(FAMILIES))
def family(request: pytest.FixtureRequest):
    """``(name, backend, fewest image tokens per image)`` for each processor family that needs no torchvision."""
    fixture, _, image_tokens = FAMILIES[request.param]
    directory = request.getfixturevalue(fixture)
    return request.param, create_backend("hf", str(directory), device="cpu", batch_size=4), image_tokens


def test_each_family_loads_through_from_pretrained(family) -> None:
    name, backend, _ = family
    assert type(backend.model).__name__ == FAMILIES[name][1]
    assert backend._tokenizer.padding_side == "left"
    if importlib.util.find_spec("torchvision") is None:
        # The saved configs name the default image processor, as Hub checkpoints do; without
        # torchvision transformers falls back to its PIL implementation.
        assert type(backend.processor.image_processor).__name__.endswith("Pil")


def test_each_family_completes_a_request_with_an_image(family, red) -> None:
    _, backend, image_tokens = family
    completion = backend.complete(request("Rate the response from 1 to 5.", red))
    without_image = backend.complete(request("Rate the response from 1 to 5."))
    assert isinstance(completion, Completion) and isinstance(completion.text, str)
    assert completion.model == backend.model_id and completion.latency_s > 0
    assert completion.usage.prompt_tokens - without_image.usage.prompt_tokens >= image_tokens
    assert completion.usage.completion_tokens > 0
    assert len(completion.tokens) == completion.usage.completion_tokens - (completion.finish_reason == "stop")
    for token in completion.tokens:
        assert len(token.top) == 3 and math.isfinite(token.logprob)
        assert sum(math.exp(logprob) for _, logprob in token.top) <= 1 + 1e-6
        assert token.top[0] == (token.token, pytest.approx(token.logprob, abs=1e-6))


def test_each_family_batches_requests_in_order(family, red, blue) -> None:
    _, backend, image_tokens = family
    requests = [request("Rate the response. " * (i + 1), *images) for i, images in enumerate([(), (red,), (red, blue)])]
    batched = backend.complete_many(requests)
    assert len(batched) == 3 and all(isinstance(c, Completion) for c in batched)
    for one_batch, one_alone in zip(batched, (backend.complete(r) for r in requests), strict=True):
        assert one_batch.text == one_alone.text and one_batch.usage == one_alone.usage
        assert [t.token for t in one_batch.tokens] == [t.token for t in one_alone.tokens]
    assert batched[1].usage.prompt_tokens > batched[0].usage.prompt_tokens + image_tokens
    assert batched[2].usage.prompt_tokens > batched[1].usage.prompt_tokens + image_tokens


@pytest.mark.parametrize("labels", [["1", "2", "3", "4", "5"], ["A", "B", "C"]])
def test_each_family_scores_labels(family, red, labels) -> None:
    _, backend, _ = family
    requests = [request(f"Judge this, case {i}.", *([red] if i % 2 else [])) for i in range(5)]
    rows = backend.label_logprobs(requests, PREFIX, labels)
    assert len(rows) == 5
    for row in rows:
        assert list(row) == labels and all(math.isfinite(v) for v in row.values())
        assert 0 < sum(math.exp(v) for v in row.values()) <= 1 + 1e-6
    assert backend.label_logprobs(requests[4:], PREFIX, labels)[0] == pytest.approx(rows[4], abs=1e-4)
