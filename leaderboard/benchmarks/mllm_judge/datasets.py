"""The source datasets of MLLM-as-a-Judge: the data's spellings -> the paper's display names, and their order.

The release spells a dataset several ways ("Concept Caption", "conceptual captions", "CC"); runs,
labels and tables show the paper's short name ("C.C."). The release's ``llava_bench`` is the paper's
CC-3M column. :func:`display_dataset` maps any spelling
(a display name maps to itself); :data:`DATASET_ORDER` is the paper's column order.
"""

from __future__ import annotations

import re

#: The paper's 14 display names, in the paper's column order, keyed by a normalised spelling.
DISPLAY_NAMES: dict[str, str] = {
    "coco": "COCO",
    "conceptcaption": "C.C.",
    "conceptcaptions": "C.C.",
    "conceptualcaptions": "C.C.",
    "cc": "C.C.",
    "diffusiondb": "Diff.",
    "diff": "Diff.",
    "infographicsvqa": "Graphics",
    "infographicvqa": "Graphics",
    "graphics": "Graphics",
    "mathvista": "Math",
    "math": "Math",
    "textvqa": "Text",
    "text": "Text",
    "wit": "WIT",
    "chartqa": "Chart",
    "chart": "Chart",
    "visitbench": "VisIT",
    "visit": "VisIT",
    "cc3m": "CC-3M",
    # The released data's 14 names and the paper's 14 columns correspond one to one; the data has no
    # CC-3M name and the paper no LLaVA-Bench column, and later papers' evaluation code maps the two
    # the same way, so llava_bench items are the CC-3M column.
    "llavabench": "CC-3M",
    "mind2web": "M2W",
    "m2w": "M2W",
    "scienceqa": "SciQA",
    "sciqa": "SciQA",
    "aesbench": "Aes",
    "aes": "Aes",
    "mmvet": "MM-Vet",
}
#: Display names in the order of the paper's main table; others sort after them alphabetically.
DATASET_ORDER: tuple[str, ...] = (
    "COCO",
    "C.C.",
    "Diff.",
    "Graphics",
    "Math",
    "Text",
    "WIT",
    "Chart",
    "VisIT",
    "CC-3M",
    "M2W",
    "SciQA",
    "Aes",
    "MM-Vet",
)


def display_dataset(name: str) -> str:
    """The display name of a source dataset ("Concept Caption" -> "C.C.").

    Args:
        name: The name as the data or a run spells it; a display name maps to itself.

    Returns:
        The paper's short name, or ``name`` unchanged when it is not a known dataset.
    """
    key = re.sub(r"[^a-z0-9]", "", str(name).lower())
    return DISPLAY_NAMES.get(key, str(name))
