"""The library's error hierarchy.

Every message says what went wrong *and* how to fix it, because these messages are shown verbatim
to people in the Space and on the command line. No message may ever contain a secret: backends run
their text through :func:`redact` before raising.
"""

from __future__ import annotations

import re
from collections.abc import Iterable


class JudgeError(Exception):
    """Base class of every error this library raises on purpose."""


class BadInput(JudgeError):
    """The task itself is wrong: empty instruction, wrong response count, unusable image..."""


class ImageError(BadInput):
    """An image could not be used (not an image, truncated, too large)."""


class ConfigError(JudgeError):
    """Unknown mode, setting, judge or backend, or an inconsistent option set."""


class MissingApiKey(ConfigError):
    """A judge needs an API key that is neither in the environment nor given explicitly.

    Attributes:
        variable: The environment variable the key is read from (None when unknown), so that a
            caller with another way to give a key (the Space's key box) can say so.
    """

    def __init__(self, message: str = "", variable: str | None = None) -> None:
        super().__init__(message)
        self.variable = variable


class BackendError(JudgeError):
    """The model could not produce a completion."""


class BackendUnavailable(BackendError):
    """The server cannot be reached, or a local dependency (torch, torchvision) is missing."""


class BackendTimeout(BackendError):
    """The server did not answer within the configured timeout."""


class RateLimited(BackendError):
    """The server kept answering 429 after every retry."""


class AuthenticationFailed(BackendError):
    """The server rejected the API key (401/403)."""


class BadResponse(BackendError):
    """The server answered, but not with a usable chat completion (malformed JSON, no choices)."""


_KEY_SHAPES = re.compile(
    r"(sk-[A-Za-z0-9_\-]{8,}|hf_[A-Za-z0-9]{8,}|AIza[0-9A-Za-z_\-]{20,}|Bearer\s+[A-Za-z0-9._\-]{8,})"
)


_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://)[^/\s@?#]*@")


def strip_userinfo(text: str) -> str:
    """Remove ``user:password@`` from every URL in ``text`` (a base URL may carry credentials)."""
    return _USERINFO.sub(r"\1", text)


def redact(text: str, secrets: Iterable[str | None] = ()) -> str:
    """Remove secrets from a message before it is logged or shown.

    Args:
        text: Any message that may echo a request (servers sometimes quote the key back).
        secrets: Exact secret values to remove, e.g. the API key of the current request.

    Returns:
        The text with each secret, anything shaped like a well-known key and the credentials of
        any URL (``user:password@``) replaced by ``***`` or removed.
    """
    text = strip_userinfo(text)
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    return _KEY_SHAPES.sub("***", text)
