"""A generated detection dataset: coloured shapes on textured backgrounds, in YOLO format.

Each image gets a smooth random texture (low-frequency noise, bilinearly upsampled),
then 1–4 objects of the classes circle, square, triangle and cross at random sizes
and places (overlaps limited so every object stays visible). Labels are exact
(``class x_c y_c w h`` in 0..1), and a ``data.yaml`` describes the splits.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dltool import atomic

CLASSES = ("circle", "square", "triangle", "cross")


def texture(rng: np.random.Generator, size: int) -> np.ndarray:
    """Return a smooth random RGB background (size, size, 3) in 0..255."""
    from PIL import Image

    coarse = rng.uniform(40, 215, (6, 6, 3)).astype(np.uint8)
    smooth = np.asarray(Image.fromarray(coarse).resize((size, size), Image.BILINEAR), np.float64)
    return np.clip(smooth + rng.normal(0, 12, (size, size, 3)), 0, 255)


def _overlaps(box: tuple, boxes: list[tuple]) -> bool:
    """Return True when ``box`` has IoU > 0.1 with any of ``boxes``."""
    from dltool_yolo.boxes import iou

    return any(iou(box, b) > 0.1 for b in boxes)


def draw_object(draw, cls: int, box: tuple, color: tuple) -> None:
    """Draw shape ``cls`` filling ``box`` (x1, y1, x2, y2)."""
    x1, y1, x2, y2 = box
    if cls == 0:
        draw.ellipse(box, fill=color)
    elif cls == 1:
        draw.rectangle(box, fill=color)
    elif cls == 2:
        draw.polygon([((x1 + x2) / 2, y1), (x2, y2), (x1, y2)], fill=color)
    else:
        tw, th = (x2 - x1) / 3, (y2 - y1) / 3
        draw.rectangle((x1 + tw, y1, x2 - tw, y2), fill=color)
        draw.rectangle((x1, y1 + th, x2, y2 - th), fill=color)


def sample(rng: np.random.Generator, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Return one image (size, size, 3) uint8 and its labels (n, 5)."""
    from PIL import Image, ImageDraw

    im = Image.fromarray(texture(rng, size).astype(np.uint8))
    draw = ImageDraw.Draw(im)
    boxes, labels = [], []
    for _ in range(int(rng.integers(1, 5))):
        for _try in range(20):
            s = rng.uniform(0.12, 0.45) * size
            w, h = s * rng.uniform(0.7, 1.3), s * rng.uniform(0.7, 1.3)
            x1, y1 = rng.uniform(0, size - w), rng.uniform(0, size - h)
            box = (x1, y1, x1 + w, y1 + h)
            if not _overlaps(box, boxes):
                break
        else:
            continue
        cls = int(rng.integers(len(CLASSES)))
        color = tuple(int(c) for c in rng.choice([20, 235], 3))
        draw_object(draw, cls, box, color)
        boxes.append(box)
        labels.append([cls, (x1 + w / 2) / size, (y1 + h / 2) / size, w / size, h / size])
    return np.asarray(im), np.array(labels, dtype=np.float64).reshape(-1, 5)


def write_dataset(out: Path, n: int, size: int = 256, val_fraction: float = 0.2, seed: int = 0):
    """Write ``n`` images with labels under ``out`` and its data.yaml; yield after each image."""
    import yaml
    from PIL import Image

    rng = np.random.default_rng(seed)
    n_val = min(n - 1, max(1, round(n * val_fraction)))  # each split keeps ≥ 1 image (n ≥ 2)
    for i in range(n):
        split = "val" if i < n_val else "train"
        image, labels = sample(rng, size)
        name = f"{i:05d}"
        img_path = out / "images" / split / f"{name}.png"
        img_path.parent.mkdir(parents=True, exist_ok=True)
        with atomic.atomic_path(img_path) as tmp, open(tmp, "wb") as fh:
            Image.fromarray(image).save(fh, format="PNG")
        lines = "".join(f"{int(c)} {x:.6f} {y:.6f} {w:.6f} {h:.6f}\n" for c, x, y, w, h in labels)
        atomic.write_text(out / "labels" / split / f"{name}.txt", lines)
        yield split, len(labels)
    spec = {"path": ".", "train": "images/train", "val": "images/val", "nc": len(CLASSES),
            "names": list(CLASSES)}  # fmt: skip
    atomic.write_text(out / "data.yaml", yaml.safe_dump(spec, sort_keys=False))
