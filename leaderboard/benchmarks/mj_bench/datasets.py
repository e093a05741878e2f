"""MJ-Bench's alignment categories: the data's spellings -> display names, and their order.

The result files name five categories (``action``, ``attribute``, ``count``, ``object``,
``spatial``); the item folders spell four of them differently (``actions``, ``attributes``,
``existence``, ``spatial``) and hold ``count`` inside ``other``. Tables show one display name per
category, in the order of MJ-Bench's alignment table (object, attribute, action, spatial, count).
"""

from __future__ import annotations

import re

DISPLAY_NAMES: dict[str, str] = {
    "object": "Object",
    "existence": "Object",
    "attribute": "Attribute",
    "attributes": "Attribute",
    "action": "Action",
    "actions": "Action",
    "spatial": "Spatial",
    "location": "Spatial",
    "count": "Count",
}
DATASET_ORDER: tuple[str, ...] = ("Object", "Attribute", "Action", "Spatial", "Count")


def display_dataset(name: str) -> str:
    """The display name of a category (``"existence"`` -> ``"Object"``); unknown names unchanged."""
    return DISPLAY_NAMES.get(re.sub(r"[^a-z0-9]", "", str(name).lower()), str(name))
