"""Anchor boxes by k-means with the distance d(box, centroid) = 1 − IoU(box, centroid).

As YOLOv2 chose its anchors: boxes are compared by shape only (both centred at the
origin), so IoU((w, h), (c_w, c_h)) = min(w, c_w)·min(h, c_h) / (w·h + c_w·c_h − ∩).
Lloyd's iterations: assign each box to the centroid of highest IoU, move each centroid
to the mean (w, h) of its boxes, until assignments stop changing. Quality is the mean
over boxes of the best IoU with any anchor. NumPy reference and torch twin.
"""

from __future__ import annotations

import numpy as np


def wh_iou(wh: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    """Return the (n, k) IoU of origin-aligned boxes wh (n, 2) and centroids (k, 2)."""
    inter = np.minimum(wh[:, None, 0], centroids[None, :, 0]) * np.minimum(
        wh[:, None, 1], centroids[None, :, 1]
    )  # (n, k)
    union = wh.prod(1)[:, None] + centroids.prod(1)[None, :] - inter
    return inter / union


def init_indices(n: int, k: int, seed: int = 0) -> np.ndarray:
    """Return k distinct box indices drawn with ``seed`` (the initial centroids)."""
    if k > n:
        from dltool.errors import DltoolError

        raise DltoolError(
            f"cannot pick {k} anchors from {n} boxes",
            hint="choose fewer anchors (--k) than there are boxes",
        )
    return np.random.default_rng(seed).choice(n, size=k, replace=False)


def kmeans(
    wh: np.ndarray, k: int, seed: int = 0, iters: int = 300
) -> tuple[np.ndarray, float, np.ndarray]:
    """Return anchors (k, 2) sorted by area, the mean best IoU, and each box's cluster."""
    centroids = wh[init_indices(len(wh), k, seed)].copy()
    assign = np.full(len(wh), -1)
    for _ in range(iters):
        new = np.argmax(wh_iou(wh, centroids), axis=1)  # nearest = 1 − IoU smallest
        if np.array_equal(new, assign):
            break
        assign = new
        for j in range(k):
            members = wh[assign == j]
            if len(members):
                centroids[j] = members.mean(0)
    order = np.argsort(centroids.prod(1), kind="stable")
    mean_iou = float(wh_iou(wh, centroids).max(1).mean())
    return centroids[order], mean_iou, np.argsort(order)[assign]


def kmeans_torch(wh, k: int, seed: int = 0, iters: int = 300):
    """Return anchors, mean best IoU and clusters as :func:`kmeans`, with torch tensors."""
    import torch

    from dltool_yolo.boxes_torch import wh_iou as iou

    idx = torch.from_numpy(init_indices(len(wh), k, seed)).to(wh.device)
    centroids = wh[idx].clone()
    assign = torch.full((len(wh),), -1, device=wh.device)
    for _ in range(iters):
        new = iou(wh, centroids).argmax(1)
        if torch.equal(new, assign):
            break
        assign = new
        sums = torch.zeros_like(centroids).index_add_(0, assign, wh)  # (k, 2)
        counts = torch.bincount(assign, minlength=k).to(wh.dtype)
        filled = counts > 0
        centroids[filled] = sums[filled] / counts[filled, None]
    order = torch.argsort(centroids.prod(1), stable=True)
    mean_iou = float(iou(wh, centroids).max(1).values.mean())
    return centroids[order], mean_iou, torch.argsort(order)[assign]
