"""Turning uploads into validated :class:`~judges.types.ImagePart` values, and back.

Validation happens once, at the edge: an image that reaches a backend is known to be whole, to be
within the pixel budget and to be PNG or JPEG. The size check reads only the header, so a
decompression bomb is rejected before a single pixel is decoded; a PNG or RGB JPEG that is sent as it
is, is then checked without a full decode (every PNG chunk and its CRC; the JPEG at 1/8 scale).
"""

from __future__ import annotations

import base64
import functools
import io
import math
import os
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from judges.errors import ImageError
from judges.types import ImagePart

#: Largest accepted image, in pixels (about 8000 x 6000). Larger uploads are rejected, not resized:
#: decoding them at all is what a decompression bomb exploits.
MAX_PIXELS = 50_000_000
#: Largest accepted encoded file.
MAX_BYTES = 25 * 1024 * 1024

ImageSource = str | os.PathLike | bytes | Image.Image | ImagePart


def load_image(source: ImageSource, *, max_pixels: int = MAX_PIXELS) -> ImagePart:
    """Validate an image and return it as an :class:`ImagePart`.

    Args:
        source: A path, raw bytes, a PIL image or an existing ImagePart.
        max_pixels: Largest accepted width x height.

    Returns:
        The image, re-encoded as PNG unless it already was a PNG or an RGB/greyscale JPEG (a CMYK
        JPEG is converted to an RGB JPEG).

    Raises:
        ImageError: The file is missing, is not an image, is truncated or is too large.
    """
    if isinstance(source, ImagePart):
        return source
    if isinstance(source, Image.Image):
        return _from_pil(source, max_pixels)
    if isinstance(source, bytes):
        data, label = source, "the uploaded image"
    else:
        path = Path(source)
        if not path.is_file():
            raise ImageError(f"Image file not found: {path}. Check the path and try again.")
        if path.stat().st_size > MAX_BYTES:
            raise ImageError(
                f"{path.name} is {path.stat().st_size / 2**20:.0f} MB; images up to "
                f"{MAX_BYTES // 2**20} MB are accepted. Downscale or recompress it."
            )
        data, label = path.read_bytes(), path.name
    if len(data) > MAX_BYTES:
        raise ImageError(f"{label} is larger than {MAX_BYTES // 2**20} MB. Downscale or recompress it.")
    return _from_bytes(data, label, max_pixels)


def fitting_size(width: int, height: int, max_pixels: int = MAX_PIXELS) -> tuple[int, int]:
    """The largest size of the same shape as ``width`` x ``height`` within ``max_pixels``.

    An image that already fits keeps its size; a shapeless one (a side below 1) gets the square
    that fits, ``isqrt(max_pixels)`` on each side (7071 x 7071 for the default limit).
    """
    if width < 1 or height < 1:
        side = math.isqrt(max_pixels)
        return side, side
    if width * height <= max_pixels:
        return width, height
    scale = math.sqrt(max_pixels / (width * height))
    fit_w, fit_h = max(1, math.floor(width * scale)), max(1, math.floor(height * scale))
    # Floating point may land a pixel row over the limit; trim the longer side until it fits.
    while fit_w * fit_h > max_pixels:
        if fit_w >= fit_h:
            fit_w -= 1
        else:
            fit_h -= 1
    return fit_w, fit_h


def _check_size(width: int, height: int, label: str, max_pixels: int) -> None:
    if width * height > max_pixels:
        fit_w, fit_h = fitting_size(width, height, max_pixels)
        raise ImageError(
            f"{label} is {width}x{height} pixels, more than the {max_pixels:,} accepted. "
            f"Resize it to at most {fit_w} x {fit_h} pixels and upload again."
        )
    if width < 1 or height < 1:
        raise ImageError(f"{label} has no pixels.")


