"""YOLO box math in NumPy, following the course notes' conventions (the reference).

A box is ``(b_x, b_y, b_h, b_w)``: midpoint, height and width, in units of the image
(0..1) or of pixels. The YOLO head predicts, per grid cell ``(c_x, c_y)`` and anchor
``(p_w, p_h)``: ``b_x = (σ(t_x) + c_x)/W``, ``b_y = (σ(t_y) + c_y)/H``,
``b_w = p_w·e^{t_w}``, ``b_h = p_h·e^{t_h}``, box confidence ``σ(t_o)`` and class
probabilities (sigmoid for YOLOv3, softmax for YOLOv2); a box's class score is
``box_confidence × class_probability``. Arrays follow the notes' shapes:
``box_confidence (19, 19, 5, 1)``, ``boxes (19, 19, 5, 4)``, ``box_class_probs (19, 19, 5, 80)``.

IoU is computed on corners ``(x1, y1, x2, y2)`` as intersection / union; the torch
twins live in :mod:`dltool_yolo.boxes_torch`.
"""

from __future__ import annotations

import numpy as np


def sigmoid(z: np.ndarray) -> np.ndarray:
    """Return σ(z) = 1 / (1 + e^{−z})."""
    return 1.0 / (1.0 + np.exp(-z))


def softmax(z: np.ndarray, axis: int = -1) -> np.ndarray:
    """Return e^{z_i} / Σ_j e^{z_j} along ``axis``."""
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def bbox_to_corners(b: np.ndarray) -> np.ndarray:
    """Return (x1, y1, x2, y2) = (b_x − b_w/2, b_y − b_h/2, b_x + b_w/2, b_y + b_h/2)."""
    bx, by, bh, bw = b[..., 0], b[..., 1], b[..., 2], b[..., 3]
    return np.stack([bx - bw / 2, by - bh / 2, bx + bw / 2, by + bh / 2], axis=-1)


def corners_to_bbox(c: np.ndarray) -> np.ndarray:
    """Return (b_x, b_y, b_h, b_w) = ((x1+x2)/2, (y1+y2)/2, y2−y1, x2−x1)."""
    x1, y1, x2, y2 = c[..., 0], c[..., 1], c[..., 2], c[..., 3]
    return np.stack([(x1 + x2) / 2, (y1 + y2) / 2, y2 - y1, x2 - x1], axis=-1)


def boxes_to_corners(box_xy: np.ndarray, box_wh: np.ndarray) -> np.ndarray:
    """Return (y_min, x_min, y_max, x_max) = (y − h/2, x − w/2, y + h/2, x + w/2)."""
    mins = box_xy - box_wh / 2.0  # (..., 2) as (x, y)
    maxes = box_xy + box_wh / 2.0
    return np.stack([mins[..., 1], mins[..., 0], maxes[..., 1], maxes[..., 0]], axis=-1)


def scale_boxes(boxes: np.ndarray, image_shape: tuple[float, float]) -> np.ndarray:
    """Return (y_min, x_min, y_max, x_max) boxes in 0..1 multiplied by (h, w, h, w)."""
    h, w = image_shape
    return boxes * np.array([h, w, h, w], dtype=boxes.dtype)


def check_input_size(size: int) -> int:
    """Return ``size`` if it is a network input side: a multiple of 32 (the net's stride), ≥ 32."""
    if size < 32 or size % 32:
        from dltool.errors import DltoolError

        raise DltoolError(
            f"--size must be a positive multiple of 32, got {size}",
            hint="e.g. --size 416 (or 320, 608)",
        )
    return size


