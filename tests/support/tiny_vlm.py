"""A tiny, randomly initialised LLaVA saved to disk, for offline tests of the local backend.

Nothing can be downloaded from the Hub where the tests run, so the tests build a real (if useless)
vision-language model themselves and load it through the same ``from_pretrained`` path that a Hub
id takes. Its output is gibberish: it tests plumbing (chat templates, image tokens, batching,
log-probabilities), never verdict quality.
"""

from __future__ import annotations

from pathlib import Path

#: Text the BPE tokenizer is trained on. It contains judge-prompt vocabulary so that prompts encode
#: into a realistic number of tokens rather than one token per byte.
_CORPUS = (
    "You are a helpful assistant. Please act as an impartial judge and evaluate the response.",
    "Rate the response on a scale of 1 to 5. Which response is better, A or B? Rank A, B, C, D.",
    'Output JSON: {"Analysis": "...", "Judgement": "[[3]]"} The image shows a chart with bars.',
    "The answer is correct, detailed and grounded in the image; the other one is vague.",
    "system user assistant 1 2 3 4 5 A B C D tie [[ ]] , . : ; ! ?",
)

#: Special tokens, in id order. ``<image>`` is the placeholder LLaVA expands into patch tokens.
_SPECIALS = ("<pad>", "<s>", "</s>", "<unk>", "<image>")

#: A deliberately plain template: roles as text headers, images as ``<image>`` placeholders. Content
#: may be a string or a list of typed parts, as transformers passes either.
_CHAT_TEMPLATE = (
    "{{ bos_token }}"
    "{% for message in messages %}"
    "{{ message['role'] }}: "
    "{% if message['content'] is string %}{{ message['content'] }}"
    "{% else %}{% for part in message['content'] %}"
    "{% if part['type'] == 'image' %}<image>\n"
    "{% elif part['type'] == 'text' %}{{ part['text'] }}{% endif %}"
    "{% endfor %}{% endif %}"
    "{{ eos_token }}\n"
    "{% endfor %}"
    "{% if add_generation_prompt %}assistant: {% endif %}"
)

#: Like the templates of Mistral and Gemma: no system role, and user/assistant turns must alternate.
STRICT_CHAT_TEMPLATE = (
    "{{ bos_token }}"
    "{% for message in messages %}"
    "{% if message['role'] == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}"
    "{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
    "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}"
    "{% endif %}"
    "{{ message['role'] }}: "
    "{% for part in message['content'] %}"
    "{% if part['type'] == 'image' %}<image>\n"
    "{% elif part['type'] == 'text' %}{{ part['text'] }}{% endif %}"
    "{% endfor %}"
    "{{ eos_token }}\n"
    "{% endfor %}"
    "{% if add_generation_prompt %}assistant: {% endif %}"
)

#: Side of the (square) input image and of a vision patch, in pixels: 16 image tokens per image.
IMAGE_SIZE = 32
PATCH_SIZE = 8


