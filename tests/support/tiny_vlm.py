"""Tiny, randomly initialised vision-language models saved to disk, for offline tests of the local backend.

Nothing can be downloaded from the Hub where the tests run, so the tests build real (if useless)
vision-language models themselves and load them through the same ``from_pretrained`` path that a Hub
id takes: a LLaVA, an Idefics3 and a Gemma 3 (the processor families that work without
torchvision), and a Qwen2-VL whose processor needs torchvision. Their output is gibberish: they test
plumbing (chat templates, image tokens, batching, log-probabilities), never verdict quality.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

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


def _byte_level_bpe(specials: tuple[str, ...]):
    """Train a ByteLevel BPE ``tokenizers.Tokenizer`` on :data:`_CORPUS`; ``specials`` take the first ids."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    core = Tokenizer(models.BPE(unk_token="<unk>"))
    # No prefix space: "1" and " 1" must be distinct tokens, as in the Llama/Qwen vocabularies the
    # backend meets in real use, so that its leading-space handling is exercised.
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    core.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400,
        special_tokens=list(specials),
        # The full byte alphabet makes every single character (digits, letters) one token.
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    core.train_from_iterator(_CORPUS, trainer=trainer)
    return core


def _tokenizer():
    """Train a ByteLevel BPE tokenizer and wrap it for transformers."""
    from transformers import PreTrainedTokenizerFast

    return PreTrainedTokenizerFast(
        tokenizer_object=_byte_level_bpe(_SPECIALS),
        pad_token="<pad>",
        bos_token="<s>",
        eos_token="</s>",
        unk_token="<unk>",
        extra_special_tokens={"image_token": "<image>"},
        padding_side="left",
    )


def _check_single_tokens(tokenizer: Any) -> None:
    """Fail at build time, with a clear message, if a verdict label the tests use is not one token."""
    for char in ("1", "2", "3", "4", "5", "A", "B", "C", "D"):
        ids = tokenizer.encode(char, add_special_tokens=False)
        if len(ids) != 1:
            raise RuntimeError(f"tiny tokenizer encodes {char!r} as {ids}, expected one token")


def _set_generation_ids(model: Any, tokenizer: Any, eos: list[int] | int) -> None:
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.generation_config.eos_token_id = eos
    model.generation_config.bos_token_id = tokenizer.bos_token_id


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
    _check_single_tokens(tokenizer)

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
    _set_generation_ids(model, tokenizer, tokenizer.eos_token_id)
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


# --------------------------------------------------------------------------- Idefics3

#: Idefics3's specials, as in its Llama 3 based checkpoints: text markers, the image markers its
#: processor writes (``<fake_token_around_image>``, ``<global-img>``, one ``<row_i_col_j>`` per tile
#: of a split image) and ``<end_of_utterance>``, which ends a turn.
_IDEFICS3_SPECIALS = (
    "<|begin_of_text|>",
    "<|end_of_text|>",
    "<|finetune_right_pad_id|>",
    "<unk>",
    "<fake_token_around_image>",
    "<image>",
    "<end_of_utterance>",
    "<global-img>",
    *(f"<row_{row}_col_{col}>" for row in range(1, 7) for col in range(1, 7)),
)

#: The template of HuggingFaceM4/Idefics3-8B-Llama3, with ``bos_token`` for its literal BOS and
#: string content accepted: ``Role: text<end_of_utterance>`` turns, ``<image>`` placeholders.
_IDEFICS3_CHAT_TEMPLATE = (
    "{{ bos_token }}"
    "{% for message in messages %}"
    "{{ message['role'] | capitalize }}"
    "{% if message['content'] is string %}{{ ': ' + message['content'] }}"
    "{% else %}"
    "{% if message['content'][0]['type'] == 'image' %}{{ ':' }}{% else %}{{ ': ' }}{% endif %}"
    "{% for part in message['content'] %}"
    "{% if part['type'] == 'text' %}{{ part['text'] }}"
    "{% elif part['type'] == 'image' %}{{ '<image>' }}{% endif %}"
    "{% endfor %}"
    "{% endif %}"
    "<end_of_utterance>\n"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ 'Assistant:' }}{% endif %}"
)

#: Image tokens per tile: (32 / 8) ** 2 patches, merged 2 x 2 by the connector's pixel shuffle.
IDEFICS3_IMAGE_SEQ_LEN = 4


