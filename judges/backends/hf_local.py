"""The old import path of the ``hf`` backend, kept for callers that still use it.

``app.py`` imports this module before launch so that ZeroGPU sees the ``@spaces.GPU`` functions of
:mod:`judges.backends.hf.device`; importing that module directly does the same. New code imports
from :mod:`judges.backends.hf.backend`.
"""

from __future__ import annotations

from judges.backends.hf import device as device
from judges.backends.hf.backend import DEFAULT_CAPABILITIES, HFLocalBackend, clear_cache, create
from judges.backends.hf.chat import to_chat

__all__ = ["DEFAULT_CAPABILITIES", "HFLocalBackend", "clear_cache", "create", "device", "to_chat"]