def letterbox_params(
    image_shape: tuple[int, int], size: int
) -> tuple[float, tuple[int, int], tuple[int, int]]:
    """Return scale r = min(S/h, S/w), the resized (h', w') and the (top, left) padding."""
    h, w = image_shape
    r = min(size / h, size / w)
    nh, nw = max(1, round(h * r)), max(1, round(w * r))
    return r, (nh, nw), ((size - nh) // 2, (size - nw) // 2)


def letterbox(image: np.ndarray, size: int, fill: float = 0.5) -> np.ndarray:
    """Return image (h, w, 3) in 0..1 resized (nearest) by r into a size×size ``fill`` canvas."""
    h, w = image.shape[:2]
    r, (nh, nw), (top, left) = letterbox_params((h, w), size)
    rows = np.minimum(((np.arange(nh) + 0.5) / r).astype(int), h - 1)
    cols = np.minimum(((np.arange(nw) + 0.5) / r).astype(int), w - 1)
    out = np.full((size, size, image.shape[2]), fill, dtype=np.float64)
    out[top : top + nh, left : left + nw] = image[rows][:, cols]
    return out


def unletterbox_corners(corners: np.ndarray, image_shape: tuple[int, int], size: int) -> np.ndarray:
    """Return (x1, y1, x2, y2) from letterboxed pixels to the original image: (v − pad)/r."""
    h, w = image_shape
    r, _, (top, left) = letterbox_params((h, w), size)
    out = (corners - np.array([left, top, left, top], dtype=corners.dtype)) / r
    return np.clip(out, 0, np.array([w, h, w, h], dtype=corners.dtype))


def decode_head(
    feats: np.ndarray,
    anchors: np.ndarray,
    num_classes: int,
    input_shape: tuple[int, int],
    softmax_classes: bool = False,
    scale_xy: float = 1.0,
    new_coords: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return box_confidence, box_xy, box_wh, box_class_probs of a head (H, W, A·(5+C)).

    ``anchors`` (A, 2) are (p_w, p_h) in input pixels; ``box_xy``/``box_wh`` come out as
    fractions of the input: ``(s·σ(t_xy) − (s−1)/2 + c)/grid`` (YOLOv4's ``scale_x_y`` s,
    1 in YOLOv3) and ``p·e^{t_wh}/input``. With Darknet's ``new_coords`` the maps are
    already logistic (the layer before applies it): no σ, and ``box_wh = p·(2t_wh)²/input``.
    """
    gh, gw = feats.shape[:2]
    a = len(anchors)
    f = feats.reshape(gh, gw, a, 5 + num_classes)  # (H, W, A, 5+C)
    act = (lambda v: v) if new_coords else sigmoid
    cy, cx = np.meshgrid(np.arange(gh), np.arange(gw), indexing="ij")
    grid = np.stack([cx, cy], axis=-1)[:, :, None, :].astype(feats.dtype)  # (H, W, 1, 2)
    xy = act(f[..., 0:2]) * scale_xy - (scale_xy - 1) / 2
    box_xy = (xy + grid) / np.array([gw, gh], dtype=feats.dtype)
    grow = (2 * f[..., 2:4]) ** 2 if new_coords else np.exp(f[..., 2:4])
    box_wh = grow * anchors / np.array(input_shape[::-1], dtype=feats.dtype)
    box_confidence = act(f[..., 4:5])  # (H, W, A, 1)
    logits = f[..., 5:]
    box_class_probs = softmax(logits) if softmax_classes else act(logits)
    return box_confidence, box_xy, box_wh, box_class_probs


def iou(box1: tuple | np.ndarray, box2: tuple | np.ndarray) -> float:
    """Return |A∩B| / |A∪B| of corners (x1, y1, x2, y2); 0 for disjoint or zero-area boxes."""
    xi1, yi1 = max(box1[0], box2[0]), max(box1[1], box2[1])
    xi2, yi2 = min(box1[2], box2[2]), min(box1[3], box2[3])
    inter = max(xi2 - xi1, 0) * max(yi2 - yi1, 0)
    area1 = max(box1[2] - box1[0], 0) * max(box1[3] - box1[1], 0)
    area2 = max(box2[2] - box2[0], 0) * max(box2[3] - box2[1], 0)
    union = area1 + area2 - inter
    return float(inter / union) if union > 0 else 0.0


def iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Return the (N, M) IoU of corner boxes a (N, 4) and b (M, 4); 0 where the union is 0."""
    w = np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0], b[None, :, 0])
    h = np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1], b[None, :, 1])
    inter = np.clip(w, 0, None, out=w) * np.clip(h, 0, None, out=h)  # (N, M)
    area_a = np.clip(a[:, 2] - a[:, 0], 0, None) * np.clip(a[:, 3] - a[:, 1], 0, None)
    area_b = np.clip(b[:, 2] - b[:, 0], 0, None) * np.clip(b[:, 3] - b[:, 1], 0, None)
    union = area_a[:, None] + area_b[None, :] - inter
    np.maximum(union, np.finfo(union.dtype).tiny, out=union)
    return np.divide(inter, union, out=inter)  # union 0 ⇒ inter 0


def filter_boxes(
    box_confidence: np.ndarray,
    boxes: np.ndarray,
    box_class_probs: np.ndarray,
    threshold: float = 0.6,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return scores, boxes, classes of cells whose best score = max_c(conf·p_c) ≥ threshold."""
    box_scores = box_confidence * box_class_probs  # (19, 19, 5, 80)
    box_classes = np.argmax(box_scores, axis=-1)  # (19, 19, 5)
    box_class_scores = np.max(box_scores, axis=-1)
    mask = box_class_scores >= threshold
    return box_class_scores[mask], boxes[mask], box_classes[mask]
