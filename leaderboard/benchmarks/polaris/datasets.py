"""Polaris' one dataset: its display name and the (one-entry) column order."""

from __future__ import annotations

import re

#: The display name of Polaris' single "source dataset".
POLARIS_DATASET = "Polaris"
DATASET_ORDER: tuple[str, ...] = (POLARIS_DATASET,)
_SPELLINGS = {"polaris": POLARIS_DATASET}


def display_dataset(name: str) -> str:
    """``"polaris"`` (any case) -> ``"Polaris"``; other names unchanged."""
    return _SPELLINGS.get(re.sub(r"[^a-z0-9]", "", str(name).lower()), str(name))
