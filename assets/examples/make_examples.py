"""Draw the example images of the Judge tab: a bar chart, a synthetic street scene, an app screenshot.

The project owns these images because it makes them: nothing is downloaded or copied. Re-run with
``python assets/examples/make_examples.py`` to rebuild the PNGs beside this script; the output is
deterministic (fixed seed, Pillow's bundled font), so a re-run produces the same pictures.
"""

from __future__ import annotations

import random
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont

HERE = Path(__file__).resolve().parent
SIZE = (640, 420)


def _font(size: int) -> ImageFont.FreeTypeFont:
    # Pillow's bundled font: the same glyphs on every machine, no system font needed.
    return ImageFont.load_default(size=size)


def _save(image: Image.Image, name: str) -> Path:
    path = HERE / name
    # An adaptive palette keeps flat drawings well under 100 KB without visible banding.
    image.convert("RGB").quantize(colors=128, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)
    return path


def bar_chart() -> Image.Image:
    """Quarterly revenue of a made-up company: four bars with values and axis labels."""
    image = Image.new("RGB", SIZE, "white")
    draw = ImageDraw.Draw(image)
    draw.text((SIZE[0] // 2, 28), "Revenue by quarter, 2025 (million EUR)", fill="#222", font=_font(22), anchor="mm")
    left, right, top, bottom = 80, 600, 70, 360
    values = {"Q1": 12.4, "Q2": 18.9, "Q3": 9.7, "Q4": 21.3}
    colours = ["#4C78A8", "#F58518", "#54A24B", "#E45756"]
    scale = (bottom - top) / 25
    for tick in range(0, 26, 5):
        y = bottom - tick * scale
        draw.line((left, y, right, y), fill="#e5e5e5")
        draw.text((left - 10, y), str(tick), fill="#555", font=_font(14), anchor="rm")
    draw.line((left, top, left, bottom), fill="#333", width=2)
    draw.line((left, bottom, right, bottom), fill="#333", width=2)
    slot = (right - left) / len(values)
    for i, ((quarter, value), colour) in enumerate(zip(values.items(), colours, strict=True)):
        x0 = left + i * slot + slot * 0.2
        x1 = x0 + slot * 0.6
        y = bottom - value * scale
        draw.rectangle((x0, y, x1, bottom), fill=colour)
        draw.text(((x0 + x1) / 2, y - 12), f"{value:.1f}", fill="#222", font=_font(16), anchor="mm")
        draw.text(((x0 + x1) / 2, bottom + 18), quarter, fill="#222", font=_font(16), anchor="mm")
    draw.text((SIZE[0] // 2, 400), "Source: internal figures (synthetic)", fill="#888", font=_font(13), anchor="mm")
    return image


def street_scene() -> Image.Image:
    """A photo-like scene: evening sky, hills, a yellow house, a tree and a red bus on a road."""
    rng = random.Random(7)
    width, height = SIZE
    image = Image.new("RGB", SIZE)
    draw = ImageDraw.Draw(image)
    for y in range(height):  # sky gradient, from deep blue to warm orange at the horizon
        t = y / 260
        draw.line((0, y, width, y), fill=(int(40 + 200 * t), int(70 + 110 * t), int(160 - 60 * t)))
    draw.ellipse((470, 150, 540, 220), fill="#ffd27f")
    draw.polygon([(0, 260), (120, 190), (260, 250), (400, 180), (640, 250), (640, 300), (0, 300)], fill="#5b7f4a")
    draw.rectangle((0, 290, width, height), fill="#6f8f55")
    draw.rectangle((0, 330, width, 390), fill="#4a4a4f")
    for x in range(0, width, 60):
        draw.rectangle((x + 10, 357, x + 40, 362), fill="#e8e8e8")
    # house with a roof, a door and two windows
    draw.rectangle((70, 220, 210, 320), fill="#e9c46a")
    draw.polygon([(60, 222), (140, 165), (220, 222)], fill="#9c4a3c")
    draw.rectangle((125, 270, 155, 320), fill="#6b4226")
    for x in (85, 175):
        draw.rectangle((x, 240, x + 22, 262), fill="#bde0fe", outline="#555")
    # tree
    draw.rectangle((262, 250, 276, 320), fill="#5d3a1a")
    for _ in range(40):
        cx, cy = 269 + rng.randint(-30, 30), 225 + rng.randint(-28, 24)
        r = rng.randint(12, 20)
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=(40 + rng.randint(0, 30), 110 + rng.randint(0, 40), 50))
    # red double-decker-like bus
    draw.rounded_rectangle((330, 290, 560, 372), radius=10, fill="#c1121f")
    for x in range(345, 545, 40):
        draw.rectangle((x, 300, x + 28, 322), fill="#dbe9f4")
        draw.rectangle((x, 330, x + 28, 350), fill="#dbe9f4")
    for cx in (375, 515):
        draw.ellipse((cx - 18, 358, cx + 18, 394), fill="#1b1b1b")
        draw.ellipse((cx - 7, 369, cx + 7, 383), fill="#888")
    # a little blur and noise make it read as a photograph rather than a diagram
    image = image.filter(ImageFilter.GaussianBlur(0.8))
    noise = Image.effect_noise(SIZE, 12).convert("RGB")
    return Image.blend(image, noise, 0.06)


def app_screenshot() -> Image.Image:
    """A fake mobile-style sign-in screen with fields, a disabled button and an error banner."""
    image = Image.new("RGB", SIZE, "#f3f4f6")
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, SIZE[0], 44), fill="#1f2937")
    draw.text((20, 22), "Acme Notes", fill="white", font=_font(18), anchor="lm")
    draw.text((620, 22), "Help", fill="#9ca3af", font=_font(15), anchor="rm")
    card = (170, 64, 470, 404)
    draw.rounded_rectangle(card, radius=12, fill="white", outline="#d1d5db")
    draw.text((320, 96), "Sign in", fill="#111827", font=_font(24), anchor="mm")
    draw.rounded_rectangle((190, 120, 450, 150), radius=6, fill="#fee2e2", outline="#fca5a5")
    draw.text((320, 135), "Incorrect password. 2 attempts left.", fill="#b91c1c", font=_font(13), anchor="mm")
    for i, label in enumerate(("Email", "Password")):
        y = 170 + i * 70
        draw.text((192, y), label, fill="#374151", font=_font(14))
        draw.rounded_rectangle((190, y + 20, 450, y + 52), radius=6, fill="white", outline="#9ca3af")
    draw.text((202, 206), "maria@example.com", fill="#111827", font=_font(15), anchor="lm")
    for i in range(8):  # the bundled font has no bullet glyph: draw the masked password as dots
        x = 206 + i * 14
        draw.ellipse((x - 4, 272, x + 4, 280), fill="#111827")
    draw.rectangle((192, 312, 206, 326), outline="#6b7280", width=2)
    draw.text((214, 319), "Remember me", fill="#374151", font=_font(14), anchor="lm")
    draw.text((448, 319), "Forgot password?", fill="#2563eb", font=_font(14), anchor="rm")
    draw.rounded_rectangle((190, 342, 450, 378), radius=8, fill="#93c5fd")
    draw.text((320, 360), "Sign in", fill="white", font=_font(17), anchor="mm")
    draw.text((320, 392), "No account? Create one", fill="#6b7280", font=_font(13), anchor="mm")
    return image


def main() -> None:
    """Write the three PNGs and print their sizes."""
    for name, make in (("chart.png", bar_chart), ("street.png", street_scene), ("signin.png", app_screenshot)):
        path = _save(make(), name)
        print(f"{path.name}: {path.stat().st_size / 1024:.1f} KB")


if __name__ == "__main__":
    main()
