"""The Car detection assignment's functions under the course's names (NumPy in, NumPy out).

Each function is a thin translation onto dltool's one implementation of the YOLO box math in
:mod:`dltool_yolo.boxes` and :mod:`dltool_yolo.nms`: it keeps the course's names, argument
order and array layouts (``box_confidence (19, 19, 5, 1)``, ``boxes (19, 19, 5, 4)``,
``box_class_probs (19, 19, 5, 80)``; corners ``(y_min, x_min, y_max, x_max)`` after
:func:`yolo_boxes_to_corners`) and computes nothing itself. Inputs are checked at the boundary, in
one line naming the function, the argument and the expected layout or range: a wrong shape
raises :class:`ShapeError`, a threshold outside [0, 1] or max_boxes < 1 :class:`ParameterError`;
both are :class:`~dltool.errors.DltoolError` (and ValueError) with a hint.
"""

from __future__ import annotations

import numpy as np

from dltool.errors import (
    DltoolError,
    MissingKeyError,
    ParameterError,
    ShapeError,
    check_range,
    check_shape,
    check_tuple,
)
from dltool_yolo import boxes as _boxes
from dltool_yolo import nms as _nms

__all__ = [
    "DltoolError",
    "MissingKeyError",
    "ParameterError",
    "ShapeError",
    "yolo_filter_boxes",
    "iou",
    "yolo_non_max_suppression",
    "yolo_boxes_to_corners",
    "scale_boxes",
    "yolo_eval",
]


def _grid(func: str, box_confidence, box_class_probs, sizes: dict | None = None) -> dict:
    """Check box_confidence (S_H, S_W, B, 1) and box_class_probs (S_H, S_W, B, n_classes)."""
    sizes = check_shape(func, "box_confidence", box_confidence, "(S_H, S_W, B, 1)", dims=sizes)
    return check_shape(
        func, "box_class_probs", box_class_probs, "(S_H, S_W, B, n_classes)", dims=sizes
    )


def _image_shape(func: str, image_shape) -> tuple[float, float]:
    """Return (height, width), raising ParameterError unless both are finite numbers > 0."""
    if not hasattr(image_shape, "__len__") or len(image_shape) != 2:
        raise ParameterError(f"{func}: image_shape must be (height, width), got {image_shape!r}")
    for name, side in zip(("height", "width"), image_shape, strict=True):
        check_range(func, f"image_shape's {name}", side, "(0, inf)")
    return tuple(float(side) for side in image_shape)


def _thresholds(func: str, max_boxes, iou_threshold, score_threshold=None) -> None:
    """Raise ParameterError unless max_boxes is an integer ≥ 1 and the thresholds in [0, 1]."""
    check_range(func, "max_boxes", max_boxes, "[1, inf)", integer=True)
    check_range(func, "iou_threshold", iou_threshold, "[0, 1]")
    if score_threshold is not None:
        check_range(func, "score_threshold", score_threshold, "[0, 1]")


def yolo_filter_boxes(boxes, box_confidence, box_class_probs, threshold=0.6):
    """Return scores, boxes, classes of the cells whose max_c(p_c · c_c) ≥ threshold.

    The arguments come in the course's order (boxes first), the internals take confidence first.
    """
    func = "yolo_filter_boxes"
    _grid(
        func, box_confidence, box_class_probs, check_shape(func, "boxes", boxes, "(S_H, S_W, B, 4)")
    )
    check_range(func, "threshold", threshold, "[0, 1]")
    return _boxes.filter_boxes(box_confidence, boxes, box_class_probs, threshold)


def iou(box1, box2):
    """Return |box1 ∩ box2| / |box1 ∪ box2| of corners (x1, y1, x2, y2); 0 when they only touch."""
    check_shape("iou", "box1", box1, "(4,)")
    check_shape("iou", "box2", box2, "(4,)")
    return _boxes.iou(box1, box2)


def yolo_non_max_suppression(scores, boxes, classes, max_boxes=10, iou_threshold=0.5):
    """Return scores, boxes, classes of at most ``max_boxes`` boxes kept by greedy NMS."""
    func = "yolo_non_max_suppression"
    sizes = check_shape(func, "scores", scores, "(n,)")
    check_shape(func, "boxes", boxes, "(n, 4)", dims=sizes)
    check_shape(func, "classes", classes, "(n,)", dims=sizes)
    _thresholds(func, max_boxes, iou_threshold)
    return _nms.non_max_suppression(
        np.asarray(scores), np.asarray(boxes), np.asarray(classes), max_boxes, iou_threshold
    )


def yolo_boxes_to_corners(box_xy, box_wh):
    """Return corners (y − h/2, x − w/2, y + h/2, x + w/2) of midpoints (x, y), sizes (w, h)."""
    check_shape("yolo_boxes_to_corners", "box_xy", box_xy, "(..., 2)")
    if np.shape(box_wh) != np.shape(box_xy):
        got = np.shape(box_wh)
        raise ShapeError(
            f"yolo_boxes_to_corners: box_wh must be {np.shape(box_xy)} as box_xy, got {got}"
        )
    return _boxes.boxes_to_corners(box_xy, box_wh)


def scale_boxes(boxes, image_shape):
    """Return corners (y_min, x_min, y_max, x_max) in 0..1 multiplied by (h, w, h, w)."""
    check_shape("scale_boxes", "boxes", boxes, "(..., 4)")
    return _boxes.scale_boxes(boxes, _image_shape("scale_boxes", image_shape))


def yolo_eval(
    yolo_outputs, image_shape=(720, 1280), max_boxes=10, score_threshold=0.6, iou_threshold=0.5
):
    """Return scores, boxes (pixels), classes: corners, score filter, scaling, NMS.

    ``yolo_outputs`` is the course's ``(box_xy, box_wh, box_confidence, box_class_probs)``;
    the internals take the confidence first.
    """
    func = "yolo_eval"
    layout = "(box_xy, box_wh, box_confidence, box_class_probs)"
    box_xy, box_wh, box_confidence, box_class_probs = check_tuple(
        func, "yolo_outputs", yolo_outputs, layout
    )
    sizes = check_shape(func, "box_xy", box_xy, "(S_H, S_W, B, 2)")
    check_shape(func, "box_wh", box_wh, "(S_H, S_W, B, 2)", dims=sizes)
    _grid(func, box_confidence, box_class_probs, sizes)
    _thresholds(func, max_boxes, iou_threshold, score_threshold)
    return _nms.yolo_eval(
        (box_confidence, box_xy, box_wh, box_class_probs),
        _image_shape(func, image_shape),
        max_boxes,
        score_threshold,
        iou_threshold,
    )
