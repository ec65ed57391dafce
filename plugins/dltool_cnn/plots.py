"""Pictures of ``dltool cnn``: training curves, the confusion matrix, a filter response beside
its input, and a grid of augmented copies; each saved in the format its file name asks for.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def plot_curves(path: Path, history: list[dict]) -> None:
    """Write the loss and train/dev accuracy per epoch as a PNG."""
    from dltool.report import figure

    epochs = [h["epoch"] for h in history]
    with figure(path, 1, 2, figsize=(10, 4)) as (fig, axes):
        axes[0].plot(epochs, [h["train_loss"] for h in history], marker="o")
        axes[0].set(xlabel="epoch", ylabel="cross-entropy", title="training loss")
        axes[1].plot(epochs, [h["train_acc"] for h in history], marker="o", label="train")
        axes[1].plot(epochs, [h["dev_acc"] for h in history], marker="o", label="dev")
        axes[1].set(xlabel="epoch", ylabel="accuracy", title="accuracy", ylim=(0, 1.02))
        axes[1].legend()


def plot_confusion(path: Path, cm: np.ndarray, classes: list[str]) -> None:
    """Write the confusion matrix (rows: true class, columns: predicted) as a PNG."""
    from dltool.report import figure

    k = len(classes)
    side = min(12, 3 + 0.5 * k)
    with figure(path, 1, 1, figsize=(side, side)) as (fig, ax):
        ax.imshow(cm, cmap="Blues")
        ax.set(xticks=range(k), yticks=range(k), xlabel="predicted", ylabel="true")
        ax.set_xticklabels(classes, rotation=45, ha="right")
        ax.set_yticklabels(classes)
        for i in range(k):
            for j in range(k):
                color = "white" if cm[i, j] > cm.max() / 2 else "black"
                ax.text(j, i, str(cm[i, j]), ha="center", va="center", color=color, fontsize=8)
        ax.set_title("dev confusion matrix (best model)")


def _plane(image: np.ndarray) -> tuple:
    """Return imshow's (array, cmap): (H, W) in gray for one channel, (H, W, 3) otherwise."""
    if image.shape[2] == 1:
        return image[:, :, 0], "gray"  # keeps 2-D even when H = W = 1
    return image, None


def plot_conv(path: Path, img: np.ndarray, shown: np.ndarray, name: str, stride: int, pad: int):
    """Write the input (H, W, C) and its filter response (n_H, n_W, C) side by side."""
    from dltool.report import figure

    with figure(path, 1, 2, figsize=(10, 5)) as (fig, axes):
        (left, left_cmap), (right, right_cmap) = _plane(img), _plane(shown)
        axes[0].imshow(left, cmap=left_cmap, vmin=0, vmax=1)
        axes[0].set_title(f"input {img.shape[0]}x{img.shape[1]}")
        axes[1].imshow(right, cmap=right_cmap)
        axes[1].set_title(f"{name} (s={stride}, p={pad}) {shown.shape[0]}x{shown.shape[1]}")
        for ax in axes:
            ax.axis("off")


def plot_augmented(path: Path, img: np.ndarray, copies: list, applied: list[list[str]]) -> None:
    """Write the original and its augmented copies in a grid of up to 4 columns."""
    from dltool.report import figure

    n = len(copies)
    cols = min(4, n + 1)
    rows = -(-(n + 1) // cols)
    with figure(path, rows, cols, figsize=(3 * cols, 3 * rows), squeeze=False) as (fig, axes):
        for ax in axes.ravel():
            ax.axis("off")
        axes[0, 0].imshow(img)
        axes[0, 0].set_title("original", fontsize=9)
        for k, (copy, chosen) in enumerate(zip(copies, applied, strict=True), 1):
            ax = axes[k // cols, k % cols]
            ax.imshow(np.clip(copy, 0, 1))
            ax.set_title("+".join(chosen), fontsize=9)


def prediction_tiles(
    x: np.ndarray, pred: np.ndarray, true: np.ndarray, classes: list[str], size: int = 64
) -> np.ndarray:
    """Return (N, size, size, 3) uint8 tiles of images x (N, C, H, W): min-max scaled, framed
    green (pred = true) or red, the predicted class written on top (TensorBoard samples)."""
    from PIL import Image, ImageDraw

    tiles = []
    for img, p, t in zip(x, pred, true, strict=True):
        plane = np.repeat(img, 3, 0) if img.shape[0] == 1 else img[:3]  # (3, H, W)
        lo, hi = float(plane.min()), float(plane.max())
        scaled = (plane - lo) / (hi - lo) if hi > lo else np.zeros_like(plane)
        pixels = (scaled.transpose(1, 2, 0) * 255 + 0.5).astype(np.uint8)  # (H, W, 3)
        tile = Image.fromarray(pixels).resize((size, size), Image.NEAREST)
        draw = ImageDraw.Draw(tile)
        colour = (0, 200, 0) if p == t else (230, 0, 0)
        draw.rectangle([0, 0, size - 1, size - 1], outline=colour, width=3)
        draw.rectangle([3, 3, size - 4, 14], fill=(0, 0, 0))
        draw.text((5, 3), str(classes[int(p)])[:10], fill=colour)
        tiles.append(np.asarray(tile))
    return np.stack(tiles) if tiles else np.zeros((0, size, size, 3), np.uint8)