def _from_bytes(data: bytes, label: str, max_pixels: int) -> ImagePart:
    try:
        # Opening reads only the header; the bomb check must come before load().
        with Image.open(io.BytesIO(data)) as probe:
            fmt = probe.format
            width, height = probe.width, probe.height
            _check_size(width, height, label, max_pixels)
            if fmt == "PNG":
                # The bytes are sent as they are, so decoding them proves nothing more than walking
                # every chunk to IEND with its CRC, which finds truncation and damage without inflating
                # a single row (about 25x faster than load() on a large PNG).
                probe.verify()
                return ImagePart(data, "image/png", width, height)
            if fmt == "JPEG" and probe.mode in ("RGB", "L"):
                # Decoding at 1/8 scale still reads every entropy-coded segment (a truncated or damaged
                # file fails), skipping the inverse DCT at full size and the colour conversion.
                probe.draft(probe.mode, (max(1, width // 8), max(1, height // 8)))
                probe.load()
                return ImagePart(data, "image/jpeg", width, height)
            probe.load()
            if fmt == "JPEG" and probe.mode not in ("RGB", "L"):
                # CMYK (and YCCK) JPEGs are rejected by some providers: send plain RGB.
                return _as_jpeg(probe.convert("RGB"))
            if fmt in ("PNG", "JPEG"):
                return ImagePart(data, f"image/{fmt.lower()}", probe.width, probe.height)
            return _from_pil(probe, max_pixels)
    except ImageError:
        raise
    except Image.DecompressionBombError:
        side = math.isqrt(max_pixels)
        raise ImageError(
            f"{label} has far more pixels than the {max_pixels:,} accepted and was refused as a possible "
            f"decompression bomb. Resize it to at most {side} x {side} pixels (or the same area in another "
            "shape) and upload again."
        ) from None
    except UnidentifiedImageError:
        raise ImageError(f"{label} is not an image PIL can read. Upload a PNG, JPEG or WebP file.") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageError(f"{label} is damaged or truncated ({exc}). Re-export it and upload again.") from None


def _from_pil(image: Image.Image, max_pixels: int) -> ImagePart:
    _check_size(image.width, image.height, "the image", max_pixels)
    buffer = io.BytesIO()
    _web_safe(image).save(buffer, format="PNG")
    return ImagePart(buffer.getvalue(), "image/png", image.width, image.height)


def _as_jpeg(image: Image.Image) -> ImagePart:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=95)
    return ImagePart(buffer.getvalue(), "image/jpeg", image.width, image.height)


def _web_safe(image: Image.Image) -> Image.Image:
    if image.mode in ("RGB", "RGBA", "L"):
        return image
    return image.convert("RGBA" if "A" in image.getbands() else "RGB")


def to_pil(part: ImagePart) -> Image.Image:
    """Decode an ImagePart into an RGB PIL image (what vision processors expect)."""
    with Image.open(io.BytesIO(part.data)) as img:
        return img.convert("RGB")


def downscale(part: ImagePart, max_side: int | None) -> ImagePart:
    """Shrink an image so that its longer side is at most ``max_side`` pixels.

    APIs bill and time-out by image size, and judges gain nothing above ~1-2k pixels. Images
    already small enough are returned unchanged (same bytes).
    """
    if not max_side or max(part.width, part.height) <= max_side:
        return part
    img = to_pil(part)
    img.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    if part.media_type == "image/jpeg":
        img.save(buffer, format="JPEG", quality=90)
    else:
        img.save(buffer, format="PNG")
    return ImagePart(buffer.getvalue(), part.media_type, img.width, img.height)


def to_data_url(part: ImagePart, max_side: int | None = None) -> str:
    """Encode an image as a ``data:`` URL, downscaled first when ``max_side`` is given.

    The same image is sent with every request about it (several questions and answer pairs per
    image, position swaps, samples): the last few URLs are kept, so it is downscaled (a full decode,
    a resize and an encode) and base64-encoded once, not once per request.
    """
    return _data_url(part, max_side)


@functools.lru_cache(maxsize=16)
def _data_url(part: ImagePart, max_side: int | None) -> str:
    # ImagePart is frozen and hashable; hashing its bytes is done once per bytes object.
    part = downscale(part, max_side)
    return f"data:{part.media_type};base64,{base64.b64encode(part.data).decode('ascii')}"
