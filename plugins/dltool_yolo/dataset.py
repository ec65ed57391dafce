"""Detection data in memory for training and scoring: letterboxed images and their labels.

Every image of a split is read once, letterboxed to ``S×S`` (aspect kept, grey 127
padding, bilinear resize) and kept as uint8 (N, 3, S, S); its label rows are mapped
through the same letterbox. A batch is drawn by index, optionally flipped
horizontally (``x_c → 1 − x_c``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F


@dataclass
class Batch:
    """Images (B, 3, S, S) in 0..1 and their labels: (n, 6) rows [image, class, x, y, w, h]."""

    images: torch.Tensor
    targets: torch.Tensor


def load_split(pairs, size: int, nc: int) -> tuple[torch.Tensor, list[np.ndarray]]:
    """Return all images of a split letterboxed to size (N, 3, S, S) uint8, and their labels."""
    from dltool.data.images import read_rgb
    from dltool_yolo.boxes import letterbox_params
    from dltool_yolo.labels import read_label_file

    images, labels = [], []
    for img_path, lab_path in pairs:
        image = read_rgb(img_path)
        h, w = image.shape[:2]
        lab = read_label_file(lab_path, nc) if lab_path.is_file() else np.zeros((0, 5))
        r, (nh, nw), (top, left) = letterbox_params((h, w), size)
        x = torch.from_numpy(image.copy()).permute(2, 0, 1)[None].float()
        x = F.interpolate(x, size=(nh, nw), mode="bilinear", align_corners=False)
        canvas = torch.full((3, size, size), 127.0)
        canvas[:, top : top + nh, left : left + nw] = x[0]
        images.append(canvas.round().clamp(0, 255).to(torch.uint8))
        lab = lab.copy()
        lab[:, 1] = (lab[:, 1] * w * r + left) / size
        lab[:, 2] = (lab[:, 2] * h * r + top) / size
        lab[:, 3] *= w * r / size
        lab[:, 4] *= h * r / size
        labels.append(lab)
    return torch.stack(images), labels


def make_batch(images: torch.Tensor, labels: list[np.ndarray], idx, flip: torch.Tensor | None):
    """Return the Batch of images ``idx``, flipping horizontally where ``flip`` is True."""
    x = images[idx].float() / 255  # (B, 3, S, S)
    rows = []
    for k, i in enumerate(idx.tolist()):
        lab = torch.from_numpy(labels[i]).float()
        if flip is not None and bool(flip[k]):
            lab[:, 1] = 1 - lab[:, 1]
        rows.append(torch.cat([torch.full((len(lab), 1), float(k)), lab], 1))
    if flip is not None:
        x = torch.where(flip[:, None, None, None], x.flip(-1), x)
    return Batch(x, torch.cat(rows) if rows else torch.zeros(0, 6))
