"""Results on stdout (table, CSV, JSON), annotated copies of images; figures are in plots.py."""

from __future__ import annotations

import csv
import json
import os
import sys
from pathlib import Path
from typing import Any

from dltool.errors import printable

BOX = ("top", "right", "bottom", "left")


def shown(path: str | os.PathLike) -> str:
    """Return ``path`` as text: bytes that are not UTF-8 as ``\\xNN`` (never an encode error)."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def emit(
    rows: list[dict[str, Any]],
    fmt: str,
    title: str,
    columns: list[str],
    images: list[dict[str, Any]],
) -> None:
    """Write one row per face to stdout in ``fmt``, and list the images where none was found.

    ``images`` holds one summary row per image (``file``, ``faces``, …). Under ``-q`` the
    table format prints only that summary (one line per image); csv/json are unchanged.
    """
    from dltool.context import current

    rep = current().reporter
    empty = [r["file"] for r in images if r["faces"] == 0]
    if rep.json_mode:
        rep.table(title, rows, columns=columns, key="faces")
        rep.result("no_face", empty)
    elif fmt == "table" and rep.quiet:
        rep.table(f"{title}, per image", images, key="images")
    elif fmt == "table":
        rep.table(title, rows, columns=columns, key="faces")
        rep.table("No face found", [{"file": f, "faces": 0} for f in empty], key="no_face")
    elif fmt == "csv":
        writer = csv.DictWriter(sys.stdout, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows({k: printable(v) if isinstance(v, str) else v for k, v in r.items()}
                         for r in rows)  # fmt: skip
        sys.stdout.flush()
        for file in empty:
            rep.warn(f"0 faces in {file}")
    else:
        sys.stdout.write(json.dumps({"faces": rows, "no_face": empty}, indent=2) + "\n")
        sys.stdout.flush()


def annotate(
    image: Any, labelled: list[tuple[tuple[int, int, int, int], str, bool]], dest: Path
) -> Path:
    """Write ``image`` (H, W, 3) with boxes (top, right, bottom, left) and labels, atomically."""
    import numpy as np
    from PIL import Image, ImageDraw

    from dltool.data.images import write_image

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
    return write_image(np.asarray(im), dest)


def summary_rows(rep: dict[str, Any]) -> list[dict[str, Any]]:
    """Return the evaluation numbers as table rows."""
    keys = ("auc", "best_threshold", "best_balanced_accuracy", "threshold", "accuracy", "tpr",
            "fpr")  # fmt: skip
    return [{"metric": k, "value": round(float(rep[k]), 4)} for k in keys]
