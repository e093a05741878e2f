"""The only code of the ``hf`` backend that touches the model: ZeroGPU runs it in a GPU worker.

:func:`generate_on_device` and :func:`forward_on_device` carry the ZeroGPU ``@spaces.GPU``
decorator (a no-op off ZeroGPU). ZeroGPU runs them in another process, so they take and return only
picklable CPU values and find the model by its cache key (:func:`judges.backends.hf.loading.cached`).
Everything else (chat templates, images, tokenising, decoding) happens on the CPU in the calling
process, so a GPU is held only while the model runs.

ZeroGPU finds decorated functions only in modules imported before the Space launches; this module
imports no torch at module level, so importing it early costs little.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from judges.backends.hf.loading import CacheKey, cached

try:  # ZeroGPU support is optional: without the package the decorator is left out.
    import spaces
except ImportError:  # pragma: no cover - spaces is installed where the tests run
    spaces = None

_F = TypeVar("_F", bound=Callable[..., Any])


def _gpu(duration: int | Callable[..., int]) -> Callable[[_F], _F]:
    """``@spaces.GPU(duration=...)`` when the ``spaces`` package is installed, else no decorator."""
    if spaces is None:  # pragma: no cover
        return lambda fn: fn
    decorator: Callable[[_F], _F] = spaces.GPU(duration=duration)
    return decorator


@dataclass(frozen=True)
class Generated:
    """What generation returns across the process boundary: plain lists, one entry per row.

    Attributes:
        new_ids: Generated token ids per row, padding and everything after EOS included.
        logprobs: Log-probability of each generated token, or None when not requested.
        top: Per row and step, the ``(token id, logprob)`` alternatives, best first.
    """

    new_ids: list[list[int]]
    logprobs: list[list[float]] | None = None
    top: list[list[list[tuple[int, float]]]] | None = None


def _to_model(inputs: dict[str, Any], model: Any) -> dict[str, Any]:
    """Move a CPU batch to the model, casting pixel values to its dtype (processors give float32)."""
    return {
        key: value.to(model.device, dtype=model.dtype if value.is_floating_point() else None)
        for key, value in inputs.items()
    }


def _generate_seconds(key: CacheKey, inputs: dict[str, Any], overrides: dict[str, Any], *args: Any) -> int:
    # ZeroGPU reserves this many seconds up front; scale with the tokens asked for, within bounds.
    return int(min(300, 20 + 0.06 * overrides.get("max_new_tokens", 256)))


@_gpu(duration=_generate_seconds)
def generate_on_device(
    key: CacheKey, inputs: dict[str, Any], overrides: dict[str, Any], seed: int | None, top_k: int | None
) -> Generated:
    """Run ``generate`` on one padded batch (on ZeroGPU, in the GPU worker process).

    Args:
        key: Cache key of the model.
        inputs: Processor output as CPU tensors.
        overrides: GenerationConfig fields (max_new_tokens, do_sample, temperature, top_p ...).
        seed: Seed of torch's generator, for reproducible sampling.
        top_k: Alternatives to return per step; None: no log-probabilities at all.
    """
    import torch

    model = cached(key).model
    batch = _to_model(inputs, model)
    # One config object, not config plus keyword arguments (transformers deprecates mixing them).
    config = copy.deepcopy(model.generation_config)
    config.update(**overrides, return_dict_in_generate=True, output_logits=top_k is not None)
    if seed is not None:
        torch.manual_seed(seed)
    with torch.inference_mode():
        out = model.generate(**batch, generation_config=config)
    new = out.sequences[:, batch["input_ids"].shape[1] :]
    if top_k is None:
        return Generated(new_ids=new.tolist())
    rows = new.shape[0]
    if not out.logits:
        return Generated(new_ids=new.tolist(), logprobs=[[] for _ in range(rows)], top=[[] for _ in range(rows)])
    chosen, top_values, top_ids = [], [], []
    # Raw logits, not the processed scores: temperature and top_p would distort the probabilities.
    # One step at a time keeps memory at batch x vocab instead of batch x steps x vocab.
    for step, logits in enumerate(out.logits):
        logp = torch.log_softmax(logits.float(), dim=-1)
        chosen.append(logp.gather(-1, new[:, step : step + 1]).squeeze(-1))
        values, ids = logp.topk(min(top_k, logp.shape[-1]), dim=-1)
        top_values.append(values)
        top_ids.append(ids)
    # One transfer to Python at the end: .tolist() per step would synchronise the GPU every step.
    logprobs = torch.stack(chosen, dim=1).tolist()
    alt_ids, alt_values = torch.stack(top_ids, dim=1).tolist(), torch.stack(top_values, dim=1).tolist()
    top = [
        [
            list(zip(step_ids, step_values, strict=True))
            for step_ids, step_values in zip(alt_ids[row], alt_values[row], strict=True)
        ]
        for row in range(rows)
    ]
    return Generated(new_ids=new.tolist(), logprobs=logprobs, top=top)


@_gpu(duration=30)
def forward_on_device(key: CacheKey, inputs: dict[str, Any], label_ids: list[list[int]]) -> list[list[float]]:
    """One forward pass; per row, the log-probability of each label at the last position.

    Args:
        key: Cache key of the model.
        inputs: Processor output as CPU tensors, left-padded so the last position is the verdict slot.
        label_ids: For each label, the token ids that spell it; their probabilities are summed.
    """
    import inspect

    import torch

    model = cached(key).model
    batch = _to_model(inputs, model)
    if "logits_to_keep" in inspect.signature(model.forward).parameters:
        # Only the last position is needed; full logits would be batch x length x vocab.
        batch["logits_to_keep"] = 1
    with torch.inference_mode():
        logits = model(**batch).logits[:, -1, :]
    logp = torch.log_softmax(logits.float(), dim=-1)
    columns = [torch.logsumexp(logp[:, ids], dim=-1) for ids in label_ids]
    return torch.stack(columns, dim=1).tolist()
