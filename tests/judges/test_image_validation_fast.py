"""Images are validated without a full decode: PNG chunk CRCs, JPEG at 1/8 scale; damage is still found."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from PIL import Image, JpegImagePlugin, PngImagePlugin

from judges.errors import ImageError
from judges.images import load_image


def encoded(fmt: str, mode: str = "RGB", size: tuple[int, int] = (640, 480)) -> bytes:
    rng = np.random.default_rng(0)
    shape = (size[1], size[0]) if mode == "L" else (size[1], size[0], 3)
    buffer = io.BytesIO()
    Image.fromarray((rng.random(shape) * 255).astype("uint8"), mode).save(buffer, format=fmt)
    return buffer.getvalue()


def test_a_png_is_checked_without_inflating_its_pixels(monkeypatch):
    data = encoded("PNG")

    def no_decode(self):
        raise AssertionError("a PNG sent as it is must not be decoded to validate it")

    monkeypatch.setattr(PngImagePlugin.PngImageFile, "load", no_decode)
    part = load_image(data)
    assert (part.data, part.media_type, part.width, part.height) == (data, "image/png", 640, 480)


@pytest.mark.parametrize("mode", ["RGB", "L"])
def test_a_jpeg_is_decoded_at_one_eighth_scale(monkeypatch, mode):
    data = encoded("JPEG", mode)
    scales = []
    real_draft = JpegImagePlugin.JpegImageFile.draft

    def spy(self, want_mode, size):
        scales.append(size)
        return real_draft(self, want_mode, size)

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "draft", spy)
    part = load_image(data)
    assert (part.data, part.media_type, part.width, part.height) == (data, "image/jpeg", 640, 480)
    assert scales == [(80, 60)]


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_truncated_files_are_still_refused_with_the_same_message(fmt):
    data = encoded(fmt)
    for cut in (data[: len(data) // 2], data[:-20]):
        with pytest.raises(ImageError, match="damaged or truncated"):
            load_image(cut)


def test_a_png_with_a_damaged_chunk_is_refused():
    data = bytearray(encoded("PNG"))
    at = data.index(b"IDAT") + 100
    data[at] ^= 0xFF  # one flipped byte inside the image data: its chunk CRC no longer matches
    with pytest.raises(ImageError, match="damaged or truncated"):
        load_image(bytes(data))


def test_other_formats_and_cmyk_still_go_through_a_full_decode():
    webp = encoded("WEBP")
    part = load_image(webp)
    assert part.media_type == "image/png" and (part.width, part.height) == (640, 480)
    buffer = io.BytesIO()
    Image.new("CMYK", (20, 10), (0, 200, 200, 0)).save(buffer, format="JPEG")
    part = load_image(buffer.getvalue())
    with Image.open(io.BytesIO(part.data)) as sent:
        assert part.media_type == "image/jpeg" and sent.mode == "RGB"


def test_an_image_sent_with_many_requests_is_downscaled_and_encoded_once(monkeypatch):
    import judges.images as images

    part = load_image(encoded("PNG", size=(1500, 900)))
    calls = []
    real = images.downscale
    monkeypatch.setattr(images, "downscale", lambda p, side: calls.append(side) or real(p, side))
    urls = {images.to_data_url(part, 1024) for _ in range(5)}
    assert len(urls) == 1 and calls == [1024]
    with Image.open(io.BytesIO(base64.b64decode(urls.pop().split(",", 1)[1]))) as sent:
        assert sent.size == (1024, 614)
    assert images.to_data_url(part, 512) != images.to_data_url(part, 1024) and calls == [1024, 512]
