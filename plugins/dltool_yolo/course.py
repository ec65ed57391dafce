"""The Car detection assignment's functions under the course's names (NumPy in, NumPy out).

Each function is a thin translation onto dltool's one implementation of the YOLO box math in
:mod:`dltool_yolo.boxes` and :mod:`dltool_yolo.nms`: it keeps the course's names, argument
order and array layouts (``box_confidence (19, 19, 5, 1)``, ``boxes (19, 19, 5, 4)``,
``box_class_probs (19, 19, 5, 80)``; corners ``(y_min, x_min, y_max, x_max)`` after
:func:`yolo_boxes_to_corners`) and computes nothing itself.
"""

from __future__ import annotations

import numpy as np

from dltool_yolo import boxes as _boxes
from dltool_yolo import nms as _nms


def yolo_filter_boxes(boxes, box_confidence, box_class_probs, threshold=0.6):
    """Return scores, boxes, classes of the cells whose max_c(p_c · c_c) ≥ threshold.

    The arguments come in the course's order (boxes first), the internals take confidence first.
    """
    return _boxes.filter_boxes(box_confidence, boxes, box_class_probs, threshold)


def iou(box1, box2):
    """Return |box1 ∩ box2| / |box1 ∪ box2| of corners (x1, y1, x2, y2); 0 when they only touch."""
    return _boxes.iou(box1, box2)


def yolo_non_max_suppression(scores, boxes, classes, max_boxes=10, iou_threshold=0.5):
    """Return scores, boxes, classes of at most ``max_boxes`` boxes kept by greedy NMS."""
    return _nms.non_max_suppression(
        np.asarray(scores), np.asarray(boxes), np.asarray(classes), max_boxes, iou_threshold
    )


def yolo_boxes_to_corners(box_xy, box_wh):
    """Return corners (y − h/2, x − w/2, y + h/2, x + w/2) of midpoints (x, y), sizes (w, h)."""
    return _boxes.boxes_to_corners(box_xy, box_wh)


def scale_boxes(boxes, image_shape):
    """Return corners (y_min, x_min, y_max, x_max) in 0..1 multiplied by (h, w, h, w)."""
    return _boxes.scale_boxes(boxes, tuple(image_shape))


def yolo_eval(
    yolo_outputs, image_shape=(720, 1280), max_boxes=10, score_threshold=0.6, iou_threshold=0.5
):
    """Return scores, boxes (pixels), classes: corners, score filter, scaling, NMS.

    ``yolo_outputs`` is the course's ``(box_xy, box_wh, box_confidence, box_class_probs)``;
    the internals take the confidence first.
    """
    box_xy, box_wh, box_confidence, box_class_probs = yolo_outputs
    return _nms.yolo_eval(
        (box_confidence, box_xy, box_wh, box_class_probs),
        tuple(float(s) for s in image_shape),
        max_boxes,
        score_threshold,
        iou_threshold,
    )
