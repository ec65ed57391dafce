"""Outputs of ``detect``: the annotated image, YOLO-format label lines and object crops.

Boxes are drawn with Pillow, one colour per class, with "name score" labels; label
lines are ``class x_center y_center width height`` normalised to 0..1 (YOLO format), with
the score as a sixth column on request (``--save-conf``).
The annotated copy is named by the core's ``output_name`` and written by its
``write_image`` (the input's name and format where Pillow can write it, else PNG).
A class name becomes a crops folder only as a safe file name component (no ``/``,
no ``..``).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from dltool.data.images import write_image
from dltool_yolo.results import Detection

PALETTE = (
    "FF3838", "2C99A8", "FF9D97", "FF701F", "FFB21D", "CFD231", "48F90A", "92CC17", "3DDB86",
    "1A9334", "00D4BB", "FF6FDD", "00C2FF", "344593", "6473FF", "0018EC", "8438FF", "520085",
    "CB38FF", "FF95C8",
)  # fmt: skip


def color(cls: int) -> tuple[int, int, int]:
    """Return the RGB colour of class ``cls``."""
    h = PALETTE[cls % len(PALETTE)]
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)


def draw(
    image: np.ndarray,
    detections: list[Detection],
    line_width: int | None = None,
    hide_labels: bool = False,
) -> Image.Image:
    """Return a copy of RGB ``image`` with each detection's box and "name score" label.

    ``line_width`` is the box outline in pixels (None: 0.3 % of width + height, at least 2);
    ``hide_labels`` draws the boxes alone.
    """
    im = Image.fromarray(image).convert("RGB")
    canvas = ImageDraw.Draw(im)
    line = line_width or max(2, round(0.003 * (im.width + im.height)))
    font = ImageFont.load_default(size=max(12, line * 6))
    for d in detections:
        rgb = color(d.cls)
        canvas.rectangle(d.box, outline=rgb, width=line)
        if hide_labels:
            continue
        text = f"{d.name} {d.score:.2f}"
        x0, y0, x1, y1 = canvas.textbbox((0, 0), text, font=font)
        tw, th = x1 - x0 + 2 * line, y1 - y0 + 2 * line
        top = d.box[1] - th if d.box[1] - th >= 0 else d.box[1]
        canvas.rectangle((d.box[0], top, d.box[0] + tw, top + th), fill=rgb)
        canvas.text((d.box[0] + line, top + line - y0), text, fill=(255, 255, 255), font=font)
    return im


def safe_component(name: str, fallback: str) -> str:
    """Return ``name`` as one file name component: other than word characters, '.', '-' → '_'."""
    cleaned = re.sub(r"[^\w.-]+", "_", name).strip(".")
    return cleaned if cleaned.strip("_") else fallback


def label_lines(detections: list[Detection], width: int, height: int, conf: bool = False) -> str:
    """Return YOLO label lines: class x_c/W y_c/H w/W h/H (and the score with ``conf``)."""
    rows = []
    for d in detections:
        x1, y1, x2, y2 = d.box
        xc, yc = (x1 + x2) / 2 / width, (y1 + y2) / 2 / height
        row = f"{d.cls} {xc:.6f} {yc:.6f} {(x2 - x1) / width:.6f} {(y2 - y1) / height:.6f}"
        rows.append(row + (f" {d.score:.6f}" if conf else ""))
    return "".join(r + "\n" for r in rows)


def save_crops(image: np.ndarray, detections: list[Detection], folder: Path, stem: str) -> int:
    """Write each detection's pixels to ``folder/<class>/<stem>_<i>.jpg``; return the count."""
    n = 0
    for i, d in enumerate(detections):
        x1, y1, x2, y2 = (round(v) for v in d.box)
        if x2 <= x1 or y2 <= y1:
            continue
        dest = folder / safe_component(d.name, f"class_{d.cls}") / f"{stem}_{i}.jpg"
        dest.parent.mkdir(parents=True, exist_ok=True)
        write_image(image[y1:y2, x1:x2], dest)
        n += 1
    return n
