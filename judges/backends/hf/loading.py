"""Loading the ``hf`` backend's model and processor, and the cache that shares them.

The model is loaded with ``AutoProcessor`` and ``AutoModelForImageTextToText`` from a Hub id or a
local directory (the same ``from_pretrained`` call serves both), once per (model, device, dtype),
and shared by every backend object and every user of the Space. The backend itself lives in
:mod:`judges.backends.hf.backend`; the device functions find the model here by its key.

torch and transformers are imported inside functions, so importing this module is cheap and works
without them; :func:`load_model` says clearly what is missing.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from judges.errors import BackendUnavailable, ConfigError, redact

logger = logging.getLogger(__name__)

#: (model id or resolved directory, device, dtype name): what one loaded model is shared by.
CacheKey = tuple[str, str, str]

_TORCHVISION_HINT = "this judge's processor needs torchvision; pip install torchvision (present on GPU Spaces)"


# --------------------------------------------------------------------------- model cache


@dataclass(eq=False)
class LoadedModel:
    """A model and its processor, shared by every backend that asked for the same key.

    Attributes:
        model: The transformers model, in eval mode, on ``device``.
        processor: Its processor (chat template, tokenizer, image processor).
        device: Where the model lives (``cpu``, ``cuda`` ...).
        lock: Serialises use of the model: one batch at a time, and the fast tokenizer, which
            fails with "Already borrowed" when two threads pad with it at once.
        system_role: Whether the chat template renders a system message; learnt on first use.
        control_tokens: Special tokens (image placeholder, turn markers) that must not be read as
            such when they appear in message text.
    """

    model: Any
    processor: Any
    device: str
    lock: threading.Lock = field(default_factory=threading.Lock)
    system_role: bool | None = None
    control_tokens: tuple[str, ...] = ()


#: (model id, device, dtype name) -> loaded model. The token is deliberately not part of the key.
_CACHE: dict[CacheKey, LoadedModel] = {}
#: Held while loading: loads are rare, and two users asking for one model must not load it twice.
_CACHE_LOCK = threading.Lock()


def clear_cache() -> None:
    """Forget every loaded model, so that its memory is freed once no backend holds it.

    Backends created before keep working: they put their model back when they next run.
    """
    with _CACHE_LOCK:
        _CACHE.clear()


def register(key: CacheKey, loaded: LoadedModel) -> None:
    """Put ``loaded`` back under ``key`` if the cache was cleared since it was loaded."""
    # The device functions find the model by key (ZeroGPU cannot pickle a model into them).
    with _CACHE_LOCK:
        _CACHE.setdefault(key, loaded)


def cached(key: CacheKey) -> LoadedModel:
    """The model registered under ``key``, for the device functions (KeyError when absent)."""
    return _CACHE[key]


def _import_torch() -> tuple[Any, Any]:
    try:
        import torch
        import transformers
    except ImportError as exc:
        raise BackendUnavailable(
            f"The hf backend needs torch and transformers ({exc}). Install them with: pip install torch transformers"
        ) from None
    return torch, transformers


def _resolve_device(device: str, torch: Any) -> str:
    if device == "auto":
        # On ZeroGPU, `spaces` makes is_available() true in the main process, so models go to cuda.
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise BackendUnavailable(f"device={device!r} was asked for but no CUDA GPU is visible. Use device='cpu'.")
    return device


def _resolve_dtype(dtype: Any, device: str, torch: Any) -> tuple[str, Any]:
    if dtype == "auto":
        # bfloat16 halves memory on GPUs; on CPU it is slow and lossy, so stay in float32 there.
        dtype = "bfloat16" if device.startswith("cuda") else "float32"
    name = str(dtype).removeprefix("torch.")
    value = getattr(torch, name, None)
    if not isinstance(value, torch.dtype):
        raise ConfigError(f"dtype={dtype!r} is not a torch dtype. Use 'auto', 'bfloat16', 'float16' or 'float32'.")
    return name, value


def _looks_like_path(model: str) -> bool:
    # A Hub id is "name" or "org/name"; anything else with a separator is meant as a directory.
    return model.startswith((".", "~", os.sep)) or "\\" in model or model.count("/") > 1


def _load(model_id: str, device: str, dtype: Any, token: str | None, local_files_only: bool) -> LoadedModel:
    """Load processor then model; processor first, so that a missing torchvision fails in seconds."""
    from transformers import AutoModelForImageTextToText, AutoProcessor

    options = {"token": token, "local_files_only": local_files_only}
    started = time.perf_counter()
    try:
        processor = AutoProcessor.from_pretrained(model_id, **options)
        model = AutoModelForImageTextToText.from_pretrained(model_id, dtype=dtype, **options)
    except (ImportError, OSError, ValueError, KeyError, RuntimeError, TypeError) as exc:
        # ImportError: a missing optional library (torchvision); OSError: not found / no Hub;
        # ValueError/KeyError: an architecture transformers does not know; RuntimeError: out of memory.
        raise _unavailable(model_id, exc, token) from None
    # transformers' stubs type .to() for dtypes only; a device string is what it takes at run time.
    model = model.to(device).eval()  # type: ignore[arg-type]
    tokenizer = getattr(processor, "tokenizer", processor)
    # Decoder-only models continue from the last position, so batches must be padded on the left.
    tokenizer.padding_side = "left"
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    logger.info("loaded %s on %s (%s) in %.1f s", model_id, device, dtype, time.perf_counter() - started)
    control = {added.content for added in tokenizer.added_tokens_decoder.values() if added.special}
    control.update(tokenizer.all_special_tokens)
    if isinstance(getattr(processor, "image_token", None), str):
        control.add(processor.image_token)
    # Longest first, so that a token containing another is neutralised whole.
    ordered = tuple(sorted((t for t in control if len(t) > 1), key=len, reverse=True))
    return LoadedModel(model=model, processor=processor, device=device, control_tokens=ordered)


def _unavailable(model_id: str, exc: BaseException, token: str | None) -> BackendUnavailable:
    """Turn a loading failure into a message that says what to do."""
    reason = redact(" ".join(str(exc).split()), [token])
    if "torchvision" in reason.lower():
        return BackendUnavailable(f"Cannot load {model_id}: {_TORCHVISION_HINT}.")
    if isinstance(exc, ImportError):
        return BackendUnavailable(f"Cannot load {model_id}: a library it needs is missing ({reason}).")
    if isinstance(exc, OSError):
        return BackendUnavailable(
            f"Cannot load {model_id}: it is not a local model directory and it could not be fetched "
            f"from the Hugging Face Hub ({reason}). Check the id; for a gated or private model set "
            "HF_TOKEN; offline, give the path of a local copy (a directory with config.json)."
        )
    return BackendUnavailable(
        f"Cannot load {model_id} as an image-text-to-text model ({reason}). Choose a vision-language "
        "checkpoint that AutoModelForImageTextToText supports, or upgrade transformers."
    )


def load_model(
    model: str, *, device: str, dtype: Any, token: str | None, local_files_only: bool
) -> tuple[CacheKey, LoadedModel]:
    """Resolve device and dtype, then return the cached model, loading it on first use.

    Args:
        model: A Hub id or a local directory saved with ``save_pretrained``.
        device: ``auto`` (cuda when available, else cpu), ``cpu``, ``cuda``, ``cuda:1`` ...
        dtype: ``auto`` (bfloat16 on GPU, float32 on CPU) or a torch dtype or its name.
        token: Hugging Face token for this load only: never logged, never part of the cache key.
        local_files_only: Never contact the Hub; use a local directory or the local Hub cache.

    Returns:
        The cache key ``(model id, device, dtype name)`` and the shared loaded model.

    Raises:
        BackendUnavailable: torch/transformers/torchvision is missing, or the model cannot be found.
        ConfigError: The dtype is invalid.
    """
    torch, _ = _import_torch()
    device = _resolve_device(device, torch)
    dtype_name, dtype_value = _resolve_dtype(dtype, device, torch)

    model_id = model
    path = Path(model).expanduser()
    if path.is_dir():
        model_id = str(path.resolve())  # "./m" and "/abs/m" are one cache entry
    elif _looks_like_path(model):
        raise BackendUnavailable(
            f"No model directory at {model}. Give a directory written by save_pretrained "
            "(with config.json) or a Hugging Face Hub id such as llava-hf/llava-1.5-7b-hf."
        )

    key = (model_id, device, dtype_name)
    with _CACHE_LOCK:
        loaded = _CACHE.get(key)
        if loaded is None:
            loaded = _CACHE[key] = _load(model_id, device, dtype_value, token, local_files_only)
    return key, loaded


__all__ = ["CacheKey", "LoadedModel", "cached", "clear_cache", "load_model", "register"]
