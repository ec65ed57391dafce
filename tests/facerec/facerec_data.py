"""Real faces shipped by packages, and tiny identity folders built from them."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def package_file(package: str, relpath: str) -> Path:
    """Return ``relpath`` inside the installed ``package`` (located, not imported)."""
    import importlib.util

    spec = importlib.util.find_spec(package)
    return Path(next(iter(spec.submodule_search_locations))) / relpath


ASTRONAUT = package_file("skimage", "data/astronaut.png")
GRACE = package_file("matplotlib", "mpl-data/sample_data/grace_hopper.jpg")
COFFEE = package_file("skimage", "data/coffee.png")
# face boxes (top, right, bottom, left) found by the HOG detector, upsample 1
ASTRONAUT_FACE = (76, 265, 166, 175)
GRACE_FACE = (139, 366, 325, 180)


def augmented_crops(path: Path, box, n: int, rng: np.random.Generator, out: Path) -> None:
    """Write ``n`` jittered crops around the face ``box`` of ``path`` (mirror, rotate, tone)."""
    from PIL import Image, ImageEnhance

    top, right, bottom, left = box
    cx, cy, side = (left + right) / 2, (top + bottom) / 2, max(right - left, bottom - top)
    with Image.open(path) as im:
        im = im.convert("RGB")
        for k in range(n):
            half = side * rng.uniform(0.9, 1.2)
            dx, dy = rng.uniform(-0.1, 0.1, 2) * side
            crop = im.crop((cx + dx - half, cy + dy - half, cx + dx + half, cy + dy + half))
            crop = crop.rotate(rng.uniform(-8, 8), resample=Image.BILINEAR)
            if rng.random() < 0.5:
                crop = crop.transpose(Image.FLIP_LEFT_RIGHT)
            crop = ImageEnhance.Brightness(crop).enhance(rng.uniform(0.75, 1.25))
            crop.resize((200, 200), Image.BILINEAR).save(out / f"{k}.png")