def build_tiny_idefics3(path: str | Path, *, seed: int = 0) -> Path:
    """Build a tiny random Idefics3 (about 270 KB) and save model and processor to ``path``.

    The image processor splits images as the real one does: the longest edge is resized to 64 px,
    then cut into 32 px tiles plus a 32 px global view, each worth :data:`IDEFICS3_IMAGE_SEQ_LEN`
    ``<image>`` tokens. It is built from ``Idefics3ImageProcessorPil`` (the PIL backend); the saved
    config names ``Idefics3ImageProcessor``, as Hub checkpoints do, so loading exercises the choice
    transformers makes between the torchvision and PIL backends.

    Args:
        path: Directory to write; created if missing.
        seed: Seed of the random weights.

    Returns:
        The directory, ready for ``AutoProcessor`` and ``AutoModelForImageTextToText``.
    """
    import torch
    from transformers import (
        Idefics3Config,
        Idefics3ForConditionalGeneration,
        Idefics3ImageProcessorPil,
        Idefics3Processor,
        Idefics3VisionConfig,
        LlamaConfig,
        PreTrainedTokenizerFast,
    )

    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=_byte_level_bpe(_IDEFICS3_SPECIALS),
        bos_token="<|begin_of_text|>",
        eos_token="<|end_of_text|>",
        pad_token="<|finetune_right_pad_id|>",
        unk_token="<unk>",
    )
    _check_single_tokens(tokenizer)
    image_processor = Idefics3ImageProcessorPil(
        size={"longest_edge": 2 * IMAGE_SIZE},
        max_image_size={"longest_edge": IMAGE_SIZE},
        do_image_splitting=True,
    )
    processor = Idefics3Processor(
        image_processor=image_processor,
        tokenizer=tokenizer,
        image_seq_len=IDEFICS3_IMAGE_SEQ_LEN,
        chat_template=_IDEFICS3_CHAT_TEMPLATE,
    )
    config = Idefics3Config(
        vision_config=Idefics3VisionConfig(
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=1,
            num_attention_heads=2,
            image_size=IMAGE_SIZE,
            patch_size=PATCH_SIZE,
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
        scale_factor=2,
        image_token_id=tokenizer.convert_tokens_to_ids("<image>"),
        pad_token_id=tokenizer.pad_token_id,
    )
    torch.manual_seed(seed)
    model = Idefics3ForConditionalGeneration(config).eval()
    # A turn ends with <end_of_utterance>: generation stops there as well as at the end of text.
    _set_generation_ids(
        model, tokenizer, [tokenizer.eos_token_id, tokenizer.convert_tokens_to_ids("<end_of_utterance>")]
    )
    model.save_pretrained(path)
    processor.save_pretrained(path)
    return path


# --------------------------------------------------------------------------- Gemma 3

#: Gemma's specials in Gemma's id order (pad 0, eos 1, bos 2, unk 3, mask 4), then turn and image markers.
_GEMMA3_SPECIALS = ("<pad>", "<eos>", "<bos>", "<unk>", "<mask>")
_GEMMA3_MARKERS = ("<start_of_turn>", "<end_of_turn>", "<start_of_image>", "<end_of_image>", "<image_soft_token>")

#: The template of google/gemma-3-4b-it: no system role (the system text opens the first user turn),
#: alternating user/model turns, ``<start_of_image>`` where an image goes.
_GEMMA3_CHAT_TEMPLATE = """{{ bos_token }}
{%- if messages[0]['role'] == 'system' -%}
    {%- if messages[0]['content'] is string -%}
        {%- set first_user_prefix = messages[0]['content'] + '\\n\\n' -%}
    {%- else -%}
        {%- set first_user_prefix = messages[0]['content'][0]['text'] + '\\n\\n' -%}
    {%- endif -%}
    {%- set loop_messages = messages[1:] -%}
{%- else -%}
    {%- set first_user_prefix = "" -%}
    {%- set loop_messages = messages -%}
{%- endif -%}
{%- for message in loop_messages -%}
    {%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) -%}
        {{ raise_exception("Conversation roles must alternate user/assistant/user/assistant/...") }}
    {%- endif -%}
    {%- if (message['role'] == 'assistant') -%}
        {%- set role = "model" -%}
    {%- else -%}
        {%- set role = message['role'] -%}
    {%- endif -%}
    {{ '<start_of_turn>' + role + '\\n' + (first_user_prefix if loop.first else "") }}
    {%- if message['content'] is string -%}
        {{ message['content'] | trim }}
    {%- elif message['content'] is iterable -%}
        {%- for item in message['content'] -%}
            {%- if item['type'] == 'image' -%}
                {{ '<start_of_image>' }}
            {%- elif item['type'] == 'text' -%}
                {{ item['text'] | trim }}
            {%- endif -%}
        {%- endfor -%}
    {%- else -%}
        {{ raise_exception("Invalid content type") }}
    {%- endif -%}
    {{ '<end_of_turn>\\n' }}
{%- endfor -%}
{%- if add_generation_prompt -%}
    {{'<start_of_turn>model\\n'}}
{%- endif -%}
"""

#: Soft tokens per image: the 4 x 4 patches average-pooled to 2 x 2.
GEMMA3_IMAGE_TOKENS = 4


def _gemma_tokenizer():
    """A ``GemmaTokenizer`` on a small vocabulary, built the way Gemma's own is.

    SentencePiece style: spaces become ``▁`` and belong to the tokens (``" 3"`` may be ``▁`` then
    ``3``), and characters outside the vocabulary fall back to ``<0xNN>`` byte tokens. The BPE is
    trained with ``tokenizers``, then its vocabulary and merges are handed to ``GemmaTokenizer``.
    """
    import json

    from tokenizers import AddedToken, Tokenizer, models, normalizers, pre_tokenizers, trainers
    from transformers import GemmaTokenizer

    core = Tokenizer(models.BPE(unk_token="<unk>", byte_fallback=True, fuse_unk=True))
    core.normalizer = normalizers.Replace(" ", "▁")
    core.pre_tokenizer = pre_tokenizers.Split(pattern=" ", behavior="merged_with_previous")
    trainer = trainers.BpeTrainer(
        vocab_size=400,
        special_tokens=[*_GEMMA3_SPECIALS, *_GEMMA3_MARKERS],
        # Every printable ASCII character is one token; anything else falls back to bytes.
        initial_alphabet=[chr(code) for code in range(33, 127)] + ["▁", "\n"],
        show_progress=False,
    )
    core.train_from_iterator(_CORPUS, trainer=trainer)
    vocab = core.get_vocab()
    merges = [
        tuple(m) if isinstance(m, list) else tuple(m.split(" ")) for m in json.loads(core.to_str())["model"]["merges"]
    ]
    for byte in range(256):
        vocab.setdefault(f"<0x{byte:02X}>", len(vocab))
    tokenizer = GemmaTokenizer(
        vocab=vocab,
        merges=merges,
        add_bos_token=True,
        extra_special_tokens={
            "boi_token": "<start_of_image>",
            "eoi_token": "<end_of_image>",
            "image_token": "<image_soft_token>",
        },
    )
    # Turn markers must be read whole, not spelt out in bytes.
    tokenizer.add_tokens([AddedToken(t, special=True, normalized=False) for t in _GEMMA3_MARKERS], special_tokens=True)
    return tokenizer


def build_tiny_gemma3(path: str | Path, *, seed: int = 0) -> Path:
    """Build a tiny random Gemma 3 (about 270 KB) and save model and processor to ``path``.

    Images are resized to 32 px and become ``<start_of_image>``, :data:`GEMMA3_IMAGE_TOKENS`
    ``<image_soft_token>`` and ``<end_of_image>``. The image processor is ``Gemma3ImageProcessorPil``
    (the PIL backend); the saved config names ``Gemma3ImageProcessor``, as Hub checkpoints do. The
    text model alternates a sliding-window layer (window 16 tokens, shorter than most test prompts)
    and a full-attention layer, as Gemma 3 does.

    Args:
        path: Directory to write; created if missing.
        seed: Seed of the random weights.

    Returns:
        The directory, ready for ``AutoProcessor`` and ``AutoModelForImageTextToText``.
    """
    import torch
    from transformers import (
        Gemma3Config,
        Gemma3ForConditionalGeneration,
        Gemma3ImageProcessorPil,
        Gemma3Processor,
        Gemma3TextConfig,
        SiglipVisionConfig,
    )

    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    tokenizer = _gemma_tokenizer()
    _check_single_tokens(tokenizer)
    processor = Gemma3Processor(
        image_processor=Gemma3ImageProcessorPil(size={"height": IMAGE_SIZE, "width": IMAGE_SIZE}),
        tokenizer=tokenizer,
        chat_template=_GEMMA3_CHAT_TEMPLATE,
        image_seq_length=GEMMA3_IMAGE_TOKENS,
    )
    config = Gemma3Config(
        text_config=Gemma3TextConfig(
            vocab_size=len(tokenizer),
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=2,
            num_attention_heads=2,
            num_key_value_heads=1,
            head_dim=16,
            query_pre_attn_scalar=16,
            sliding_window=16,
            layer_types=["sliding_attention", "full_attention"],
            max_position_embeddings=2048,
            pad_token_id=tokenizer.pad_token_id,
            bos_token_id=tokenizer.bos_token_id,
            eos_token_id=tokenizer.eos_token_id,
        ),
        vision_config=SiglipVisionConfig(
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=1,
            num_attention_heads=2,
            image_size=IMAGE_SIZE,
            patch_size=PATCH_SIZE,
        ),
        mm_tokens_per_image=GEMMA3_IMAGE_TOKENS,
        boi_token_index=tokenizer.boi_token_id,
        eoi_token_index=tokenizer.eoi_token_id,
        image_token_index=tokenizer.image_token_id,
    )
    torch.manual_seed(seed)
    model = Gemma3ForConditionalGeneration(config).eval()
    # As in Gemma 3 checkpoints, generation stops at <end_of_turn> as well as at <eos>.
    _set_generation_ids(model, tokenizer, [tokenizer.eos_token_id, tokenizer.convert_tokens_to_ids("<end_of_turn>")])
    model.save_pretrained(path)
    processor.save_pretrained(path)
    return path