def _tokenizer():
    """Train a ByteLevel BPE tokenizer and wrap it for transformers."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    core = Tokenizer(models.BPE(unk_token="<unk>"))
    # No prefix space: "1" and " 1" must be distinct tokens, as in the Llama/Qwen vocabularies the
    # backend meets in real use, so that its leading-space handling is exercised.
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    core.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400,
        special_tokens=list(_SPECIALS),
        # The full byte alphabet makes every single character (digits, letters) one token.
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    core.train_from_iterator(_CORPUS, trainer=trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=core,
        pad_token="<pad>",
        bos_token="<s>",
        eos_token="</s>",
        unk_token="<unk>",
        extra_special_tokens={"image_token": "<image>"},
        padding_side="left",
    )


def build_tiny_vlm(path: str | Path, *, seed: int = 0, chat_template: str | None = None) -> Path:
    """Build a tiny random LLaVA (about 300 KB) and save model and processor to ``path``.

    Args:
        path: Directory to write; created if missing.
        seed: Seed of the random weights, so that every build is the same model.
        chat_template: Jinja chat template; default: a plain one that accepts every role.

    Returns:
        The directory, ready for ``AutoProcessor.from_pretrained`` and
        ``AutoModelForImageTextToText.from_pretrained``.
    """
    import torch
    from transformers import (
        CLIPImageProcessor,
        CLIPVisionConfig,
        LlamaConfig,
        LlavaConfig,
        LlavaForConditionalGeneration,
        LlavaProcessor,
    )

    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    tokenizer = _tokenizer()
    for char in ("1", "2", "3", "4", "5", "A", "B", "C", "D"):
        ids = tokenizer.encode(char, add_special_tokens=False)
        if len(ids) != 1:  # the tests rely on it; fail here with a clear message, not there
            raise RuntimeError(f"tiny tokenizer encodes {char!r} as {ids}, expected one token")

    image_processor = CLIPImageProcessor(
        size={"shortest_edge": IMAGE_SIZE},
        crop_size={"height": IMAGE_SIZE, "width": IMAGE_SIZE},
    )
    processor = LlavaProcessor(
        image_processor=image_processor,
        tokenizer=tokenizer,
        patch_size=PATCH_SIZE,
        vision_feature_select_strategy="default",
        # CLIP prepends a CLS token that the "default" strategy drops again; without the +1 the
        # processor inserts one image token fewer than the model produces features for.
        num_additional_image_tokens=1,
        chat_template=chat_template or _CHAT_TEMPLATE,
    )

    config = LlavaConfig(
        vision_config=CLIPVisionConfig(
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=2,
            num_attention_heads=2,
            image_size=IMAGE_SIZE,
            patch_size=PATCH_SIZE,
            projection_dim=32,
        ),
        text_config=LlamaConfig(
            vocab_size=len(tokenizer),
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=2,
            num_attention_heads=2,
            num_key_value_heads=2,
            max_position_embeddings=2048,
            pad_token_id=tokenizer.pad_token_id,
            bos_token_id=tokenizer.bos_token_id,
            eos_token_id=tokenizer.eos_token_id,
        ),
        image_token_index=tokenizer.convert_tokens_to_ids("<image>"),
        vision_feature_select_strategy="default",
        vision_feature_layer=-1,
        pad_token_id=tokenizer.pad_token_id,
    )
    torch.manual_seed(seed)
    model = LlavaForConditionalGeneration(config).eval()
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.bos_token_id = tokenizer.bos_token_id
    model.save_pretrained(path)
    processor.save_pretrained(path)
    return path


def build_tiny_qwen2_vl(path: str | Path, *, seed: int = 0) -> Path:
    """Save a tiny random Qwen2-VL checkpoint in the layout Qwen2-VL repositories use on the Hub.

    Its processor includes a video processor, which transformers can only build with torchvision:
    loading it where torchvision is missing fails exactly as a real Qwen2-VL checkpoint does. It is
    written without instantiating the processor, which is impossible here for the same reason.

    Args:
        path: Directory to write; created if missing.
        seed: Seed of the random weights.

    Returns:
        The directory.
    """
    import json

    import torch
    from transformers import Qwen2VLConfig, Qwen2VLForConditionalGeneration

    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    tokenizer = _tokenizer()
    tokenizer.save_pretrained(path)
    config = Qwen2VLConfig(
        text_config={
            "vocab_size": len(tokenizer),
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_hidden_layers": 1,
            "num_attention_heads": 2,
            "num_key_value_heads": 2,
            "rope_scaling": {"type": "mrope", "mrope_section": [2, 2, 4]},
            "bos_token_id": tokenizer.bos_token_id,
            "eos_token_id": tokenizer.eos_token_id,
        },
        vision_config={"depth": 1, "embed_dim": 32, "hidden_size": 32, "num_heads": 2},
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )
    torch.manual_seed(seed)
    Qwen2VLForConditionalGeneration(config).save_pretrained(path)
    # The files a Qwen2-VL repository ships for its processor (values as in Qwen/Qwen2-VL-2B-Instruct).
    image_config = {
        "image_processor_type": "Qwen2VLImageProcessor",
        "processor_class": "Qwen2VLProcessor",
        "min_pixels": 3136,
        "max_pixels": 12845056,
        "patch_size": 14,
        "temporal_patch_size": 2,
        "merge_size": 2,
    }
    (path / "preprocessor_config.json").write_text(json.dumps(image_config, indent=2))
    settings = json.loads((path / "tokenizer_config.json").read_text())
    settings["processor_class"] = "Qwen2VLProcessor"
    (path / "tokenizer_config.json").write_text(json.dumps(settings, indent=2))
    return path
