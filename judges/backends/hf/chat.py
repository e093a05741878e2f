"""Messages -> the transformers chat format, with the model's control tokens defused.

Pure functions on the CPU: no torch, no model. The backend renders their output with the
processor's chat template.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from judges.types import ImagePart, Message


def to_chat(
    messages: Sequence[Message], images: Sequence[Any], *, merge_system: bool, neutralize: Sequence[str] = ()
) -> list[dict[str, Any]]:
    """Convert messages to the transformers chat format.

    Args:
        messages: The request's messages.
        images: The decoded (PIL) images of all messages, in order; they replace the image parts.
        merge_system: Prepend system text to the first user message instead of keeping a system turn.
        neutralize: Control tokens to defuse in text. A response quoting ``<image>`` or
            ``<|im_end|>`` would otherwise be read as an image slot (the processor then fails) or as
            the end of a turn; a zero-width space after the first character keeps it plain text.

    Returns:
        ``[{"role": ..., "content": [{"type": "image", "image": pil}, {"type": "text", "text": ...}]}]``
    """
    pending_images = iter(images)
    chat: list[dict[str, Any]] = []
    pending_system = ""
    for message in messages:
        if merge_system and message.role == "system":
            pending_system += defuse(message.text.strip(), neutralize) + "\n\n"
            continue
        parts = [
            {"type": "image", "image": next(pending_images)}
            if isinstance(part, ImagePart)
            else {"type": "text", "text": defuse(part.text, neutralize)}
            for part in message.content
        ]
        if pending_system and message.role == "user":
            parts.insert(0, {"type": "text", "text": pending_system})
            pending_system = ""
        chat.append({"role": message.role, "content": parts})
    if pending_system:  # a system message and no user turn: it becomes the user turn
        chat.insert(0, {"role": "user", "content": [{"type": "text", "text": pending_system.strip()}]})
    return chat


def defuse(text: str, tokens: Sequence[str]) -> str:
    """``text`` with a zero-width space after the first character of each control token in it."""
    for token in tokens:
        if token in text:
            text = text.replace(token, token[0] + "\u200b" + token[1:])
    return text


__all__ = ["defuse", "to_chat"]
