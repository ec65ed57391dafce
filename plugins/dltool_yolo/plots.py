"""The figures of ``dltool yolo``: anchor quality by k, training curves, precision–recall.

Each function writes one figure through :func:`dltool.report.figure` (the format its
suffix names); matplotlib is imported there, on use.
"""

from __future__ import annotations

from pathlib import Path


def anchors_curve(path: Path, rows: list[dict], n_boxes: int) -> None:
    """Plot the mean IoU of the best anchor per box against k."""
    from dltool.report import figure

    with figure(path, 1, 1, figsize=(5, 3.5)) as (_fig, ax):
        ax.plot([r["k"] for r in rows], [r["mean_iou"] for r in rows], "o-")
        ax.set(xlabel="k (number of anchors)", ylabel="mean IoU", title=f"{n_boxes} boxes")
        ax.grid(alpha=0.3)


def training_curves(path: Path, rows: list[dict]) -> None:
    """Plot the training loss and the validation mAP of each epoch's metrics row."""
    from dltool.report import figure

    epochs = [r["epoch"] for r in rows]
    with figure(path, 1, 2, figsize=(9, 3.5)) as (_fig, (ax1, ax2)):
        ax1.plot(epochs, [r["loss"] for r in rows])
        ax1.set(xlabel="epoch", ylabel="YOLO loss", yscale="log", title="training loss")
        ax2.plot(epochs, [r["map50"] for r in rows], label="mAP@0.5")
        ax2.plot(epochs, [r["map50_95"] for r in rows], label="mAP@0.5:0.95")
        ax2.set(xlabel="epoch", ylim=(0, 1), title="validation")
        ax2.legend()


def pr_curves(path: Path, names: list[str], scores: dict) -> None:
    """Plot the precision–recall curve at IoU 0.5 of every class with boxes."""
    from dltool.report import figure

    with figure(path, 1, 1, figsize=(5.5, 4.5)) as (_fig, ax):
        for c, name in enumerate(names):
            if scores["gt_counts"][c]:
                recall, precision = scores["curves"][c]
                ax.plot(recall, precision, label=f"{name} AP={scores['ap'][c, 0]:.3f}")
        ax.set(xlabel="recall", ylabel="precision", xlim=(0, 1), ylim=(0, 1.02),
               title=f"mAP@0.5 = {scores['map50']:.3f}")  # fmt: skip
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)


def confusion_matrix(path: Path, names: list[str], matrix, conf: float) -> None:
    """Plot the confusion matrix (rows predicted, columns true, + background), counts shown."""
    import numpy as np

    from dltool.report import figure

    labels = [*names, "background"]
    n = len(labels)
    share = matrix / np.maximum(matrix.sum(0, keepdims=True), 1)  # colour: share of each truth
    side = max(4.0, 0.5 * n + 2)
    with figure(path, 1, 1, figsize=(side, side)) as (_fig, ax):
        ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
        for i in range(n):
            for j in range(n):
                if matrix[i, j]:
                    colour = "white" if share[i, j] > 0.5 else "black"
                    ax.text(j, i, str(int(matrix[i, j])), ha="center", va="center", color=colour)
        ax.set_xticks(range(n), labels, rotation=45, ha="right")
        ax.set_yticks(range(n), labels)
        ax.set(xlabel="true", ylabel="predicted", title=f"confusion at score ≥ {conf:.3f}, IoU 0.5")


def augment_grid(path: Path, rows: list[tuple[str, list]], names: list[str]) -> None:
    """Draw one row per augmentation, one column per sample (image, labels), boxes outlined."""
    from dltool.report import figure

    ncols = max(len(samples) for _op, samples in rows)
    size = (1.9 * ncols, 1.9 * len(rows))
    with figure(path, len(rows), ncols, figsize=size, squeeze=False) as (_fig, axes):
        for r, (op, samples) in enumerate(rows):
            for c, ax in enumerate(axes[r]):
                ax.set_axis_off()
                if c < len(samples):
                    _draw_sample(ax, *samples[c], names)
            axes[r][0].set_title(op, loc="left", fontsize=9)


def _draw_sample(ax, image, labels, names: list[str]) -> None:
    """Show an image (S, S, 3) with its label rows [class, x_c, y_c, w, h] as named boxes."""
    from matplotlib.patches import Rectangle

    side = image.shape[0]
    ax.imshow(image)
    for cls, xc, yc, w, h in labels:
        x1, y1 = (xc - w / 2) * side, (yc - h / 2) * side
        colour = f"C{int(cls) % 10}"
        ax.add_patch(Rectangle((x1, y1), w * side, h * side, fill=False, color=colour, lw=1))
        ax.text(x1, y1, names[int(cls)], color=colour, fontsize=6, va="bottom")


def prediction_tiles(images: list, results: list, names: list[str], conf: float = 0.25):
    """Return (N, S, S, 3) uint8: each letterboxed val image (3, S, S) with its detections of
    score ≥ ``conf`` drawn as ``detect`` draws them (TensorBoard samples)."""
    import numpy as np

    from dltool_yolo.annotate import draw
    from dltool_yolo.results import Detection

    tiles = []
    for image, result in zip(images, results, strict=True):
        keep = result.scores >= conf
        dets = [Detection(int(c), names[int(c)], float(s), tuple(float(v) for v in b))
                for b, s, c in zip(result.boxes[keep], result.scores[keep],
                                   result.classes[keep], strict=True)]  # fmt: skip
        pixels = np.ascontiguousarray(np.asarray(image).transpose(1, 2, 0))  # (S, S, 3)
        tiles.append(np.asarray(draw(pixels, dets, line_width=1)))
    return np.stack(tiles)
