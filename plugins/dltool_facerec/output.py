"""Writing results: rows as table / CSV / JSON on stdout, and annotated copies of images."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path
from typing import Any

from dltool.errors import DltoolError

FORMATS = ("table", "csv", "json")
BOX = ("top", "right", "bottom", "left")
KEPT_SUFFIXES = (".jpg", ".jpeg", ".png")  # other images are annotated as PNG


def check_format(fmt: str) -> str:
    """Return ``fmt`` if it is a known output format."""
    if fmt not in FORMATS:
        raise DltoolError(f"unknown --format '{fmt}'", hint=f"use one of {', '.join(FORMATS)}")
    return fmt


def emit(rows: list[dict[str, Any]], fmt: str, title: str, key: str, columns: list[str]) -> None:
    """Write rows to stdout in ``fmt`` (table through the reporter; csv/json directly)."""
    from dltool.context import current

    rep = current().reporter
    if fmt == "table" or rep.json_mode:
        rep.table(title, rows, columns=columns, key=key)
    elif fmt == "csv":
        writer = csv.DictWriter(sys.stdout, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
        sys.stdout.flush()
    else:
        sys.stdout.write(json.dumps({key: rows}, indent=2) + "\n")
        sys.stdout.flush()


def annotated_suffix(path: Path) -> str:
    """Return the suffix of the annotated copy of ``path``: its own if JPEG/PNG, else .png."""
    return path.suffix if path.suffix.lower() in KEPT_SUFFIXES else ".png"


def annotated_name(path: Path, used: set[str]) -> str:
    """Return a file name for the annotated copy of ``path`` not in ``used`` (any case); add it."""
    suffix = annotated_suffix(path)
    name, k = f"{path.stem}{suffix}", 1
    while name.lower() in used:
        name = f"{path.stem}_{k}{suffix}"
        k += 1
    used.add(name.lower())
    return name


def annotate(
    image: Any, labelled: list[tuple[tuple[int, int, int, int], str, bool]], dest: Path
) -> Path:
    """Write ``image`` (H, W, 3) with boxes (top, right, bottom, left) and labels, atomically."""
    from PIL import Image, ImageDraw

    from dltool import atomic

    im = Image.fromarray(image)
    draw = ImageDraw.Draw(im)
    width = max(2, round(max(im.size) / 250))
    for (top, right, bottom, left), label, known in labelled:
        color = (40, 200, 60) if known else (230, 60, 40)
        draw.rectangle([left, top, right, bottom], outline=color, width=width)
        if label:
            tl, tt, tr, tb = draw.textbbox((left, bottom + 2), label)
            draw.rectangle([tl - 2, tt - 2, tr + 2, tb + 2], fill=color)
            draw.text((left, bottom + 2), label, fill=(255, 255, 255))
    dest = dest.with_suffix(annotated_suffix(dest))
    with atomic.atomic_path(dest) as tmp:
        im.save(tmp, format="PNG" if dest.suffix.lower() == ".png" else "JPEG", quality=92)
    return dest
