"""Boxes drawn on a small copy of an image, as a bounded PNG data URL (the verify task's evidence view).

The copy is shrunk to :data:`MAX_SIDE` pixels on its long side and reduced to a palette, and shrunk
again until its data URL fits :data:`MAX_URL_CHARS`, so a result's details stay small whatever the
upload was.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping, Sequence

from PIL import Image, ImageDraw

from judges.images import to_pil
from judges.types import ImagePart

#: Long side of the drawn copy, in pixels.
MAX_SIDE = 320
#: Largest data URL returned (characters); past it the copy is shrunk further, then dropped.
MAX_URL_CHARS = 120_000
#: Box colours, one per object in order (wrapping around).
COLOURS = ("#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#42d4f4", "#f032e6", "#9a6324")


def boxes_data_url(image: ImagePart, boxes: Mapping[str, Sequence[Sequence[float]]]) -> str:
    """``image`` with each object's boxes (normalised ``[x0, y0, x1, y1]``) outlined and labelled.

    Args:
        image: The judged image.
        boxes: Object name -> its boxes in 0..1 coordinates.

    Returns:
        A ``data:image/png;base64,...`` URL of at most :data:`MAX_URL_CHARS` characters, or '' when
        even a tiny copy does not fit.
    """
    base = to_pil(image)
    for side in (MAX_SIDE, MAX_SIDE // 2, MAX_SIDE // 4):
        copy = base.copy()
        copy.thumbnail((side, side), Image.Resampling.LANCZOS)
        draw = ImageDraw.Draw(copy)
        width, height = copy.size
        for index, (name, object_boxes) in enumerate(boxes.items()):
            colour = COLOURS[index % len(COLOURS)]
            for number, (x0, y0, x1, y1) in enumerate(object_boxes, start=1):
                rect = (x0 * (width - 1), y0 * (height - 1), x1 * (width - 1), y1 * (height - 1))
                # A dark rim outside the coloured one keeps a box visible on a shape of its own colour.
                draw.rectangle((rect[0] - 1, rect[1] - 1, rect[2] + 1, rect[3] + 1), outline="#111111", width=1)
                draw.rectangle(rect, outline=colour, width=2)
                draw.text((rect[0] + 3, rect[1] + 2), f"{name} {number}", fill=colour)
        buffer = io.BytesIO()
        copy.quantize(colors=64).save(buffer, format="PNG", optimize=True)
        url = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
        if len(url) <= MAX_URL_CHARS:
            return url
    return ""
