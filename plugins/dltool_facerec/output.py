"""Writing results: rows as table / CSV / JSON on stdout, annotated copies of images, plots."""

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


def plot_evaluation(path: Path, rep: dict[str, Any], title: str) -> None:
    """Write histograms of genuine/impostor distances and the ROC curve to ``path``."""
    import numpy as np

    from dltool.report import figure

    with figure(path, 1, 2, figsize=(10, 4)) as (_fig, (ax, ax_roc)):
        hi = max(rep["genuine"].max(initial=0), rep["impostor"].max(initial=0)) * 1.05 + 1e-9
        bins = np.linspace(0, hi, 40)
        ax.hist(rep["impostor"], bins=bins, alpha=0.6, label=f"impostor ({len(rep['impostor'])})")
        ax.hist(rep["genuine"], bins=bins, alpha=0.6, label=f"genuine ({len(rep['genuine'])})")
        ax.axvline(rep["threshold"], color="k", ls="--", label=f"threshold {rep['threshold']:.3f}")
        ax.set(xlabel="‖f(a) − f(b)‖", ylabel="pairs", title=title)
        ax.legend()
        ax_roc.plot(rep["curve"]["fpr"], rep["curve"]["tpr"], "-", lw=2)
        ax_roc.plot([0, 1], [0, 1], ":", color="grey")
        ax_roc.set(xlabel="false positive rate", ylabel="true positive rate",
                   title=f"ROC (AUC {rep['auc']:.3f})")  # fmt: skip
        ax_roc.grid(alpha=0.3)


def plot_curves(path: Path, rows: list[dict[str, float]]) -> None:
    """Write the loss and active-triplet fraction per epoch."""
    from dltool.report import figure

    epochs = [r["epoch"] for r in rows]
    with figure(path, 1, 2, figsize=(9, 3.5)) as (_fig, (ax1, ax2)):
        ax1.plot(epochs, [r["loss"] for r in rows], "o-")
        ax1.set(xlabel="epoch", ylabel="triplet loss", title="loss")
        ax2.plot(epochs, [r["active"] for r in rows], "o-", color="C1")
        ax2.set(xlabel="epoch", ylabel="fraction", title="active triplets", ylim=(0, 1.05))
        for ax in (ax1, ax2):
            ax.grid(alpha=0.3)


def summary_rows(rep: dict[str, Any]) -> list[dict[str, Any]]:
    """Return the evaluation numbers as table rows."""
    keys = ("auc", "best_threshold", "best_balanced_accuracy", "threshold", "accuracy", "tpr",
            "fpr")  # fmt: skip
    return [{"metric": k, "value": round(float(rep[k]), 4)} for k in keys]
